//! Buffers: the non-trainable state of a model (batch norm's running
//! statistics), kept apart from the trainable parameters of a `ParamStore`.

use descent_core::Scalar;
use nalgebra::DMatrix;
use std::collections::BTreeMap;

/// Dense, deterministic handle of a registered buffer (registration order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BufferId(u32);

impl BufferId {
    /// The id's position in registration order.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A buffer's value: a float tensor or an integer count (PyTorch's
/// `num_batches_tracked`, saved as I64).
#[derive(Clone, Debug, PartialEq)]
pub enum Buffer<S: Scalar> {
    /// A float tensor, stored like a parameter (rows × flattened rest).
    Tensor(DMatrix<S>),
    /// An integer.
    Count(i64),
}

/// Every buffer of a model under its dotted state-dict name.
///
/// # Examples
///
/// ```
/// use descent_nn::{Buffer, Buffers};
/// use nalgebra::DMatrix;
///
/// let mut buffers = Buffers::<f64>::new();
/// let mean = buffers.push("0.running_mean", Buffer::Tensor(DMatrix::zeros(1, 3))).unwrap();
/// let n = buffers.push("0.num_batches_tracked", Buffer::Count(0)).unwrap();
/// *buffers.count_mut(n) += 1;
/// assert_eq!((buffers.tensor(mean).ncols(), buffers.count(n)), (3, 1));
/// assert!(buffers.push("0.running_mean", Buffer::Count(0)).is_none());
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Buffers<S: Scalar> {
    names: Vec<String>,
    values: Vec<Buffer<S>>,
    by_name: BTreeMap<String, BufferId>,
}

impl<S: Scalar> Buffers<S> {
    /// No buffers.
    pub fn new() -> Self {
        Buffers {
            names: Vec::new(),
            values: Vec::new(),
            by_name: BTreeMap::new(),
        }
    }

    /// Adds a buffer; `None` if the name is taken.
    pub fn push(&mut self, name: impl Into<String>, value: Buffer<S>) -> Option<BufferId> {
        let name = name.into();
        if self.by_name.contains_key(&name) {
            return None;
        }
        let id = BufferId(u32::try_from(self.values.len()).expect("more than u32::MAX buffers"));
        self.by_name.insert(name.clone(), id);
        self.names.push(name);
        self.values.push(value);
        Some(id)
    }

    /// Number of buffers.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The id registered under `name`.
    pub fn id(&self, name: &str) -> Option<BufferId> {
        self.by_name.get(name).copied()
    }

    /// The name of `id`.
    pub fn name(&self, id: BufferId) -> &str {
        &self.names[id.index()]
    }

    /// The value of `id`.
    pub fn get(&self, id: BufferId) -> &Buffer<S> {
        &self.values[id.index()]
    }

    /// The value of `id`, mutably (its kind and shape must not change).
    pub fn get_mut(&mut self, id: BufferId) -> &mut Buffer<S> {
        &mut self.values[id.index()]
    }

    /// Iterates `(id, name, value)` in registration order.
    pub fn iter(&self) -> impl Iterator<Item = (BufferId, &str, &Buffer<S>)> {
        self.names
            .iter()
            .zip(&self.values)
            .enumerate()
            .map(|(i, (n, v))| (BufferId(i as u32), n.as_str(), v))
    }

    /// The tensor of `id`; panics if it is a count (a bug in the layer).
    pub fn tensor(&self, id: BufferId) -> &DMatrix<S> {
        match &self.values[id.index()] {
            Buffer::Tensor(m) => m,
            Buffer::Count(_) => panic!("buffer `{}` is a count, not a tensor", self.name(id)),
        }
    }

    /// The tensor of `id`, mutably; panics if it is a count.
    pub fn tensor_mut(&mut self, id: BufferId) -> &mut DMatrix<S> {
        let name = &self.names[id.index()];
        match &mut self.values[id.index()] {
            Buffer::Tensor(m) => m,
            Buffer::Count(_) => panic!("buffer `{name}` is a count, not a tensor"),
        }
    }

    /// Two distinct tensors at once, mutably; panics if `a == b` or either is a count.
    pub fn tensor_pair_mut(
        &mut self,
        a: BufferId,
        b: BufferId,
    ) -> (&mut DMatrix<S>, &mut DMatrix<S>) {
        assert_ne!(a, b, "tensor_pair_mut: the same buffer twice");
        let (lo, hi) = (a.index().min(b.index()), a.index().max(b.index()));
        let (left, right) = self.values.split_at_mut(hi);
        let (x, y) = match (&mut left[lo], &mut right[0]) {
            (Buffer::Tensor(x), Buffer::Tensor(y)) => (x, y),
            _ => panic!("tensor_pair_mut: buffers {lo} and {hi} must both be tensors"),
        };
        if a.index() < b.index() {
            (x, y)
        } else {
            (y, x)
        }
    }

    /// The count of `id`; panics if it is a tensor.
    pub fn count(&self, id: BufferId) -> i64 {
        match &self.values[id.index()] {
            Buffer::Count(n) => *n,
            Buffer::Tensor(_) => panic!("buffer `{}` is a tensor, not a count", self.name(id)),
        }
    }

    /// The count of `id`, mutably; panics if it is a tensor.
    pub fn count_mut(&mut self, id: BufferId) -> &mut i64 {
        let name = &self.names[id.index()];
        match &mut self.values[id.index()] {
            Buffer::Count(n) => n,
            Buffer::Tensor(_) => panic!("buffer `{name}` is a tensor, not a count"),
        }
    }
}
