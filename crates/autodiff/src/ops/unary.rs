//! Elementwise functions and activations: `exp log sqrt powf abs clamp relu
//! leaky_relu elu tanh sigmoid gelu`, each with PyTorch's derivative
//! convention at kinks (relu'(0) = 0, |x|'(0) = 0, clamp passes the gradient
//! on the closed interval).

use super::{BackCtx, Backward, Op};
use crate::par;
use crate::var::Var;
use descent_core::Scalar;
use nalgebra::DMatrix;

#[derive(Clone, Copy, Debug)]
pub(crate) enum UnaryKind<S> {
    Exp,
    Log,
    Sqrt,
    Powf(S),
    Abs,
    Clamp(S, S),
    Relu,
    LeakyRelu(S),
    Elu(S),
    Tanh,
    Sigmoid,
    Gelu,
}

#[derive(Debug)]
pub(crate) struct Unary<S> {
    kind: UnaryKind<S>,
    x: u32,
}

/// Standard normal CDF Φ(x) = (1 + erf(x/√2)) / 2.
fn normal_cdf<S: Scalar>(x: S) -> S {
    let half = S::cast(0.5);
    // erf evaluated in f64 (libm), which is also the more accurate choice for f32
    let erf = libm::erf(x.as_f64() * std::f64::consts::FRAC_1_SQRT_2);
    half * (S::one() + S::cast(erf))
}

/// Evaluates `$body` with `$k` bound to a copy of `$kind` whose variant is
/// known at compile time in each arm, so the per-element `match` inside
/// `forward`/`derivative` folds away and each kind gets its own tight loop.
macro_rules! specialize {
    ($kind:expr, |$k:ident| $body:expr) => {
        match $kind {
            UnaryKind::Exp => {
                let $k = UnaryKind::<S>::Exp;
                $body
            }
            UnaryKind::Log => {
                let $k = UnaryKind::<S>::Log;
                $body
            }
            UnaryKind::Sqrt => {
                let $k = UnaryKind::<S>::Sqrt;
                $body
            }
            UnaryKind::Powf(p) => {
                let $k = UnaryKind::Powf(p);
                $body
            }
            UnaryKind::Abs => {
                let $k = UnaryKind::<S>::Abs;
                $body
            }
            UnaryKind::Clamp(lo, hi) => {
                let $k = UnaryKind::Clamp(lo, hi);
                $body
            }
            UnaryKind::Relu => {
                let $k = UnaryKind::<S>::Relu;
                $body
            }
            UnaryKind::LeakyRelu(a) => {
                let $k = UnaryKind::LeakyRelu(a);
                $body
            }
            UnaryKind::Elu(a) => {
                let $k = UnaryKind::Elu(a);
                $body
            }
            UnaryKind::Tanh => {
                let $k = UnaryKind::<S>::Tanh;
                $body
            }
            UnaryKind::Sigmoid => {
                let $k = UnaryKind::<S>::Sigmoid;
                $body
            }
            UnaryKind::Gelu => {
                let $k = UnaryKind::<S>::Gelu;
                $body
            }
        }
    };
}

impl<S: Scalar> UnaryKind<S> {
    #[inline]
    fn forward(self, x: S) -> S {
        let zero = S::zero();
        match self {
            UnaryKind::Exp => x.exp(),
            UnaryKind::Log => x.ln(),
            UnaryKind::Sqrt => x.sqrt(),
            UnaryKind::Powf(p) => x.powf(p),
            UnaryKind::Abs => x.abs(),
            // NaN passes through, as in PyTorch
            UnaryKind::Clamp(lo, hi) => {
                if x < lo {
                    lo
                } else if x > hi {
                    hi
                } else {
                    x
                }
            }
            UnaryKind::Relu => {
                if x > zero {
                    x
                } else {
                    zero
                }
            }
            UnaryKind::LeakyRelu(slope) => {
                if x > zero {
                    x
                } else {
                    x * slope
                }
            }
            UnaryKind::Elu(alpha) => {
                if x > zero {
                    x
                } else {
                    alpha * (x.exp() - S::one())
                }
            }
            UnaryKind::Tanh => x.tanh(),
            UnaryKind::Sigmoid => {
                // stable on both tails
                if x >= zero {
                    S::one() / (S::one() + (-x).exp())
                } else {
                    let e = x.exp();
                    e / (S::one() + e)
                }
            }
            UnaryKind::Gelu => x * normal_cdf(x),
        }
    }

    /// dy/dx given the input `x` and the output `y`.
    #[inline]
    fn derivative(self, x: S, y: S) -> S {
        let (zero, one) = (S::zero(), S::one());
        match self {
            UnaryKind::Exp => y,
            UnaryKind::Log => one / x,
            UnaryKind::Sqrt => S::cast(0.5) / y,
            UnaryKind::Powf(p) => p * x.powf(p - one),
            UnaryKind::Abs => {
                if x > zero {
                    one
                } else if x < zero {
                    -one
                } else {
                    zero
                }
            }
            UnaryKind::Clamp(lo, hi) => {
                if x >= lo && x <= hi {
                    one
                } else {
                    zero
                }
            }
            UnaryKind::Relu => {
                if x > zero {
                    one
                } else {
                    zero
                }
            }
            UnaryKind::LeakyRelu(slope) => {
                if x > zero {
                    one
                } else {
                    slope
                }
            }
            UnaryKind::Elu(alpha) => {
                if x > zero {
                    one
                } else {
                    y + alpha
                }
            }
            UnaryKind::Tanh => one - y * y,
            UnaryKind::Sigmoid => y * (one - y),
            UnaryKind::Gelu => {
                let pdf = (-(x * x) * S::cast(0.5)).exp()
                    * S::cast(1.0 / (2.0 * std::f64::consts::PI).sqrt());
                normal_cdf(x) + x * pdf
            }
        }
    }
}

impl<'t, S: Scalar> Var<'t, S> {
    fn unary(self, kind: UnaryKind<S>) -> Var<'t, S> {
        Var::record(self.tape, |t| {
            let x = &t.values[self.idx as usize];
            let mut out = t.pool.take(x.nrows(), x.ncols());
            let x = x.as_slice();
            // `specialize!` inside the block closure: one match per block,
            // then a loop in which the kind is a constant.
            par::blocks_mut(out.as_mut_slice(), 1, |at, o| {
                specialize!(kind, |k| {
                    for (o, &v) in o.iter_mut().zip(&x[at..]) {
                        *o = k.forward(v);
                    }
                });
            });
            (
                out,
                Op::Unary(Unary { kind, x: self.idx }),
                t.needs(self.idx),
                t.image(self.idx),
            )
        })
    }

    /// `eˣ` elementwise.
    pub fn exp(self) -> Var<'t, S> {
        self.unary(UnaryKind::Exp)
    }

    /// Natural logarithm elementwise.
    pub fn log(self) -> Var<'t, S> {
        self.unary(UnaryKind::Log)
    }

    /// Square root elementwise.
    pub fn sqrt(self) -> Var<'t, S> {
        self.unary(UnaryKind::Sqrt)
    }

    /// `xᵖ` elementwise.
    pub fn powf(self, p: S) -> Var<'t, S> {
        self.unary(UnaryKind::Powf(p))
    }

    /// `|x|` elementwise; its gradient at 0 is 0.
    pub fn abs(self) -> Var<'t, S> {
        self.unary(UnaryKind::Abs)
    }

    /// Clamps into `[lo, hi]`; the gradient passes where `lo ≤ x ≤ hi`.
    ///
    /// Panics if `lo > hi`.
    pub fn clamp(self, lo: S, hi: S) -> Var<'t, S> {
        assert!(lo <= hi, "clamp: lo {lo} is greater than hi {hi}");
        self.unary(UnaryKind::Clamp(lo, hi))
    }

    /// `max(x, 0)`; its gradient at 0 is 0.
    pub fn relu(self) -> Var<'t, S> {
        self.unary(UnaryKind::Relu)
    }

    /// `x` for `x > 0`, else `slope · x` (PyTorch's default slope is 0.01).
    pub fn leaky_relu(self, slope: S) -> Var<'t, S> {
        self.unary(UnaryKind::LeakyRelu(slope))
    }

    /// `x` for `x > 0`, else `alpha · (eˣ − 1)` (PyTorch's default alpha is 1).
    pub fn elu(self, alpha: S) -> Var<'t, S> {
        self.unary(UnaryKind::Elu(alpha))
    }

    /// Hyperbolic tangent.
    pub fn tanh(self) -> Var<'t, S> {
        self.unary(UnaryKind::Tanh)
    }

    /// Logistic sigmoid `1 / (1 + e⁻ˣ)`, computed stably on both tails.
    pub fn sigmoid(self) -> Var<'t, S> {
        self.unary(UnaryKind::Sigmoid)
    }

    /// GELU in its exact form `x · Φ(x)` (PyTorch `approximate="none"`).
    pub fn gelu(self) -> Var<'t, S> {
        self.unary(UnaryKind::Gelu)
    }
}

impl<S: Scalar> Backward<S> for Unary<S> {
    fn backward(&self, ctx: &mut BackCtx<'_, S>, out: usize, g: &DMatrix<S>) {
        let (x, y) = (ctx.value(self.x), &ctx.values[out]);
        let (gx, fresh) = ctx.grad_slot(self.x);
        // plain slices: nalgebra's matrix iterators handle strides and do not vectorize
        let (g, x, y) = (g.as_slice(), x.as_slice(), y.as_slice());
        par::blocks_mut(gx.as_mut_slice(), 1, |at, gx| {
            let terms = g[at..].iter().zip(x[at..].iter().zip(&y[at..]));
            specialize!(self.kind, |k| {
                if fresh {
                    for (a, (&gi, (&xi, &yi))) in gx.iter_mut().zip(terms) {
                        *a = gi * k.derivative(xi, yi);
                    }
                } else {
                    for (a, (&gi, (&xi, &yi))) in gx.iter_mut().zip(terms) {
                        *a += gi * k.derivative(xi, yi);
                    }
                }
            });
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::gradcheck::check_gradients;
    use descent_testkit::strategies::{matrix_avoiding, matrix_of};
    use nalgebra::DMatrix;
    use proptest::prelude::*;

    fn any_matrix(lo: f64, hi: f64) -> impl Strategy<Value = DMatrix<f64>> {
        (1usize..5, 1usize..5).prop_flat_map(move |(r, c)| matrix_of(r, c, lo, hi))
    }

    fn away_from_zero() -> impl Strategy<Value = DMatrix<f64>> {
        (1usize..5, 1usize..5)
            .prop_flat_map(|(r, c)| matrix_avoiding(r, c, -3.0, 3.0, &[0.0], 0.01))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn gradcheck_smooth_functions(x in any_matrix(-3.0, 3.0), p in 0.5f64..3.0) {
            let x = [x];
            check_gradients(&x, |_t, v| v[0].exp()).map_err(TestCaseError::fail)?;
            check_gradients(&x, |_t, v| v[0].tanh()).map_err(TestCaseError::fail)?;
            check_gradients(&x, |_t, v| v[0].sigmoid()).map_err(TestCaseError::fail)?;
            check_gradients(&x, |_t, v| v[0].gelu()).map_err(TestCaseError::fail)?;
            check_gradients(&x, |_t, v| (v[0] * v[0] + 0.5).log()).map_err(TestCaseError::fail)?;
            check_gradients(&x, |_t, v| (v[0] * v[0] + 0.5).sqrt()).map_err(TestCaseError::fail)?;
            check_gradients(&x, |_t, v| (v[0] * v[0] + 0.5).powf(p)).map_err(TestCaseError::fail)?;
        }

        #[test]
        fn gradcheck_functions_with_a_kink_at_zero(x in away_from_zero(), slope in 0.0f64..0.5, alpha in 0.1f64..2.0) {
            let x = [x];
            check_gradients(&x, |_t, v| v[0].abs()).map_err(TestCaseError::fail)?;
            check_gradients(&x, |_t, v| v[0].relu()).map_err(TestCaseError::fail)?;
            check_gradients(&x, |_t, v| v[0].leaky_relu(slope)).map_err(TestCaseError::fail)?;
            check_gradients(&x, |_t, v| v[0].elu(alpha)).map_err(TestCaseError::fail)?;
        }

        #[test]
        fn gradcheck_clamp(x in (1usize..5, 1usize..5).prop_flat_map(|(r, c)| matrix_avoiding(r, c, -3.0, 3.0, &[-1.0, 1.5], 0.01))) {
            check_gradients(&[x], |_t, v| v[0].clamp(-1.0, 1.5)).map_err(TestCaseError::fail)?;
        }
    }

    #[test]
    fn kinks_follow_pytorch_conventions() {
        let tape = crate::Tape::<f64>::new();
        let x = tape.leaf_var(&DMatrix::from_row_slice(1, 3, &[0.0, -1.0, 2.0]));
        let y = x.relu() + x.abs() + x.clamp(-1.0, 2.0);
        tape.backward_with(
            y,
            &DMatrix::from_element(1, 3, 1.0),
            &mut descent_core::ParamStore::new(),
        );
        // relu'(0)=0, |x|'(0)=0, clamp passes at the closed bounds
        assert_eq!(
            tape.grad(x).unwrap().as_slice(),
            &[1.0, 0.0 - 1.0 + 1.0, 1.0 + 1.0 + 1.0]
        );
    }

    #[test]
    fn sigmoid_is_finite_on_both_tails() {
        let tape = crate::Tape::<f32>::new();
        let y = tape
            .constant(&DMatrix::from_row_slice(1, 2, &[-200.0f32, 200.0]))
            .sigmoid()
            .value();
        assert_eq!(y.as_slice(), &[0.0, 1.0]);
    }
}
