//! Figure 4: `Vault::authenticate` with 1, 1,000 and 100,000 tenants (bcrypt cost 4).

use std::time::Instant;

use orderdesk_vault::{BENCHMARK_AUTHENTICATING_KEYS, MasterKey, Vault, VaultOptions};

use crate::Paths;
use crate::report::{Report, Target};
use crate::stats::{self, Samples, us};

const TENANTS: [usize; 3] = [1, 1_000, 100_000];
const BCRYPT_COST: u32 = 4;
/// Authentications per vault per round; the vaults take turns, round after round.
const PER_ROUND: usize = 20;
const ROUNDS: usize = 10;
const WARMUP: usize = 20;
/// Target of the issue: the slowest median within 20 % of the fastest.
const FLAT_RATIO: f64 = 1.2;

struct Subject {
    vault: Vault,
    /// Keys that authenticate: the first ones and the last one (see
    /// `insert_tenants_for_benchmark`).
    keys: Vec<MasterKey>,
    times: Samples,
}

pub fn run(paths: &Paths, report: &mut Report) -> anyhow::Result<()> {
    report.group("4. authentication: Vault::authenticate vs the tenant count");
    let mut subjects = Vec::new();
    for tenants in TENANTS {
        let dir = paths.work.join(format!("auth-{tenants}"));
        stats::fresh_dir(&dir)?;
        let vault = Vault::open(
            &dir,
            VaultOptions {
                bcrypt_cost: BCRYPT_COST,
                ..VaultOptions::default()
            },
        )?;
        let started = Instant::now();
        let mut keys = vault.insert_tenants_for_benchmark(tenants, BCRYPT_COST)?;
        report.note(&format!(
            "{tenants:>7} tenants inserted in {:.2} s",
            started.elapsed().as_secs_f64()
        ));
        // Only these authenticate; the others fail like a wrong key (and would trip the
        // failed-attempt limiter).
        let last = keys.pop();
        keys.truncate(BENCHMARK_AUTHENTICATING_KEYS);
        keys.extend(last);
        for key in keys.iter().cycle().take(WARMUP) {
            vault.authenticate(key.as_secret())?;
        }
        subjects.push(Subject {
            vault,
            keys,
            times: Samples::with_capacity(PER_ROUND * ROUNDS),
        });
    }
    for round in 0..ROUNDS {
        for subject in &mut subjects {
            for i in 0..PER_ROUND {
                let key = &subject.keys[(round * PER_ROUND + i) % subject.keys.len()];
                let started = Instant::now();
                let session = subject.vault.authenticate(key.as_secret());
                subject.times.push(started.elapsed());
                session?;
            }
        }
    }
    report.note(&format!(
        "{} authentications per tenant count (bcrypt cost {BCRYPT_COST}, valid keys), \
         interleaved in rounds of {PER_ROUND}",
        PER_ROUND * ROUNDS
    ));
    let mut medians = Vec::new();
    let mut p90s = Vec::new();
    for subject in &mut subjects {
        medians.push(us(subject.times.median()));
        p90s.push(us(subject.times.pct(0.9)));
    }
    let side_by_side = |values: &[f64]| {
        values
            .iter()
            .map(|v| format!("{v:.0}"))
            .collect::<Vec<_>>()
            .join(" / ")
            + " µs"
    };
    report.info(
        "1 / 1,000 / 100,000 tenants: median",
        side_by_side(&medians),
    );
    report.info("1 / 1,000 / 100,000 tenants: p90", side_by_side(&p90s));
    let max = medians.iter().copied().fold(f64::MIN, f64::max);
    let min = medians.iter().copied().fold(f64::MAX, f64::min);
    let ratio = max / min;
    report.check(
        "max / min of the medians",
        format!("{ratio:.3}"),
        Target::at_most(
            ratio,
            FLAT_RATIO,
            format!("≤ {FLAT_RATIO} (flat within 20 %)"),
        ),
    );
    Ok(())
}
