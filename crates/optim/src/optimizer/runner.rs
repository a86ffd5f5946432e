//! A group's transform bound to its state, behind a trait object so groups
//! may use different chains.

use crate::error::{Error, Result};
use crate::transform::BlockTransform;
use crate::walk::{self, Parallelism};
use descent_core::{Grads, Params, Scalar, StepCtx};
use serde_json::Value;

/// A group's transform bound to its state, behind a trait object so groups
/// may use different chains.
pub(super) trait Runner<S: Scalar>: Send {
    /// One step of the group; with `sq`, also each walked gradient chunk's
    /// sum of squares into its slot (see `walk::apply`).
    fn step(
        &mut self,
        params: &mut Params<S>,
        grads: &Grads<S>,
        ctx: &StepCtx,
        par: &Parallelism,
        sq: Option<&mut [f64]>,
    );
    fn mask(&self) -> &[bool];
    /// Rewrites this group's parameters in `params` into its evaluation point.
    fn eval_params(&self, params: &mut Params<S>);
    fn save(&self) -> Value;
    fn check(&self, saved: &Value) -> Result<()>;
    fn load(&mut self, saved: &Value) -> Result<()>;
}

pub(super) struct Bound<S: Scalar, T: BlockTransform<S>> {
    pub(super) transform: T,
    pub(super) state: T::State,
    pub(super) mask: Vec<bool>,
    pub(super) scratch: Vec<Vec<S>>,
}

impl<S: Scalar, T: BlockTransform<S>> Runner<S> for Bound<S, T> {
    fn step(
        &mut self,
        params: &mut Params<S>,
        grads: &Grads<S>,
        ctx: &StepCtx,
        par: &Parallelism,
        sq: Option<&mut [f64]>,
    ) {
        let group = walk::Group {
            t: &self.transform,
            state: &mut self.state,
            mask: &self.mask,
            scratch: &mut self.scratch,
        };
        walk::apply(group, params, grads, ctx, par, sq);
    }

    fn mask(&self) -> &[bool] {
        &self.mask
    }

    fn eval_params(&self, params: &mut Params<S>) {
        let mask = crate::transform::Mask::new(&self.mask);
        self.transform.eval_params(&self.state, params, mask);
    }

    fn save(&self) -> Value {
        serde_json::to_value(&self.state).expect("optimizer state serializes to JSON")
    }

    fn check(&self, saved: &Value) -> Result<()> {
        if !same_shape(&self.save(), saved) {
            return Err(Error::StateMismatch {
                reason: "a group's state has another structure or other buffer sizes".into(),
            });
        }
        serde_json::from_value::<T::State>(saved.clone())
            .map(|_| ())
            .map_err(|e| Error::StateMismatch {
                reason: e.to_string(),
            })
    }

    fn load(&mut self, saved: &Value) -> Result<()> {
        self.check(saved)?;
        self.state = serde_json::from_value(saved.clone()).map_err(|e| Error::StateMismatch {
            reason: e.to_string(),
        })?;
        Ok(())
    }
}

/// True when both values have the same structure: same keys, same list
/// lengths, numbers where numbers are.
fn same_shape(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_shape(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_shape(v, w)))
        }
        (x, y) if crate::float::is_float(x) && crate::float::is_float(y) => true,
        (Value::Null, Value::Null)
        | (Value::Bool(_), Value::Bool(_))
        | (Value::String(_), Value::String(_)) => true,
        _ => false,
    }
}
