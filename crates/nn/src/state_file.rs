//! Saving and loading a [`ModelState`] as safetensors with PyTorch's
//! state-dict names and shapes, so states move both ways between PyTorch and
//! descent.
//!
//! Invariant: loading validates every tensor (names, shapes, dtypes) before
//! writing any: a mismatch is `Error::StateMismatch` listing all of them, and
//! the model is unchanged. Saving is atomic (`descent_core::fs::write_atomic`),
//! so concurrent saves to one path never leave a mixed file (tested).

use crate::buffers::Buffer;
use crate::error::TensorMismatch;
use crate::state::{ModelState, matrix_dims};
use crate::{Error, Result};
use descent_core::Scalar;
use nalgebra::DMatrix;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::BTreeMap;
use std::path::Path;

/// What the model expects of one state-dict entry.
struct Slot {
    shape: Vec<usize>,
    count: bool,
}

/// A decoded tensor, ready to apply.
enum Decoded<S: Scalar> {
    Tensor(DMatrix<S>),
    Count(i64),
}

fn float_dtype<S: Scalar>() -> Dtype {
    if S::NAME == "f32" {
        Dtype::F32
    } else {
        Dtype::F64
    }
}

/// Row-major little-endian bytes of `m` in dtype `dtype` (F32 or F64).
fn encode<S: Scalar>(m: &DMatrix<S>, dtype: Dtype) -> Vec<u8> {
    let mut out = Vec::with_capacity(m.len() * dtype.bitsize() / 8);
    for i in 0..m.nrows() {
        for j in 0..m.ncols() {
            let v = m[(i, j)].as_f64();
            match dtype {
                Dtype::F32 => out.extend_from_slice(&(v as f32).to_le_bytes()),
                _ => out.extend_from_slice(&v.to_le_bytes()),
            }
        }
    }
    out
}

/// The inverse of [`encode`] for an F32 or F64 view of `rows × cols` values.
fn decode<S: Scalar>(view: &TensorView<'_>, rows: usize, cols: usize) -> DMatrix<S> {
    let bytes = view.data();
    let at = |k: usize| -> f64 {
        match view.dtype() {
            Dtype::F32 => {
                f32::from_le_bytes(bytes[4 * k..4 * k + 4].try_into().expect("4 bytes")) as f64
            }
            _ => f64::from_le_bytes(bytes[8 * k..8 * k + 8].try_into().expect("8 bytes")),
        }
    };
    DMatrix::from_fn(rows, cols, |i, j| S::cast(at(i * cols + j)))
}

impl<S: Scalar> ModelState<S> {
    /// Every state-dict entry: parameters, then buffers, in registration order.
    fn slots(&self) -> BTreeMap<String, Slot> {
        let mut out = BTreeMap::new();
        for (_, meta, _) in self.params.iter() {
            let shape = self.torch_shape(&meta.name).expect("registered");
            out.insert(
                meta.name.clone(),
                Slot {
                    shape,
                    count: false,
                },
            );
        }
        for (_, name, value) in self.buffers.iter() {
            let shape = self.torch_shape(name).expect("registered");
            let count = matches!(value, Buffer::Count(_));
            out.insert(name.to_owned(), Slot { shape, count });
        }
        out
    }

    /// The state as safetensors bytes: parameters and float buffers in the
    /// store's dtype (F32 or F64), counts as I64, PyTorch shapes, row-major.
    pub fn to_safetensors(&self) -> Result<Vec<u8>> {
        let dtype = float_dtype::<S>();
        let mut blobs: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
        for (_, meta, value) in self.params.iter() {
            let shape = self.torch_shape(&meta.name).expect("registered");
            blobs.push((meta.name.clone(), dtype, shape, encode(value, dtype)));
        }
        for (_, name, value) in self.buffers.iter() {
            let shape = self.torch_shape(name).expect("registered");
            let (dt, bytes) = match value {
                Buffer::Tensor(m) => (dtype, encode(m, dtype)),
                Buffer::Count(n) => (Dtype::I64, n.to_le_bytes().to_vec()),
            };
            blobs.push((name.to_owned(), dt, shape, bytes));
        }
        let views = blobs
            .iter()
            .map(|(name, dt, shape, bytes)| {
                let view = TensorView::new(*dt, shape.clone(), bytes)
                    .expect("sizes match by construction");
                (name.as_str(), view)
            })
            .collect::<Vec<_>>();
        safetensors::serialize(views, None).map_err(|e| Error::Format {
            path: "<memory>".into(),
            message: e.to_string(),
        })
    }

    /// Writes the state to `path` atomically ([`descent_core::fs::write_atomic`]:
    /// a temporary file unique to the call, fsync, rename, fsync of the
    /// directory), so neither a crash nor a concurrent save to the same path
    /// ever leaves a half-written state.
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
    /// Linear::new(&mut Builder::new(&mut state, &mut rng).pp("0"), LinearConfig::new(3, 2))?;
    /// let path = std::env::temp_dir().join(format!("descent-doc-{}.safetensors", std::process::id()));
    /// state.save(&path)?;
    /// let mut copy = ModelState::<f32>::new();
    /// Linear::new(&mut Builder::new(&mut copy, &mut ChaCha8Rng::seed_from_u64(9)).pp("0"), LinearConfig::new(3, 2))?;
    /// copy.load(&path)?;
    /// assert_eq!(copy.params.value(copy.params.require("0.weight")?), state.params.value(state.params.require("0.weight")?));
    /// # std::fs::remove_file(&path).ok();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let bytes = self.to_safetensors()?;
        let io = |source| Error::Io {
            path: path.to_owned(),
            source,
        };
        descent_core::fs::write_atomic(path, &bytes).map_err(io)
    }

    /// Loads the state saved at `path` (by descent or PyTorch's
    /// `safetensors.torch.save_file(model.state_dict(), …)`).
    ///
    /// Everything is checked before anything is written: a missing,
    /// unexpected or mis-shaped tensor gives [`Error::StateMismatch`] listing
    /// all of them, and the state is left unchanged. Float tensors may be F32
    /// or F64 (converted to the store's type, as `load_state_dict` copies);
    /// counts must be I64.
    pub fn load(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        self.load_safetensors(&bytes).map_err(|e| match e {
            Error::Format { message, .. } => Error::Format {
                path: path.to_owned(),
                message,
            },
            e => e,
        })
    }

    /// [`load`](Self::load) from bytes in memory.
    pub fn load_safetensors(&mut self, bytes: &[u8]) -> Result<()> {
        let file = SafeTensors::deserialize(bytes).map_err(|e| Error::Format {
            path: "<memory>".into(),
            message: e.to_string(),
        })?;
        let slots = self.slots();
        let mut decoded: Vec<(String, Decoded<S>)> = Vec::new();
        let (mut missing, mut unexpected, mut mismatched) = (Vec::new(), Vec::new(), Vec::new());
        for name in file.names() {
            if !slots.contains_key(name) {
                unexpected.push(name.to_owned());
            }
        }
        for (name, slot) in &slots {
            let Ok(view) = file.tensor(name) else {
                missing.push(name.clone());
                continue;
            };
            let dtype_ok = if slot.count {
                view.dtype() == Dtype::I64
            } else {
                matches!(view.dtype(), Dtype::F32 | Dtype::F64)
            };
            if !dtype_ok || view.shape() != slot.shape.as_slice() {
                mismatched.push(TensorMismatch {
                    name: name.clone(),
                    expected_shape: slot.shape.clone(),
                    got_shape: view.shape().to_vec(),
                    expected_dtype: if slot.count {
                        "I64".into()
                    } else {
                        format!("{:?}", float_dtype::<S>())
                    },
                    got_dtype: format!("{:?}", view.dtype()),
                });
                continue;
            }
            let value = if slot.count {
                Decoded::Count(i64::from_le_bytes(
                    view.data()[..8].try_into().expect("8 bytes"),
                ))
            } else {
                let (r, c) = matrix_dims(&slot.shape);
                Decoded::Tensor(decode(&view, r, c))
            };
            decoded.push((name.clone(), value));
        }
        if !(missing.is_empty() && unexpected.is_empty() && mismatched.is_empty()) {
            unexpected.sort();
            return Err(Error::StateMismatch {
                missing,
                unexpected,
                mismatched,
            });
        }
        for (name, value) in decoded {
            self.apply(&name, value);
        }
        Ok(())
    }

    /// Writes one validated tensor.
    fn apply(&mut self, name: &str, value: Decoded<S>) {
        match value {
            Decoded::Tensor(m) => {
                if let Some(id) = self.params.id(name) {
                    self.params.params_mut().value_mut(id).copy_from(&m);
                } else {
                    let id = self.buffers.id(name).expect("validated");
                    self.buffers.tensor_mut(id).copy_from(&m);
                }
            }
            Decoded::Count(n) => {
                let id = self.buffers.id(name).expect("validated");
                *self.buffers.count_mut(id) = n;
            }
        }
    }
}

#[cfg(test)]
mod tests;
