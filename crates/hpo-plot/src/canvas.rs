//! What every plot shares: the canvas (PNG or SVG by file extension, written
//! atomically), the embedded font, colours, axes and the colour bar.

use crate::{Error, Result};
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use std::path::Path;

/// Width in pixels of every image written (PNG pixels, SVG user units).
pub const WIDTH: u32 = 800;
/// Height in pixels of every image written.
pub const HEIGHT: u32 = 600;

/// The drawing area a figure draws on.
pub(crate) type Area<'a, DB> = DrawingArea<DB, Shift>;
/// A drawing step's failure, as the library's message.
pub(crate) type Drawn = std::result::Result<(), String>;

/// Formats a plotters error.
pub(crate) fn de<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// A figure ready to draw: the data is prepared and checked, drawing it
/// cannot fail on the user's input.
pub(crate) trait Figure {
    /// Optuna's name of the plot (`plot_slice`, …), for errors.
    const PLOT: &'static str;
    /// Draws on `area`, whose background is already white.
    fn draw<DB: DrawingBackend>(&self, area: &Area<'_, DB>) -> Drawn;
}

/// The two image formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Png,
    Svg,
}

fn format_of(path: &Path) -> Result<Format> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png") => Ok(Format::Png),
        Some("svg") => Ok(Format::Svg),
        _ => Err(Error::UnsupportedFormat {
            path: path.to_owned(),
        }),
    }
}

/// DejaVu Sans (Bitstream Vera licence, `assets/DejaVuSans.LICENSE`), built
/// in so a machine without fonts draws the same picture.
static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
/// The family name the figures ask for.
pub(crate) const FAMILY: &str = "sans-serif";

fn register_font() -> Result<()> {
    static ONCE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *ONCE.get_or_init(|| {
        plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok()
            && plotters::style::register_font(FAMILY, FontStyle::Bold, FONT).is_ok()
    });
    if ok { Ok(()) } else { Err(Error::Font) }
}

/// Draws `fig` and writes it to `path` (PNG or SVG by its extension),
/// atomically: a reader sees the old file or the whole new one.
pub(crate) fn render<F: Figure>(fig: &F, path: &Path) -> Result<()> {
    let format = format_of(path)?;
    register_font()?;
    let draw_err = |message: String| Error::Draw {
        plot: F::PLOT,
        message,
    };
    let bytes = match format {
        Format::Png => {
            let mut rgb = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
            {
                let root =
                    BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
                root.fill(&WHITE).map_err(|e| draw_err(de(e)))?;
                fig.draw(&root).map_err(draw_err)?;
                root.present().map_err(|e| draw_err(de(e)))?;
            }
            encode_png(&rgb).map_err(|source| Error::Io {
                path: path.to_owned(),
                source,
            })?
        }
        Format::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
                root.fill(&WHITE).map_err(|e| draw_err(de(e)))?;
                fig.draw(&root).map_err(draw_err)?;
                root.present().map_err(|e| draw_err(de(e)))?;
            }
            svg.into_bytes()
        }
    };
    descent_core::fs::write_atomic(path, &bytes).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}

fn encode_png(rgb: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, WIDTH, HEIGHT);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::High);
    let mut writer = enc.write_header().map_err(std::io::Error::other)?;
    writer
        .write_image_data(rgb)
        .map_err(std::io::Error::other)?;
    writer.finish().map_err(std::io::Error::other)?;
    Ok(out)
}

/// Plotly's sequential `Blues` scale (Optuna's `COLOR_SCALE`).
const BLUES: [(u8, u8, u8); 9] = [
    (247, 251, 255),
    (222, 235, 247),
    (198, 219, 239),
    (158, 202, 225),
    (107, 174, 214),
    (66, 146, 198),
    (33, 113, 181),
    (8, 81, 156),
    (8, 48, 107),
];
/// Plotly's sequential `Reds` scale (the Pareto front's best trials).
const REDS: [(u8, u8, u8); 9] = [
    (255, 245, 240),
    (254, 224, 210),
    (252, 187, 161),
    (252, 146, 114),
    (251, 106, 74),
    (239, 59, 44),
    (203, 24, 29),
    (165, 15, 21),
    (103, 0, 13),
];

fn scale(stops: &[(u8, u8, u8); 9], t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * 8.0;
    let i = (x.floor() as usize).min(7);
    let f = x - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    let (a, b) = (stops[i], stops[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// The `Blues` colour at `t` in `[0, 1]` (0 light, 1 dark).
pub(crate) fn blues(t: f64) -> RGBColor {
    scale(&BLUES, t)
}

/// The `Reds` colour at `t` in `[0, 1]`.
pub(crate) fn reds(t: f64) -> RGBColor {
    scale(&REDS, t)
}

/// Plotly's default trace colours, in order.
pub(crate) const PLOTLY: [RGBColor; 10] = [
    RGBColor(99, 110, 250),
    RGBColor(239, 85, 59),
    RGBColor(0, 204, 150),
    RGBColor(171, 99, 250),
    RGBColor(255, 161, 90),
    RGBColor(25, 211, 243),
    RGBColor(255, 102, 146),
    RGBColor(182, 232, 128),
    RGBColor(255, 151, 255),
    RGBColor(254, 203, 82),
];

/// How values are laid along an axis.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scale {
    /// Values as they are.
    Linear,
    /// `log10` of the values, ticks labelled with the values.
    Log,
    /// The labels at 0, 1, 2, …
    Categorical(Vec<String>),
}

/// One axis of a chart: its label, scale and range in plot units.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Axis {
    pub label: String,
    pub scale: Scale,
    pub range: (f64, f64),
}

impl Axis {
    /// A tick's text at plot coordinate `v`.
    pub fn tick(&self, v: f64) -> String {
        match &self.scale {
            Scale::Linear => tick_label(v),
            // Over two decades or more, only powers of ten are labelled.
            Scale::Log if self.range.1 - self.range.0 >= 2.0 && (v - v.round()).abs() > 1e-6 => {
                String::new()
            }
            Scale::Log => tick_label(10f64.powf(v)),
            Scale::Categorical(labels) => {
                let r = v.round();
                if (v - r).abs() < 1e-6 && r >= 0.0 {
                    labels.get(r as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            }
        }
    }

    /// How many ticks to ask plotters for: one per category, else its default.
    pub fn n_ticks(&self) -> usize {
        match &self.scale {
            Scale::Categorical(labels) => labels.len().max(1) + 1,
            _ => 8,
        }
    }

    /// The axis title, with the scale named for log axes.
    pub fn title(&self) -> String {
        match self.scale {
            Scale::Log => format!("{} (log)", self.label),
            _ => self.label.clone(),
        }
    }
}

/// A number in at most three significant digits, plain or in e-notation.
pub(crate) fn tick_label(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return "0".into();
    }
    let a = x.abs();
    if !(1e-3..1e5).contains(&a) {
        return format!("{x:.1e}").replace(".0e", "e");
    }
    // Three significant digits (a log axis's ticks fall between round numbers).
    let mag = a.log10().floor() as i32;
    let digits = (2 - mag).max(0) as usize;
    let scale = 10f64.powi(mag - 2);
    let rounded = (x / scale).round() * scale;
    let s = format!("{rounded:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// A range covering `vals` with Optuna's 5% padding on each side (a unit
/// one around a single value); `(0, 1)` when there is nothing.
pub(crate) fn padded(vals: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = vals
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo <= 1e-12 * (1.0 + lo.abs()) {
        return (lo - 0.5, hi + 0.5);
    }
    let m = 0.05 * (hi - lo);
    (lo - m, hi + m)
}

/// Splits `area` into a title strip (drawn, bold, centred) and the body.
pub(crate) fn titled<'a, DB: DrawingBackend>(
    area: &Area<'a, DB>,
    title: &str,
) -> std::result::Result<Area<'a, DB>, String> {
    let (top, body) = area.split_vertically(44);
    top.titled(title, (FAMILY, 22).into_font().style(FontStyle::Bold))
        .map_err(de)?;
    Ok(body)
}

/// A vertical colour bar at the right of `area`: `colour(t)` from `t = 0`
/// (bottom, labelled `lo`) to 1 (top, `hi`), titled `title`.
pub(crate) fn colour_bar<DB: DrawingBackend>(
    area: &Area<'_, DB>,
    title: &str,
    (lo, hi): (f64, f64),
    colour: impl Fn(f64) -> RGBColor,
) -> Drawn {
    let (w, h) = area.dim_in_pixel();
    let (x0, x1) = (12i32, 30i32);
    let (y0, y1) = (40i32, h as i32 - 60);
    let n = (y1 - y0).max(1);
    for k in 0..n {
        let t = k as f64 / n as f64;
        let y = y1 - k;
        area.draw(&Rectangle::new([(x0, y - 1), (x1, y)], colour(t).filled()))
            .map_err(de)?;
    }
    area.draw(&Rectangle::new([(x0, y0), (x1, y1)], BLACK.stroke_width(1)))
        .map_err(de)?;
    let font = (FAMILY, 12).into_font();
    area.draw(&Text::new(tick_label(hi), (x1 + 4, y0 - 6), font.clone()))
        .map_err(de)?;
    area.draw(&Text::new(tick_label(lo), (x1 + 4, y1 - 6), font.clone()))
        .map_err(de)?;
    let _ = w;
    area.draw(&Text::new(title.to_owned(), (2, 14), font))
        .map_err(de)?;
    Ok(())
}

/// The coordinate system of a plain chart (values mapped by [`Axis`]).
pub(crate) type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A chart on `area` over the axes' ranges, with its mesh, tick labels
/// and axis titles drawn.
pub(crate) fn chart<'a, DB: DrawingBackend>(
    area: &Area<'a, DB>,
    caption: Option<&str>,
    x: &Axis,
    y: &Axis,
) -> std::result::Result<Chart<'a, DB>, String> {
    let mut builder = ChartBuilder::on(area);
    if let Some(c) = caption {
        builder.caption(c, (FAMILY, 15));
    }
    let mut chart = builder
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d(x.range.0..x.range.1, y.range.0..y.range.1)
        .map_err(de)?;
    let (xt, yt) = (x.title(), y.title());
    chart
        .configure_mesh()
        .x_desc(xt)
        .y_desc(yt)
        .x_labels(x.n_ticks())
        .y_labels(y.n_ticks())
        .x_label_formatter(&|v| x.tick(*v))
        .y_label_formatter(&|v| y.tick(*v))
        .bold_line_style(RGBColor(230, 230, 230))
        .light_line_style(WHITE.mix(0.0))
        .axis_desc_style((FAMILY, 14))
        .label_style((FAMILY, 12))
        .draw()
        .map_err(de)?;
    Ok(chart)
}

/// Draws the chart's legend (upper right, on a translucent white box).
pub(crate) fn legend<'a, DB: DrawingBackend + 'a>(chart: &mut Chart<'a, DB>) -> Drawn {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.5))
        .label_font((FAMILY, 12))
        .draw()
        .map_err(de)
}

/// A linear axis over `range` (already padded).
pub(crate) fn linear(label: &str, range: (f64, f64)) -> Axis {
    Axis {
        label: label.to_owned(),
        scale: Scale::Linear,
        range,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(tick_label(2.0), "2");
        assert_eq!(tick_label(0.25), "0.25");
        assert_eq!(tick_label(1234.567), "1230");
        assert_eq!(tick_label(0.031_622_7), "0.0316");
        assert_eq!(tick_label(1e6), "1e6");
        assert_eq!(tick_label(-3e-5), "-3e-5");
    }

    #[test]
    fn the_colour_scales_run_from_light_to_dark() {
        assert_eq!(blues(0.0), RGBColor(247, 251, 255));
        assert_eq!(blues(1.0), RGBColor(8, 48, 107));
        assert_eq!(reds(1.0), RGBColor(103, 0, 13));
        assert_eq!(blues(f64::NAN), blues(0.0));
    }

    #[test]
    fn a_file_name_without_png_or_svg_is_an_error() {
        assert!(matches!(
            format_of(Path::new("plot.jpg")),
            Err(Error::UnsupportedFormat { .. })
        ));
        assert!(matches!(
            format_of(Path::new("plot")),
            Err(Error::UnsupportedFormat { .. })
        ));
        assert_eq!(format_of(Path::new("a/PLOT.SVG")).unwrap(), Format::Svg);
    }
}
