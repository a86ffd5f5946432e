//! `Flatten`: images are already `N × (C·H·W)` rows, so flattening is free.

use crate::module::{Ctx, Module};
use descent_autodiff::Var;
use descent_core::Scalar;

/// PyTorch's `nn.Flatten()` (`start_dim = 1`). A batch of images is already
/// stored as `N × (C·H·W)` in PyTorch's flattening order, so this returns its
/// input: the layer marks where a model goes from images to features (a
/// following `Linear` or `BatchNorm1d` reads the columns as features).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flatten;

impl<S: Scalar> Module<S> for Flatten {
    fn forward<'t>(&self, _ctx: &mut Ctx<'_, 't, S>, x: Var<'t, S>) -> Var<'t, S> {
        x
    }
}
