//! Lossless serde for the floats in optimizer state.
//!
//! JSON has no NaN or infinity, and `serde_json` writes them as `null`, which
//! then cannot be read back as a float: a diverged run's state could be saved
//! but never loaded. Here finite values stay numbers and the others become
//! the strings `"NaN"`, `"inf"` and `"-inf"`; reading accepts both forms.

use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

/// An `f64` that serializes losslessly (NaN payloads aside: every NaN reads
/// back as `f64::NAN`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Wide(pub f64);

impl Serialize for Wide {
    fn serialize<Z: Serializer>(&self, ser: Z) -> Result<Z::Ok, Z::Error> {
        serialize(&self.0, ser)
    }
}

impl<'de> Deserialize<'de> for Wide {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        deserialize(de).map(Wide)
    }
}

/// The string a non-finite value is written as.
pub(crate) fn non_finite_name(x: f64) -> Option<&'static str> {
    if x.is_nan() {
        Some("NaN")
    } else if x == f64::INFINITY {
        Some("inf")
    } else if x == f64::NEG_INFINITY {
        Some("-inf")
    } else {
        None
    }
}

/// Serializes `x` as a number, or as `"NaN"`, `"inf"` or `"-inf"`
/// (`#[serde(serialize_with = ...)]`).
pub(crate) fn serialize<Z: Serializer>(x: &f64, ser: Z) -> Result<Z::Ok, Z::Error> {
    match non_finite_name(*x) {
        Some(name) => ser.serialize_str(name),
        None => ser.serialize_f64(*x),
    }
}

/// Reads what [`serialize`] writes (`#[serde(deserialize_with = ...)]`).
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<f64, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = f64;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str(r#"a number, "NaN", "inf" or "-inf""#)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
            match v {
                "NaN" => Ok(f64::NAN),
                "inf" => Ok(f64::INFINITY),
                "-inf" => Ok(f64::NEG_INFINITY),
                _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
            }
        }
    }
    de.deserialize_any(V)
}

/// Whether a JSON value is a float as [`serialize`] writes it.
pub(crate) fn is_float(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Number(_) => true,
        serde_json::Value::String(s) => matches!(s.as_str(), "NaN" | "inf" | "-inf"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(x: f64) -> f64 {
        let text = serde_json::to_string(&Wide(x)).unwrap();
        let via_value: Wide =
            serde_json::from_value(serde_json::to_value(Wide(x)).unwrap()).unwrap();
        let back: Wide = serde_json::from_str(&text).unwrap();
        assert_eq!(back.0.to_bits(), via_value.0.to_bits());
        back.0
    }

    #[test]
    fn non_finite_values_are_strings_and_come_back() {
        assert_eq!(serde_json::to_string(&Wide(f64::NAN)).unwrap(), r#""NaN""#);
        assert_eq!(round_trip(f64::INFINITY), f64::INFINITY);
        assert_eq!(round_trip(f64::NEG_INFINITY), f64::NEG_INFINITY);
        assert!(round_trip(f64::NAN).is_nan());
        assert!(serde_json::from_str::<Wide>(r#""nan""#).is_err());
        assert_eq!(serde_json::from_str::<Wide>("3").unwrap().0, 3.0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn finite_values_round_trip_bit_for_bit(bits: u64) {
            let x = f64::from_bits(bits);
            prop_assume!(x.is_finite());
            prop_assert_eq!(round_trip(x).to_bits(), x.to_bits());
        }
    }
}
