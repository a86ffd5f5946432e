//! [`Direction`]: whether a lower or a higher value of a metric is better,
//! the one type early stopping, plateau schedules, checkpoint policies and
//! hyperparameter studies share.

use serde::{Deserialize, Serialize};

/// Whether a metric should go down (a loss) or up (an accuracy).
///
/// PyTorch's and Keras's `mode="min"` / `"max"` and Optuna's
/// `direction="minimize"` / `"maximize"` are this type; it serializes as
/// `"minimize"` / `"maximize"` and reads all of those spellings.
///
/// # Examples
///
/// ```
/// use descent_core::Direction;
///
/// assert!(Direction::Minimize.better(0.1, 0.2));
/// assert!(Direction::Maximize.better(0.9, 0.8));
/// assert_eq!(Direction::Maximize.as_loss(0.9), -0.9);
/// assert_eq!(Direction::Minimize.worst(), f64::INFINITY);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    /// Lower is better (a loss; the default, as in PyTorch, Keras and Optuna).
    #[default]
    #[serde(
        rename = "minimize",
        alias = "min",
        alias = "Minimize",
        alias = "MINIMIZE"
    )]
    Minimize,
    /// Higher is better (an accuracy).
    #[serde(
        rename = "maximize",
        alias = "max",
        alias = "Maximize",
        alias = "MAXIMIZE"
    )]
    Maximize,
}

impl Direction {
    /// Whether `a` is strictly better than `b`.
    pub fn better(self, a: f64, b: f64) -> bool {
        match self {
            Direction::Minimize => a < b,
            Direction::Maximize => a > b,
        }
    }

    /// `value` turned into a loss (negated when maximizing).
    pub fn as_loss(self, value: f64) -> f64 {
        match self {
            Direction::Minimize => value,
            Direction::Maximize => -value,
        }
    }

    /// The value every finite value is better than: `+∞` when minimizing,
    /// `−∞` when maximizing.
    pub fn worst(self) -> f64 {
        match self {
            Direction::Minimize => f64::INFINITY,
            Direction::Maximize => f64::NEG_INFINITY,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_spelling_and_writes_optunas() {
        for (text, want) in [
            ("\"min\"", Direction::Minimize),
            ("\"minimize\"", Direction::Minimize),
            ("\"Minimize\"", Direction::Minimize),
            ("\"MINIMIZE\"", Direction::Minimize),
            ("\"max\"", Direction::Maximize),
            ("\"maximize\"", Direction::Maximize),
            ("\"Maximize\"", Direction::Maximize),
        ] {
            assert_eq!(
                serde_json::from_str::<Direction>(text).unwrap(),
                want,
                "{text}"
            );
        }
        assert_eq!(
            serde_json::to_string(&Direction::Maximize).unwrap(),
            "\"maximize\""
        );
        assert!(serde_json::from_str::<Direction>("\"up\"").is_err());
    }
}
