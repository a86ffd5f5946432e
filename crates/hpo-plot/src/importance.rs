//! `plot_param_importances`: a horizontal bar per hyperparameter
//! (`optuna/visualization/_param_importances.py`), from plain
//! (name, importance) pairs, whatever evaluator computed them.

use crate::canvas::{self, Area, Axis, Drawn, Figure, PLOTLY, Scale, de, linear};
use crate::{Error, Result};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// Bars from the least important (bottom) to the most important (top).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Importances {
    pub bars: Vec<(String, f64)>,
}

impl Importances {
    pub(crate) fn new(importances: &[(String, f64)]) -> Result<Self> {
        if importances.is_empty() {
            return Err(Error::nothing(Self::PLOT, "no importances were given"));
        }
        for (i, (name, v)) in importances.iter().enumerate() {
            if !v.is_finite() || *v < 0.0 {
                return Err(Error::invalid(
                    Self::PLOT,
                    format!("importance of `{name}` is {v}: must be finite and >= 0"),
                ));
            }
            if importances[..i].iter().any(|(n, _)| n == name) {
                return Err(Error::invalid(
                    Self::PLOT,
                    format!("`{name}` is given twice"),
                ));
            }
        }
        let mut bars = importances.to_vec();
        // Stable: equal importances keep the order given, top to bottom.
        bars.reverse();
        bars.sort_by(|a, b| a.1.total_cmp(&b.1));
        Ok(Importances { bars })
    }
}

/// Optuna's bar text: two decimals, or "<0.01".
pub(crate) fn bar_text(v: f64) -> String {
    if v >= 0.01 {
        format!("{v:.2}")
    } else {
        "<0.01".into()
    }
}

impl Figure for Importances {
    const PLOT: &'static str = "plot_param_importances";

    fn draw<DB: DrawingBackend>(&self, area: &Area<'_, DB>) -> Drawn {
        let body = canvas::titled(area, "Hyperparameter Importances")?;
        let max = self.bars.iter().map(|b| b.1).fold(0.0, f64::max);
        let x = linear(
            "Hyperparameter Importance",
            (0.0, if max > 0.0 { max * 1.15 } else { 1.0 }),
        );
        let n = self.bars.len();
        let y = Axis {
            label: "Hyperparameter".into(),
            scale: Scale::Categorical(self.bars.iter().map(|b| b.0.clone()).collect()),
            range: (-0.6, n as f64 - 0.4),
        };
        let mut chart = canvas::chart(&body, None, &x, &y)?;
        let col = PLOTLY[0];
        chart
            .draw_series(self.bars.iter().enumerate().map(|(i, b)| {
                Rectangle::new(
                    [(0.0, i as f64 - 0.35), (b.1, i as f64 + 0.35)],
                    col.filled(),
                )
            }))
            .map_err(de)?;
        let font = (canvas::FAMILY, 12)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        chart
            .draw_series(self.bars.iter().enumerate().map(|(i, b)| {
                EmptyElement::at((b.1, i as f64)) + Text::new(bar_text(b.1), (4, 0), font.clone())
            }))
            .map_err(de)?;
        Ok(())
    }
}

/// Plots hyperparameter importances as horizontal bars, the most important
/// at the top, each labelled with its value ("<0.01" below 0.01), as
/// Optuna's `plot_param_importances`: title "Hyperparameter Importances",
/// axes "Hyperparameter Importance" and "Hyperparameter".
///
/// `importances` is plain (name, importance) pairs, as any evaluator
/// (fANOVA, PED-ANOVA, …) returns them; they need not be normalized.
/// Writes a PNG or an SVG by `path`'s extension, atomically.
///
/// Errors: [`Error::NothingToPlot`] for no pairs; [`Error::InvalidInput`]
/// for a negative or non-finite importance or a name given twice.
///
/// # Examples
///
/// ```
/// use descent_hpo_plot::plot_param_importances;
///
/// let path = std::env::temp_dir().join("descent-doc-importances.svg");
/// plot_param_importances(&[("lr".into(), 0.7), ("momentum".into(), 0.3)], &path)?;
/// # Ok::<(), descent_hpo_plot::Error>(())
/// ```
pub fn plot_param_importances(importances: &[(String, f64)], path: impl AsRef<Path>) -> Result<()> {
    canvas::render(&Importances::new(importances)?, path.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_go_from_least_to_most_important_and_bad_values_are_errors() {
        let imp =
            Importances::new(&[("a".into(), 0.2), ("b".into(), 0.7), ("c".into(), 0.005)]).unwrap();
        let names: Vec<&str> = imp.bars.iter().map(|b| b.0.as_str()).collect();
        assert_eq!(names, ["c", "a", "b"]);
        assert_eq!(bar_text(0.005), "<0.01");
        assert_eq!(bar_text(0.7), "0.70");
        for bad in [f64::NAN, -0.1, f64::INFINITY] {
            assert!(matches!(
                Importances::new(&[("x".into(), bad)]),
                Err(Error::InvalidInput { .. })
            ));
        }
        assert!(matches!(
            Importances::new(&[("x".into(), 0.1), ("x".into(), 0.2)]),
            Err(Error::InvalidInput { .. })
        ));
        assert!(matches!(
            Importances::new(&[]),
            Err(Error::NothingToPlot { .. })
        ));
    }
}
