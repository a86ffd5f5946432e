//! `Dropout`: inverted dropout, as PyTorch's `nn.Dropout`.

use super::check;
use crate::Result;
use crate::module::{Ctx, Module};
use crate::random::uniform01;
use descent_autodiff::Var;
use descent_core::Scalar;

/// Inverted dropout (PyTorch `nn.Dropout`): in training each element is
/// zeroed with probability `p` and the survivors are scaled by `1/(1 − p)`,
/// so the expectation is unchanged; in evaluation it is the identity.
/// `p = 1` gives zeros (not NaN) and `p = 0` the identity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dropout {
    p: f64,
}

impl Default for Dropout {
    /// PyTorch's default `p = 0.5`.
    fn default() -> Self {
        Dropout { p: 0.5 }
    }
}

impl Dropout {
    /// Dropout with probability `p ∈ [0, 1]` of zeroing an element.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_nn::{Dropout, Error};
    ///
    /// assert_eq!(Dropout::new(0.2).unwrap().p(), 0.2);
    /// assert!(matches!(Dropout::new(1.5), Err(Error::Arg(descent_nn::ArgError { name: "p", .. }))));
    /// ```
    pub fn new(p: f64) -> Result<Self> {
        check(
            (0.0..=1.0).contains(&p),
            "Dropout",
            "p",
            p,
            "must be in [0, 1]",
        )?;
        Ok(Dropout { p })
    }

    /// The drop probability.
    pub fn p(&self) -> f64 {
        self.p
    }
}

impl<S: Scalar> Module<S> for Dropout {
    fn forward<'t>(&self, ctx: &mut Ctx<'_, 't, S>, x: Var<'t, S>) -> Var<'t, S> {
        if !ctx.mode.is_train() || self.p == 0.0 {
            return x;
        }
        let keep = if self.p < 1.0 {
            S::cast(1.0 / (1.0 - self.p))
        } else {
            S::zero()
        };
        let (p, rng) = (self.p, &mut *ctx.rng);
        x.mask_with(|mask| {
            for m in mask.iter_mut() {
                *m = if uniform01(rng) >= p { keep } else { S::zero() };
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Mode;
    use crate::testing::forward_once;
    use nalgebra::DMatrix;
    use proptest::prelude::*;

    fn run(p: f64, mode: Mode, x: &DMatrix<f64>, seed: u64) -> DMatrix<f64> {
        forward_once(&Dropout::new(p).unwrap(), mode, x, seed)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn dropout_preserves_the_expectation(p in 0.05f64..0.9, v in 0.5f64..3.0, seed: u64) {
            // one 200×50 pass = 10 000 independent masks of one element of value v;
            // each output is v/(1−p) w.p. 1−p: mean v, variance v²·p/(1−p)
            let n = 10_000.0;
            let y = run(p, Mode::Train, &DMatrix::from_element(200, 50, v), seed);
            let mean = y.sum() / n;
            let se = v * (p / (1.0 - p) / n).sqrt();
            prop_assert!((mean - v).abs() < 5.0 * se, "p {p}: mean {mean} vs {v} (se {se})");
            let keep = v / (1.0 - p);
            prop_assert!(y.iter().all(|&o| o == 0.0 || (o - keep).abs() < 1e-12));
        }

        #[test]
        fn dropout_is_the_identity_in_eval(p in 0.0f64..=1.0, x in descent_testkit::strategies::matrix(1..=5, 1..=5, -3.0, 3.0)) {
            prop_assert_eq!(run(p, Mode::Eval, &x, 0), x);
        }

        #[test]
        fn the_same_seed_gives_the_same_mask(seed: u64) {
            let x = DMatrix::from_element(8, 8, 1.0);
            prop_assert_eq!(run(0.5, Mode::Train, &x, seed), run(0.5, Mode::Train, &x, seed));
        }
    }

    #[test]
    fn p_one_gives_zeros_and_p_zero_the_identity() {
        let x = DMatrix::from_fn(4, 3, |i, j| (i as f64) - (j as f64) * 0.5);
        let zeros = run(1.0, Mode::Train, &x, 9);
        assert!(zeros.iter().all(|&v| v == 0.0), "{zeros}");
        assert_eq!(run(0.0, Mode::Train, &x, 9), x);
    }
}
