use super::*;
use crate::{JournalStorage, Sampler, Study, StudyConfig, Trial};

fn two_min() -> StudyConfig {
    StudyConfig {
        directions: vec![Direction::Minimize; 2],
        seed: 11,
        ..Default::default()
    }
}

fn small(pop: usize) -> NsgaIISampler {
    NsgaIISampler::new(NsgaIIConfig {
        population_size: pop,
        ..Default::default()
    })
    .unwrap()
}

fn schaffer(t: &mut Trial<'_>) -> Result<[f64; 2]> {
    let x = t.suggest_float("x", -2.0, 4.0)?;
    let k = t.suggest_int("k", 0, 3)?;
    let c: &str = t.suggest_categorical("c", &["a", "b"])?;
    let pen = k as f64 + if c == "a" { 0.0 } else { 0.5 };
    Ok([x * x + pen, (x - 2.0).powi(2) + pen])
}

fn done(number: u64, values: [f64; 2]) -> FrozenTrial {
    let mut t = FrozenTrial::running(number);
    t.state = TrialState::Complete;
    t.set_values(values.to_vec());
    t
}

#[test]
fn generations_follow_the_population_size_and_a_resumed_study_continues_them_identically() {
    let study = Study::new(two_min()).with_sampler(small(4));
    study.optimize(schaffer, 14, 1).unwrap();
    let gens: Vec<u64> = study
        .trials()
        .iter()
        .map(|t| generation_of(t).unwrap())
        .collect();
    assert_eq!(gens, [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3]);

    let path = std::env::temp_dir().join(format!("descent-nsga2-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    for n in [6, 8] {
        let part = Study::new(two_min())
            .with_sampler(small(4))
            .with_storage(JournalStorage::open(&path).unwrap())
            .unwrap();
        part.optimize(schaffer, n, 1).unwrap();
    }
    let resumed = Study::new(two_min())
        .with_storage(JournalStorage::open(&path).unwrap())
        .unwrap();
    let strip = |ts: Vec<FrozenTrial>| -> Vec<_> {
        ts.into_iter()
            .map(|t| (t.params, t.values, t.attrs))
            .collect()
    };
    assert_eq!(strip(resumed.trials()), strip(study.trials()));
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn children_take_their_genes_from_the_elites() {
    let study = Study::new(two_min()).with_sampler(
        NsgaIISampler::new(NsgaIIConfig {
            population_size: 6,
            mutation_prob: Some(0.0),
            crossover_prob: 1.0,
            ..Default::default()
        })
        .unwrap(),
    );
    study.optimize(schaffer, 12, 1).unwrap();
    let trials = study.trials();
    let sampler = small(6);
    let mut cache = Cache::default();
    let view = cache.book.view(&trials);
    let parents = sampler
        .parents(
            &mut cache.parents,
            &view,
            &trials,
            &[Direction::Minimize; 2],
            1,
        )
        .unwrap();
    assert_eq!(parents.len(), 6);
    for child in &trials[6..] {
        for (name, v) in child.params.iter() {
            assert!(
                parents.iter().any(|p| p.params.get(name) == Some(v)),
                "trial {}: {name}={v} is no parent's",
                child.number
            );
        }
    }
}

#[test]
fn elites_are_whole_fronts_then_the_least_crowded_of_the_next() {
    // Front 0: 0, 1, 2, 3 (on a line); front 1: 4, 5; front 2: 6.
    let pop = [
        done(0, [0.0, 4.0]),
        done(1, [1.0, 3.0]),
        done(2, [1.5, 2.5]),
        done(3, [4.0, 0.0]),
        done(4, [2.0, 4.0]),
        done(5, [4.0, 2.0]),
        done(6, [5.0, 5.0]),
    ];
    let refs: Vec<&FrozenTrial> = pop.iter().collect();
    let dirs = [Direction::Minimize; 2];
    let pick = |size| {
        let s = small(size);
        let mut e: Vec<u64> = s
            .elites(refs.clone(), &dirs)
            .unwrap()
            .iter()
            .map(|t| t.number)
            .collect();
        e.sort();
        e
    };
    assert_eq!(pick(6), [0, 1, 2, 3, 4, 5]);
    // Three of front 0: the two extremes (infinite distance), then 2, whose
    // neighbours (1 and 3) span (3, 3) against 1's (0 and 2): (1.5, 1.5).
    assert_eq!(pick(3), [0, 2, 3]);
}

#[test]
fn constraints_are_recorded_and_feasible_trials_come_first() {
    let sampler = small(4).with_constraints(|t| vec![t.params.f64("x").unwrap_or(0.0) - 1.0]);
    let study = Study::new(two_min()).with_sampler(sampler);
    study.optimize(schaffer, 16, 1).unwrap();
    for t in study.trials() {
        let c = t.attrs["constraints"][0].as_f64().unwrap();
        assert_eq!(c, t.params.f64("x").unwrap() - 1.0);
    }
    let front = study.best_trials().unwrap();
    assert!(!front.is_empty());
    assert!(front.iter().all(|t| t.params.f64("x").unwrap() <= 1.0));
    let nan = Study::new(two_min()).with_sampler(small(4).with_constraints(|_| vec![f64::NAN]));
    nan.optimize(schaffer, 1, 1).unwrap();
    assert_eq!(nan.trials()[0].state, TrialState::Fail);
}

#[test]
fn bad_configs_are_typed_errors() {
    for config in [
        NsgaIIConfig {
            population_size: 1,
            ..Default::default()
        },
        NsgaIIConfig {
            mutation_prob: Some(1.5),
            ..Default::default()
        },
        NsgaIIConfig {
            crossover_prob: -0.1,
            ..Default::default()
        },
        NsgaIIConfig {
            swapping_prob: f64::NAN,
            ..Default::default()
        },
        NsgaIIConfig {
            crossover: Crossover::Sbx {
                eta: Some(-1.0),
                uniform_crossover_prob: 0.5,
                use_child_gene_prob: 0.5,
            },
            ..Default::default()
        },
        NsgaIIConfig {
            crossover: Crossover::BlxAlpha { alpha: f64::NAN },
            ..Default::default()
        },
    ] {
        assert!(
            matches!(
                NsgaIISampler::new(config),
                Err(Error::Arg(descent_core::ArgError { .. }))
            ),
            "{config:?}"
        );
    }
}

#[test]
fn every_crossovers_children_stay_in_the_search_space() {
    for crossover in [
        Crossover::SBX,
        Crossover::BLX_ALPHA,
        Crossover::SPX,
        Crossover::UNDX,
        Crossover::VSBX,
    ] {
        children_stay_in_the_search_space(crossover);
    }
}

fn children_stay_in_the_search_space(crossover: Crossover) {
    let study = Study::new(two_min()).with_sampler(
        NsgaIISampler::new(NsgaIIConfig {
            population_size: 5,
            crossover,
            crossover_prob: 1.0,
            mutation_prob: Some(0.0),
            ..Default::default()
        })
        .unwrap()
        .with_seed(5),
    );
    study
        .optimize(
            |t| {
                let x = t.suggest_float_log("lr", 1e-4, 1.0)?;
                let n = t.suggest_int_step("n", 2, 20, 3)?;
                let s = t.suggest_float_step("s", 0.0, 1.0, 0.25)?;
                Ok::<_, Error>([x.ln() + n as f64, s - x])
            },
            40,
            1,
        )
        .unwrap();
    let trials = study.trials();
    assert!(trials.iter().all(|t| t.state == TrialState::Complete));
    // Children drawn directly: every gene crossed (no mutation) and inside its range.
    let sampler = NsgaIISampler::new(NsgaIIConfig {
        population_size: 5,
        crossover,
        crossover_prob: 1.0,
        mutation_prob: Some(0.0),
        ..Default::default()
    })
    .unwrap();
    let next = FrozenTrial::running(40);
    let dirs = [Direction::Minimize; 2];
    let ctx = SampleContext {
        trials: &trials,
        trial: &next,
        direction: Direction::Minimize,
        directions: &dirs,
        seed: 0,
    };
    let mut rng = <ChaCha8Rng as rand::SeedableRng>::seed_from_u64(9);
    for _ in 0..200 {
        let child = sampler.sample_relative(&ctx, &mut rng).unwrap();
        assert_eq!(child.params.len(), 3, "{crossover:?}: {:?}", child.params);
        for (name, v) in &child.params {
            assert!(trials[0].distributions[name].contains(v), "{name}={v:?}");
        }
    }
}

#[test]
fn bad_crossover_arguments_are_typed_errors_naming_the_argument() {
    let bad =
        |crossover: Crossover, population_size: usize| match NsgaIISampler::new(NsgaIIConfig {
            population_size,
            crossover,
            ..Default::default()
        }) {
            Err(Error::Arg(descent_core::ArgError { name, .. })) => name,
            other => panic!("{crossover:?}: {other:?}"),
        };
    assert_eq!(
        bad(
            Crossover::Spx {
                epsilon: Some(f64::NAN)
            },
            10
        ),
        "epsilon"
    );
    assert_eq!(
        bad(
            Crossover::Undx {
                sigma_xi: f64::INFINITY,
                sigma_eta: None
            },
            10
        ),
        "sigma_xi"
    );
    assert_eq!(
        bad(
            Crossover::Undx {
                sigma_xi: 0.5,
                sigma_eta: Some(f64::NAN)
            },
            10
        ),
        "sigma_eta"
    );
    let vsbx = |eta, u, c| Crossover::Vsbx {
        eta,
        uniform_crossover_prob: u,
        use_child_gene_prob: c,
    };
    assert_eq!(bad(vsbx(Some(-1.0), 0.5, 0.5), 10), "eta");
    assert_eq!(bad(vsbx(None, 1.5, 0.5), 10), "uniform_crossover_prob");
    // Optuna: use_child_gene_prob in (0, 1], for SBX as for vSBX.
    assert_eq!(bad(vsbx(None, 0.5, 0.0), 10), "use_child_gene_prob");
    let sbx0 = Crossover::Sbx {
        eta: None,
        uniform_crossover_prob: 0.5,
        use_child_gene_prob: 0.0,
    };
    assert_eq!(bad(sbx0, 10), "use_child_gene_prob");
    // SPX and UNDX take three parents: a population of two is too small.
    assert_eq!(bad(Crossover::SPX, 2), "population_size");
    assert_eq!(bad(Crossover::UNDX, 2), "population_size");
    assert!(
        NsgaIISampler::new(NsgaIIConfig {
            population_size: 3,
            crossover: Crossover::UNDX,
            ..Default::default()
        })
        .is_ok()
    );
}
