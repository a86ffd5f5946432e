//! The whole set for a study, written into one directory next to its
//! results table.

use crate::{
    Error, Result, plot_contour, plot_edf, plot_intermediate_values, plot_optimization_history,
    plot_parallel_coordinate, plot_slice,
};
use descent_hpo::Study;
use std::path::{Path, PathBuf};

/// What [`write_plots`] wrote, and the plots it left out with why.
#[derive(Debug, Default)]
pub struct Written {
    /// Every file written, in order (`results.txt` first).
    pub files: Vec<PathBuf>,
    /// (file stem, reason) of each plot that does not apply to the study
    /// (no intermediate values, a single parameter, …).
    pub skipped: Vec<(String, Error)>,
}

/// Writes the results table and every plot that applies to `study` into
/// `dir` (created if missing), each plot as PNG and SVG, every file
/// atomically:
///
/// | file | what |
/// | --- | --- |
/// | `results.txt` | [`Study::results_table`] |
/// | `optimization_history.{png,svg}` | [`plot_optimization_history`] |
/// | `intermediate_values.{png,svg}` | [`plot_intermediate_values`] (when trials reported values) |
/// | `parallel_coordinate.{png,svg}` | [`plot_parallel_coordinate`] |
/// | `slice.{png,svg}` | [`plot_slice`] |
/// | `contour_{x}_{y}.{png,svg}` | [`plot_contour`] for each pair of parameters `x < y` (by name) |
/// | `edf.{png,svg}` | [`plot_edf`] |
///
/// A plot with nothing to show ([`Error::NothingToPlot`]) is listed in
/// [`Written::skipped`], not an error; any other error (a file that cannot
/// be written) stops and is returned. Parameter names are used in file
/// names with every character other than ASCII letters, digits, `-` and `_`
/// replaced by `_`. Importances and Pareto fronts need data a
/// single-objective study does not hold: draw them with
/// [`plot_param_importances`](crate::plot_param_importances) and
/// [`plot_pareto_front`](crate::plot_pareto_front).
///
/// # Examples
///
/// ```
/// use descent_hpo::{Study, StudyConfig};
///
/// let study = Study::new(StudyConfig::default());
/// study.optimize(
///     |t| Ok::<_, descent_hpo::Error>(t.suggest_float("x", -1.0, 1.0)? + t.suggest_float("y", 0.0, 1.0)?),
///     12,
///     1,
/// )?;
/// let dir = std::env::temp_dir().join(format!("descent-doc-plots-{}", std::process::id()));
/// let written = descent_hpo_plot::write_plots(&study, &dir)?;
/// assert!(dir.join("contour_x_y.png").exists());
/// assert_eq!(written.skipped.len(), 1); // no intermediate values
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_plots(study: &Study, dir: impl AsRef<Path>) -> Result<Written> {
    let dir = dir.as_ref();
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_owned(),
        source,
    })?;
    let trials = study.trials();
    let direction = study.config().direction;
    let mut out = Written::default();
    let table = dir.join("results.txt");
    descent_core::fs::write_atomic(&table, study.results_table().as_bytes()).map_err(|source| {
        Error::Io {
            path: table.clone(),
            source,
        }
    })?;
    out.files.push(table);
    let done = crate::data::completed(&trials);
    let params = crate::data::param_names(&done);
    let mut jobs: Vec<(String, Job<'_>)> = vec![
        (
            "optimization_history".into(),
            Box::new(|p: &Path| plot_optimization_history(&trials, direction, p)),
        ),
        (
            "intermediate_values".into(),
            Box::new(|p: &Path| plot_intermediate_values(&trials, p)),
        ),
        (
            "parallel_coordinate".into(),
            Box::new(|p: &Path| plot_parallel_coordinate(&trials, direction, None, p)),
        ),
        (
            "slice".into(),
            Box::new(|p: &Path| plot_slice(&trials, None, p)),
        ),
    ];
    for (i, x) in params.iter().enumerate() {
        for y in &params[i + 1..] {
            let stem = format!("contour_{}_{}", file_safe(x), file_safe(y));
            let trials = &trials;
            jobs.push((
                stem,
                Box::new(move |p: &Path| plot_contour(trials, direction, (x, y), p)),
            ));
        }
    }
    jobs.push(("edf".into(), Box::new(|p: &Path| plot_edf(&trials, p))));
    for (stem, job) in jobs {
        for ext in ["png", "svg"] {
            let path = dir.join(format!("{stem}.{ext}"));
            match job(&path) {
                Ok(()) => out.files.push(path),
                Err(e @ Error::NothingToPlot { .. }) => {
                    out.skipped.push((stem.clone(), e));
                    break;
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(out)
}

/// One plot, drawn to the path it is given.
type Job<'a> = Box<dyn Fn(&Path) -> Result<()> + 'a>;

fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// [`write_plots`] as a method: `study.write_plots(dir)`.
pub trait StudyPlots {
    /// See [`write_plots`].
    fn write_plots(&self, dir: impl AsRef<Path>) -> Result<Written>;
}

impl StudyPlots for Study {
    fn write_plots(&self, dir: impl AsRef<Path>) -> Result<Written> {
        write_plots(self, dir)
    }
}

#[cfg(test)]
mod tests {
    use super::file_safe;

    #[test]
    fn parameter_names_become_safe_file_names() {
        assert_eq!(file_safe("opt/lr é"), "opt_lr__");
        assert_eq!(file_safe("beta-2_x"), "beta-2_x");
    }
}
