//! Every plot drawn for a real study (pruned trials, log, int and
//! categorical parameters) in both formats: each PNG decodes to
//! `WIDTH × HEIGHT` with ink on it, each SVG is XML carrying Optuna's titles
//! and axis labels; degenerate studies give typed errors, never a panic.

use descent_hpo::{
    Direction, FrozenTrial, MedianConfig, MedianPruner, Study, StudyConfig, Trial, TrialState,
};
use descent_hpo_plot::{
    Error, HEIGHT, StudyPlots, WIDTH, plot_contour, plot_edf, plot_intermediate_values,
    plot_optimization_history, plot_param_importances, plot_pareto_front, plot_slice,
};
use std::path::{Path, PathBuf};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("descent-hpo-plot-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// 40 trials of a cheap "training run": a learning rate (log), a depth
/// (int), an optimizer (categorical); the loss is reported per epoch and
/// the median pruner stops the poor runs.
fn study(direction: Direction) -> Study {
    let config = StudyConfig {
        direction,
        seed: 11,
        ..Default::default()
    };
    let pruner = MedianPruner::new(MedianConfig {
        n_startup_trials: 5,
        n_warmup_steps: 2,
        ..Default::default()
    })
    .unwrap();
    let study = Study::new(config).with_pruner(pruner);
    let sign = if direction == Direction::Minimize {
        1.0
    } else {
        -1.0
    };
    study
        .optimize(
            |t: &mut Trial| {
                let lr = t.suggest_float_log("lr", 1e-4, 1.0)?;
                let depth = t.suggest_int("depth", 1, 6)?;
                let opt = t.suggest_categorical("optimizer", &["adam", "sgd", "rmsprop"])?;
                let floor = match opt {
                    "adam" => 0.05,
                    "sgd" => 0.2,
                    _ => 0.1,
                } + 0.02 * (depth as f64 - 3.0).abs();
                let rate = 1.0 - (-(lr.log10() + 2.0).powi(2)).exp() * 0.5;
                let mut loss = 1.0;
                for epoch in 0..12 {
                    loss = floor + (loss - floor) * rate;
                    t.report(epoch, sign * loss);
                    if t.should_prune() {
                        break;
                    }
                }
                Ok::<_, descent_hpo::Error>(sign * loss)
            },
            40,
            1,
        )
        .unwrap();
    study
}

fn assert_png(path: &Path) {
    let file = std::fs::File::open(path).unwrap();
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(
        (info.width, info.height),
        (WIDTH, HEIGHT),
        "{}",
        path.display()
    );
    let px = &buf[..info.buffer_size()];
    let bpp = px.len() / (WIDTH * HEIGHT) as usize;
    let ink = px.chunks(bpp).filter(|p| p[..3] != [255, 255, 255]).count();
    // Axes, text and marks: well over 1% of the picture is not background.
    assert!(
        ink > (WIDTH * HEIGHT / 100) as usize,
        "{}: only {ink} non-background pixels",
        path.display()
    );
}

fn svg_texts(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let doc =
        roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    assert_eq!(
        doc.root_element().attribute("width"),
        Some(WIDTH.to_string().as_str())
    );
    doc.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect()
}

fn assert_svg(path: &Path, expected: &[&str]) {
    let texts = svg_texts(path);
    for e in expected {
        assert!(
            texts.iter().any(|t| t == e),
            "{}: no text `{e}` in {texts:?}",
            path.display()
        );
    }
}

#[test]
fn every_plot_of_a_pruned_study_is_written_in_both_formats() {
    let study = study(Direction::Minimize);
    let trials = study.trials();
    assert!(
        trials.iter().any(|t| t.state == TrialState::Pruned),
        "the study pruned nothing"
    );
    let dir = temp_dir("study");
    let written = study.write_plots(&dir).unwrap();
    assert!(written.skipped.is_empty(), "{:?}", written.skipped);
    let expected: &[(&str, &[&str])] = &[
        (
            "optimization_history",
            &[
                "Optimization History Plot",
                "Trial",
                "Objective Value",
                "Best Value",
            ],
        ),
        (
            "intermediate_values",
            &[
                "Intermediate Values Plot",
                "Step",
                "Intermediate Value",
                "Pruned",
                "Complete",
            ],
        ),
        (
            "parallel_coordinate",
            &[
                "Parallel Coordinate Plot",
                "Objective Value",
                "lr (log)",
                "depth",
                "optimizer",
                "adam",
                "rmsprop",
                "sgd",
            ],
        ),
        (
            "slice",
            &[
                "Slice Plot",
                "lr (log)",
                "depth",
                "optimizer",
                "Objective Value",
                "Trial",
                "adam",
            ],
        ),
        (
            "contour_depth_lr",
            &["Contour Plot", "depth", "lr (log)", "Objective Value"],
        ),
        (
            "contour_depth_optimizer",
            &["Contour Plot", "depth", "optimizer", "sgd"],
        ),
        (
            "contour_lr_optimizer",
            &["Contour Plot", "lr (log)", "optimizer"],
        ),
        (
            "edf",
            &[
                "Empirical Distribution Function Plot",
                "Objective Value",
                "Cumulative Probability",
            ],
        ),
        (
            "param_importances",
            &[
                "Hyperparameter Importances",
                "Hyperparameter Importance",
                "lr",
                "depth",
                "optimizer",
            ],
        ),
    ];
    assert_eq!(written.files.len(), 1 + 2 * expected.len());
    assert!(
        std::fs::read_to_string(dir.join("results.txt"))
            .unwrap()
            .contains("PRUNED")
    );
    for (stem, labels) in expected {
        assert_png(&dir.join(format!("{stem}.png")));
        assert_svg(&dir.join(format!("{stem}.svg")), labels);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn importances_and_pareto_front_draw_from_plain_data() {
    let dir = temp_dir("plain");
    let imp = vec![
        ("lr".to_owned(), 0.62),
        ("depth".to_owned(), 0.3),
        ("optimizer".to_owned(), 0.004),
    ];
    let points: Vec<Vec<f64>> = (0..30)
        .map(|i| {
            let x = i as f64 / 29.0;
            vec![x, 1.0 - x.sqrt() + 0.3 * ((i * 7 % 5) as f64 / 5.0)]
        })
        .collect();
    let front: Vec<usize> = (0..30).filter(|i| i * 7 % 5 == 0).collect();
    for ext in ["png", "svg"] {
        let a = dir.join(format!("importances.{ext}"));
        plot_param_importances(&imp, &a).unwrap();
        let b = dir.join(format!("pareto.{ext}"));
        plot_pareto_front(&points, &front, None, &b).unwrap();
        if ext == "png" {
            assert_png(&a);
            assert_png(&b);
        } else {
            assert_svg(
                &a,
                &[
                    "Hyperparameter Importances",
                    "Hyperparameter Importance",
                    "Hyperparameter",
                    "lr",
                    "0.62",
                    "<0.01",
                ],
            );
            assert_svg(
                &b,
                &[
                    "Pareto-front Plot",
                    "Objective 0",
                    "Objective 1",
                    "Trial",
                    "Best Trial",
                ],
            );
        }
    }
    let named = dir.join("named.svg");
    plot_pareto_front(&points, &front, Some(["loss", "latency (ms)"]), &named).unwrap();
    assert_svg(&named, &["loss", "latency (ms)"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_maximized_study_writes_every_plot() {
    let study = study(Direction::Maximize);
    let dir = temp_dir("max");
    let w = study.write_plots(&dir).unwrap();
    assert!(w.skipped.is_empty());
    assert_png(&dir.join("contour_depth_lr.png"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_empty_study_writes_the_table_and_skips_every_plot() {
    let study = Study::new(StudyConfig::default());
    let dir = temp_dir("empty");
    let w = study.write_plots(&dir).unwrap();
    assert_eq!(w.files, vec![dir.join("results.txt")]);
    let stems: Vec<&str> = w.skipped.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(
        stems,
        [
            "optimization_history",
            "intermediate_values",
            "parallel_coordinate",
            "slice",
            "edf",
            "param_importances"
        ]
    );
    assert!(
        w.skipped
            .iter()
            .all(|s| matches!(s.1, Error::NothingToPlot { .. }))
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn one_trial_plots_history_and_slice_and_skips_the_contour() {
    let study = Study::new(StudyConfig::default());
    study
        .optimize(
            |t| {
                Ok::<_, descent_hpo::Error>(
                    t.suggest_float("x", 0.0, 1.0)? + t.suggest_float("y", 0.0, 1.0)?,
                )
            },
            1,
            1,
        )
        .unwrap();
    let dir = temp_dir("one");
    let w = study.write_plots(&dir).unwrap();
    let stems: Vec<&str> = w.skipped.iter().map(|s| s.0.as_str()).collect();
    // one trial: Optuna's evaluators give every parameter an equal share
    assert_eq!(stems, ["intermediate_values", "contour_x_y"]);
    for stem in [
        "optimization_history",
        "parallel_coordinate",
        "slice",
        "edf",
        "param_importances",
    ] {
        assert_png(&dir.join(format!("{stem}.png")));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

fn trial(n: u64, state: TrialState, value: Option<f64>, steps: &[f64]) -> FrozenTrial {
    let mut t = FrozenTrial::running(n);
    t.state = state;
    t.value = value;
    t.params.insert("x", n as f64);
    t.distributions.insert(
        "x".into(),
        descent_hpo::Distribution::Float {
            low: 0.0,
            high: 10.0,
            log: false,
            step: None,
        },
    );
    for (s, &v) in steps.iter().enumerate() {
        t.intermediate.insert(s as u64, v);
    }
    t
}

#[test]
fn all_pruned_trials_still_show_their_curves_and_nothing_else() {
    let ts: Vec<FrozenTrial> = (0..4)
        .map(|n| {
            trial(
                n,
                TrialState::Pruned,
                Some(1.0),
                &[2.0, 1.5, 1.0 + n as f64],
            )
        })
        .collect();
    let dir = temp_dir("pruned");
    let png = dir.join("iv.png");
    plot_intermediate_values(&ts, &png).unwrap();
    assert_png(&png);
    assert_svg(
        &{
            let p = dir.join("iv.svg");
            plot_intermediate_values(&ts, &p).unwrap();
            p
        },
        &["Trial0", "Trial3"],
    );
    for r in [
        plot_optimization_history(&ts, Direction::Minimize, dir.join("h.png")),
        plot_slice(&ts, None, dir.join("s.png")),
        plot_edf(&ts, dir.join("e.png")),
        plot_contour(&ts, Direction::Minimize, ("x", "x"), dir.join("c.png")),
    ] {
        assert!(matches!(r, Err(Error::NothingToPlot { .. })), "{r:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn nan_values_are_left_out_of_the_drawing() {
    let ts = vec![
        trial(
            0,
            TrialState::Complete,
            Some(f64::NAN),
            &[1.0, f64::NAN, 0.5],
        ),
        trial(1, TrialState::Complete, Some(2.0), &[f64::INFINITY, 2.0]),
        trial(2, TrialState::Complete, Some(1.0), &[3.0, 1.0]),
    ];
    let dir = temp_dir("nan");
    for ext in ["png", "svg"] {
        plot_optimization_history(&ts, Direction::Minimize, dir.join(format!("h.{ext}"))).unwrap();
        plot_intermediate_values(&ts, dir.join(format!("i.{ext}"))).unwrap();
        plot_slice(&ts, Some(&["x"]), dir.join(format!("s.{ext}"))).unwrap();
        plot_edf(&ts, dir.join(format!("e.{ext}"))).unwrap();
    }
    assert_png(&dir.join("h.png"));
    assert_png(&dir.join("i.png"));
    let only_nan = vec![trial(0, TrialState::Complete, Some(f64::NAN), &[])];
    assert!(matches!(
        plot_edf(&only_nan, dir.join("e2.png")),
        Err(Error::NothingToPlot { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_arguments_are_typed_errors_and_leave_no_file() {
    let ts = vec![
        trial(0, TrialState::Complete, Some(1.0), &[]),
        trial(1, TrialState::Complete, Some(2.0), &[]),
    ];
    let dir = temp_dir("bad");
    let jpg = dir.join("h.jpg");
    assert!(matches!(
        plot_optimization_history(&ts, Direction::Minimize, &jpg),
        Err(Error::UnsupportedFormat { .. })
    ));
    assert!(!jpg.exists());
    assert!(matches!(
        plot_slice(&ts, Some(&["nope"]), dir.join("s.png")),
        Err(Error::UnknownParam { ref name, .. }) if name == "nope"
    ));
    assert!(matches!(
        plot_contour(&ts, Direction::Minimize, ("x", "y"), dir.join("c.png")),
        Err(Error::UnknownParam { .. })
    ));
    let missing_dir = dir.join("no/such/dir/h.png");
    assert!(matches!(
        plot_optimization_history(&ts, Direction::Minimize, &missing_dir),
        Err(Error::Io { .. })
    ));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn fifteen_parameters_still_draw_every_panel_and_axis() {
    let study = Study::new(StudyConfig {
        seed: 2,
        ..Default::default()
    });
    study
        .optimize(
            |t: &mut Trial| {
                let mut s = 0.0;
                for k in 0..15 {
                    s += t
                        .suggest_float(&format!("param_{k:02}"), -1.0, 1.0)?
                        .powi(2);
                }
                Ok::<_, descent_hpo::Error>(s)
            },
            6,
            1,
        )
        .unwrap();
    let trials = study.trials();
    let dir = temp_dir("wide");
    plot_slice(&trials, None, dir.join("s.png")).unwrap();
    assert_png(&dir.join("s.png"));
    plot_slice(&trials, None, dir.join("s.svg")).unwrap();
    assert_svg(&dir.join("s.svg"), &["param_00", "param_14"]);
    descent_hpo_plot::plot_parallel_coordinate(
        &trials,
        Direction::Minimize,
        None,
        dir.join("p.svg"),
    )
    .unwrap();
    assert_svg(&dir.join("p.svg"), &["param_00", "param_14"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_two_objective_study_writes_its_pareto_front_and_skips_the_single_objective_plots() {
    let study = Study::new(StudyConfig {
        directions: vec![Direction::Minimize, Direction::Minimize],
        seed: 3,
        ..Default::default()
    });
    study
        .optimize(
            |t: &mut Trial| {
                let x = t.suggest_float("x", 0.0, 1.0)?;
                let y = t.suggest_float("y", 0.0, 1.0)?;
                Ok::<_, descent_hpo::Error>(vec![x, 1.0 - x.sqrt() + y])
            },
            30,
            1,
        )
        .unwrap();
    let dir = temp_dir("pareto-study");
    let w = study.write_plots(&dir).unwrap();
    assert_eq!(
        w.files,
        vec![
            dir.join("results.txt"),
            dir.join("pareto_front.png"),
            dir.join("pareto_front.svg")
        ]
    );
    assert_png(&dir.join("pareto_front.png"));
    assert_svg(
        &dir.join("pareto_front.svg"),
        &["Pareto-front Plot", "Best Trial"],
    );
    assert!(w.skipped.iter().any(|s| s.0 == "optimization_history"));
    std::fs::remove_dir_all(&dir).unwrap();
}
