use super::*;
use crate::{JournalStorage, Study, StudyConfig, Trial};
use serde::Deserialize;

#[derive(Deserialize)]
struct Reference {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    mean: Vec<f64>,
    sigma: f64,
    bounds: Vec<(f64, f64)>,
    popsize: Option<usize>,
    generations: Vec<Generation>,
}

#[derive(Deserialize)]
struct Generation {
    solutions: Vec<(Vec<f64>, f64)>,
    state: State,
    should_stop: bool,
}

#[derive(Deserialize)]
struct State {
    mean: Vec<f64>,
    sigma: f64,
    #[serde(rename = "C")]
    c: Vec<Vec<f64>>,
    p_sigma: Vec<f64>,
    pc: Vec<f64>,
}

fn close(what: &str, got: f64, want: f64) {
    let tol = 1e-9 * want.abs().max(1e-6);
    assert!(
        (got - want).abs() <= tol,
        "{what}: descent {got:e}, cmaes {want:e}"
    );
}

/// Every generation of every case produced by `tests/cmaes_reference.py`
/// with CyberAgent's `cmaes` 0.13.1: the same tells give the same state.
#[test]
fn tells_move_the_distribution_as_the_python_cmaes_library() {
    let reference: Reference =
        serde_json::from_str(include_str!("../../../tests/cmaes_reference.json")).unwrap();
    assert!(!reference.cases.is_empty());
    for case in &reference.cases {
        let n = case.mean.len();
        let mut cma = Cma::new(
            case.mean.clone(),
            case.sigma,
            case.bounds.clone(),
            10 * n,
            case.popsize,
        )
        .unwrap();
        for (g, gen_) in case.generations.iter().enumerate() {
            cma.tell(&gen_.solutions).unwrap();
            let (mean, sigma, c, p_sigma, pc) = cma.state();
            let at = |what: &str| format!("{} gen {}: {what}", case.name, g + 1);
            close(&at("sigma"), sigma, gen_.state.sigma);
            for i in 0..n {
                close(&at("mean"), mean[i], gen_.state.mean[i]);
                close(&at("p_sigma"), p_sigma[i], gen_.state.p_sigma[i]);
                close(&at("pc"), pc[i], gen_.state.pc[i]);
                for j in 0..n {
                    close(&at("C"), c[(i, j)], gen_.state.c[i][j]);
                }
            }
            assert_eq!(cma.should_stop(), gen_.should_stop, "{}", at("should_stop"));
        }
    }
}

#[test]
fn a_tell_needs_exactly_one_population() {
    let mut cma = Cma::new(vec![0.5; 2], 0.2, vec![(0.0, 1.0); 2], 20, None).unwrap();
    assert_eq!(cma.population_size(), 6);
    let err = cma.tell(&[(vec![0.5, 0.5], 1.0)]).unwrap_err();
    assert_eq!(
        err,
        CmaError::WrongPopulation {
            expected: 6,
            got: 1
        }
    );
}

#[test]
fn asked_points_lie_in_the_bounds() {
    let mut cma = Cma::new(vec![0.0, 1.0], 5.0, vec![(0.0, 1.0); 2], 20, Some(4)).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    for _ in 0..200 {
        let x = cma.ask(&mut rng);
        assert!(x.iter().all(|v| (0.0..=1.0).contains(v)), "{x:?}");
    }
}

#[test]
fn parameters_map_to_the_unit_cube_as_optuna_transforms_them() {
    let int = Distribution::Int {
        low: 1,
        high: 3,
        log: false,
        step: 1,
    };
    // [0.5, 3.5] → the unit interval; 1/3 of it per value.
    assert_eq!(to_unit(&int, &ParamValue::Int(1)), Some(1.0 / 6.0));
    assert_eq!(from_unit(&int, 0.0), ParamValue::Int(1));
    assert_eq!(from_unit(&int, 0.34), ParamValue::Int(2));
    assert_eq!(from_unit(&int, 1.0), ParamValue::Int(3));
    let log = Distribution::Float {
        low: 1e-4,
        high: 1.0,
        log: true,
        step: None,
    };
    let ParamValue::Float(mid) = from_unit(&log, 0.5) else {
        panic!()
    };
    assert!((mid - 1e-2).abs() < 1e-12);
    assert_eq!(from_unit(&log, 1.0), ParamValue::Float(1.0f64.next_down()));
    let step = Distribution::Float {
        low: 0.0,
        high: 1.0,
        log: false,
        step: Some(0.25),
    };
    // [−0.125, 1.125]: u = 0.5 is 0.5 exactly.
    assert_eq!(from_unit(&step, 0.5), ParamValue::Float(0.5));
    assert_eq!(from_unit(&step, 0.0), ParamValue::Float(0.0));
    let ilog = Distribution::Int {
        low: 1,
        high: 100,
        log: true,
        step: 1,
    };
    let u = to_unit(&ilog, &ParamValue::Int(10)).unwrap();
    assert_eq!(from_unit(&ilog, u), ParamValue::Int(10));
    // `high` off the grid is lowered to the last grid point, as in Optuna.
    let off = Distribution::Int {
        low: 0,
        high: 10,
        log: false,
        step: 3,
    };
    assert_eq!(from_unit(&off, 1.0), ParamValue::Int(9));
    assert_eq!(to_unit(&off, &ParamValue::Int(9)), Some(10.5 / 12.0));
    // numpy rounds half to even: a value of 2.5 becomes 2.
    let mid = Distribution::Float {
        low: 0.0,
        high: 10.0,
        log: false,
        step: Some(1.0),
    };
    let u = (2.5 - -0.5) / 11.0;
    assert_eq!(from_unit(&mid, u), ParamValue::Float(2.0));
}

fn quadratic(t: &mut Trial<'_>) -> Result<f64> {
    let x = t.suggest_float("x", -5.0, 5.0)?;
    let y = t.suggest_float_log("y", 1e-3, 10.0)?;
    let k = t.suggest_int("k", 0, 10)?;
    Ok((x - 1.0).powi(2) + (y.ln() - 0.0).powi(2) + (k as f64 - 7.0).powi(2))
}

fn study(seed: u64, config: CmaEsConfig) -> Study {
    Study::new(StudyConfig {
        seed,
        ..Default::default()
    })
    .with_sampler(CmaEsSampler::new(config).unwrap())
}

fn params(study: &Study) -> Vec<(ParamValues, Option<f64>)> {
    study
        .trials()
        .into_iter()
        .map(|t| (t.params, t.value))
        .collect()
}

#[test]
fn a_seed_fixes_every_draw_and_another_seed_changes_them() {
    let run = |seed| {
        let s = study(seed, CmaEsConfig::default());
        s.optimize(quadratic, 30, 1).unwrap();
        params(&s)
    };
    assert_eq!(run(4), run(4));
    assert_ne!(run(4), run(5));
}

#[test]
fn populations_are_told_and_the_search_converges() {
    let s = study(1, CmaEsConfig::default());
    s.optimize(quadratic, 150, 1).unwrap();
    let trials = s.trials();
    // 3 parameters: λ = 4 + ⌊3 ln 3⌋ = 7; the first trial is the startup one.
    assert_eq!(trials[1].attrs[KEY_POPSIZE], json!(7));
    assert_eq!(trials[1].attrs[KEY_GENERATION], json!(0));
    let tellers: Vec<&FrozenTrial> = trials
        .iter()
        .filter(|t| t.attrs.contains_key(KEY_TELL))
        .collect();
    assert!(tellers.len() >= 15, "{} tells", tellers.len());
    // The first tell holds the seven trials of generation 0, in number order.
    assert_eq!(
        tellers[0].attrs[KEY_TELL],
        json!({"parent": null, "trials": [1, 2, 3, 4, 5, 6, 7]})
    );
    assert_eq!(
        tellers[1].attrs[KEY_TELL]["parent"],
        json!(tellers[0].number)
    );
    assert!(
        s.best_value().unwrap() < 0.05,
        "{}",
        s.best_value().unwrap()
    );
}

#[test]
fn a_resumed_study_continues_exactly_as_one_never_stopped() {
    let whole = study(9, CmaEsConfig::default());
    whole.optimize(quadratic, 60, 1).unwrap();

    let path = std::env::temp_dir().join(format!(
        "descent-hpo-cmaes-resume-{}.jsonl",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    {
        let first = study(9, CmaEsConfig::default())
            .with_storage(JournalStorage::open(&path).unwrap())
            .unwrap();
        first.optimize(quadratic, 25, 1).unwrap();
    }
    // A new sampler, no cache: its state comes from the journal alone.
    let resumed = study(9, CmaEsConfig::default())
        .with_storage(JournalStorage::open(&path).unwrap())
        .unwrap();
    resumed.optimize(quadratic, 35, 1).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(params(&resumed), params(&whole));
}

fn flat(t: &mut Trial<'_>) -> Result<f64> {
    t.suggest_float("a", 0.0, 1.0)?;
    t.suggest_float("b", 0.0, 1.0)?;
    Ok(1.0)
}

#[test]
fn ipop_restarts_with_twice_the_population_once_the_run_stops() {
    let config = CmaEsConfig {
        restart_strategy: Some(RestartStrategy::Ipop { inc_popsize: 2 }),
        ..Default::default()
    };
    let s = study(2, config);
    // 2 parameters: λ = 6; flat values stop the run by tolfun after
    // 10 + ⌈30·2/6⌉ = 20 generations, at the 21st tell.
    s.optimize(flat, 1 + 6 * 21 + 12 + 2, 1).unwrap();
    let trials = s.trials();
    let first_restart = trials
        .iter()
        .position(|t| t.attrs.get(KEY_RESTARTS) == Some(&json!(1)))
        .expect("a restart");
    assert_eq!(first_restart, 1 + 6 * 21);
    assert_eq!(trials[first_restart].attrs[KEY_POPSIZE], json!(12));
    assert_eq!(trials[first_restart].attrs[KEY_GENERATION], json!(0));
    assert_eq!(trials[first_restart - 1].attrs[KEY_POPSIZE], json!(6));
    // Without a strategy the run goes on past its stop.
    let s = study(2, CmaEsConfig::default());
    s.optimize(flat, 1 + 6 * 21 + 2, 1).unwrap();
    assert!(
        s.trials()
            .iter()
            .all(|t| t.attrs.get(KEY_RESTARTS).is_none_or(|r| *r == json!(0)))
    );
}

#[test]
fn bipop_alternates_large_and_small_populations() {
    let config = CmaEsConfig {
        restart_strategy: Some(RestartStrategy::Bipop { inc_popsize: 2 }),
        ..Default::default()
    };
    let s = study(2, config);
    s.optimize(flat, 1 + 6 * 21 + 2, 1).unwrap();
    let last = s.trials().pop().unwrap();
    // First restart: the small regime spent 126 evaluations, the large none, so large.
    assert_eq!(last.attrs[KEY_RESTARTS], json!(1));
    assert_eq!(last.attrs[KEY_POPSIZE], json!(12));
}

#[test]
fn categorical_parameters_go_to_the_independent_sampler() {
    let config = CmaEsConfig {
        warn_independent_sampling: false,
        ..Default::default()
    };
    let s = study(3, config);
    s.optimize(
        |t| {
            let x = t.suggest_float("x", -1.0, 1.0)?;
            let c: &str = t.suggest_categorical("c", &["a", "b"])?;
            Ok::<_, Error>(x * x + if c == "a" { 0.0 } else { 1.0 })
        },
        20,
        1,
    )
    .unwrap();
    let t = s.trials().pop().unwrap();
    assert_eq!(t.attrs[KEY_DIM], json!(1));
    assert!(t.params.str("c").is_ok());
}

#[test]
fn a_maximized_study_climbs() {
    let s = Study::new(StudyConfig {
        seed: 5,
        direction: Direction::Maximize,
        ..Default::default()
    })
    .with_sampler(CmaEsSampler::new(CmaEsConfig::default()).unwrap());
    s.optimize(|t| quadratic(t).map(|v| -v), 120, 1).unwrap();
    assert!(
        s.best_value().unwrap() > -0.1,
        "{}",
        s.best_value().unwrap()
    );
}

#[test]
fn x0_sets_the_first_mean_and_must_cover_the_space() {
    let mut x0 = ParamValues::default();
    x0.insert("x", 4.0);
    let s = study(
        0,
        CmaEsConfig {
            x0: Some(x0.clone()),
            sigma0: Some(1e-6),
            ..Default::default()
        },
    );
    s.optimize(|t| t.suggest_float("x", -5.0, 5.0), 3, 1)
        .unwrap();
    let x = s.trials()[2].params.f64("x").unwrap();
    assert!((x - 4.0).abs() < 1e-4, "{x}");

    let s = study(
        0,
        CmaEsConfig {
            x0: Some(x0),
            ..Default::default()
        },
    );
    let two = |t: &mut Trial<'_>| {
        Ok::<_, Error>(t.suggest_float("x", -5.0, 5.0)? + t.suggest_float("y", 0.0, 1.0)?)
    };
    s.optimize(two, 1, 1).unwrap();
    let mut t = s.ask().unwrap();
    assert!(matches!(
        two(&mut t),
        Err(Error::Arg(descent_core::ArgError { name: "x0", .. }))
    ));
}

#[test]
fn bad_arguments_are_typed_errors() {
    let bad = |c: CmaEsConfig| CmaEsSampler::new(c).unwrap_err();
    assert!(matches!(
        bad(CmaEsConfig {
            sigma0: Some(0.0),
            ..Default::default()
        }),
        Error::Arg(descent_core::ArgError { name: "sigma0", .. })
    ));
    assert!(matches!(
        bad(CmaEsConfig {
            popsize: Some(1),
            ..Default::default()
        }),
        Error::Arg(descent_core::ArgError {
            name: "popsize",
            ..
        })
    ));
    assert!(matches!(
        bad(CmaEsConfig {
            restart_strategy: Some(RestartStrategy::Ipop { inc_popsize: 0 }),
            ..Default::default()
        }),
        Error::Arg(descent_core::ArgError {
            name: "inc_popsize",
            ..
        })
    ));
}

#[test]
fn a_search_space_that_shrinks_falls_back_to_the_independent_sampler() {
    let config = CmaEsConfig {
        warn_independent_sampling: false,
        ..Default::default()
    };
    let s = study(8, config);
    s.optimize(
        |t| Ok::<_, Error>(t.suggest_float("x", 0.0, 1.0)? + t.suggest_float("y", 0.0, 1.0)?),
        12,
        1,
    )
    .unwrap();
    // A trial without `y` shrinks the intersection space to {x}.
    s.optimize(|t| t.suggest_float("x", 0.0, 1.0), 1, 1)
        .unwrap();
    s.optimize(
        |t| Ok::<_, Error>(t.suggest_float("x", 0.0, 1.0)? + t.suggest_float("y", 0.0, 1.0)?),
        3,
        1,
    )
    .unwrap();
    let last = s.trials().pop().unwrap();
    assert!(!last.attrs.contains_key(KEY_GENERATION), "{:?}", last.attrs);
}

/// x0² + x1² on [−5, 5]⁵: three dimensions that do not matter.
fn sphere5(t: &mut Trial<'_>) -> Result<f64> {
    let mut f = 0.0;
    for i in 0..5 {
        let x = t.suggest_float(&format!("x{i}"), -5.0, 5.0)?;
        if i < 2 {
            f += x * x;
        }
    }
    Ok(f)
}

#[test]
fn cma_es_beats_random_search_on_a_sphere_with_irrelevant_dimensions() {
    let median = |cma: bool| {
        let mut best: Vec<f64> = (0..20)
            .map(|seed| {
                let s = Study::new(StudyConfig {
                    seed,
                    ..Default::default()
                });
                let s = if cma {
                    s.with_sampler(CmaEsSampler::new(CmaEsConfig::default()).unwrap())
                } else {
                    s.with_sampler(RandomSampler)
                };
                s.optimize(sphere5, 60, 1).unwrap();
                s.best_value().unwrap()
            })
            .collect();
        best.sort_by(f64::total_cmp);
        (best[9] + best[10]) / 2.0
    };
    let (cma, random) = (median(true), median(false));
    assert!(cma < random, "CMA-ES median {cma}, random {random}");
}

#[test]
fn a_study_resumed_from_sqlite_continues_exactly_too() {
    let whole = study(11, CmaEsConfig::default());
    whole.optimize(quadratic, 40, 1).unwrap();
    let path = std::env::temp_dir().join(format!(
        "descent-hpo-cmaes-resume-{}.db",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    let url = format!("sqlite:///{}", path.display());
    let open = || {
        let storage =
            crate::RdbStorage::open(&url, "cma", Direction::Minimize, Default::default()).unwrap();
        study(11, CmaEsConfig::default())
            .with_storage(storage)
            .unwrap()
    };
    open().optimize(quadratic, 17, 1).unwrap();
    let resumed = open();
    resumed.optimize(quadratic, 23, 1).unwrap();
    let got = params(&resumed);
    drop(resumed);
    let _ = std::fs::remove_file(&path);
    assert_eq!(got, params(&whole));
}

#[test]
fn parallel_workers_share_one_run() {
    let s = study(6, CmaEsConfig::default());
    s.optimize(quadratic, 120, 2).unwrap();
    let tells = s
        .trials()
        .iter()
        .filter(|t| t.attrs.contains_key(KEY_TELL))
        .count();
    assert!(tells >= 10, "{tells} tells");
    assert!(s.best_value().unwrap() < 0.5, "{}", s.best_value().unwrap());
}

proptest::proptest! {
    /// Every point of the unit cube maps to a value of the distribution, and
    /// every int maps back to itself.
    #[test]
    fn the_unit_cube_maps_onto_the_distribution(
        low in -50_i64..50,
        span in 1_i64..200,
        step in 1_i64..7,
        log in proptest::bool::ANY,
        u in 0.0..=1.0f64,
    ) {
        let (low, step) = if log { (low.abs() + 1, 1) } else { (low, step) };
        let int = Distribution::Int { low, high: low + span, log, step };
        proptest::prop_assert!(int.contains(&from_unit(&int, u)));
        let v = from_unit(&int, u);
        proptest::prop_assert_eq!(from_unit(&int, to_unit(&int, &v).unwrap()), v);
        let x = Distribution::Float { low: low as f64, high: (low + span) as f64, log, step: None };
        proptest::prop_assert!(x.contains(&from_unit(&x, u)));
        let q = Distribution::Float { low: low as f64, high: (low + span) as f64, log: false, step: Some(0.5 * step as f64) };
        proptest::prop_assert!(q.contains(&from_unit(&q, u)));
    }
}

#[test]
fn pruned_trials_count_at_their_last_value_when_asked_to() {
    for consider in [false, true] {
        let s = study(
            4,
            CmaEsConfig {
                consider_pruned_trials: consider,
                ..Default::default()
            },
        );
        // One complete trial: the search space is the complete trials' (Optuna's too).
        s.optimize(flat, 1, 1).unwrap();
        for _ in 0..7 {
            let mut t = s.ask().unwrap();
            let x = t.suggest_float("a", 0.0, 1.0).unwrap();
            let y = t.suggest_float("b", 0.0, 1.0).unwrap();
            t.report(0, 5.0);
            t.report(1, x + y);
            t.pruned = true;
            s.tell(t, Ok::<_, Error>(0.0)).unwrap();
        }
        let trials = s.trials();
        assert!(trials[1..].iter().all(|t| t.state == TrialState::Pruned));
        assert_eq!(trials[6].attrs[KEY_GENERATION], json!(0));
        if consider {
            // Trials 1–6 are generation 0 (λ = 6), told by trial 7.
            assert_eq!(
                trials[7].attrs[KEY_TELL],
                json!({"parent": null, "trials": [1, 2, 3, 4, 5, 6]})
            );
        } else {
            assert!(trials.iter().all(|t| !t.attrs.contains_key(KEY_TELL)));
        }
    }
}

#[test]
fn another_independent_sampler_draws_the_categorical_parameters() {
    let mut fixed = ParamValues::default();
    fixed.insert("c", 2_i64);
    let cma = CmaEsSampler::new(CmaEsConfig {
        warn_independent_sampling: false,
        ..Default::default()
    })
    .unwrap()
    .with_independent_sampler(crate::PartialFixedSampler::new(fixed, RandomSampler));
    let s = Study::new(StudyConfig::default()).with_sampler(cma);
    s.optimize(
        |t| {
            let x = t.suggest_float("x", -1.0, 1.0)?;
            let c: i64 = t.suggest_categorical("c", &[1_i64, 2, 3])?;
            Ok::<_, Error>(x * x + c as f64)
        },
        10,
        1,
    )
    .unwrap();
    let trials = s.trials();
    assert!(trials.iter().all(|t| t.params.i64("c").unwrap() == 2));
    assert!(trials[1..].iter().all(|t| t.attrs[KEY_DIM] == json!(1)));
}
