//! Pictures of a [descent-hpo](descent_hpo) study: the set
//! `optuna.visualization` offers, drawn with `plotters` to PNG or SVG (by
//! the file name's extension), each file written atomically.
//!
//! | descent-hpo-plot | Optuna |
//! | --- | --- |
//! | [`plot_optimization_history`] | `plot_optimization_history` |
//! | [`plot_intermediate_values`] | `plot_intermediate_values` |
//! | [`plot_parallel_coordinate`] | `plot_parallel_coordinate` |
//! | [`plot_slice`] | `plot_slice` |
//! | [`plot_contour`] | `plot_contour(params=[x, y])` |
//! | [`plot_param_importances`] | `plot_param_importances` |
//! | [`plot_pareto_front`] | `plot_pareto_front` (2 objectives) |
//! | [`plot_edf`] | `plot_edf` |
//! | [`write_plots`] / [`StudyPlots::write_plots`] | (all of the above into one folder) |
//!
//! Plots of trials take `&[FrozenTrial]` (a study's
//! [`Study::trials`](descent_hpo::Study::trials)); importances and Pareto
//! fronts take plain data, so any evaluator or multi-objective study feeds
//! them. Every image is [`WIDTH`] × [`HEIGHT`] pixels; text uses DejaVu Sans
//! built into the crate (`assets/`, Bitstream Vera licence), so no system
//! font library is needed. Titles, axis titles and legends are Optuna's.
//! Input with nothing to draw is [`Error::NothingToPlot`], never a panic.
//!
//! # Code map
//!
//! - `canvas.rs`: the `Figure` trait, `render` (PNG or SVG by extension,
//!   atomically through `descent_core::fs::write_atomic`), the embedded DejaVu
//!   Sans, Plotly's Blues/Reds, linear/log/categorical axes, the colour bar.
//! - `data.rs`: completed finite trials, parameter names, Optuna's
//!   `_get_axis_info`.
//! - One file per plot: `history.rs`, `intermediate.rs`, `parallel.rs`,
//!   `slice.rs`, `contour.rs` (+ `contour/interpolate.rs`, Plotly's Laplace
//!   fill by conjugate gradients), `importance.rs`, `pareto.rs`, `edf.rs`;
//!   `study.rs`: `write_plots`, `StudyPlots`.
//!
//! Invariant: a plot's input is checked before anything is drawn; nothing to
//! draw is `Error::NothingToPlot`, never a panic or an empty file; text uses
//! only the embedded font.
//!
//! # Examples
//!
//! ```
//! use descent_hpo::{MedianConfig, MedianPruner, Study, StudyConfig, Trial};
//! use descent_hpo_plot::StudyPlots;
//!
//! let study = Study::new(StudyConfig::default()).with_pruner(MedianPruner::new(MedianConfig::default())?);
//! study.optimize(
//!     |trial: &mut Trial| {
//!         let lr = trial.suggest_float_log("lr", 1e-3, 1.0)?;
//!         let mut loss = 1.0;
//!         for epoch in 0..10 {
//!             loss *= 1.0 - lr.min(0.5);
//!             trial.report(epoch, loss);
//!             if trial.should_prune() {
//!                 break;
//!             }
//!         }
//!         Ok::<_, descent_hpo::Error>(loss)
//!     },
//!     20,
//!     1,
//! )?;
//! let dir = std::env::temp_dir().join(format!("descent-doc-lib-{}", std::process::id()));
//! let written = study.write_plots(&dir)?;
//! assert!(dir.join("intermediate_values.png").exists());
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod canvas;
mod contour;
mod data;
mod edf;
mod error;
mod history;
mod importance;
mod intermediate;
mod parallel;
mod pareto;
mod slice;
mod study;

pub use canvas::{HEIGHT, WIDTH};
pub use contour::plot_contour;
pub use edf::plot_edf;
pub use error::{Error, Result};
pub use history::plot_optimization_history;
pub use importance::plot_param_importances;
pub use intermediate::plot_intermediate_values;
pub use parallel::plot_parallel_coordinate;
pub use pareto::plot_pareto_front;
pub use slice::plot_slice;
pub use study::{StudyPlots, Written, write_plots};

/// The README, whose example runs as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
