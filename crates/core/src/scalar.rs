//! The floating-point types descent computes in.

use nalgebra::RealField;
use std::fmt::{Debug, Display};

/// A floating-point element type: `f32` (the default for training) or `f64`
/// (for gradient checks and parity tests).
///
/// All the usual maths (`exp`, `ln`, `sqrt`, `tanh`, ...) comes from nalgebra's
/// [`RealField`]; this trait adds conversions.
///
/// # Examples
///
/// ```
/// use descent_core::Scalar;
///
/// fn half<S: Scalar>(x: S) -> S {
///     x * S::cast(0.5)
/// }
/// assert_eq!(half(3.0f32), 1.5);
/// assert_eq!(half(3.0f64).as_f64(), 1.5);
/// ```
pub trait Scalar:
    RealField + Copy + Default + PartialOrd + Debug + Display + Send + Sync + 'static
{
    /// `"f32"` or `"f64"`.
    const NAME: &'static str;
    /// Machine epsilon of the type.
    const EPSILON: Self;

    /// Converts from `f64`, rounding to nearest for `f32`.
    fn cast(x: f64) -> Self;
    /// Converts to `f64` exactly.
    fn as_f64(self) -> f64;
    /// Converts a count to the scalar type.
    fn from_count(n: usize) -> Self {
        Self::cast(n as f64)
    }
}

impl Scalar for f32 {
    const NAME: &'static str = "f32";
    const EPSILON: Self = f32::EPSILON;
    fn cast(x: f64) -> Self {
        x as f32
    }
    fn as_f64(self) -> f64 {
        self as f64
    }
}

impl Scalar for f64 {
    const NAME: &'static str = "f64";
    const EPSILON: Self = f64::EPSILON;
    fn cast(x: f64) -> Self {
        x
    }
    fn as_f64(self) -> f64 {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn f64_round_trips_exactly(x in proptest::num::f64::NORMAL) {
            prop_assert_eq!(f64::cast(x).as_f64(), x);
        }

    }
}
