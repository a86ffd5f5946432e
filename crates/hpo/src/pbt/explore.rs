//! PBT's explore step: how a copied member's hyperparameters are perturbed
//! (Ray Tune's `PopulationBasedTraining._explore`).

use crate::{Distribution, Error, ParamValue, ParamValues, Result};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// How one hyperparameter is drawn at the start and changed by explore
/// (one value of Ray Tune's `hyperparam_mutations`).
#[derive(Debug, Clone, PartialEq)]
pub enum Mutation {
    /// A float or integer [`Distribution`] (Ray's `tune.uniform`,
    /// `tune.loguniform`, `tune.randint`): initial values and resamples are
    /// drawn from it; otherwise explore multiplies the value by one of the
    /// perturbation factors, chosen with equal probability, and truncates
    /// it toward zero for an integer, as Ray does. As in Ray, a perturbed
    /// value may leave the distribution's range (that is how PBT finds a
    /// rate below the initial range); clamp it in a custom explore if it must not.
    Distribution(Distribution),
    /// An ordered list of values (Ray's list mutation): initial values and
    /// resamples are a uniform choice; otherwise explore moves to the
    /// previous or the next value with equal probability, staying put at the ends.
    Choices(Vec<ParamValue>),
}

impl Mutation {
    /// Checks the mutation of parameter `name`: a float or integer
    /// distribution (a categorical one is [`Mutation::Choices`]), or at least one choice.
    pub(crate) fn check(&self, name: &str) -> Result<()> {
        match self {
            Mutation::Distribution(Distribution::Categorical { .. }) => Err(Error::config(
                "mutation",
                name,
                "a categorical distribution: use Mutation::Choices, whose order explore follows",
            )),
            Mutation::Distribution(d) => d.check(name),
            Mutation::Choices(c) if c.is_empty() => Err(Error::EmptyCategorical {
                name: name.to_owned(),
            }),
            Mutation::Choices(_) => Ok(()),
        }
    }

    /// A fresh value (an initial draw or a resample).
    pub(crate) fn sample(&self, rng: &mut ChaCha8Rng) -> ParamValue {
        match self {
            Mutation::Distribution(d) => d.from_unit(rng.random::<f64>()),
            Mutation::Choices(c) => c[index(rng, c.len())].clone(),
        }
    }
}

/// A uniform index below `n` (`n ≥ 1`).
pub(crate) fn index(rng: &mut ChaCha8Rng, n: usize) -> usize {
    ((rng.random::<f64>() * n as f64) as usize).min(n - 1)
}

/// The donor's hyperparameters `from`, perturbed (Ray's `_explore`): each
/// mutated parameter, in name order, is resampled with probability
/// `resample_probability` (always, for a list value not in its list), else
/// perturbed; parameters without a mutation are copied as they are.
pub(crate) fn explore(
    from: &ParamValues,
    mutations: &[(String, Mutation)],
    resample_probability: f64,
    factors: &[f64],
    rng: &mut ChaCha8Rng,
) -> ParamValues {
    let mut out = from.clone();
    for (name, mutation) in mutations {
        let Some(value) = from.get(name) else {
            out.insert(name.clone(), mutation.sample(rng));
            continue;
        };
        let new = match mutation {
            Mutation::Choices(choices) => {
                let pos = choices.iter().position(|c| c == value);
                match pos {
                    Some(i) if rng.random::<f64>() >= resample_probability => {
                        if rng.random::<f64>() > 0.5 {
                            choices[i.saturating_sub(1)].clone()
                        } else {
                            choices[(i + 1).min(choices.len() - 1)].clone()
                        }
                    }
                    _ => mutation.sample(rng),
                }
            }
            Mutation::Distribution(_) => {
                if rng.random::<f64>() < resample_probability {
                    mutation.sample(rng)
                } else {
                    let factor = factors[index(rng, factors.len())];
                    match value {
                        ParamValue::Int(i) => ParamValue::Int((*i as f64 * factor) as i64),
                        ParamValue::Float(x) => ParamValue::Float(x * factor),
                        // A value of another type: start again from the distribution.
                        _ => mutation.sample(rng),
                    }
                }
            }
        };
        out.insert(name.clone(), new);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn lr() -> Mutation {
        Mutation::Distribution(Distribution::Float {
            low: 1e-3,
            high: 1.0,
            log: true,
            step: None,
        })
    }

    #[test]
    fn a_float_is_resampled_or_scaled_by_one_of_the_factors() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut from = ParamValues::default();
        from.insert("lr", 0.5);
        let muts = vec![("lr".to_owned(), lr())];
        let (mut up, mut down, mut resampled) = (0, 0, 0);
        for _ in 0..2000 {
            let v = explore(&from, &muts, 0.25, &[1.2, 0.8], &mut rng)
                .f64("lr")
                .unwrap();
            if v == 0.5 * 1.2 {
                up += 1;
            } else if v == 0.5 * 0.8 {
                down += 1;
            } else {
                assert!((1e-3..=1.0).contains(&v));
                resampled += 1;
            }
        }
        // Expected 500 resampled, 750 up, 750 down.
        assert!((420..580).contains(&resampled), "{resampled}");
        assert!(
            (650..850).contains(&up) && (650..850).contains(&down),
            "{up} {down}"
        );
    }

    #[test]
    fn a_list_value_moves_to_a_neighbour_and_stays_at_the_ends() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let choices: Vec<ParamValue> = [16i64, 32, 64].into_iter().map(Into::into).collect();
        let muts = vec![("batch".to_owned(), Mutation::Choices(choices))];
        for (start, allowed) in [(16, [16, 32]), (64, [32, 64])] {
            let mut from = ParamValues::default();
            from.insert("batch", start as i64);
            for _ in 0..200 {
                let v = explore(&from, &muts, 0.0, &[1.2, 0.8], &mut rng)
                    .i64("batch")
                    .unwrap();
                assert!(allowed.contains(&v), "{start} -> {v}");
            }
        }
        let mut stray = ParamValues::default();
        stray.insert("batch", 48i64);
        let v = explore(&stray, &muts, 0.0, &[1.2, 0.8], &mut rng)
            .i64("batch")
            .unwrap();
        assert!(
            [16, 32, 64].contains(&v),
            "a value not in the list is resampled"
        );
    }

    #[test]
    fn integers_are_truncated_and_unmutated_parameters_are_copied() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut from = ParamValues::default();
        from.insert("width", 10i64);
        from.insert("optimizer", "sgd");
        let muts = vec![(
            "width".to_owned(),
            Mutation::Distribution(Distribution::Int {
                low: 1,
                high: 100,
                log: false,
                step: 1,
            }),
        )];
        let out = explore(&from, &muts, 0.0, &[1.25, 0.75], &mut rng);
        assert!([12, 7].contains(&out.i64("width").unwrap()));
        assert_eq!(out.str("optimizer").unwrap(), "sgd");
    }
}
