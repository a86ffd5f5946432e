//! Snapshots of parameter values plus opaque buffers, taken and restored in place.

use crate::{Error, Result};
use descent_core::{Params, Scalar};
use nalgebra::DMatrix;

/// A copy of every parameter value and of a caller-defined `buffers` value
/// (batch-norm running statistics, a data-loader position, ...), which this
/// crate treats as opaque: it only clones it.
///
/// Taking a snapshot again reuses the copies' memory, so a run that keeps
/// the best epoch's parameters allocates them once.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_regularize::Snapshot;
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f32>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::from_element(2, 2, 1.0))?;
/// let mut running_mean = vec![0.5f32];
/// let snap = Snapshot::take(store.params(), &running_mean);
/// store.params_mut().value_mut(w).fill(7.0);
/// running_mean[0] = 9.0;
/// snap.restore(store.params_mut(), &mut running_mean)?;
/// assert_eq!((store.value(w)[0], running_mean[0]), (1.0, 0.5));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot<S: Scalar, B = ()> {
    values: Vec<DMatrix<S>>,
    buffers: B,
}

impl<S: Scalar, B: Clone> Snapshot<S, B> {
    /// Copies every value of `params` and clones `buffers`.
    pub fn take(params: &Params<S>, buffers: &B) -> Self {
        Snapshot {
            values: params.iter().map(|(_, _, v)| v.clone()).collect(),
            buffers: buffers.clone(),
        }
    }

    /// A snapshot of the given parameter values (in registration order) and
    /// buffers, e.g. read back from a checkpoint.
    pub fn from_parts(values: Vec<DMatrix<S>>, buffers: B) -> Self {
        Snapshot { values, buffers }
    }

    /// Overwrites this snapshot with the current state, reusing its memory
    /// when the shapes agree.
    pub fn retake(&mut self, params: &Params<S>, buffers: &B) {
        if self.fits(params).is_err() {
            *self = Self::take(params, buffers);
            return;
        }
        for (dst, (_, _, src)) in self.values.iter_mut().zip(params.iter()) {
            dst.as_mut_slice().copy_from_slice(src.as_slice());
        }
        self.buffers.clone_from(buffers);
    }

    /// Writes the saved values into `params` and the saved buffers into
    /// `buffers`. Fails, changing nothing, if `params` has other parameters.
    pub fn restore(&self, params: &mut Params<S>, buffers: &mut B) -> Result<()> {
        self.fits(params)?;
        for ((_, dst), src) in params.values_mut().zip(&self.values) {
            dst.as_mut_slice().copy_from_slice(src.as_slice());
        }
        buffers.clone_from(&self.buffers);
        Ok(())
    }

    /// The saved values, in registration order.
    pub fn values(&self) -> &[DMatrix<S>] {
        &self.values
    }

    /// The saved buffers.
    pub fn buffers(&self) -> &B {
        &self.buffers
    }

    fn fits(&self, params: &Params<S>) -> Result<()> {
        if params.len() != self.values.len() {
            return Err(Error::SnapshotMismatch {
                reason: format!(
                    "{} parameters saved, {} in the store",
                    self.values.len(),
                    params.len()
                ),
            });
        }
        for ((_, meta, v), saved) in params.iter().zip(&self.values) {
            if v.shape() != saved.shape() {
                return Err(Error::SnapshotMismatch {
                    reason: format!(
                        "`{}` has shape {:?}, saved {:?}",
                        meta.name,
                        v.shape(),
                        saved.shape()
                    ),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use descent_core::{ParamStore, Tags};

    #[test]
    fn restoring_into_another_store_fails_and_changes_nothing() {
        let mut a = ParamStore::<f64>::new();
        a.register("w", Tags::WEIGHT, DMatrix::zeros(2, 2)).unwrap();
        let snap = Snapshot::take(a.params(), &());
        let mut b = ParamStore::<f64>::new();
        b.register("w", Tags::WEIGHT, DMatrix::from_element(2, 3, 1.0))
            .unwrap();
        let err = snap.restore(b.params_mut(), &mut ()).unwrap_err();
        assert!(matches!(err, Error::SnapshotMismatch { .. }), "{err}");
        assert!(b.value(b.id("w").unwrap()).iter().all(|x| *x == 1.0));
    }

    #[test]
    fn retake_overwrites_values_and_buffers() {
        let mut store = ParamStore::<f32>::new();
        let w = store
            .register("w", Tags::WEIGHT, DMatrix::zeros(1, 3))
            .unwrap();
        let mut snap = Snapshot::take(store.params(), &1u32);
        store.params_mut().value_mut(w).fill(2.0);
        snap.retake(store.params(), &5);
        assert_eq!(snap.values()[0], DMatrix::from_element(1, 3, 2.0));
        assert_eq!(*snap.buffers(), 5);
    }
}
