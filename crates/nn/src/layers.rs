//! The layers: one per file, each a [`Module`](crate::Module).

pub(crate) mod activation;
pub(crate) mod batch_norm;
pub(crate) mod conv;
pub(crate) mod dropout;
pub(crate) mod flatten;
pub(crate) mod gaussian_noise;
pub(crate) mod layer_norm;
pub(crate) mod linear;
pub(crate) mod pool;

use crate::ArgError;
use crate::Error;

/// `Err(Arg)` unless `ok`; the reason names the layer.
pub(crate) fn check(
    ok: bool,
    layer: &'static str,
    field: &'static str,
    value: impl std::fmt::Debug,
    reason: &'static str,
) -> crate::Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::Arg(ArgError::new(
            field,
            format!("{value:?}"),
            format!("{reason} (in {layer})"),
        )))
    }
}
