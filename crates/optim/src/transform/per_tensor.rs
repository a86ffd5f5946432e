//! Per-tensor scalars for stages that reduce over a whole tensor (trust
//! ratios, NovoGrad's second moment, Prodigy's sums): a serializable list of
//! one `f64` per parameter, a view that hands one scalar to every block of
//! its tensor, and the sequential reductions optax's `jnp.linalg.norm` and
//! `vdot` compute on one leaf.

use crate::buf::SplitAt;
use crate::float::Wide;
use descent_core::Scalar;
use serde::de::Deserializer;
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

/// One `f64` per parameter, indexed by `ParamId` (0 for parameters outside
/// a stage's mask). Serializes losslessly, NaN and the infinities included.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PerTensor(pub Vec<f64>);

impl Serialize for PerTensor {
    fn serialize<Z: Serializer>(&self, ser: Z) -> Result<Z::Ok, Z::Error> {
        let wide: Vec<Wide> = self.0.iter().map(|&x| Wide(x)).collect();
        wide.serialize(ser)
    }
}

impl<'de> Deserialize<'de> for PerTensor {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let wide = Vec::<Wide>::deserialize(de)?;
        Ok(PerTensor(wide.into_iter().map(|w| w.0).collect()))
    }
}

/// A scalar shared by every block of one tensor (a view that splits into
/// two copies of itself).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Each<T>(pub T);

impl<T: Copy> SplitAt for Each<T> {
    fn split_at(self, _mid: usize) -> (Self, Self) {
        (self, self)
    }
}

/// `Σ xᵢ²` in `f64`, in element order.
pub(crate) fn sq_sum<S: Scalar>(x: &[S]) -> f64 {
    x.iter().fold(0.0, |acc, v| {
        let v = v.as_f64();
        acc + v * v
    })
}

/// The L2 norm in `f64` (`jnp.linalg.norm` of one leaf).
pub(crate) fn norm<S: Scalar>(x: &[S]) -> f64 {
    sq_sum(x).sqrt()
}
