//! Reading an optimizer configuration from a golden `hyper` object field by
//! field, and building it over every parameter of a store: the one path the
//! `torch` and `optax` tables share.

use descent_core::{ParamStore, Scalar};
use descent_optim::{BlockTransform, Optimizer, OptimizerConfig, Selector};

/// `read_config!(h => Config { field: kind, .. })` is the struct literal
/// `Config { field: h.kind("field")?, .. }`: each field read from the
/// argument of the same name through the [`Hyper`](crate::Hyper) getter
/// `kind`. `field: kind("key")` reads the argument `key` instead, and
/// `field = value` gives a value that is not read.
macro_rules! read_config {
    ($h:ident => $ty:ident { $($body:tt)* }) => {
        $crate::config::read_config!(@fields $h, $ty, [] $($body)*)
    };
    (@fields $h:ident, $ty:ident, [$($done:tt)*] $(,)?) => {
        $ty { $($done)* }
    };
    (@fields $h:ident, $ty:ident, [$($done:tt)*]
        $field:ident: $kind:ident($key:literal) $(, $($rest:tt)*)?) => {
        $crate::config::read_config!(@fields $h, $ty, [$($done)* $field: $h.$kind($key)?,]
            $($($rest)*)?)
    };
    (@fields $h:ident, $ty:ident, [$($done:tt)*]
        $field:ident: $kind:ident $(, $($rest:tt)*)?) => {
        $crate::config::read_config!(@fields $h, $ty,
            [$($done)* $field: $h.$kind(stringify!($field))?,] $($($rest)*)?)
    };
    (@fields $h:ident, $ty:ident, [$($done:tt)*]
        $field:ident = $value:expr $(, $($rest:tt)*)?) => {
        $crate::config::read_config!(@fields $h, $ty, [$($done)* $field: $value,]
            $($($rest)*)?)
    };
}
pub(crate) use read_config;

/// The optimizer `c` makes over every parameter of `store`, its error as text.
pub(crate) fn over_all<S: Scalar, C: OptimizerConfig>(
    store: &ParamStore<S>,
    c: C,
) -> Result<Optimizer<S>, String>
where
    C::Transform: BlockTransform<S>,
{
    descent_optim::optimizers::with_groups(store.params(), &[(Selector::All, c)])
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use crate::Hyper;
    use serde_json::json;

    #[derive(Debug, PartialEq)]
    struct Demo {
        lr: f64,
        steps: u64,
        nesterov: bool,
        fixed: i32,
    }

    fn demo(h: &Hyper) -> Result<Demo, String> {
        Ok(read_config!(h => Demo {
            lr: f64("learning_rate"), steps: u64, nesterov: bool, fixed = 7,
        }))
    }

    #[test]
    fn read_config_reads_each_field_by_its_name_or_the_key_given() {
        let v = json!({"learning_rate": 0.5, "steps": 3, "nesterov": true});
        let want = Demo {
            lr: 0.5,
            steps: 3,
            nesterov: true,
            fixed: 7,
        };
        assert_eq!(Hyper::read(&v, demo), Ok(want));
    }

    #[test]
    fn read_config_fails_naming_a_missing_or_unread_key() {
        let missing = Hyper::read(&json!({"learning_rate": 0.5, "steps": 3}), demo);
        assert!(missing.unwrap_err().contains("nesterov"));
        let extra = json!({"learning_rate": 0.5, "steps": 3, "nesterov": true, "lr": 1});
        let err = Hyper::read(&extra, demo).unwrap_err();
        assert!(err.contains("\"lr\""), "{err}");
    }
}
