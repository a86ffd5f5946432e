//! Deserialization through the validating constructor.
//!
//! Every schedule serializes as its constructor's arguments and deserializes
//! by calling that constructor again, so a file can never smuggle in a
//! schedule that `new` would have rejected.

/// Implements `Deserialize` for a schedule by reading a private mirror of its
/// fields (unknown fields rejected) and passing them, in order, to `$build`,
/// which returns `Result<Self>`.
macro_rules! deserialize_via_new {
    ($ty:ident { $($field:ident : $fty:ty),* $(,)? } => $build:expr) => {
        const _: () = {
            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Raw {
                $($field: $fty,)*
            }
            impl<'de> serde::Deserialize<'de> for $ty {
                fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    let Raw { $($field,)* } = Raw::deserialize(d)?;
                    ($build)($($field,)*).map_err(serde::de::Error::custom)
                }
            }
        };
    };
}
pub(crate) use deserialize_via_new;

/// A learning rate given by the user: finite and not negative (PyTorch's
/// optimizers reject a negative `lr`).
pub(crate) fn base_lr(value: f64) -> crate::Result<f64> {
    crate::error::non_negative("base_lr", value)
}
