//! The synchronous schedules of the papers: successive halving (Jamieson &
//! Talwalkar 2016) and Hyperband's brackets (Li et al. 2017).
//!
//! The pruners run these ideas asynchronously; these functions state the
//! rung sizes and budgets the papers specify, for planning and for tests.

use crate::{Error, Result};

/// One rung: how many configurations run, each with how much resource.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rung {
    /// Configurations evaluated at this rung.
    pub n_configs: u64,
    /// Resource (epochs, say) given to each of them.
    pub resource: f64,
}

/// Successive halving with a total budget (Jamieson & Talwalkar 2016,
/// Algorithm 1): `⌈log₂ n⌉` rounds; round `k` keeps `|S_k| = ⌈n / 2^k⌉` arms
/// (the better half of the previous round) and gives each `⌊B / (|S_k| ⌈log₂ n⌉)⌋`.
///
/// # Examples
///
/// ```
/// let rungs = descent_hpo::successive_halving(8, 96)?;
/// let sizes: Vec<u64> = rungs.iter().map(|r| r.n_configs).collect();
/// assert_eq!(sizes, [8, 4, 2]);
/// # Ok::<(), descent_hpo::Error>(())
/// ```
pub fn successive_halving(n: u64, budget: u64) -> Result<Vec<Rung>> {
    if n < 2 {
        return Err(Error::config("n", n, "must be >= 2"));
    }
    let rounds = u64::from(64 - (n - 1).leading_zeros()); // ⌈log₂ n⌉
    let mut alive = n;
    let mut rungs = Vec::new();
    for _ in 0..rounds {
        // A product past u64::MAX exceeds any budget: no pull per arm.
        let each = alive.checked_mul(rounds).map_or(0, |d| budget / d);
        if each == 0 {
            return Err(Error::config(
                "budget",
                budget,
                "too small for one pull per arm",
            ));
        }
        rungs.push(Rung {
            n_configs: alive,
            resource: each as f64,
        });
        alive = alive.div_ceil(2);
    }
    Ok(rungs)
}

/// One Hyperband bracket: its index `s` and its successive-halving rungs.
#[derive(Debug, Clone, PartialEq)]
pub struct Bracket {
    /// `s`, from `s_max` (most aggressive) down to 0 (plain random search).
    pub s: u32,
    /// `n_i = ⌊n η^(−i)⌋` configurations with `r_i = r η^i` each, `i = 0..=s`.
    pub rungs: Vec<Rung>,
}

/// Hyperband's brackets (Li et al. 2017, Algorithm 1): `s_max = ⌊log_η R⌋`,
/// `B = (s_max + 1) R`; bracket `s` starts `n = ⌈B/R · η^s/(s+1)⌉`
/// configurations at `r = R η^(−s)`.
///
/// # Examples
///
/// ```
/// let brackets = descent_hpo::hyperband(81, 3)?;
/// assert_eq!(brackets.len(), 5);
/// assert_eq!(brackets[0].rungs[0].n_configs, 81);
/// # Ok::<(), descent_hpo::Error>(())
/// ```
pub fn hyperband(max_resource: u64, eta: u64) -> Result<Vec<Bracket>> {
    if eta < 2 {
        return Err(Error::config("eta", eta, "must be >= 2"));
    }
    if max_resource == 0 {
        return Err(Error::config("max_resource", 0, "must be >= 1"));
    }
    let mut s_max = 0u32;
    while eta
        .checked_pow(s_max + 1)
        .is_some_and(|p| p <= max_resource)
    {
        s_max += 1;
    }
    // B / R = s_max + 1, so n = ⌈(s_max + 1) η^s / (s + 1)⌉ needs no B (which
    // may not fit a u64); it is computed in u128 and checked.
    let brackets = (0..=s_max)
        .rev()
        .map(|s| {
            let eta_s = eta.pow(s);
            let n = (u128::from(s_max + 1) * u128::from(eta_s)).div_ceil(u128::from(s + 1));
            let n = u64::try_from(n)
                .map_err(|_| Error::config("max_resource", max_resource, "too large"))?;
            let r = max_resource as f64 / eta_s as f64;
            let rungs = (0..=s)
                .map(|i| Rung {
                    n_configs: n / eta.pow(i),
                    resource: r * eta.pow(i) as f64,
                })
                .collect();
            Ok(Bracket { s, rungs })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(brackets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(bracket: &Bracket) -> Vec<(u64, f64)> {
        bracket
            .rungs
            .iter()
            .map(|r| (r.n_configs, r.resource))
            .collect()
    }

    #[test]
    fn hyperband_matches_table_1_of_the_paper() {
        // Li et al. 2017, Table 1: R = 81, η = 3.
        let b = hyperband(81, 3).unwrap();
        assert_eq!(b.iter().map(|b| b.s).collect::<Vec<_>>(), [4, 3, 2, 1, 0]);
        assert_eq!(
            table(&b[0]),
            [(81, 1.0), (27, 3.0), (9, 9.0), (3, 27.0), (1, 81.0)]
        );
        assert_eq!(table(&b[1]), [(34, 3.0), (11, 9.0), (3, 27.0), (1, 81.0)]);
        assert_eq!(table(&b[2]), [(15, 9.0), (5, 27.0), (1, 81.0)]);
        assert_eq!(table(&b[3]), [(8, 27.0), (2, 81.0)]);
        assert_eq!(table(&b[4]), [(5, 81.0)]);
        // No rung of a bracket spends more than its first: n_i r_i ≤ n r.
        for bracket in &b {
            let first = bracket.rungs[0].n_configs as f64 * bracket.rungs[0].resource;
            assert!(
                bracket
                    .rungs
                    .iter()
                    .all(|r| r.n_configs as f64 * r.resource <= first)
            );
        }
    }

    #[test]
    fn successive_halving_spends_an_equal_share_of_the_budget_per_round() {
        let rungs = successive_halving(8, 96).unwrap();
        let plan: Vec<(u64, f64)> = rungs.iter().map(|r| (r.n_configs, r.resource)).collect();
        assert_eq!(plan, [(8, 4.0), (4, 8.0), (2, 16.0)]);
        let spent: f64 = rungs.iter().map(|r| r.n_configs as f64 * r.resource).sum();
        assert!(spent <= 96.0);
        // n not a power of two: ⌈log₂ 5⌉ = 3 rounds of 5, 3, 2 arms.
        let odd = successive_halving(5, 300).unwrap();
        assert_eq!(
            odd.iter().map(|r| r.n_configs).collect::<Vec<_>>(),
            [5, 3, 2]
        );
        assert_eq!(
            odd.iter().map(|r| r.resource).collect::<Vec<_>>(),
            [20.0, 33.0, 50.0]
        );
        assert!(matches!(
            successive_halving(1, 10),
            Err(Error::Arg(descent_core::ArgError { name: "n", .. }))
        ));
        assert!(hyperband(81, 1).is_err());
    }

    #[test]
    fn extreme_arguments_give_plans_or_typed_errors_never_overflow() {
        assert!(matches!(
            successive_halving(u64::MAX, u64::MAX),
            Err(Error::Arg(descent_core::ArgError { name: "budget", .. }))
        ));
        let rungs = successive_halving(1 << 40, u64::MAX).unwrap();
        assert_eq!(rungs.len(), 40);
        assert_eq!(rungs[0].n_configs, 1 << 40);
        for (r, eta) in [
            (u64::MAX, 2),
            (u64::MAX, 3),
            (u64::MAX, u64::MAX),
            (1 << 62, 2),
        ] {
            let brackets = hyperband(r, eta).unwrap();
            let s_max = brackets[0].s;
            assert_eq!(brackets.len() as u32, s_max + 1);
            // The most aggressive bracket starts eta^s_max configurations at resource R / eta^s_max.
            assert_eq!(brackets[0].rungs[0].n_configs, eta.pow(s_max));
            assert_eq!(
                brackets.last().unwrap().rungs[0].n_configs,
                u64::from(s_max) + 1
            );
        }
    }
}
