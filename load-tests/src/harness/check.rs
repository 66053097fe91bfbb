//! The accounting check: the reference processor's end state (`pitboss::direct::Direct`,
//! fed the same events) against what pitboss published and, with `--spawn`, stored.

use std::collections::{BTreeMap, HashMap};

use anyhow::{anyhow, Context};
use pitboss::config::Config;
use pitboss::model::{Model, ModelConfig};
use pitboss::model_check;
use pitboss::recount::{recount, Recount};
use pitboss::sim::SentTotals;
use pitboss::wire;
use pitboss_actors::shell::Snapshot;

use super::reader::Observed;
use super::sender::Reference;
use super::sentinel::{sentinel, Round, SENTINEL_MINOR};
use crate::report::{Accounting, Check};

/// What the reference processor ends with, and what the simulator says it sent.
pub struct Expected {
    /// Every entity's state.
    pub snapshots: Vec<Snapshot>,
    pub recount: Recount,
    /// The simulator's own totals.
    pub sent: SentTotals,
    /// Sentinel deposits, minor units.
    pub sentinel_deposits: i64,
    /// The independent model of RULES.md after the same events.
    pub model: Model,
    /// Its configuration.
    pub model_config: ModelConfig,
    /// The reference processor against the model, entity by entity.
    pub model_vs_reference: model_check::Report,
}

/// The reference processor's end state once it has also applied the sentinel deposits
/// (the final ones, and the warm-up ones if they were sent).
pub fn expected(
    cfg: &Config,
    reference: Option<Reference>,
    partitions: i32,
    warm: bool,
) -> anyhow::Result<Expected> {
    let Reference {
        direct: mut d,
        mut model,
        sent,
    } = reference.ok_or_else(|| anyhow!("no events were generated"))?;
    let mut sentinel_deposits = 0;
    let mut rounds = vec![Round::Final];
    if warm {
        rounds.push(Round::Warm);
    }
    for round in rounds {
        for p in 0..partitions {
            let (_, bytes) = sentinel(cfg, round, p);
            d.apply(wire::decode_input(&bytes).context("a sentinel does not decode")?);
            model.apply_bytes(&bytes, None);
            sentinel_deposits += SENTINEL_MINOR;
        }
    }
    let snapshots = d.snapshots();
    let model_config = model_check::model_config_of(cfg);
    let mut model_vs_reference = model_check::Report::default();
    model_check::check_states(&mut model_vs_reference, &d, &model, &model_config);
    Ok(Expected {
        recount: recount(&snapshots),
        snapshots,
        sent,
        sentinel_deposits,
        model,
        model_config,
        model_vs_reference,
    })
}

/// What the spawned pitboss left in its store (embedded or CQL), read once it has
/// stopped.
pub struct StoreRead {
    /// Every entity's state.
    pub states: Vec<Snapshot>,
    /// What `pitboss audit` (its library call) finds: every difference, or why it could not
    /// run.
    pub audit: Vec<String>,
    /// The partitions' claims, in a store several instances share (CQL).
    pub claims: Option<Vec<pitboss::store::Claim>>,
}

/// Reads [`StoreRead`]; `None` for a store that keeps nothing (memory).
pub fn read_store(cfg: &Config) -> anyhow::Result<Option<StoreRead>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let opened = pitboss::store::open(&cfg.store)
            .await
            .map_err(|e| anyhow!("opening the {:?} store: {e}", cfg.store.kind))?;
        let Some(src) = opened.audit else {
            return Ok(None);
        };
        let states = opened
            .store
            .all()
            .await
            .map_err(|e| anyhow!("reading the {:?} store: {e}", cfg.store.kind))?;
        let audit = match pitboss::store::audit(src.as_ref()).await {
            Ok(r) if r.entities == 0 => vec!["the audit found no stored state".into()],
            Ok(r) => r.differences,
            Err(e) => vec![format!("the audit could not run: {e}")],
        };
        let claims = src
            .claims()
            .await
            .map_err(|e| anyhow!("reading the partitions' claims: {e}"))?;
        Ok(Some(StoreRead {
            states,
            audit,
            claims,
        }))
    })
}

/// Every input partition was claimed before its records were applied (the fences of a
/// store several instances share, README "Running several instances"): each of the
/// `partitions` of `topic` has a claim.
pub fn claimed(claims: &[pitboss::store::Claim], topic: &str, partitions: i32) -> Vec<String> {
    let unclaimed: Vec<String> = (0..partitions)
        .filter(|p| {
            !claims
                .iter()
                .any(|c| c.topic == topic && c.partition == *p && c.fence > 0)
        })
        .map(|p| p.to_string())
        .collect();
    if unclaimed.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "partitions {} of {topic} were never claimed in the store: nothing fences a stale checkpoint of theirs",
        unclaimed.join(", ")
    )]
}

/// One more check, made after [`check`].
/// The scenario events (their payload hashes, in order) the input topic no longer holds,
/// read back to its end after the run: records the broker acknowledged and lost (the
/// sender fails on a delivery error), which pitboss could never process.
pub fn input_kept(sent: &[u64], read: &std::collections::HashSet<u64>) -> Vec<String> {
    let missing: Vec<usize> = (0..sent.len())
        .filter(|i| !read.contains(&sent[*i]))
        .collect();
    if missing.is_empty() {
        return Vec::new();
    }
    let first: Vec<String> = missing.iter().take(5).map(|i| format!("#{i}")).collect();
    vec![format!(
        "{} of the {} events the broker acknowledged are not in the input topic (the first: \
         events {} in send order): the broker lost them, and pitboss never read them",
        missing.len(),
        sent.len(),
        first.join(", ")
    )]
}

pub fn push(a: &mut Accounting, name: &str, differences: Vec<String>) {
    let ok = differences.is_empty();
    a.checks.push(Check {
        name: name.to_string(),
        ok,
        skipped: None,
        differences,
    });
    a.ok &= ok;
}

/// The accounting check.
///
/// - The simulator's own totals against the reference processor's recount (a self-check
///   of the harness).
/// - Published: final wallet balance of every player (pitboss's last wallet output) equal
///   to the reference's; rejections equal to the malformed messages sent; with `--spawn`
///   (pitboss stopped cleanly, so every GGR window is published) bets, wins and games per
///   hall summed over each window's last publication equal to the reference's.
/// - Jackpots: which machine's contribution crosses a mystery hit point depends on the
///   order in which contributions from different machines reach the pool, so hit counts
///   and amounts are not compared with the single-threaded reference; they are compared
///   between what pitboss published (distinct hits per pool and level, final levels) and
///   what it stored.
/// - Stored (`--spawn`, embedded store): the order-independent totals of the recount (cash
///   in and out, deposits, withdrawals, balances, bets, wins, games, GGR, contributions)
///   equal to the reference's, and the stored state's own conservation check.
pub fn check(e: &Expected, o: &Observed, stored: Option<&[Snapshot]>, spawned: bool) -> Accounting {
    let mut checks = Vec::new();
    // Under --spawn every check must be made: one that could not be is a failure.
    let mut push = |name: &str, diffs: Vec<String>, skipped: Option<String>| {
        checks.push(Check {
            name: name.to_string(),
            ok: diffs.is_empty() && !(spawned && skipped.is_some()),
            skipped,
            differences: diffs,
        });
    };

    // 1. Harness self-check.
    let mut r = e.recount.clone();
    r.deposits -= e.sentinel_deposits;
    let mut d = Vec::new();
    let s = &e.sent;
    for (name, sent, got) in [
        ("cash_in", s.cash_in, r.cash_in),
        ("cash_out", s.cash_out, r.cash_out),
        ("deposits", s.deposits, r.deposits),
        ("withdrawals", s.withdrawals, r.withdrawals),
        ("bets", s.bets, r.bets),
        ("wins", s.wins, r.wins),
    ] {
        if sent != got {
            d.push(format!(
                "{name}: simulator sent {sent}, reference applied {got}"
            ));
        }
    }
    if !e.recount.conservation_ok {
        d.push("the reference processor's recount does not balance".into());
    }
    push("simulator = reference processor", d, None);
    push(
        "independent model = reference processor (entity by entity)",
        e.model_vs_reference.differences.clone(),
        None,
    );

    // 2. Wallet balances.
    let mut exp_bal: BTreeMap<String, i64> = BTreeMap::new();
    let mut exp_halls: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
    for snap in &e.snapshots {
        match snap {
            Snapshot::Wallet(w) => {
                exp_bal.insert(w.id.to_string(), w.balance);
            }
            Snapshot::Hall(h) => {
                exp_halls.insert(
                    h.id.to_string(),
                    (h.totals.bets, h.totals.wins, h.totals.games),
                );
            }
            _ => {}
        }
    }
    let mut d = Vec::new();
    let players: std::collections::BTreeSet<&String> =
        exp_bal.keys().chain(o.balances.keys()).collect();
    for p in players {
        let (want, got) = (exp_bal.get(p), o.balances.get(p));
        if want.copied().unwrap_or(0) != got.copied().unwrap_or(0) {
            d.push(format!(
                "wallet {p}: expected balance {}, published {}",
                want.map_or("none".into(), |v| v.to_string()),
                got.map_or("none".into(), |v| v.to_string())
            ));
        }
    }
    push("wallet balances (published)", d, None);

    // 3. Rejections.
    let rejected = o.ids.get("rejected").map_or(0, HashMap::len) as u64;
    let mut d = Vec::new();
    if rejected != e.sent.malformed {
        d.push(format!(
            "rejections: {} malformed messages sent, {rejected} rejections published",
            e.sent.malformed
        ));
    }
    if o.id_conflicts.0 > 0 {
        d.push(format!(
            "{} output records repeat an id with other contents (first: {})",
            o.id_conflicts.0,
            o.id_conflicts.1.clone().unwrap_or_default()
        ));
    }
    if o.undecodable.0 > 0 {
        d.push(format!(
            "{} output records do not decode (first: {})",
            o.undecodable.0,
            o.undecodable.1.clone().unwrap_or_default()
        ));
    }
    push(
        "rejections, output decoding, one content per output id",
        d,
        None,
    );

    // 4. GGR per hall.
    if spawned {
        let mut got: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
        for ((hall, _), (b, w, g, _)) in &o.ggr {
            let x = got.entry(hall.clone()).or_default();
            x.0 += b;
            x.1 += w;
            x.2 += g;
        }
        let mut d = Vec::new();
        let halls: std::collections::BTreeSet<&String> =
            exp_halls.keys().chain(got.keys()).collect();
        for h in halls {
            let want = exp_halls.get(h).copied().unwrap_or_default();
            let have = got.get(h).copied().unwrap_or_default();
            if want != have {
                // What the stored hall still holds: windows open, and closed ones waiting in
                // its outbox (RULES.md H-2).
                let held = stored
                    .into_iter()
                    .flatten()
                    .find_map(|s| match s {
                        Snapshot::Hall(x) if x.id.as_str() == h.as_str() => Some(format!(
                            "; stored: {} windows open, {} waiting to be published, watermark {}",
                            x.windows.len(),
                            x.outbox.len(),
                            x.watermark.0
                        )),
                        _ => None,
                    })
                    .unwrap_or_default();
                d.push(format!(
                    "hall {h}: expected bets/wins/games {want:?} (GGR {}), published {have:?} (GGR {}){held}",
                    want.0 - want.1,
                    have.0 - have.1
                ));
            }
        }
        push("GGR per hall (published)", d, None);
    } else {
        push(
            "GGR per hall (published)",
            Vec::new(),
            Some("open GGR windows are published when pitboss stops: needs --spawn".into()),
        );
    }

    // 5. Jackpots and 6. the stored state.
    let stored = stored.filter(|s| !s.is_empty());
    match stored {
        Some(st) => {
            let mut pools: BTreeMap<(String, u8), (u64, i64, i64)> = BTreeMap::new();
            for snap in st {
                if let Snapshot::Pool(p) = snap {
                    for (i, l) in p.levels.iter().enumerate() {
                        pools.insert((p.id.to_string(), i as u8), (l.hits, l.paid, l.level));
                    }
                }
            }
            let mut hits: BTreeMap<(String, u8), (u64, i64)> = BTreeMap::new();
            for (pool, level, amount) in o.hits.values() {
                let x = hits.entry((pool.clone(), *level)).or_default();
                x.0 += 1;
                x.1 += amount;
            }
            let mut d = Vec::new();
            for ((pool, level), (h, paid, amount)) in &pools {
                let (ph, ppaid) = hits
                    .get(&(pool.clone(), *level))
                    .copied()
                    .unwrap_or_default();
                if (ph, ppaid) != (*h, *paid) {
                    d.push(format!(
                        "pool {pool} level {level}: stored {h} hits paying {paid}, published {ph} hits paying {ppaid}"
                    ));
                }
                let published_level = o
                    .levels
                    .get(pool)
                    .and_then(|v| v.iter().find(|x| x.0 == *level))
                    .map(|x| x.1);
                if published_level.is_some_and(|v| v != *amount) {
                    d.push(format!(
                        "pool {pool} level {level}: stored amount {amount}, last published {}",
                        published_level.unwrap_or_default()
                    ));
                }
            }
            for k in hits.keys() {
                if !pools.contains_key(k) {
                    d.push(format!(
                        "pool {} level {}: hits published, none stored",
                        k.0, k.1
                    ));
                }
            }
            push("jackpot hits and levels (published = stored)", d, None);

            let sr = recount(st);
            let er = &e.recount;
            let mut d = Vec::new();
            for (name, want, got) in [
                ("cash_in", er.cash_in, sr.cash_in),
                ("cash_out", er.cash_out, sr.cash_out),
                ("deposits", er.deposits, sr.deposits),
                ("withdrawals", er.withdrawals, sr.withdrawals),
                ("wallet balances", er.balances, sr.balances),
                ("bets", er.bets, sr.bets),
                ("wins", er.wins, sr.wins),
                ("games", er.games, sr.games),
                ("ggr", er.ggr, sr.ggr),
            ] {
                if want != got {
                    d.push(format!("{name}: expected {want}, stored {got}"));
                }
            }
            if er.contributions_micro != sr.contributions_micro {
                d.push(format!(
                    "jackpot contributions (micro-units): expected {}, stored {}",
                    er.contributions_micro, sr.contributions_micro
                ));
            }
            if !sr.conservation_ok {
                d.push(format!(
                    "the stored state does not balance: entered {} micro-units, accounted {}",
                    sr.entered_micro, sr.accounted_micro
                ));
            }
            let hits_published = o.hits.len() as u64;
            if sr.jackpot_hits != hits_published {
                d.push(format!(
                    "jackpot hits: stored {}, published {hits_published}",
                    sr.jackpot_hits
                ));
            }
            push("stored state (recount)", d, None);

            let hits: Vec<model_check::HitRow> = o
                .hits
                .values()
                .map(|(pool, level, amount)| model_check::HitRow {
                    pool: pool.clone(),
                    level: *level,
                    number: 0,
                    machine: String::new(),
                    amount: *amount,
                })
                .collect();
            let mut r = model_check::Report::default();
            model_check::check_stored(&mut r, st, &hits, &e.model, &e.model_config);
            push(
                "stored state and hits = independent model",
                r.differences,
                None,
            );
        }
        None => {
            let why = if spawned {
                "the embedded store is empty or not used: this `pitboss run` did not store state"
            } else {
                "pitboss's store is not read without --spawn"
            };
            push(
                "jackpot hits and levels (published = stored)",
                Vec::new(),
                Some(why.into()),
            );
            push("stored state (recount)", Vec::new(), Some(why.into()));
            push(
                "stored state and hits = independent model",
                Vec::new(),
                Some(why.into()),
            );
        }
    }

    let ok = checks.iter().all(|c| c.ok);
    Accounting {
        ok,
        expected: crate::report::ExpectedTotals::from(&e.recount, e.sentinel_deposits),
        published_hits: o.hits.len() as u64,
        checks,
    }
}

#[cfg(test)]
mod tests {
    use pitboss::direct::Direct;
    use pitboss::sim::Simulator;

    use super::*;

    /// A small simulated stream through the reference and the model, and outputs that
    /// agree with them (every wallet's balance).
    fn agreeing() -> (Expected, Observed) {
        let mut cfg = Config::load_with_env(None, Vec::new()).unwrap();
        cfg.sim.halls = 1;
        cfg.sim.machines_per_hall = 5;
        cfg.sim.players = 5;
        cfg.sim.malformed_per_million = 0;
        let mut sim = Simulator::new(&cfg).unwrap();
        let mut d = Direct::new(cfg.runtime_config().unwrap(), &cfg.runtime.hit_point_secret);
        let mut model = Model::new(
            model_check::model_config_of(&cfg),
            model_check::draw(&cfg.runtime.hit_point_secret),
        );
        for i in 0..2000 {
            let m = sim.next(1_800_000_000_000 + i);
            d.apply(wire::decode_input(&m.bytes).unwrap());
            model.apply_bytes(&m.bytes, None);
        }
        let reference = Reference {
            direct: d,
            model,
            sent: sim.sent().clone(),
        };
        let e = expected(&cfg, Some(reference), 2, false).unwrap();
        let mut o = Observed::default();
        for snap in &e.snapshots {
            if let Snapshot::Wallet(w) = snap {
                o.balances.insert(w.id.to_string(), w.balance);
            }
        }
        (e, o)
    }

    /// The check passes on outputs that agree with the reference and fails, naming the
    /// difference, on one that does not.
    #[test]
    fn accounting_finds_a_wrong_balance() {
        let (e, mut o) = agreeing();
        let a = check(&e, &o, None, false);
        assert!(a.ok, "{:?}", a.checks);
        let (player, balance) = o
            .balances
            .iter()
            .next()
            .map(|(k, v)| (k.clone(), *v))
            .unwrap();
        o.balances.insert(player.clone(), balance + 1);
        let a = check(&e, &o, None, false);
        assert!(!a.ok);
        let c = a.checks.iter().find(|c| !c.ok).unwrap();
        assert!(c.differences[0].contains(&player), "{:?}", c.differences);
        // With --spawn, missing GGR windows are a difference too, and a check that could
        // not be made (no stored state) is a failure, not a pass.
        let a = check(&e, &Observed::default(), None, true);
        assert!(a.checks.iter().any(|c| c.name.starts_with("GGR") && !c.ok));
        let skipped: Vec<&Check> = a.checks.iter().filter(|c| c.skipped.is_some()).collect();
        assert!(
            !skipped.is_empty() && skipped.iter().all(|c| !c.ok),
            "{skipped:?}"
        );
    }

    /// An output id published with two contents, or a check pushed after with a
    /// difference (the audit's, an instance's exit), fails the run, naming what it saw.
    #[test]
    fn an_id_with_two_contents_or_a_pushed_difference_fails_the_run() {
        let (e, mut o) = agreeing();
        o.id_conflicts = (1, Some("wallet 0000 (t/0@7)".into()));
        let a = check(&e, &o, None, false);
        assert!(!a.ok);
        let c = a.checks.iter().find(|c| !c.ok).expect("a failed check");
        assert!(c.name.contains("one content per output id"), "{}", c.name);
        assert!(
            c.differences[0].contains("wallet 0000 (t/0@7)"),
            "{:?}",
            c.differences
        );

        o.id_conflicts = (0, None);
        let mut a = check(&e, &o, None, false);
        assert!(a.ok, "{:?}", a.checks);
        push(&mut a, "pitboss audit of the stored state", Vec::new());
        assert!(a.ok, "no difference, no failure");
        push(
            &mut a,
            "pitboss audit of the stored state",
            vec!["wallet P-1: stored balance 5, ledger 7".into()],
        );
        assert!(!a.ok);
    }

    /// An event the broker acknowledged and the input topic no longer holds fails the
    /// check, naming it; all of them there (in any order, duplicates too) passes.
    #[test]
    fn an_event_missing_from_the_input_topic_fails_the_broker_check() {
        let sent = [11, 12, 13, 14];
        let all: std::collections::HashSet<u64> = [14, 13, 12, 11, 12].into_iter().collect();
        assert!(input_kept(&sent, &all).is_empty());
        let lost: std::collections::HashSet<u64> = [11, 13, 14].into_iter().collect();
        let d = input_kept(&sent, &lost);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].starts_with("1 of the 4 events") && d[0].contains("#1"),
            "{d:?}"
        );
    }

    /// Every input partition with a claim passes; one without (or only another topic's)
    /// fails, naming it.
    #[test]
    fn an_input_partition_never_claimed_fails_the_fence_check() {
        let claim = |topic: &str, partition, fence| pitboss::store::Claim {
            topic: topic.into(),
            partition,
            fence,
            instance: "chaos-0".into(),
        };
        let all = vec![
            claim("in", 0, 3),
            claim("in", 1, 1),
            claim("internal", 2, 1),
        ];
        assert!(claimed(&all, "in", 2).is_empty());
        let d = claimed(&all, "in", 3);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].starts_with("partitions 2 of in"), "{d:?}");
    }
}
