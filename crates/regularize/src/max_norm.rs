//! The max-norm constraint: each unit's incoming weight vector has norm ≤ c.

use crate::error::positive;
use crate::{Result, weights_only};
use descent_core::Selector;
use descent_core::{Params, Scalar};

/// The max-norm constraint of Srivastava et al. (2014), used with dropout:
/// after each step, every row of a selected weight matrix (in PyTorch's
/// `[out, in]` layout a row is one unit's incoming weights) whose Euclidean
/// norm exceeds `max_norm` is scaled back to it.
///
/// Scaling follows `torch.renorm(w, 2, 0, max_norm)`: a row of norm `n > c`
/// is multiplied by `c / (n + 1e-7)`; rows within the bound are untouched.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_regularize::MaxNorm;
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("fc.weight", Tags::WEIGHT,
///     DMatrix::from_row_slice(2, 2, &[3.0, 4.0, 0.3, 0.4]))?;
/// MaxNorm::new(2.0)?.apply(store.params_mut());
/// assert!((store.value(w).row(0).norm() - 2.0).abs() < 1e-6);
/// assert_eq!(store.value(w)[(1, 0)], 0.3, "rows within the bound are untouched");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct MaxNorm {
    max_norm: f64,
    selector: Selector,
}

/// The constant `torch.renorm` adds to the norm before dividing.
const RENORM_EPS: f64 = 1e-7;

impl MaxNorm {
    /// Rows of norm at most `max_norm` (finite, > 0; Srivastava et al. used
    /// 3–4, Keras's default is 2), over [`weights_only`].
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_regularize::MaxNorm;
    ///
    /// assert!(MaxNorm::new(3.0).is_ok() && MaxNorm::new(0.0).is_err());
    /// ```
    pub fn new(max_norm: f64) -> Result<Self> {
        positive("max_norm", max_norm)?;
        Ok(MaxNorm {
            max_norm,
            selector: weights_only(),
        })
    }

    /// The same constraint over the parameters `selector` picks.
    pub fn with_selector(self, selector: Selector) -> Self {
        MaxNorm { selector, ..self }
    }

    /// The bound c.
    pub fn max_norm(&self) -> f64 {
        self.max_norm
    }

    /// Renormalizes every too-long row of every selected parameter; returns
    /// how many rows were scaled.
    pub fn apply<S: Scalar>(&self, params: &mut Params<S>) -> usize {
        let selected: Vec<bool> = params
            .iter()
            .map(|(_, m, _)| self.selector.matches(m))
            .collect();
        let mut scaled = 0;
        for (id, w) in params.values_mut() {
            if !selected[id.index()] {
                continue;
            }
            for mut row in w.row_iter_mut() {
                let norm = row
                    .iter()
                    .map(|x| x.as_f64() * x.as_f64())
                    .sum::<f64>()
                    .sqrt();
                if norm > self.max_norm {
                    row *= S::cast(self.max_norm / (norm + RENORM_EPS));
                    scaled += 1;
                }
            }
        }
        scaled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use descent_core::{ParamStore, Tags};
    use descent_testkit::strategies::matrix;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn rows_end_within_the_bound_and_keep_their_direction(
            w in matrix(1..=5, 1..=6, -3.0, 3.0), c in 0.1..4.0f64,
        ) {
            let mut store = ParamStore::<f64>::new();
            let id = store.register("fc.weight", Tags::WEIGHT, w.clone()).unwrap();
            let n = MaxNorm::new(c).unwrap().apply(store.params_mut());
            let after = store.value(id);
            let mut expected_scaled = 0;
            for (r_before, r_after) in w.row_iter().zip(after.row_iter()) {
                prop_assert!(r_after.norm() <= c);
                if r_before.norm() > c {
                    expected_scaled += 1;
                    prop_assert!((r_after.norm() - c).abs() < 1e-6);
                    let cos = r_after.dot(&r_before) / (r_after.norm() * r_before.norm());
                    prop_assert!((cos - 1.0).abs() < 1e-12);
                } else {
                    prop_assert_eq!(r_after, r_before);
                }
            }
            prop_assert_eq!(n, expected_scaled);
        }
    }

    #[test]
    fn biases_and_norm_weights_are_left_alone_by_default() {
        let mut store = ParamStore::<f32>::new();
        let b = store
            .register(
                "fc.bias",
                Tags::BIAS,
                nalgebra::DMatrix::from_element(1, 4, 10.0),
            )
            .unwrap();
        let g = store
            .register(
                "bn.weight",
                Tags::WEIGHT | Tags::NORM,
                nalgebra::DMatrix::from_element(1, 4, 10.0),
            )
            .unwrap();
        assert_eq!(MaxNorm::new(1.0).unwrap().apply(store.params_mut()), 0);
        assert_eq!(store.value(b)[0], 10.0);
        assert_eq!(store.value(g)[0], 10.0);
    }
}
