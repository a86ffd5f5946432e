//! What NSGA-II reads of its study for each trial, kept incrementally: the
//! leading finished trials are taken in once (a finished trial no longer
//! changes), and only the trials after them are read again each time, so a
//! trial costs the same in a study of 20 000 trials as in one of 200.

use crate::{Distribution, FrozenTrial, TrialState};
use std::collections::BTreeMap;

use super::generation_of;

/// The study as the sampler has read it.
#[derive(Debug, Default)]
pub(super) struct Bookkeeping {
    /// The complete trials of each generation, by trial number in trial
    /// order, among the first `scanned` trials (all finished).
    by_generation: BTreeMap<u64, Vec<u64>>,
    /// Optuna's `IntersectionSearchSpace` of the complete trials among the
    /// first `scanned` trials (`None`: no complete trial yet).
    space: Option<BTreeMap<String, Distribution>>,
    /// How many leading trials are taken in, and the number of the last.
    scanned: usize,
    last_scanned: Option<u64>,
}

/// The study now: the finished leading trials from the bookkeeping, the
/// rest read afresh.
#[derive(Debug)]
pub(super) struct View<'b> {
    prefix: &'b BTreeMap<u64, Vec<u64>>,
    tail: BTreeMap<u64, Vec<u64>>,
    /// The intersection search space of all complete trials, without single values.
    pub(super) space: BTreeMap<String, Distribution>,
}

fn intersect(space: &mut Option<BTreeMap<String, Distribution>>, t: &FrozenTrial) {
    *space = Some(match space.take() {
        None => t.distributions.clone(),
        Some(s) => s
            .into_iter()
            .filter(|(k, d)| t.distributions.get(k) == Some(d))
            .collect(),
    });
}

impl Bookkeeping {
    /// Takes in the finished trials that now follow the ones taken in, and
    /// reads the rest.
    pub(super) fn view(&mut self, trials: &[FrozenTrial]) -> View<'_> {
        let valid = self.scanned <= trials.len()
            && (self.scanned == 0 || Some(trials[self.scanned - 1].number) == self.last_scanned);
        if !valid {
            *self = Bookkeeping::default();
        }
        let mut tail = BTreeMap::<u64, Vec<u64>>::new();
        let mut space = None;
        let mut in_prefix = true;
        for t in &trials[self.scanned..] {
            in_prefix &= t.state.is_finished();
            let complete = t.state == TrialState::Complete;
            if in_prefix {
                if complete {
                    intersect(&mut self.space, t);
                    if let Some(g) = generation_of(t) {
                        self.by_generation.entry(g).or_default().push(t.number);
                    }
                }
                (self.scanned, self.last_scanned) = (self.scanned + 1, Some(t.number));
                continue;
            }
            if space.is_none() {
                space = Some(self.space.clone());
            }
            if complete {
                if let Some(s) = space.as_mut() {
                    intersect(s, t);
                }
                if let Some(g) = generation_of(t) {
                    tail.entry(g).or_default().push(t.number);
                }
            }
        }
        let mut space = space
            .unwrap_or_else(|| self.space.clone())
            .unwrap_or_default();
        space.retain(|_, d| d.single_value().is_none());
        View {
            prefix: &self.by_generation,
            tail,
            space,
        }
    }
}

impl View<'_> {
    /// The complete trials of generation `g`, by number, in trial order.
    pub(super) fn members(&self, g: u64) -> impl Iterator<Item = u64> + '_ {
        let prefix = self.prefix.get(&g).into_iter().flatten();
        let tail = self.tail.get(&g).into_iter().flatten();
        prefix.chain(tail).copied()
    }

    /// The generation of a new trial: the latest of the complete trials,
    /// or the next once that one has `population_size` complete trials.
    pub(super) fn next_generation(&self, population_size: usize) -> u64 {
        let latest = self
            .prefix
            .keys()
            .next_back()
            .max(self.tail.keys().next_back())
            .copied();
        match latest {
            None => 0,
            Some(g) if self.members(g).count() < population_size => g,
            Some(g) => g + 1,
        }
    }
}
