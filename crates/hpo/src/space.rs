//! A declared search space, with conditional parameters.

use crate::{Distribution, Error, ParamValue, ParamValues, Result, Trial};

/// A parameter that exists only when an earlier categorical parameter has a given value.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The earlier parameter.
    pub parent: String,
    /// The value of `parent` for which the parameter exists.
    pub equals: ParamValue,
}

/// An ordered list of parameters, each with its distribution and an optional
/// [`Condition`], checked when added; [`SearchSpace::sample`] draws a
/// [`ParamValues`] through a trial, skipping parameters whose condition fails.
///
/// (An objective may as well call the trial's `suggest_*` methods directly,
/// with ordinary `if`s for conditional parameters: Optuna's define-by-run.)
///
/// # Examples
///
/// ```
/// use descent_hpo::{Distribution, SearchSpace, Study, StudyConfig};
///
/// let space = SearchSpace::new()
///     .float_log("lr", 1e-5, 1e-1)?
///     .categorical("optimizer", ["sgd", "adam"])?
///     .when("optimizer", "adam")
///     .float("beta2", 0.9, 0.9999)?;
/// let study = Study::new(StudyConfig::default());
/// let mut trial = study.ask()?;
/// let config = space.sample(&mut trial)?;
/// assert_eq!(config.contains("beta2"), config.str("optimizer")? == "adam");
/// # Ok::<(), descent_hpo::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct SearchSpace {
    params: Vec<(String, Distribution, Option<Condition>)>,
    pending: Option<Condition>,
}

impl SearchSpace {
    /// An empty space.
    pub fn new() -> Self {
        SearchSpace::default()
    }

    /// Makes the next parameter added exist only when `parent` equals `value`.
    pub fn when(mut self, parent: &str, value: impl Into<ParamValue>) -> Self {
        self.pending = Some(Condition {
            parent: parent.to_owned(),
            equals: value.into(),
        });
        self
    }

    /// Adds parameter `name`, checking its distribution, that the name is new
    /// and that a pending condition names an earlier parameter that can take its value.
    pub fn add(mut self, name: &str, distribution: Distribution) -> Result<Self> {
        distribution.check(name)?;
        if self.params.iter().any(|p| p.0 == name) {
            return Err(Error::config(
                "name",
                name,
                "is already in the search space",
            ));
        }
        let condition = self.pending.take();
        if let Some(c) = &condition {
            let parent = self.params.iter().find(|p| p.0 == c.parent);
            if !parent.is_some_and(|p| p.1.contains(&c.equals)) {
                return Err(Error::config(
                    "condition",
                    format!("{}={}", c.parent, c.equals),
                    "must name an earlier parameter and one of its values",
                ));
            }
        }
        self.params.push((name.to_owned(), distribution, condition));
        Ok(self)
    }

    /// Adds a float uniform in `[low, high]`.
    pub fn float(self, name: &str, low: f64, high: f64) -> Result<Self> {
        self.add(
            name,
            Distribution::Float {
                low,
                high,
                log: false,
                step: None,
            },
        )
    }

    /// Adds a float log-uniform in `[low, high]`.
    pub fn float_log(self, name: &str, low: f64, high: f64) -> Result<Self> {
        self.add(
            name,
            Distribution::Float {
                low,
                high,
                log: true,
                step: None,
            },
        )
    }

    /// Adds an integer on `low, low + step, …, ≤ high`.
    pub fn int(self, name: &str, low: i64, high: i64, step: i64) -> Result<Self> {
        self.add(
            name,
            Distribution::Int {
                low,
                high,
                log: false,
                step,
            },
        )
    }

    /// Adds a categorical parameter.
    pub fn categorical<T: Into<ParamValue>>(
        self,
        name: &str,
        choices: impl IntoIterator<Item = T>,
    ) -> Result<Self> {
        let choices = choices.into_iter().map(Into::into).collect();
        self.add(name, Distribution::Categorical { choices })
    }

    /// The parameters, in order.
    pub fn params(&self) -> impl Iterator<Item = (&str, &Distribution, Option<&Condition>)> {
        self.params
            .iter()
            .map(|(n, d, c)| (n.as_str(), d, c.as_ref()))
    }

    /// Draws a configuration through `trial`'s sampler.
    pub fn sample(&self, trial: &mut Trial<'_>) -> Result<ParamValues> {
        for (name, distribution, condition) in &self.params {
            if let Some(c) = condition
                && trial.params().get(&c.parent) != Some(&c.equals)
            {
                continue;
            }
            trial.suggest(name, distribution.clone())?;
        }
        Ok(trial.params().clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Study, StudyConfig};

    #[test]
    fn conditional_parameters_exist_exactly_when_their_condition_holds() {
        let space = SearchSpace::new()
            .categorical("optimizer", ["sgd", "adam"])
            .unwrap()
            .when("optimizer", "adam")
            .float("beta2", 0.9, 0.999)
            .unwrap()
            .when("optimizer", "sgd")
            .float("momentum", 0.0, 0.99)
            .unwrap();
        let study = Study::new(StudyConfig::default());
        let mut seen = [0; 2];
        for _ in 0..40 {
            let mut t = study.ask().unwrap();
            let c = space.sample(&mut t).unwrap();
            let adam = c.str("optimizer").unwrap() == "adam";
            seen[adam as usize] += 1;
            assert_eq!(c.contains("beta2"), adam);
            assert_eq!(c.contains("momentum"), !adam);
            assert_eq!(c.len(), 2);
            study.tell(t, Ok::<_, Error>(0.0)).unwrap();
        }
        assert!(seen[0] > 0 && seen[1] > 0);
    }

    #[test]
    fn invalid_spaces_give_typed_errors() {
        assert!(matches!(
            SearchSpace::new().float("x", 1.0, 0.5),
            Err(Error::EmptyRange { .. })
        ));
        assert!(matches!(
            SearchSpace::new().float_log("x", 0.0, 1.0),
            Err(Error::NonPositiveLog { .. })
        ));
        let empty: [&str; 0] = [];
        assert!(matches!(
            SearchSpace::new().categorical("o", empty),
            Err(Error::EmptyCategorical { .. })
        ));
        let orphan = SearchSpace::new()
            .when("optimizer", "adam")
            .float("beta2", 0.9, 0.999);
        assert!(matches!(
            orphan,
            Err(Error::Arg(descent_core::ArgError {
                name: "condition",
                ..
            }))
        ));
        let twice = SearchSpace::new()
            .float("x", 0.0, 1.0)
            .unwrap()
            .float("x", 0.0, 2.0);
        assert!(twice.is_err());
    }
}
