//! Penalties: loss terms on the parameters, with their gradients.
//!
//! Label smoothing is not here: `descent-autodiff`'s `cross_entropy` already
//! takes `CrossEntropyConfig { label_smoothing, .. }` (PyTorch's semantics),
//! so this crate does not duplicate it.

mod norms;

pub use norms::{ElasticNet, L1, L2};

use descent_core::Selector;
use descent_core::{ParamStore, Params, Scalar, Tags};
use nalgebra::DMatrix;

/// A penalty added to the training loss, such as λ/2·‖w‖².
///
/// An implementation says what it costs and how it pulls on one tensor, and
/// which parameters it applies to; the provided methods walk the store.
/// Values are accumulated in `f64` whatever the scalar type.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_regularize::{L2, Penalty};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("fc.weight", Tags::WEIGHT, DMatrix::from_element(2, 2, 3.0))?;
/// let b = store.register("fc.bias", Tags::BIAS, DMatrix::from_element(1, 2, 3.0))?;
/// let l2 = L2::new(0.1)?;
/// // loss = data_loss + l2.add_grad(&mut store), after the backward pass
/// let value = l2.add_grad(&mut store);
/// assert!((value - 0.5 * 0.1 * 4.0 * 9.0).abs() < 1e-12);
/// assert!((store.grad(w)[0] - 0.3).abs() < 1e-12);
/// assert_eq!(store.grad(b)[0], 0.0, "biases are not penalized by default");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Penalty<S: Scalar> {
    /// The penalty of one tensor.
    fn tensor_value(&self, w: &DMatrix<S>) -> f64;

    /// Adds the penalty's gradient (a subgradient at a kink) for one tensor into `grad`.
    fn add_tensor_grad(&self, w: &DMatrix<S>, grad: &mut DMatrix<S>);

    /// The parameters the penalty applies to.
    fn selector(&self) -> &Selector;

    /// The penalty over every selected parameter of `params`.
    fn value(&self, params: &Params<S>) -> f64 {
        params
            .iter()
            .filter(|(_, meta, _)| self.selector().matches(meta))
            .map(|(_, _, w)| self.tensor_value(w))
            .sum()
    }

    /// Adds the gradient into the store's gradients (accumulating, like a
    /// backward pass) and returns the penalty's value, to add to the loss.
    fn add_grad(&self, store: &mut ParamStore<S>) -> f64 {
        let (params, grads) = store.split_mut();
        let mut total = 0.0;
        for (id, meta, w) in params.iter() {
            if self.selector().matches(meta) {
                total += self.tensor_value(w);
                self.add_tensor_grad(w, grads.get_mut(id));
            }
        }
        total
    }
}

/// The default selection of penalties and constraints: weights, but not the
/// weights of normalization layers (and never biases).
///
/// # Examples
///
/// ```
/// use descent_core::{ParamMeta, Tags};
/// use descent_regularize::weights_only;
///
/// let meta = |tags| ParamMeta { name: "p".into(), tags, shape: (1, 1) };
/// assert!(weights_only().matches(&meta(Tags::WEIGHT)));
/// assert!(!weights_only().matches(&meta(Tags::WEIGHT | Tags::NORM)));
/// assert!(!weights_only().matches(&meta(Tags::BIAS)));
/// ```
pub fn weights_only() -> Selector {
    // not (norm or not weight) = weight and not norm
    Selector::tags(Tags::NORM)
        .or(Selector::tags(Tags::WEIGHT).not())
        .not()
}
