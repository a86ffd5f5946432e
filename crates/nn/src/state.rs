//! A model's whole state: trainable parameters, buffers, and the PyTorch
//! shape of each tensor (so a state dict round-trips with PyTorch).

use crate::buffers::{Buffer, BufferId, Buffers};
use crate::{Error, Result};
use descent_core::{ParamId, ParamStore, Scalar, Tags};
use nalgebra::DMatrix;
use std::collections::BTreeMap;

/// Parameters (with gradients) plus buffers, each under its state-dict name,
/// with the PyTorch shape each tensor has in a state dict.
///
/// A tensor of PyTorch shape `[d0, d1, …]` is stored as a `d0 × (d1·…)`
/// matrix whose rows are read row-major (a conv weight `[O, I, kH, kW]` is
/// `O × (I·kH·kW)`); a 1-d tensor `[C]` is a `1 × C` row.
///
/// # Examples
///
/// ```
/// use descent_core::Tags;
/// use descent_nn::ModelState;
/// use nalgebra::DMatrix;
///
/// let mut state = ModelState::<f32>::new();
/// state.register_param("0.weight", Tags::WEIGHT, &[2, 1, 3, 3], DMatrix::zeros(2, 9))?;
/// assert_eq!(state.torch_shape("0.weight"), Some(vec![2, 1, 3, 3]));
/// # Ok::<(), descent_nn::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct ModelState<S: Scalar> {
    /// Trainable parameters and their gradients.
    pub params: ParamStore<S>,
    /// Non-trainable state (running statistics).
    pub buffers: Buffers<S>,
    shapes: BTreeMap<String, Vec<usize>>,
}

/// The matrix dimensions of a PyTorch shape: `[]` and `[n]` are rows of one,
/// `[d0, rest…]` is `d0 × Π rest`.
pub fn matrix_dims(shape: &[usize]) -> (usize, usize) {
    match shape {
        [] => (1, 1),
        [n] => (1, *n),
        [d0, rest @ ..] => (*d0, rest.iter().product()),
    }
}

impl<S: Scalar> ModelState<S> {
    /// An empty state.
    pub fn new() -> Self {
        ModelState {
            params: ParamStore::new(),
            buffers: Buffers::new(),
            shapes: BTreeMap::new(),
        }
    }

    /// The PyTorch shape of a parameter or tensor buffer (`[]` for a count);
    /// a parameter registered straight into `params` is `[rows, cols]`.
    pub fn torch_shape(&self, name: &str) -> Option<Vec<usize>> {
        if let Some(s) = self.shapes.get(name) {
            return Some(s.clone());
        }
        if let Some(id) = self.params.id(name) {
            let (r, c) = self.params.meta(id).shape;
            return Some(vec![r, c]);
        }
        self.buffers.id(name).map(|id| match self.buffers.get(id) {
            Buffer::Count(_) => vec![],
            Buffer::Tensor(m) => vec![m.nrows(), m.ncols()],
        })
    }

    fn check_new(&self, name: &str, shape: &[usize], value: Option<&DMatrix<S>>) -> Result<()> {
        if self.params.id(name).is_some() || self.buffers.id(name).is_some() {
            return Err(Error::DuplicateName {
                name: name.to_owned(),
            });
        }
        if let Some(v) = value {
            let dims = matrix_dims(shape);
            if v.shape() != dims {
                return Err(descent_core::Error::ShapeMismatch {
                    what: format!("`{name}` of PyTorch shape {shape:?}"),
                    expected: dims,
                    got: v.shape(),
                }
                .into());
            }
        }
        Ok(())
    }

    /// Registers a trainable parameter of PyTorch shape `shape`.
    pub fn register_param(
        &mut self,
        name: &str,
        tags: Tags,
        shape: &[usize],
        value: DMatrix<S>,
    ) -> Result<ParamId> {
        self.check_new(name, shape, Some(&value))?;
        let id = self.params.register(name, tags, value)?;
        self.shapes.insert(name.to_owned(), shape.to_vec());
        Ok(id)
    }

    /// Registers a float buffer of PyTorch shape `shape`.
    pub fn register_buffer(
        &mut self,
        name: &str,
        shape: &[usize],
        value: DMatrix<S>,
    ) -> Result<BufferId> {
        self.check_new(name, shape, Some(&value))?;
        let id = self.push_buffer(name, Buffer::Tensor(value))?;
        self.shapes.insert(name.to_owned(), shape.to_vec());
        Ok(id)
    }

    /// Registers an integer buffer (a 0-d I64 tensor in PyTorch).
    pub fn register_count(&mut self, name: &str, value: i64) -> Result<BufferId> {
        self.check_new(name, &[], None)?;
        let id = self.push_buffer(name, Buffer::Count(value))?;
        self.shapes.insert(name.to_owned(), Vec::new());
        Ok(id)
    }

    fn push_buffer(&mut self, name: &str, value: Buffer<S>) -> Result<BufferId> {
        check_name(name)?;
        self.buffers
            .push(name, value)
            .ok_or_else(|| Error::DuplicateName {
                name: name.to_owned(),
            })
    }
}

/// Buffers follow the parameters' naming rules: a dotted path of non-empty
/// segments without whitespace.
fn check_name(name: &str) -> Result<()> {
    let reason = if name.is_empty() {
        "empty name"
    } else if name.chars().any(char::is_whitespace) {
        "contains whitespace"
    } else if name.split('.').any(str::is_empty) {
        "empty segment in dotted path"
    } else {
        return Ok(());
    };
    Err(descent_core::Error::InvalidName {
        name: name.to_owned(),
        reason,
    }
    .into())
}
