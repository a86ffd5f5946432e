//! Activation layers: `Relu`, `LeakyRelu`, `Elu`, `Tanh`, `Sigmoid`, `Gelu`
//! and `Softmax`, each a thin module over its autodiff op.

use crate::module::{Ctx, Module};
use descent_autodiff::Var;
use descent_core::Scalar;

macro_rules! activation {
    ($(#[$doc:meta])* $name:ident, |$x:ident| $body:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $name;

        impl<S: Scalar> Module<S> for $name {
            fn forward<'t>(&self, _ctx: &mut Ctx<'_, 't, S>, $x: Var<'t, S>) -> Var<'t, S> {
                $body
            }
        }
    };
}

activation!(
    /// `max(0, x)` (PyTorch `nn.ReLU`; the gradient at 0 is 0).
    Relu,
    |x| x.relu()
);
activation!(
    /// `tanh(x)` (PyTorch `nn.Tanh`).
    Tanh,
    |x| x.tanh()
);
activation!(
    /// `1 / (1 + e^{−x})` (PyTorch `nn.Sigmoid`).
    Sigmoid,
    |x| x.sigmoid()
);
activation!(
    /// `x·Φ(x)` with the exact normal CDF (PyTorch `nn.GELU(approximate="none")`).
    Gelu,
    |x| x.gelu()
);
activation!(
    /// Softmax over each row, i.e. over the features of each sample
    /// (PyTorch `nn.Softmax(dim=1)`).
    Softmax,
    |x| x.softmax()
);

/// `x` for `x > 0`, else `negative_slope·x` (PyTorch `nn.LeakyReLU`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeakyRelu {
    /// Slope for negative inputs; PyTorch's default 0.01.
    pub negative_slope: f64,
}

impl Default for LeakyRelu {
    fn default() -> Self {
        LeakyRelu {
            negative_slope: 0.01,
        }
    }
}

impl<S: Scalar> Module<S> for LeakyRelu {
    fn forward<'t>(&self, _ctx: &mut Ctx<'_, 't, S>, x: Var<'t, S>) -> Var<'t, S> {
        x.leaky_relu(S::cast(self.negative_slope))
    }
}

/// `x` for `x > 0`, else `alpha·(eˣ − 1)` (PyTorch `nn.ELU`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Elu {
    /// Scale of the negative part; PyTorch's default 1.
    pub alpha: f64,
}

impl Default for Elu {
    fn default() -> Self {
        Elu { alpha: 1.0 }
    }
}

impl<S: Scalar> Module<S> for Elu {
    fn forward<'t>(&self, _ctx: &mut Ctx<'_, 't, S>, x: Var<'t, S>) -> Var<'t, S> {
        x.elu(S::cast(self.alpha))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Mode, ModelState};
    use descent_autodiff::Tape;
    use nalgebra::DMatrix;
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;

    #[test]
    fn activation_layers_apply_their_ops() {
        let x = DMatrix::from_row_slice(1, 3, &[-2.0, 0.0, 1.5]);
        let mut state = ModelState::<f64>::new();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let tape = Tape::new();
        let mut ctx = Ctx::new(&tape, &mut state, Mode::Train, &mut rng);
        let v = tape.constant(&x);
        fn run<'t>(
            m: &dyn Module<f64>,
            ctx: &mut Ctx<'_, 't, f64>,
            v: Var<'t, f64>,
        ) -> DMatrix<f64> {
            m.forward(ctx, v).value()
        }
        assert_eq!(run(&Relu, &mut ctx, v).as_slice(), &[0.0, 0.0, 1.5]);
        assert_eq!(
            run(&LeakyRelu::default(), &mut ctx, v).as_slice(),
            &[-0.02, 0.0, 1.5]
        );
        let elu = run(&Elu::default(), &mut ctx, v);
        assert!((elu[0] - ((-2f64).exp() - 1.0)).abs() < 1e-15);
        assert!((run(&Softmax, &mut ctx, v).sum() - 1.0).abs() < 1e-15);
        assert_eq!(run(&Tanh, &mut ctx, v)[1], 0.0);
        assert_eq!(run(&Sigmoid, &mut ctx, v)[1], 0.5);
        assert_eq!(run(&Gelu, &mut ctx, v)[1], 0.0);
    }
}
