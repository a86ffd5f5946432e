//! Whatever trials a user hands over — any states, NaN and infinite values
//! and reports, missing, mixed-type and log parameters — every plot returns
//! `Ok` or a typed error, never panics, and what it writes is whole.

use descent_hpo::{Direction, Distribution, FrozenTrial, ParamValue, TrialState};
use descent_hpo_plot::{
    Error, plot_contour, plot_edf, plot_intermediate_values, plot_optimization_history,
    plot_parallel_coordinate, plot_param_importances, plot_pareto_front, plot_slice,
};
use proptest::prelude::*;

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => -10.0f64..10.0,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(0.0),
    ]
}

fn param() -> impl Strategy<Value = Option<(ParamValue, Distribution)>> {
    prop_oneof![
        1 => Just(None),
        2 => (1e-4f64..1.0).prop_map(|x| Some((ParamValue::Float(x), Distribution::Float { low: 1e-4, high: 1.0, log: true, step: None }))),
        2 => (0i64..4).prop_map(|i| Some((ParamValue::Int(i), Distribution::Int { low: 0, high: 3, log: false, step: 1 }))),
        1 => prop::sample::select(vec!["a", "b", "c"]).prop_map(|s| Some((ParamValue::from(s), Distribution::Categorical { choices: vec!["a".into(), "b".into(), "c".into()] }))),
    ]
}

fn trial() -> impl Strategy<Value = FrozenTrial> {
    (
        prop::sample::select(vec![
            TrialState::Complete,
            TrialState::Pruned,
            TrialState::Fail,
            TrialState::Running,
        ]),
        prop::option::of(value()),
        (param(), param()),
        prop::collection::vec(value(), 0..5),
    )
        .prop_map(|(state, v, (p, q), steps)| {
            let mut t = FrozenTrial::running(0);
            t.state = state;
            t.value = v;
            for (name, pv) in [("p", p), ("q", q)] {
                if let Some((val, d)) = pv {
                    t.params.insert(name, val);
                    t.distributions.insert(name.into(), d);
                }
            }
            for (s, x) in steps.into_iter().enumerate() {
                t.intermediate.insert(s as u64, x);
            }
            t
        })
}

fn typed(r: Result<(), Error>) -> Result<(), TestCaseError> {
    match r {
        Ok(())
        | Err(
            Error::NothingToPlot { .. } | Error::UnknownParam { .. } | Error::InvalidInput { .. },
        ) => Ok(()),
        Err(e) => Err(TestCaseError::fail(format!("unexpected error: {e}"))),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn any_trials_give_a_plot_or_a_typed_error(
        mut trials in prop::collection::vec(trial(), 0..8),
        pareto in prop::collection::vec(prop::collection::vec(value(), 1..4), 0..6),
        front in prop::collection::vec(0usize..8, 0..4),
        importances in prop::collection::vec(value(), 0..4),
    ) {
        for (n, t) in trials.iter_mut().enumerate() {
            t.number = n as u64;
        }
        let dir = std::env::temp_dir().join(format!("descent-hpo-plot-prop-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = |name: &str| dir.join(format!("{name}.svg"));
        typed(plot_optimization_history(&trials, Direction::Minimize, f("h")))?;
        typed(plot_intermediate_values(&trials, f("i")))?;
        typed(plot_parallel_coordinate(&trials, Direction::Maximize, None, f("p")))?;
        typed(plot_slice(&trials, None, f("s")))?;
        typed(plot_contour(&trials, Direction::Minimize, ("p", "q"), f("c")))?;
        typed(plot_edf(&trials, f("e")))?;
        typed(plot_pareto_front(&pareto, &front, None, f("f")))?;
        let imp: Vec<(String, f64)> = importances.iter().enumerate().map(|(i, &v)| (format!("x{i}"), v)).collect();
        typed(plot_param_importances(&imp, f("m")))?;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            prop_assert!(roxmltree::Document::parse(&text).is_ok());
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
