//! Figures as data, drawn with `plotters` to PNG and SVG.
//!
//! An experiment describes what to draw ([`Figure`]: one or more panels of
//! [`Lines`], [`Contour`] or [`Heatmap`]); this module draws it, so every
//! figure of the report has the same fonts, colours, labelled axes and
//! legends. Log axes plot `log10` of the values with ticks labelled as the
//! values themselves; non-finite points (a diverged run) and, on a log
//! axis, non-positive ones are left out of the drawing, never out of the
//! JSON numbers. Text uses the DejaVu Sans font built into the binary
//! (`xtask/assets`, Bitstream Vera licence), so a machine without fonts
//! draws the same picture.

use anyhow::{Context, Result, anyhow, bail};
use plotters::coord::Shift;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;
use std::path::Path;

/// One figure: panels side by side, written as `STEM.png` and `STEM.svg`.
#[derive(Debug, Clone)]
pub struct Figure {
    /// File stem, unique within the experiment (e.g. `"trajectories"`).
    pub stem: String,
    /// Names the claim the figure shows.
    pub title: String,
    pub panels: Vec<Panel>,
}

impl Figure {
    pub fn new(stem: impl Into<String>, title: impl Into<String>) -> Self {
        Figure {
            stem: stem.into(),
            title: title.into(),
            panels: Vec::new(),
        }
    }

    pub fn panel(mut self, panel: impl Into<Panel>) -> Self {
        self.panels.push(panel.into());
        self
    }
}

/// One chart of a figure.
#[derive(Debug, Clone)]
pub enum Panel {
    Lines(Lines),
    Contour(Contour),
    Heatmap(Heatmap),
}

impl From<Lines> for Panel {
    fn from(l: Lines) -> Self {
        Panel::Lines(l)
    }
}
impl From<Contour> for Panel {
    fn from(c: Contour) -> Self {
        Panel::Contour(c)
    }
}
impl From<Heatmap> for Panel {
    fn from(h: Heatmap) -> Self {
        Panel::Heatmap(h)
    }
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Line,
    Dashed,
    Points,
    LinePoints,
}

/// A named sequence of (x, y) points.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub style: Style,
}

impl Series {
    pub fn line(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series {
            name: name.into(),
            points,
            style: Style::Line,
        }
    }

    pub fn styled(mut self, style: Style) -> Self {
        self.style = style;
        self
    }

    /// `ys` against 0, 1, 2, …
    pub fn indexed(name: impl Into<String>, ys: &[f64]) -> Self {
        Self::line(
            name,
            ys.iter().enumerate().map(|(i, &y)| (i as f64, y)).collect(),
        )
    }
}

/// A line chart (loss curves, accuracy against a swept quantity, …).
#[derive(Debug, Clone, Default)]
pub struct Lines {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_log: bool,
    pub y_log: bool,
    /// Fixed y range (in data units); otherwise fitted to the finite data.
    pub y_range: Option<(f64, f64)>,
    pub series: Vec<Series>,
    /// Horizontal reference lines (e.g. a threshold), with a legend label.
    pub hlines: Vec<(f64, String)>,
    /// Vertical markers (e.g. rollbacks, the epoch early stopping picked).
    pub vlines: Vec<(f64, String)>,
}

impl Lines {
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> Self {
        Lines {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            ..Lines::default()
        }
    }
    pub fn log_x(mut self) -> Self {
        self.x_log = true;
        self
    }
    pub fn log_y(mut self) -> Self {
        self.y_log = true;
        self
    }
    pub fn y_range(mut self, lo: f64, hi: f64) -> Self {
        self.y_range = Some((lo, hi));
        self
    }
    pub fn series(mut self, s: Series) -> Self {
        self.series.push(s);
        self
    }
    pub fn hline(mut self, y: f64, label: impl Into<String>) -> Self {
        self.hlines.push((y, label.into()));
        self
    }
    pub fn vline(mut self, x: f64, label: impl Into<String>) -> Self {
        self.vlines.push((x, label.into()));
        self
    }
}

/// A function of two variables drawn as filled level bands, with paths
/// (optimizer trajectories) and labelled points over it.
#[derive(Debug, Clone)]
pub struct Contour {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_range: (f64, f64),
    pub y_range: (f64, f64),
    /// `z[j][i]` at x = lerp(x_range, i/(nx−1)), y = lerp(y_range, j/(ny−1)).
    pub z: Vec<Vec<f64>>,
    /// Bands evenly spaced in `log10(z − min z + 1e-3)` rather than in `z`.
    pub log_levels: bool,
    pub paths: Vec<Series>,
    pub points: Vec<(String, (f64, f64))>,
}

impl Contour {
    /// Samples `f` on an `n × n` grid over the ranges.
    pub fn sample(
        title: impl Into<String>,
        x_range: (f64, f64),
        y_range: (f64, f64),
        n: usize,
        f: impl Fn(f64, f64) -> f64,
    ) -> Self {
        let at = |r: (f64, f64), k: usize| r.0 + (r.1 - r.0) * k as f64 / (n - 1).max(1) as f64;
        let z = (0..n)
            .map(|j| (0..n).map(|i| f(at(x_range, i), at(y_range, j))).collect())
            .collect();
        Contour {
            title: title.into(),
            x_label: "x".into(),
            y_label: "y".into(),
            x_range,
            y_range,
            z,
            log_levels: false,
            paths: Vec::new(),
            points: Vec::new(),
        }
    }
}

/// A grid of values (e.g. test accuracy over learning rate × λ), each cell
/// coloured and labelled with its value.
#[derive(Debug, Clone)]
pub struct Heatmap {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_ticks: Vec<String>,
    pub y_ticks: Vec<String>,
    /// `values[row][col]`, row 0 at the bottom.
    pub values: Vec<Vec<f64>>,
    /// Colour scale limits (shared between panels that are compared).
    pub range: (f64, f64),
    /// Decimal places of the cell labels.
    pub decimals: usize,
    /// Cells to outline (row, col), e.g. the "good region".
    pub outlined: Vec<(usize, usize)>,
}

const PANEL: (u32, u32) = (640, 480);
const TITLE_H: u32 = 40;

/// The ten colours of matplotlib's `tab10`, so curves look as in the papers.
const TAB10: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

fn colour(i: usize) -> RGBColor {
    TAB10[i % TAB10.len()]
}

static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

fn register_font() -> Result<()> {
    static ONCE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *ONCE.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_ok()
            && plotters::style::register_font("sans-serif", FontStyle::Bold, FONT).is_ok()
    });
    if ok {
        Ok(())
    } else {
        bail!("the embedded DejaVu Sans font did not load")
    }
}

/// The figure's pixel size: panels side by side under a title strip.
pub fn size(fig: &Figure) -> (u32, u32) {
    (PANEL.0 * fig.panels.len().max(1) as u32, PANEL.1 + TITLE_H)
}

/// Draws `fig` as `dir/STEM.png` and `dir/STEM.svg`, each written
/// atomically; returns the two file names.
pub fn write(fig: &Figure, dir: &Path) -> Result<(String, String)> {
    register_font()?;
    if fig.panels.is_empty() {
        bail!("figure `{}` has no panels", fig.stem);
    }
    let (w, h) = size(fig);
    let mut rgb = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        draw(&root, fig)?;
        root.present()
            .map_err(|e| anyhow!("drawing {}: {e}", fig.stem))?;
    }
    let mut png_bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png_bytes, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().context("encoding PNG")?;
        writer.write_image_data(&rgb).context("encoding PNG")?;
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        draw(&root, fig)?;
        root.present()
            .map_err(|e| anyhow!("drawing {}: {e}", fig.stem))?;
    }
    let png_name = format!("{}.png", fig.stem);
    let svg_name = format!("{}.svg", fig.stem);
    for (name, bytes) in [
        (&png_name, png_bytes.as_slice()),
        (&svg_name, svg.as_bytes()),
    ] {
        let path = dir.join(name);
        descent_core::fs::write_atomic(&path, bytes)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok((png_name, svg_name))
}

type Area<'a, DB> = DrawingArea<DB, Shift>;

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("plotting: {e:?}")
}

fn draw<DB: DrawingBackend>(root: &Area<'_, DB>, fig: &Figure) -> Result<()> {
    root.fill(&WHITE).map_err(err)?;
    let (title, body) = root.split_vertically(TITLE_H);
    title
        .titled(
            &fig.title,
            ("sans-serif", 20).into_font().style(FontStyle::Bold),
        )
        .map_err(err)?;
    let panels = body.split_evenly((1, fig.panels.len()));
    for (area, panel) in panels.iter().zip(&fig.panels) {
        match panel {
            Panel::Lines(l) => lines(area, l)?,
            Panel::Contour(c) => contour(area, c)?,
            Panel::Heatmap(h) => heatmap(area, h)?,
        }
    }
    Ok(())
}

/// `v` in plot units: `log10` on a log axis; `None` if it cannot be drawn.
fn to_axis(v: f64, log: bool) -> Option<f64> {
    match (v.is_finite(), log) {
        (false, _) => None,
        (true, false) => Some(v),
        (true, true) if v > 0.0 => Some(v.log10()),
        _ => None,
    }
}

fn tick_label(v: f64, log: bool) -> String {
    let x = if log { 10f64.powf(v) } else { v };
    if x == 0.0 || !x.is_finite() {
        return "0".into();
    }
    let a = x.abs();
    if !(1e-3..1e4).contains(&a) {
        return format!("{x:.1e}").replace(".0e", "e");
    }
    // Three significant digits: a log axis's ticks fall between round
    // numbers (10^3.2 = 1584.89…), which are labelled 1580, not 1584.893.
    let digits = (2 - a.log10().floor() as i32).max(0) as usize;
    let rounded = if log {
        let scale = 10f64.powi(a.log10().floor() as i32 - 2);
        (x / scale).round() * scale
    } else {
        x
    };
    let s = format!("{rounded:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// A range covering `vals` with a 5% margin (a unit one around a constant).
fn span(vals: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = vals.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-12 * (1.0 + lo.abs()) {
        return (lo - 0.5, hi + 0.5);
    }
    let m = 0.05 * (hi - lo);
    (lo - m, hi + m)
}

fn lines<DB: DrawingBackend>(area: &Area<'_, DB>, p: &Lines) -> Result<()> {
    let xs = p
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|q| q.0))
        .chain(p.vlines.iter().map(|v| v.0))
        .filter_map(|v| to_axis(v, p.x_log));
    let x = span(xs);
    let y = match p.y_range {
        Some((lo, hi)) => (
            to_axis(lo, p.y_log).unwrap_or(-1.0),
            to_axis(hi, p.y_log).unwrap_or(1.0),
        ),
        None => span(
            p.series
                .iter()
                .flat_map(|s| s.points.iter().map(|q| q.1))
                .chain(p.hlines.iter().map(|h| h.0))
                .filter_map(|v| to_axis(v, p.y_log)),
        ),
    };
    let inside = |q: &(f64, f64)| -> Option<(f64, f64)> {
        let (a, b) = (to_axis(q.0, p.x_log)?, to_axis(q.1, p.y_log)?);
        Some((a, b.clamp(y.0, y.1)))
    };
    let mut chart = ChartBuilder::on(area)
        .caption(&p.title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x.0..x.1, y.0..y.1)
        .map_err(err)?;
    let (xl, yl) = (p.x_log, p.y_log);
    chart
        .configure_mesh()
        .x_desc(axis_desc(&p.x_label, xl))
        .y_desc(axis_desc(&p.y_label, yl))
        .x_label_formatter(&|v| tick_label(*v, xl))
        .y_label_formatter(&|v| tick_label(*v, yl))
        .light_line_style(WHITE.mix(0.0))
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(err)?;
    for (i, s) in p.series.iter().enumerate() {
        let c = colour(i);
        // Break the line where a point cannot be drawn (NaN, ≤ 0 on log).
        let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for q in &s.points {
            match inside(q) {
                Some(pt) => runs.last_mut().map(|r| r.push(pt)).unwrap_or(()),
                None => runs.push(Vec::new()),
            }
        }
        let mut labelled = false;
        for run in runs.into_iter().filter(|r| !r.is_empty()) {
            let anno = match s.style {
                Style::Line => chart
                    .draw_series(LineSeries::new(run, c.stroke_width(2)))
                    .map_err(err)?,
                Style::Dashed => chart
                    .draw_series(DashedLineSeries::new(run, 6, 4, c.stroke_width(2)))
                    .map_err(err)?,
                Style::Points => chart
                    .draw_series(run.into_iter().map(|pt| Circle::new(pt, 3, c.filled())))
                    .map_err(err)?,
                Style::LinePoints => {
                    chart
                        .draw_series(run.iter().map(|&pt| Circle::new(pt, 3, c.filled())))
                        .map_err(err)?;
                    chart
                        .draw_series(LineSeries::new(run, c.stroke_width(2)))
                        .map_err(err)?
                }
            };
            if !labelled {
                labelled = true;
                anno.label(s.name.clone()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
                });
            }
        }
    }
    let grey = RGBColor(90, 90, 90);
    for (k, (yv, label)) in p.hlines.iter().enumerate() {
        if let Some(yv) = to_axis(*yv, yl) {
            let a = chart
                .draw_series(DashedLineSeries::new(
                    vec![(x.0, yv), (x.1, yv)],
                    8,
                    4,
                    BLACK.stroke_width(1),
                ))
                .map_err(err)?;
            if !label.is_empty() && (k == 0 || p.hlines[k - 1].1 != *label) {
                a.label(label.clone())
                    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
            }
        }
    }
    for (k, (xv, label)) in p.vlines.iter().enumerate() {
        if let Some(xv) = to_axis(*xv, xl) {
            let a = chart
                .draw_series(DashedLineSeries::new(
                    vec![(xv, y.0), (xv, y.1)],
                    4,
                    4,
                    grey.stroke_width(1),
                ))
                .map_err(err)?;
            // One legend entry per distinct label.
            if !label.is_empty() && !p.vlines[..k].iter().any(|v| v.1 == *label) {
                a.label(label.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], grey));
            }
        }
    }
    if !p.series.is_empty() {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.5))
            .label_font(("sans-serif", 12))
            .draw()
            .map_err(err)?;
    }
    Ok(())
}

fn axis_desc(label: &str, log: bool) -> String {
    if log {
        format!("{label} (log scale)")
    } else {
        label.to_owned()
    }
}

fn contour<DB: DrawingBackend>(area: &Area<'_, DB>, c: &Contour) -> Result<()> {
    let ny = c.z.len();
    let nx = c.z.first().map_or(0, Vec::len);
    if nx < 2 || ny < 2 || c.z.iter().any(|r| r.len() != nx) {
        bail!(
            "contour `{}` needs a rectangular grid of at least 2 × 2",
            c.title
        );
    }
    let zmin =
        c.z.iter()
            .flatten()
            .copied()
            .filter(|v| v.is_finite())
            .fold(f64::INFINITY, f64::min);
    let level = |v: f64| {
        if c.log_levels {
            (v - zmin + 1e-3).log10()
        } else {
            v
        }
    };
    let (lo, hi) =
        c.z.iter()
            .flatten()
            .filter(|v| v.is_finite())
            .map(|&v| level(v))
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            });
    const BANDS: f64 = 14.0;
    let mut chart = ChartBuilder::on(area)
        .caption(&c.title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(c.x_range.0..c.x_range.1, c.y_range.0..c.y_range.1)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(&c.x_label)
        .y_desc(&c.y_label)
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(err)?;
    let dx = (c.x_range.1 - c.x_range.0) / (nx - 1) as f64;
    let dy = (c.y_range.1 - c.y_range.0) / (ny - 1) as f64;
    let cells = (0..ny).flat_map(|j| (0..nx).map(move |i| (i, j)));
    chart
        .draw_series(cells.map(|(i, j)| {
            let v = c.z[j][i];
            let t = if v.is_finite() && hi > lo {
                ((level(v) - lo) / (hi - lo) * BANDS)
                    .floor()
                    .min(BANDS - 1.0)
                    / (BANDS - 1.0)
            } else {
                1.0
            };
            let col = ViridisRGB::get_color_normalized(t, 0.0, 1.0);
            let (x, y) = (c.x_range.0 + i as f64 * dx, c.y_range.0 + j as f64 * dy);
            Rectangle::new(
                [(x - dx / 2.0, y - dy / 2.0), (x + dx / 2.0, y + dy / 2.0)],
                col.filled(),
            )
        }))
        .map_err(err)?;
    let clamp = |(x, y): (f64, f64)| {
        (
            x.clamp(c.x_range.0, c.x_range.1),
            y.clamp(c.y_range.0, c.y_range.1),
        )
    };
    for (k, s) in c.paths.iter().enumerate() {
        let col = colour(k);
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .take_while(|p| p.0.is_finite() && p.1.is_finite())
            .map(|&p| clamp(p))
            .collect();
        let Some(&end) = pts.last() else { continue };
        chart
            .draw_series(LineSeries::new(pts.clone(), WHITE.stroke_width(4)))
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(pts.clone(), col.stroke_width(2)))
            .map_err(err)?
            .label(s.name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], col.stroke_width(2)));
        chart
            .draw_series([
                Circle::new(pts[0], 5, col.filled()),
                Circle::new(end, 5, BLACK.stroke_width(2)),
            ])
            .map_err(err)?;
    }
    for (label, p) in &c.points {
        let p = clamp(*p);
        chart
            .draw_series([
                EmptyElement::at(p) + Cross::new((0, 0), 6, WHITE.stroke_width(3)),
                EmptyElement::at(p) + Cross::new((0, 0), 6, BLACK.stroke_width(1)),
            ])
            .map_err(err)?;
        chart
            .draw_series([Text::new(
                label.clone(),
                (p.0, p.1),
                ("sans-serif", 13).into_font().color(&WHITE),
            )])
            .map_err(err)?;
    }
    if !c.paths.is_empty() {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.5))
            .label_font(("sans-serif", 12))
            .draw()
            .map_err(err)?;
    }
    Ok(())
}

fn heatmap<DB: DrawingBackend>(area: &Area<'_, DB>, h: &Heatmap) -> Result<()> {
    let rows = h.values.len();
    let cols = h.values.first().map_or(0, Vec::len);
    if rows == 0 || cols == 0 || h.values.iter().any(|r| r.len() != cols) {
        bail!("heat map `{}` needs a non-empty rectangular grid", h.title);
    }
    if h.x_ticks.len() != cols || h.y_ticks.len() != rows {
        bail!(
            "heat map `{}`: {} × {} values but {} x ticks and {} y ticks",
            h.title,
            rows,
            cols,
            h.x_ticks.len(),
            h.y_ticks.len()
        );
    }
    let mut chart = ChartBuilder::on(area)
        .caption(&h.title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(45)
        .y_label_area_size(70)
        // A segmented range `0..n` has n + 1 segments (its end included).
        .build_cartesian_2d(
            (0..cols as i32 - 1).into_segmented(),
            (0..rows as i32 - 1).into_segmented(),
        )
        .map_err(err)?;
    let tick = |ticks: &[String], v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
            ticks.get(*i as usize).cloned().unwrap_or_default()
        }
        SegmentValue::Last => String::new(),
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(&h.x_label)
        .y_desc(&h.y_label)
        .x_labels(cols)
        .y_labels(rows)
        .x_label_formatter(&|v| tick(&h.x_ticks, v))
        .y_label_formatter(&|v| tick(&h.y_ticks, v))
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(err)?;
    let (lo, hi) = h.range;
    let seg = |k: usize, n: usize| {
        if k >= n {
            SegmentValue::Last
        } else {
            SegmentValue::Exact(k as i32)
        }
    };
    for r in 0..rows {
        for c in 0..cols {
            let v = h.values[r][c];
            let t = if v.is_finite() && hi > lo {
                ((v - lo) / (hi - lo)).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let fill = if v.is_finite() {
                ViridisRGB::get_color_normalized(t, 0.0, 1.0)
            } else {
                RGBColor(200, 200, 200)
            };
            chart
                .draw_series([Rectangle::new(
                    [
                        (seg(c, cols), seg(r, rows)),
                        (seg(c + 1, cols), seg(r + 1, rows)),
                    ],
                    fill.filled(),
                )])
                .map_err(err)?;
            let text = if v.is_finite() {
                format!("{v:.prec$}", prec = h.decimals)
            } else {
                "—".into()
            };
            let ink = if t > 0.6 { BLACK } else { WHITE };
            chart
                .draw_series([Text::new(
                    text,
                    (
                        SegmentValue::CenterOf(c as i32),
                        SegmentValue::CenterOf(r as i32),
                    ),
                    ("sans-serif", 12).into_font().color(&ink).pos(
                        plotters::style::text_anchor::Pos::new(
                            plotters::style::text_anchor::HPos::Center,
                            plotters::style::text_anchor::VPos::Center,
                        ),
                    ),
                )])
                .map_err(err)?;
        }
    }
    for &(r, c) in &h.outlined {
        if r < rows && c < cols {
            chart
                .draw_series([Rectangle::new(
                    [
                        (seg(c, cols), seg(r, rows)),
                        (seg(c + 1, cols), seg(r + 1, rows)),
                    ],
                    RGBColor(230, 30, 30).stroke_width(3),
                )])
                .map_err(err)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(path: &Path) -> (u32, u32) {
        let file = std::fs::File::open(path).unwrap();
        let mut reader = png::Decoder::new(std::io::BufReader::new(file))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        (info.width, info.height)
    }

    /// Every panel kind draws, with what real runs produce: NaN and ∞ (a
    /// diverged run), non-positive values on a log axis, a constant series.
    #[test]
    fn every_panel_kind_draws_to_png_and_svg() {
        let dir = std::env::temp_dir().join(format!("descent-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut contour = Contour::sample("Rosenbrock", (-2.0, 2.0), (-1.0, 3.0), 40, |x, y| {
            (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
        });
        contour.log_levels = true;
        contour.paths.push(Series::line(
            "GD",
            vec![(-1.5, 2.0), (-1.0, 1.0), (f64::NAN, 0.0), (1.0, 1.0)],
        ));
        contour.points.push(("min".into(), (1.0, 1.0)));
        let fig = Figure::new("all", "every panel")
            .panel(
                Lines::new("loss", "step", "loss")
                    .log_y()
                    .series(Series::indexed(
                        "diverges",
                        &[1.0, 0.5, f64::INFINITY, f64::NAN, -1.0, 0.1],
                    ))
                    .series(Series::indexed("flat", &[0.3; 5]).styled(Style::Dashed))
                    .series(Series::indexed("dots", &[0.2, 0.1]).styled(Style::LinePoints))
                    .hline(0.25, "threshold")
                    .vline(2.0, "rollback")
                    .vline(3.0, "rollback"),
            )
            .panel(contour)
            .panel(Heatmap {
                title: "accuracy".into(),
                x_label: "lr".into(),
                y_label: "λ".into(),
                x_ticks: vec!["1e-3".into(), "1e-2".into()],
                y_ticks: vec!["0".into(), "1e-4".into(), "1e-3".into()],
                values: vec![vec![0.9, 0.95], vec![f64::NAN, 0.97], vec![0.5, 0.1]],
                range: (0.0, 1.0),
                decimals: 2,
                outlined: vec![(1, 1)],
            });
        let (png_name, svg_name) = write(&fig, &dir).unwrap();
        assert_eq!(decode(&dir.join(&png_name)), size(&fig));
        let svg = std::fs::read_to_string(dir.join(&svg_name)).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("Rosenbrock") && svg.contains("rollback"));
        if std::env::var_os("DESCENT_KEEP_PLOT").is_none() {
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }

    #[test]
    fn tick_labels_have_three_significant_digits() {
        assert_eq!(tick_label(1584.893_f64.log10(), true), "1580");
        assert_eq!(tick_label(0.031_622_f64.log10(), true), "0.0316");
        assert_eq!(tick_label(2.0, false), "2");
        assert_eq!(tick_label(0.25, false), "0.25");
        assert_eq!(tick_label(1e6_f64.log10(), true), "1e6");
        assert_eq!(tick_label(-3e-5, false), "-3e-5");
    }

    #[test]
    fn a_ragged_heatmap_is_an_error_not_a_panic() {
        let fig = Figure::new("bad", "bad").panel(Heatmap {
            title: "ragged".into(),
            x_label: String::new(),
            y_label: String::new(),
            x_ticks: vec!["a".into(), "b".into()],
            y_ticks: vec!["c".into(), "d".into()],
            values: vec![vec![1.0, 2.0], vec![3.0]],
            range: (0.0, 1.0),
            decimals: 1,
            outlined: vec![],
        });
        let err = write(&fig, &std::env::temp_dir()).unwrap_err();
        assert!(format!("{err:#}").contains("rectangular"), "{err:#}");
    }
}
