//! The whole set for a study, written into one directory next to its
//! results table.

use crate::{
    Error, Result, plot_contour, plot_edf, plot_intermediate_values, plot_optimization_history,
    plot_parallel_coordinate, plot_param_importances, plot_pareto_front, plot_slice,
};
use descent_hpo::{
    FanovaConfig, FanovaImportanceEvaluator, Study, TrialState, get_param_importances,
};
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
/// | `param_importances.{png,svg}` | [`plot_param_importances`] of fANOVA's importances (Optuna's default evaluator, seed 0) |
///
/// A study with several objectives gets `results.txt` and, with two
/// objectives, `pareto_front.{png,svg}` ([`plot_pareto_front`] of every
/// complete trial, its [`Study::best_trials`] as the front); the plots of
/// one objective are listed in [`Written::skipped`] (Optuna asks for a
/// `target` there).
///
/// A plot with nothing to show ([`Error::NothingToPlot`], or importances
/// that cannot be assessed from the trials) is listed in
/// [`Written::skipped`], not an error; any other error (a file that cannot
/// be written) stops and is returned. Parameter names are used in file
/// names with every character other than ASCII letters, digits, `-` and `_`
/// replaced by `_`.
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
    let mut out = Written::default();
    let table = dir.join("results.txt");
    descent_core::fs::write_atomic(&table, study.results_table().as_bytes()).map_err(|source| {
        Error::Io {
            path: table.clone(),
            source,
        }
    })?;
    out.files.push(table);
    if study.directions().len() > 1 {
        write_pareto(study, &trials, dir, &mut out)?;
        return Ok(out);
    }
    let direction = study.config().direction;
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
    // Importances are assessed once; a study they cannot be assessed from
    // (too few trials, one value only) has nothing to show.
    let fanova = FanovaImportanceEvaluator::new(FanovaConfig::default());
    let importances = get_param_importances(study, &fanova, None, None)
        .map(|v| {
            v.into_iter()
                .map(|p| (p.name, p.importance))
                .collect::<Vec<_>>()
        })
        .map_err(|e| e.to_string());
    jobs.push((
        "param_importances".into(),
        Box::new(move |p: &Path| match &importances {
            Ok(v) => plot_param_importances(v, p),
            Err(reason) => Err(Error::nothing("plot_param_importances", reason.clone())),
        }),
    ));
    run_jobs(jobs, dir, &mut out)?;
    Ok(out)
}

/// The Pareto front of a two-objective study (other counts: skipped).
fn write_pareto(
    study: &Study,
    trials: &[descent_hpo::FrozenTrial],
    dir: &Path,
    out: &mut Written,
) -> Result<()> {
    let n = study.directions().len();
    for stem in [
        "optimization_history",
        "intermediate_values",
        "parallel_coordinate",
        "slice",
        "edf",
        "param_importances",
    ] {
        out.skipped.push((
            stem.into(),
            Error::nothing(
                "write_plots",
                format!("a study with {n} objectives needs a target for this plot"),
            ),
        ));
    }
    if n != 2 {
        out.skipped.push((
            "pareto_front".into(),
            Error::nothing(
                "plot_pareto_front",
                format!("{n} objectives: only two are drawn"),
            ),
        ));
        return Ok(());
    }
    let complete: Vec<_> = trials
        .iter()
        .filter(|t| t.state == TrialState::Complete)
        .collect();
    let points: Vec<Vec<f64>> = complete
        .iter()
        .map(|t| t.objective_values().to_vec())
        .collect();
    let best: Vec<u64> = study.best_trials()?.iter().map(|t| t.number).collect();
    let front: Vec<usize> = complete
        .iter()
        .enumerate()
        .filter(|(_, t)| best.contains(&t.number))
        .map(|(i, _)| i)
        .collect();
    let job: Job<'_> = Box::new(|p: &Path| plot_pareto_front(&points, &front, None, p));
    run_jobs(vec![("pareto_front".into(), job)], dir, out)
}

/// Draws each job as PNG and SVG; a job with nothing to show is skipped.
fn run_jobs(jobs: Vec<(String, Job<'_>)>, dir: &Path, out: &mut Written) -> Result<()> {
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
    Ok(())
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
