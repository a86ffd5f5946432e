//! Per-tensor state buffers and the views that cut them into blocks.

use crate::float::Wide;
use crate::transform::Mask;
use descent_core::{Params, Scalar};
use serde::de::Deserializer;
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

/// One element-wise state buffer per parameter (a moment, an accumulator),
/// indexed by `ParamId`; parameters outside the transform's mask get an empty
/// buffer, so state is kept only for the parameters a transform touches.
///
/// Serializes as nested lists of `f64` (exact for `f32` too), so state types
/// need no serde bound on the scalar; NaN and the infinities are written as
/// the strings `"NaN"`, `"inf"` and `"-inf"`, so a diverged state loads back.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bufs<S: Scalar>(Vec<Vec<S>>);

impl<S: Scalar> Bufs<S> {
    /// Buffers filled with `value` for the parameters in `mask`, empty elsewhere.
    pub fn filled(params: &Params<S>, mask: Mask<'_>, value: S) -> Self {
        Bufs(
            params
                .iter()
                .map(|(id, _, v)| {
                    if mask.contains(id) {
                        vec![value; v.len()]
                    } else {
                        Vec::new()
                    }
                })
                .collect(),
        )
    }

    /// Zero buffers for the parameters in `mask`, empty elsewhere.
    pub fn zeros(params: &Params<S>, mask: Mask<'_>) -> Self {
        Self::filled(params, mask, S::zero())
    }

    /// Copies of the values of the parameters in `mask`, empty elsewhere
    /// (a second set of weights: Lookahead's slow weights, schedule-free's
    /// `z`, Prodigy's `x₀`).
    pub(crate) fn copy_of(params: &Params<S>, mask: Mask<'_>) -> Self {
        let mut bufs = Self::zeros(params, mask);
        for ((id, _, v), b) in params.iter().zip(bufs.slices_mut()) {
            if mask.contains(id) {
                b.copy_from_slice(v.as_slice());
            }
        }
        bufs
    }

    /// The buffers, one per parameter.
    pub fn as_slices(&self) -> &[Vec<S>] {
        &self.0
    }

    /// Buffers of any lengths, one per parameter (row and column statistics).
    pub(crate) fn from_vecs(bufs: Vec<Vec<S>>) -> Self {
        Bufs(bufs)
    }

    /// The buffers, one per parameter, mutably.
    pub(crate) fn vecs_mut(&mut self) -> &mut [Vec<S>] {
        &mut self.0
    }

    /// Mutable slices, one per parameter, in id order.
    pub fn slices_mut(&mut self) -> impl Iterator<Item = &mut [S]> {
        self.0.iter_mut().map(Vec::as_mut_slice)
    }
}

impl<S: Scalar> Serialize for Bufs<S> {
    fn serialize<Z: Serializer>(&self, ser: Z) -> Result<Z::Ok, Z::Error> {
        let wide: Vec<Vec<Wide>> = self
            .0
            .iter()
            .map(|b| b.iter().map(|x| Wide(x.as_f64())).collect())
            .collect();
        wide.serialize(ser)
    }
}

impl<'de, S: Scalar> Deserialize<'de> for Bufs<S> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let wide = Vec::<Vec<Wide>>::deserialize(de)?;
        Ok(Bufs(
            wide.into_iter()
                .map(|b| b.into_iter().map(|x| S::cast(x.0)).collect())
                .collect(),
        ))
    }
}

/// Optional buffers (AMSGrad's running maximum): an iterator of `Some(slice)`
/// per parameter when present, of `None` forever otherwise.
pub(crate) fn optional_slices<S: Scalar>(
    bufs: &mut Option<Bufs<S>>,
) -> impl Iterator<Item = Option<&mut [S]>> {
    let present = bufs.iter_mut().flat_map(|b| b.slices_mut()).map(Some);
    present.chain(std::iter::repeat_with(|| None))
}

/// A view on the element-wise state of one tensor that can be cut in two,
/// so the walker hands each block (and each thread) its own disjoint part.
pub trait SplitAt: Sized {
    /// The first `mid` elements and the rest.
    fn split_at(self, mid: usize) -> (Self, Self);
}

impl SplitAt for () {
    fn split_at(self, _mid: usize) -> (Self, Self) {
        ((), ())
    }
}

impl<T> SplitAt for &mut [T] {
    fn split_at(self, mid: usize) -> (Self, Self) {
        self.split_at_mut(mid)
    }
}

impl<V: SplitAt> SplitAt for Option<V> {
    fn split_at(self, mid: usize) -> (Self, Self) {
        match self {
            Some(v) => {
                let (a, b) = v.split_at(mid);
                (Some(a), Some(b))
            }
            None => (None, None),
        }
    }
}

macro_rules! split_tuple {
    ($($V:ident $i:tt),+) => {
        impl<$($V: SplitAt),+> SplitAt for ($($V,)+) {
            fn split_at(self, mid: usize) -> (Self, Self) {
                let halves = ($(self.$i.split_at(mid),)+);
                (($(halves.$i.0,)+), ($(halves.$i.1,)+))
            }
        }
    };
}

split_tuple!(A 0);
split_tuple!(A 0, B 1);
split_tuple!(A 0, B 1, C 2);
split_tuple!(A 0, B 1, C 2, D 3);
split_tuple!(A 0, B 1, C 2, D 3, E 4);
split_tuple!(A 0, B 1, C 2, D 3, E 4, F 5);
split_tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
split_tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
split_tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
split_tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);

#[cfg(test)]
mod tests {
    use super::*;
    use descent_core::{ParamStore, Tags};
    use nalgebra::DMatrix;

    #[test]
    fn bufs_round_trip_through_json_and_skip_unmasked_params() {
        let mut store = ParamStore::<f32>::new();
        store
            .register("a", Tags::WEIGHT, DMatrix::zeros(2, 2))
            .unwrap();
        store
            .register("b", Tags::BIAS, DMatrix::zeros(1, 3))
            .unwrap();
        let mut bufs = Bufs::filled(store.params(), Mask::new(&[true, false]), 0.1f32);
        assert_eq!(bufs.as_slices()[1].len(), 0);
        bufs.slices_mut().next().unwrap()[3] = 1.0e-30;
        let text = serde_json::to_string(&bufs).unwrap();
        let back: Bufs<f32> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, bufs);
    }

    #[test]
    fn tuple_views_split_every_part() {
        let (mut a, mut b) = ([1, 2, 3], [4, 5, 6]);
        let view = (&mut a[..], Some(&mut b[..]), ());
        let (head, tail) = view.split_at(1);
        assert_eq!((head.0.len(), tail.1.map(|t| t.len())), (1, Some(2)));
    }
}
