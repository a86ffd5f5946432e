//! L1, L2 and elastic-net penalties.

use super::{Penalty, weights_only};
use crate::Result;
use crate::error::non_negative;
use descent_core::Scalar;
use descent_core::Selector;
use nalgebra::DMatrix;

/// λ₁·‖w‖₁ + λ₂/2·‖w‖² over one tensor, and its (sub)gradient added into `grad`.
fn elastic<S: Scalar>(l1: f64, l2: f64, w: &DMatrix<S>, grad: Option<&mut DMatrix<S>>) -> f64 {
    let (mut abs, mut sq) = (0.0, 0.0);
    for &x in w.iter() {
        let x = x.as_f64();
        abs += x.abs();
        sq += x * x;
    }
    if let Some(grad) = grad {
        let (l1s, l2s) = (S::cast(l1), S::cast(l2));
        for (g, &x) in grad.iter_mut().zip(w.iter()) {
            *g += l2s * x + l1s * sign(x);
        }
    }
    l1 * abs + 0.5 * l2 * sq
}

/// The sign with 0 at 0 (Rust's `signum` gives ±1 at ±0).
fn sign<S: Scalar>(x: S) -> S {
    if x > S::zero() {
        S::one()
    } else if x < S::zero() {
        -S::one()
    } else {
        S::zero()
    }
}

/// The L2 penalty λ/2·‖w‖², whose gradient is λ·w: the coupled weight decay
/// of PyTorch's `weight_decay = λ` in SGD.
///
/// Keras's `regularizers.L2(l2)` is `l2·Σw²` without the ½: its `l2` is λ/2 here.
#[derive(Clone, Debug, PartialEq)]
pub struct L2 {
    lambda: f64,
    selector: Selector,
}

impl L2 {
    /// λ/2·‖w‖² over [`weights_only`]; `lambda` must be finite and `>= 0`.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_regularize::L2;
    ///
    /// assert!(L2::new(1e-4).is_ok());
    /// assert!(L2::new(-1.0).is_err());
    /// ```
    pub fn new(lambda: f64) -> Result<Self> {
        non_negative("lambda", lambda)?;
        Ok(L2 {
            lambda,
            selector: weights_only(),
        })
    }

    /// The same penalty over the parameters `selector` picks.
    pub fn with_selector(self, selector: Selector) -> Self {
        L2 { selector, ..self }
    }

    /// λ.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }
}

impl<S: Scalar> Penalty<S> for L2 {
    fn tensor_value(&self, w: &DMatrix<S>) -> f64 {
        elastic(0.0, self.lambda, w, None)
    }
    fn add_tensor_grad(&self, w: &DMatrix<S>, grad: &mut DMatrix<S>) {
        let l = S::cast(self.lambda);
        grad.zip_apply(w, |g, x| *g += l * x);
    }
    fn selector(&self) -> &Selector {
        &self.selector
    }
}

/// The L1 penalty λ·‖w‖₁, with subgradient λ·sign(w) and 0 at 0.
#[derive(Clone, Debug, PartialEq)]
pub struct L1 {
    lambda: f64,
    selector: Selector,
}

impl L1 {
    /// λ·‖w‖₁ over [`weights_only`]; `lambda` must be finite and `>= 0`.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_regularize::L1;
    ///
    /// assert_eq!(L1::new(0.01)?.lambda(), 0.01);
    /// # Ok::<(), descent_regularize::Error>(())
    /// ```
    pub fn new(lambda: f64) -> Result<Self> {
        non_negative("lambda", lambda)?;
        Ok(L1 {
            lambda,
            selector: weights_only(),
        })
    }

    /// The same penalty over the parameters `selector` picks.
    pub fn with_selector(self, selector: Selector) -> Self {
        L1 { selector, ..self }
    }

    /// λ.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }
}

impl<S: Scalar> Penalty<S> for L1 {
    fn tensor_value(&self, w: &DMatrix<S>) -> f64 {
        elastic(self.lambda, 0.0, w, None)
    }
    fn add_tensor_grad(&self, w: &DMatrix<S>, grad: &mut DMatrix<S>) {
        let l = S::cast(self.lambda);
        grad.zip_apply(w, |g, x| *g += l * sign(x));
    }
    fn selector(&self) -> &Selector {
        &self.selector
    }
}

/// The elastic net λ₁·‖w‖₁ + λ₂/2·‖w‖² (Zou & Hastie), the sum of [`L1`] and [`L2`].
///
/// scikit-learn's `alpha, l1_ratio` form is `l1 = alpha·l1_ratio`,
/// `l2 = alpha·(1 − l1_ratio)`, available as [`ElasticNet::from_ratio`].
#[derive(Clone, Debug, PartialEq)]
pub struct ElasticNet {
    l1: f64,
    l2: f64,
    selector: Selector,
}

impl ElasticNet {
    /// λ₁·‖w‖₁ + λ₂/2·‖w‖² over [`weights_only`]; both finite and `>= 0`.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_regularize::ElasticNet;
    ///
    /// let net = ElasticNet::new(1e-3, 1e-2)?;
    /// assert_eq!((net.l1(), net.l2()), (1e-3, 1e-2));
    /// # Ok::<(), descent_regularize::Error>(())
    /// ```
    pub fn new(l1: f64, l2: f64) -> Result<Self> {
        non_negative("l1", l1)?;
        non_negative("l2", l2)?;
        Ok(ElasticNet {
            l1,
            l2,
            selector: weights_only(),
        })
    }

    /// scikit-learn's parametrization: `l1 = alpha·l1_ratio`, `l2 = alpha·(1 − l1_ratio)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_regularize::ElasticNet;
    ///
    /// let net = ElasticNet::from_ratio(0.1, 0.25)?;
    /// assert!((net.l1() - 0.025).abs() < 1e-15 && (net.l2() - 0.075).abs() < 1e-15);
    /// assert!(ElasticNet::from_ratio(0.1, 1.5).is_err());
    /// # Ok::<(), descent_regularize::Error>(())
    /// ```
    pub fn from_ratio(alpha: f64, l1_ratio: f64) -> Result<Self> {
        crate::error::check(
            "l1_ratio",
            l1_ratio,
            (0.0..=1.0).contains(&l1_ratio),
            "[0, 1]",
        )?;
        non_negative("alpha", alpha)?;
        Self::new(alpha * l1_ratio, alpha * (1.0 - l1_ratio))
    }

    /// The same penalty over the parameters `selector` picks.
    pub fn with_selector(self, selector: Selector) -> Self {
        ElasticNet { selector, ..self }
    }

    /// λ₁.
    pub fn l1(&self) -> f64 {
        self.l1
    }

    /// λ₂.
    pub fn l2(&self) -> f64 {
        self.l2
    }
}

impl<S: Scalar> Penalty<S> for ElasticNet {
    fn tensor_value(&self, w: &DMatrix<S>) -> f64 {
        elastic(self.l1, self.l2, w, None)
    }
    fn add_tensor_grad(&self, w: &DMatrix<S>, grad: &mut DMatrix<S>) {
        elastic(self.l1, self.l2, w, Some(grad));
    }
    fn selector(&self) -> &Selector {
        &self.selector
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ArgError;
    use descent_core::{ParamStore, Tags};
    use descent_testkit::strategies::{matrix, matrix_avoiding};
    use proptest::prelude::*;

    fn store_with(w: DMatrix<f64>) -> ParamStore<f64> {
        let mut store = ParamStore::new();
        let (r, c) = w.shape();
        store.register("fc.weight", Tags::WEIGHT, w).unwrap();
        store
            .register("fc.bias", Tags::BIAS, DMatrix::from_element(1, r, 1.0))
            .unwrap();
        store
            .register(
                "bn.weight",
                Tags::WEIGHT | Tags::NORM,
                DMatrix::from_element(1, c, 1.0),
            )
            .unwrap();
        store
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn l2_gradient_is_lambda_times_w(w in matrix(1..=4, 1..=4, -5.0, 5.0), lambda in 0.0..2.0f64) {
            let mut store = store_with(w.clone());
            let value = L2::new(lambda).unwrap().add_grad(&mut store);
            let id = store.id("fc.weight").unwrap();
            for (g, x) in store.grad(id).iter().zip(w.iter()) {
                prop_assert_eq!(*g, lambda * x);
            }
            prop_assert!((value - 0.5 * lambda * w.norm_squared()).abs() <= 1e-12 * (1.0 + value));
            for name in ["fc.bias", "bn.weight"] {
                prop_assert!(store.grad(store.id(name).unwrap()).iter().all(|g| *g == 0.0));
            }
        }

        #[test]
        fn l1_subgradient_is_lambda_sign_w_and_zero_at_zero(
            w in matrix(1..=4, 1..=4, -2.0, 2.0), zeros in proptest::collection::vec(any::<bool>(), 16), lambda in 0.0..2.0f64,
        ) {
            let mut w = w;
            for (x, z) in w.iter_mut().zip(&zeros) {
                if *z { *x = 0.0; }
            }
            let mut store = store_with(w.clone());
            let value = L1::new(lambda).unwrap().add_grad(&mut store);
            let id = store.id("fc.weight").unwrap();
            for (g, x) in store.grad(id).iter().zip(w.iter()) {
                let expected = if *x == 0.0 { 0.0 } else { lambda * x.signum() };
                prop_assert_eq!(*g, expected);
            }
            prop_assert!((value - lambda * w.lp_norm(1)).abs() <= 1e-12 * (1.0 + value));
        }

        #[test]
        fn elastic_net_gradient_matches_central_differences(
            w in matrix_avoiding(3, 2, -2.0, 2.0, &[0.0], 1e-3), l1 in 0.0..1.0f64, l2 in 0.0..1.0f64,
        ) {
            let net = ElasticNet::new(l1, l2).unwrap();
            let mut grad = DMatrix::zeros(3, 2);
            net.add_tensor_grad(&w, &mut grad);
            let h = 1e-6;
            for i in 0..w.len() {
                let (mut up, mut down) = (w.clone(), w.clone());
                up[i] += h;
                down[i] -= h;
                let fd = (Penalty::<f64>::tensor_value(&net, &up) - Penalty::<f64>::tensor_value(&net, &down)) / (2.0 * h);
                prop_assert!((fd - grad[i]).abs() < 1e-6, "element {}: fd {} vs {}", i, fd, grad[i]);
            }
        }
    }

    #[test]
    fn gradients_accumulate_and_selectors_pick_by_name() {
        let mut store = store_with(DMatrix::from_element(2, 2, 1.0));
        store.grads_mut().iter_mut().for_each(|(_, g)| g.fill(1.0));
        let l2 = L2::new(0.5)
            .unwrap()
            .with_selector(Selector::name("*.bias"));
        l2.add_grad(&mut store);
        let grad = |name: &str| store.grad(store.id(name).unwrap())[0];
        assert_eq!(grad("fc.bias"), 1.5);
        assert_eq!(grad("fc.weight"), 1.0);
    }

    #[test]
    fn negative_or_nan_coefficients_are_rejected() {
        assert!(matches!(
            L2::new(f64::NAN),
            Err(crate::Error::Arg(ArgError { name: "lambda", .. }))
        ));
        assert!(matches!(
            ElasticNet::new(0.1, -1.0),
            Err(crate::Error::Arg(ArgError { name: "l2", .. }))
        ));
        assert!(matches!(
            ElasticNet::from_ratio(0.1, -0.1),
            Err(crate::Error::Arg(ArgError {
                name: "l1_ratio",
                ..
            }))
        ));
    }
}
