//! One checker per kind of optimizer argument, so that every config checks
//! `lr`, `weight_decay`, `eps`, a momentum or a β the same way and names it
//! the same way (PyTorch's name, or optax's for the optax-named configs).
//!
//! Each returns the [`ArgError`](descent_core::ArgError) of core's range
//! check (same name, value and reason), as [`Error::Arg`](crate::Error::Arg).
//! Where two optimizers give one argument different rules (PyTorch's `eps > 0`,
//! optax's `eps ≥ 0`), the checkers differ by name.

use crate::error::{Result, closed_unit_interval, non_negative, positive, unit_interval};
use crate::optimizers::WeightDecay;

/// `lr`: a finite learning rate `≥ 0`.
pub(crate) fn lr(value: f64) -> Result<()> {
    Ok(non_negative("lr", value)?)
}

/// `weight_decay`: a finite coefficient `≥ 0`.
pub(crate) fn weight_decay(value: f64) -> Result<()> {
    Ok(non_negative("weight_decay", value)?)
}

/// `momentum` (SGD's, RMSprop's, Muon's, LARS's heavy ball): finite, `≥ 0`.
pub(crate) fn momentum(value: f64) -> Result<()> {
    Ok(non_negative("momentum", value)?)
}

/// `eps` added to a denominator, PyTorch's rule: finite and `> 0`
/// (Adagrad, RMSprop, Adadelta, the Adam family, Muon, Sophia).
pub(crate) fn eps_positive(value: f64) -> Result<()> {
    Ok(positive("eps", value)?)
}

/// `eps`, optax's rule: finite and `≥ 0` (optax accepts 0; Lamb, LARS,
/// Yogi, AdaBelief, Prodigy, schedule-free AdamW).
pub(crate) fn eps_non_negative(value: f64) -> Result<()> {
    Ok(non_negative("eps", value)?)
}

/// A moving average's decay `name` (`betas.0`, `b2`, `beta3`): in `[0, 1)`.
pub(crate) fn beta(name: &'static str, value: f64) -> Result<()> {
    Ok(unit_interval(name, value)?)
}

/// PyTorch's `betas`: `betas.0` then `betas.1`, each in `[0, 1)`.
pub(crate) fn betas((b1, b2): (f64, f64)) -> Result<()> {
    beta("betas.0", b1)?;
    beta("betas.1", b2)
}

/// optax's `b1` then `b2`, each in `[0, 1)`.
pub(crate) fn b1_b2(b1: f64, b2: f64) -> Result<()> {
    beta("b1", b1)?;
    beta("b2", b2)
}

/// Schedule-free's `b1`, the interpolation between the average and the
/// fast iterate: in `(0, 1]` (0 is rejected as `> 0`, above 1 as `[0, 1]`).
pub(crate) fn schedule_free_b1(value: f64) -> Result<()> {
    positive("b1", value)?;
    Ok(closed_unit_interval("b1", value)?)
}

/// The Adam family's shared arguments (Adam, AdamW, NAdam, RAdam, Adamax,
/// Lion), in this order: `lr`, `betas`, `eps > 0` when the optimizer has
/// one, then the weight decay.
pub(crate) fn adam_family(
    lr_value: f64,
    betas_value: (f64, f64),
    eps: Option<f64>,
    decay: WeightDecay,
) -> Result<()> {
    lr(lr_value)?;
    betas(betas_value)?;
    if let Some(eps) = eps {
        eps_positive(eps)?;
    }
    decay.validate()
}

/// optax's `scale_by_adam` family with a learning rate, in this order:
/// `lr`, `b1`, `b2`, `eps ≥ 0`, `eps_root ≥ 0`.
pub(crate) fn optax_adam(lr_value: f64, b1: f64, b2: f64, eps: f64, eps_root: f64) -> Result<()> {
    lr(lr_value)?;
    b1_b2(b1, b2)?;
    eps_non_negative(eps)?;
    Ok(non_negative("eps_root", eps_root)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use descent_core::range;

    /// The checker's error, or `None`.
    fn arg(r: Result<()>) -> Option<descent_core::ArgError> {
        match r {
            Ok(()) => None,
            Err(Error::Arg(e)) => Some(e),
            Err(e) => panic!("not an argument error: {e}"),
        }
    }

    #[test]
    fn each_checker_is_core_range_check_under_its_name() {
        for v in [-1.0, 0.0, 0.5, 1.0, 2.0, f64::NAN, f64::INFINITY] {
            assert_eq!(arg(lr(v)), range::non_negative("lr", v).err());
            let wd = range::non_negative("weight_decay", v).err();
            assert_eq!(arg(weight_decay(v)), wd);
            let m = range::non_negative("momentum", v).err();
            assert_eq!(arg(momentum(v)), m);
            assert_eq!(arg(eps_positive(v)), range::positive("eps", v).err());
            let e = range::non_negative("eps", v).err();
            assert_eq!(arg(eps_non_negative(v)), e);
            assert_eq!(arg(beta("b2", v)), range::unit_interval("b2", v).err());
            let b1 = range::positive("b1", v)
                .and(range::closed_unit_interval("b1", v))
                .err();
            assert_eq!(arg(schedule_free_b1(v)), b1);
        }
    }

    #[test]
    fn grouped_checkers_report_the_first_bad_argument() {
        let name = |r: Result<()>| arg(r).map(|e| e.name);
        assert_eq!(name(betas((1.0, 1.0))), Some("betas.0"));
        assert_eq!(name(betas((0.9, 1.0))), Some("betas.1"));
        assert_eq!(name(b1_b2(0.9, -0.1)), Some("b2"));
        let wd = WeightDecay::L2(-1.0);
        assert_eq!(
            name(adam_family(-1.0, (2.0, 0.9), Some(0.0), wd)),
            Some("lr")
        );
        assert_eq!(
            name(adam_family(0.1, (0.9, 2.0), Some(0.0), wd)),
            Some("betas.1")
        );
        assert_eq!(
            name(adam_family(0.1, (0.9, 0.9), Some(0.0), wd)),
            Some("eps")
        );
        let decay = name(adam_family(0.1, (0.9, 0.9), None, wd));
        assert_eq!(decay, Some("weight_decay"));
        assert_eq!(name(optax_adam(0.1, 0.9, 0.9, 0.0, 0.0)), None);
        assert_eq!(name(optax_adam(0.1, 0.9, 0.9, 0.0, -1.0)), Some("eps_root"));
        assert_eq!(name(optax_adam(0.1, 0.9, 0.9, -1.0, -1.0)), Some("eps"));
    }
}
