//! Parameters: ids, names, tags and the store that owns values and gradients.
//!
//! Invariant: `ParamId`s are dense and assigned in registration order, so
//! state keyed by them is a `Vec` and runs are deterministic.
//! Invariant: a parameter's shape never changes after registration
//! ([`ParamStore::set_value`] checks it).

use crate::{Error, Grads, Result, Scalar};
use nalgebra::DMatrix;
use std::collections::BTreeMap;
use std::ops::{BitOr, Deref};

/// Dense, deterministic handle of a registered parameter: the `n`-th
/// registration gets `ParamId(n)`, so ids are stable across runs and
/// optimizer state can be a plain `Vec` indexed by them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ParamId(u32);

impl ParamId {
    /// The id's position in registration order.
    pub fn index(self) -> usize {
        self.0 as usize
    }

    /// The id of the `index`-th registered parameter.
    pub fn from_index(index: usize) -> Self {
        ParamId(u32::try_from(index).expect("more than u32::MAX parameters"))
    }
}

/// A small set of tags saying what role a parameter plays, so that weight
/// decay or a learning rate can be applied per group ("no decay on biases and
/// norm parameters").
///
/// # Examples
///
/// ```
/// use descent_core::Tags;
///
/// let bn_weight = Tags::NORM | Tags::WEIGHT;
/// assert!(bn_weight.contains(Tags::NORM));
/// assert!(!bn_weight.contains(Tags::BIAS));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Tags(u8);

impl Tags {
    /// No tags.
    pub const NONE: Tags = Tags(0);
    /// A weight matrix or kernel.
    pub const WEIGHT: Tags = Tags(1);
    /// A bias vector.
    pub const BIAS: Tags = Tags(2);
    /// A parameter of a normalization layer (batch norm, layer norm).
    pub const NORM: Tags = Tags(4);

    /// True when every tag of `other` is in `self` (and `other` is not empty).
    pub fn contains(self, other: Tags) -> bool {
        other.0 != 0 && self.0 & other.0 == other.0
    }

    /// True when `self` and `other` share a tag.
    pub fn intersects(self, other: Tags) -> bool {
        self.0 & other.0 != 0
    }
}

impl BitOr for Tags {
    type Output = Tags;
    fn bitor(self, rhs: Tags) -> Tags {
        Tags(self.0 | rhs.0)
    }
}

/// What is known about a parameter besides its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamMeta {
    /// Dotted path, e.g. `block1.fc.weight`.
    pub name: String,
    /// Role tags.
    pub tags: Tags,
    /// `(rows, cols)` of the value; fixed at registration.
    pub shape: (usize, usize),
}

/// The values and metadata of all parameters, without their gradients.
///
/// Optimizers read this half while they rewrite the [`Grads`] half.
#[derive(Clone, Debug, Default)]
pub struct Params<S: Scalar> {
    metas: Vec<ParamMeta>,
    values: Vec<DMatrix<S>>,
    by_name: BTreeMap<String, ParamId>,
}

impl<S: Scalar> Params<S> {
    /// Number of registered parameters.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Total number of scalar elements over all parameters.
    pub fn numel(&self) -> usize {
        self.values.iter().map(|v| v.len()).sum()
    }

    /// All ids in registration order.
    pub fn ids(&self) -> impl ExactSizeIterator<Item = ParamId> + use<S> {
        (0..self.values.len()).map(ParamId::from_index)
    }

    /// The id registered under `name`.
    pub fn id(&self, name: &str) -> Option<ParamId> {
        self.by_name.get(name).copied()
    }

    /// The id registered under `name`, or [`Error::UnknownParam`].
    pub fn require(&self, name: &str) -> Result<ParamId> {
        self.id(name).ok_or_else(|| Error::UnknownParam {
            name: name.to_owned(),
        })
    }

    /// Metadata of `id`.
    pub fn meta(&self, id: ParamId) -> &ParamMeta {
        &self.metas[id.index()]
    }

    /// Name of `id`.
    pub fn name(&self, id: ParamId) -> &str {
        &self.metas[id.index()].name
    }

    /// Current value of `id`.
    pub fn value(&self, id: ParamId) -> &DMatrix<S> {
        &self.values[id.index()]
    }

    /// Mutable value of `id`. Its shape must not change.
    pub fn value_mut(&mut self, id: ParamId) -> &mut DMatrix<S> {
        &mut self.values[id.index()]
    }

    /// Iterates `(id, meta, value)` in registration order.
    pub fn iter(&self) -> impl Iterator<Item = (ParamId, &ParamMeta, &DMatrix<S>)> {
        self.metas
            .iter()
            .zip(&self.values)
            .enumerate()
            .map(|(i, (m, v))| (ParamId::from_index(i), m, v))
    }

    /// Iterates `(id, value)` mutably in registration order, lending every
    /// value at once (an optimizer step splits them across threads).
    pub fn values_mut(&mut self) -> impl Iterator<Item = (ParamId, &mut DMatrix<S>)> {
        self.values
            .iter_mut()
            .enumerate()
            .map(|(i, v)| (ParamId::from_index(i), v))
    }

    /// Replaces the value of `id`, checking the shape.
    pub fn set_value(&mut self, id: ParamId, value: DMatrix<S>) -> Result<()> {
        let meta = &self.metas[id.index()];
        if value.shape() != meta.shape {
            return Err(Error::ShapeMismatch {
                what: format!("parameter `{}`", meta.name),
                expected: meta.shape,
                got: value.shape(),
            });
        }
        self.values[id.index()] = value;
        Ok(())
    }
}

/// Owns every parameter's value and gradient.
///
/// A store is [`Params`] (values and metadata) plus [`Grads`] (one gradient
/// per parameter, same shape, zero at registration). It derefs to `Params`,
/// so `store.value(id)` works directly; [`ParamStore::split_mut`] lends both
/// halves at once, which is what an optimizer step needs.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f32>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::from_element(2, 2, 1.0))?;
/// store.grad_mut(w).fill(0.5);
/// let (params, grads) = store.split_mut();
/// *params.value_mut(w) -= grads.get(w) * 0.1;
/// assert_eq!(store.value(w)[(0, 0)], 0.95);
/// store.zero_grad();
/// assert_eq!(store.grad(w)[(1, 1)], 0.0);
/// # Ok::<(), descent_core::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct ParamStore<S: Scalar> {
    params: Params<S>,
    grads: Grads<S>,
}

impl<S: Scalar> ParamStore<S> {
    /// An empty store.
    pub fn new() -> Self {
        ParamStore {
            params: Params {
                metas: Vec::new(),
                values: Vec::new(),
                by_name: BTreeMap::new(),
            },
            grads: Grads::default(),
        }
    }

    /// Registers a parameter and returns its id, the next in registration order.
    ///
    /// `name` must be a dotted path of non-empty segments without whitespace,
    /// unique in the store.
    pub fn register(
        &mut self,
        name: impl Into<String>,
        tags: Tags,
        value: DMatrix<S>,
    ) -> Result<ParamId> {
        let name = name.into();
        validate_name(&name)?;
        if self.params.by_name.contains_key(&name) {
            return Err(Error::DuplicateName { name });
        }
        let id = ParamId::from_index(self.params.values.len());
        let shape = value.shape();
        self.grads.push(DMatrix::zeros(shape.0, shape.1));
        self.params.values.push(value);
        self.params.by_name.insert(name.clone(), id);
        self.params.metas.push(ParamMeta { name, tags, shape });
        Ok(id)
    }

    /// The values and metadata.
    pub fn params(&self) -> &Params<S> {
        &self.params
    }

    /// Mutable values.
    pub fn params_mut(&mut self) -> &mut Params<S> {
        &mut self.params
    }

    /// All gradients.
    pub fn grads(&self) -> &Grads<S> {
        &self.grads
    }

    /// All gradients, mutably.
    pub fn grads_mut(&mut self) -> &mut Grads<S> {
        &mut self.grads
    }

    /// Gradient of `id`.
    pub fn grad(&self, id: ParamId) -> &DMatrix<S> {
        self.grads.get(id)
    }

    /// Mutable gradient of `id`.
    pub fn grad_mut(&mut self, id: ParamId) -> &mut DMatrix<S> {
        self.grads.get_mut(id)
    }

    /// Both halves at once: values to update, gradients to read or rewrite.
    pub fn split_mut(&mut self) -> (&mut Params<S>, &mut Grads<S>) {
        (&mut self.params, &mut self.grads)
    }

    /// Sets every gradient to zero, keeping the buffers.
    pub fn zero_grad(&mut self) {
        self.grads.zero();
    }
}

impl<S: Scalar> Deref for ParamStore<S> {
    type Target = Params<S>;
    fn deref(&self) -> &Params<S> {
        &self.params
    }
}

fn validate_name(name: &str) -> Result<()> {
    let bad = |reason| {
        Err(Error::InvalidName {
            name: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() {
        return bad("empty name");
    }
    if name.chars().any(char::is_whitespace) {
        return bad("contains whitespace");
    }
    if name.split('.').any(str::is_empty) {
        return bad("empty segment in dotted path");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_dense_in_registration_order() {
        let mut store = ParamStore::<f64>::new();
        let names = ["b.weight", "a.weight", "a.bias"];
        for (i, n) in names.iter().enumerate() {
            let id = store
                .register(*n, Tags::WEIGHT, DMatrix::zeros(1, i + 1))
                .unwrap();
            assert_eq!(id.index(), i);
        }
        let listed: Vec<&str> = store.iter().map(|(_, m, _)| m.name.as_str()).collect();
        assert_eq!(listed, names);
        assert_eq!(store.grad(ParamId::from_index(2)).shape(), (1, 3));
    }

    #[test]
    fn duplicate_and_malformed_names_are_typed_errors() {
        let mut store = ParamStore::<f32>::new();
        store
            .register("fc.weight", Tags::WEIGHT, DMatrix::zeros(1, 1))
            .unwrap();
        let dup = store.register("fc.weight", Tags::WEIGHT, DMatrix::zeros(1, 1));
        assert_eq!(
            dup,
            Err(Error::DuplicateName {
                name: "fc.weight".into()
            })
        );
        for bad in ["", "fc..w", ".w", "w.", "a b"] {
            let err = store
                .register(bad, Tags::NONE, DMatrix::zeros(1, 1))
                .unwrap_err();
            assert!(
                matches!(err, Error::InvalidName { .. }),
                "{bad:?} gave {err:?}"
            );
        }
        assert_eq!(
            store.len(),
            1,
            "failed registrations must not leave a parameter behind"
        );
    }

    #[test]
    fn set_value_rejects_a_new_shape() {
        let mut store = ParamStore::<f32>::new();
        let id = store
            .register("w", Tags::WEIGHT, DMatrix::zeros(2, 3))
            .unwrap();
        let err = store
            .params_mut()
            .set_value(id, DMatrix::zeros(3, 2))
            .unwrap_err();
        assert!(matches!(
            err,
            Error::ShapeMismatch {
                expected: (2, 3),
                got: (3, 2),
                ..
            }
        ));
    }

    #[test]
    fn tags_contain_and_intersect() {
        let t = Tags::NORM | Tags::WEIGHT;
        assert!(t.contains(Tags::WEIGHT) && t.contains(Tags::NORM | Tags::WEIGHT));
        assert!(!t.contains(Tags::BIAS) && !t.contains(Tags::NONE));
        assert!(t.intersects(Tags::BIAS | Tags::NORM));
    }
}
