//! Registering a layer's tensors under a dotted prefix, drawing initial
//! values from an explicit RNG.

use crate::Result;
use crate::buffers::BufferId;
use crate::init::Init;
use crate::state::{ModelState, matrix_dims};
use descent_core::{ParamId, Scalar, Tags};
use nalgebra::DMatrix;
use rand_core::Rng;

/// Where layer constructors register their parameters and buffers: a
/// [`ModelState`], the RNG initial values come from, and the dotted prefix
/// of the layer being built (as candle's `VarBuilder::pp`).
///
/// # Examples
///
/// ```
/// use descent_nn::{Builder, Linear, LinearConfig, ModelState};
/// use rand_chacha::ChaCha8Rng;
/// use rand_core::SeedableRng;
///
/// let mut state = ModelState::<f32>::new();
/// let mut rng = ChaCha8Rng::seed_from_u64(0);
/// let mut b = Builder::new(&mut state, &mut rng);
/// let fc = Linear::new(&mut b.pp("block1").pp("fc"), LinearConfig::new(4, 2))?;
/// assert_eq!(state.params.name(fc.weight()), "block1.fc.weight");
/// # Ok::<(), descent_nn::Error>(())
/// ```
pub struct Builder<'a, S: Scalar> {
    state: &'a mut ModelState<S>,
    rng: &'a mut dyn Rng,
    prefix: String,
}

impl<'a, S: Scalar> Builder<'a, S> {
    /// A builder at the root (empty prefix).
    pub fn new(state: &'a mut ModelState<S>, rng: &'a mut dyn Rng) -> Self {
        Builder {
            state,
            rng,
            prefix: String::new(),
        }
    }

    /// A builder for the sub-module `segment` (`"0"`, `"fc"`, …).
    pub fn pp(&mut self, segment: impl std::fmt::Display) -> Builder<'_, S> {
        let prefix = self.path(&segment.to_string());
        Builder {
            state: &mut *self.state,
            rng: &mut *self.rng,
            prefix,
        }
    }

    /// The full dotted name of `name` under this builder's prefix.
    pub fn path(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.prefix)
        }
    }

    /// The RNG initial values are drawn from.
    pub fn rng(&mut self) -> &mut dyn Rng {
        &mut *self.rng
    }

    /// Registers a parameter of PyTorch shape `shape`, filled by `init`.
    pub fn param(
        &mut self,
        name: &str,
        tags: Tags,
        shape: &[usize],
        init: Init,
    ) -> Result<ParamId> {
        let value = init.sample(shape, &mut *self.rng)?;
        let path = self.path(name);
        self.state.register_param(&path, tags, shape, value)
    }

    /// Registers a float buffer of PyTorch shape `shape` holding `value` everywhere.
    pub fn buffer(&mut self, name: &str, shape: &[usize], value: f64) -> Result<BufferId> {
        let (r, c) = matrix_dims(shape);
        let path = self.path(name);
        self.state
            .register_buffer(&path, shape, DMatrix::from_element(r, c, S::cast(value)))
    }

    /// Registers an integer buffer starting at `value`.
    pub fn count(&mut self, name: &str, value: i64) -> Result<BufferId> {
        let path = self.path(name);
        self.state.register_count(&path, value)
    }
}
