//! The core against the independent model (`src/model`), on generated streams: every case
//! RULES.md names for machines (late gap-fills, epoch resets, skewed clocks, wrong
//! currencies, facts beyond credits, claims on ineligible machines, bounds) mixed into
//! ordinary play. Both read the same bytes; the core runs single-threaded (`Direct`, the
//! same state machines as the actors). Compared: per machine its credits, meters and
//! unexplained meter variance (M-8, from generated meter snapshots), per
//! hall and window its bets, wins, jackpots and games, per pool level its books, per voucher
//! (RULES.md V: the machines' tickets with their validation numbers, and the voucher
//! commands of gateways and desks) its status, amount, hall, issuer, `unbacked` and
//! `reprinted`, and the count of every refusal and alert code.
//!
//! Restricted to machine events, voucher and desk commands (wallet commands are left out of
//! both): the wallet rules, and the desks' states, are compared elsewhere (`model_check`).

use std::collections::{BTreeMap, BTreeSet};

use pitboss::direct::Direct;
use pitboss::model::gen::{generate, model_config, GenConfig};
use pitboss::model::{Draw, Model, ModelConfig};
use pitboss::rng::KeyedHitPoints;
use pitboss::wire;
use pitboss_actors::domain::jackpot::{HitPointSource, LevelConfig, PoolConfig};
use pitboss_actors::domain::machine::Meters;
use pitboss_actors::domain::voucher::VoucherPolicy;
use pitboss_actors::domain::{Currency, HallId, PoolId, ReportedMeter, SkewLimits, Timestamp};
use pitboss_actors::shell::{Input, PoolSpec, RuntimeConfig, Snapshot};

const SECRET: &str = "model-comparison-secret";

/// The generator's configuration (minimum bets included).
fn config() -> ModelConfig {
    model_config()
}

/// The same configuration, as the core reads it.
fn runtime_config(m: &ModelConfig) -> RuntimeConfig {
    let currency = Currency::new(&m.currency).unwrap();
    RuntimeConfig {
        arbiters: 1,
        mailbox_len_max: 64,
        wallet_window_len: 256,
        wallet_credit_line_minor: m.credit_line,
        wallet_kyc_withdrawal_max_minor: None,
        wallet_cooling_off_ms: 86_400_000,
        wallet_transfer_hold_ms: 60_000,
        wallet_session_break_ms: 1_800_000,
        wallet_bets_draw: Default::default(),
        cash_desks: Default::default(),
        calendar: std::sync::Arc::new(pitboss_actors::domain::limits::UtcCalendar),
        large_cash_in_alert_minor: m.large_cash_in,
        handpay_threshold_minor: m.handpay_threshold,
        theoretical_hold_ppm: m.theoretical_hold_ppm,
        hold_overrides: std::sync::Arc::new(pitboss_actors::shell::HoldOverrides {
            halls: m
                .hall_holds_ppm
                .iter()
                .map(|(h, p)| (HallId::new(h).unwrap(), *p))
                .collect(),
            machines: m
                .machine_holds_ppm
                .iter()
                .map(|(id, p)| (pitboss_actors::domain::MachineId::new(id).unwrap(), *p))
                .collect(),
        }),
        loyalty_micro_points: m.loyalty_micro_points,
        aml: pitboss_actors::domain::aml::AmlRules {
            log_minor: m.aml.log_minor,
            report_minor: m.aml.report_minor,
            structuring_floor_minor: m.aml.structuring_floor_minor,
            structuring_count: m.aml.structuring_count,
            structuring_window_ms: m.aml.structuring_window_ms,
        },
        ggr_grace_windows: 1,
        ggr_windows_max: 1 << 20,
        source_expiry_ms: 168 * 3_600_000,
        live_actors_max: 0,
        currency,
        skew: SkewLimits {
            ahead_max_ms: m.clock_ahead_max_ms,
            behind_max_ms: m.clock_behind_max_ms,
        },
        pools: m
            .pools
            .iter()
            .map(|p| PoolSpec {
                id: PoolId::new(&p.id).unwrap(),
                config: PoolConfig {
                    currency,
                    levels: p
                        .levels
                        .iter()
                        .map(|l| LevelConfig {
                            name: l.name.clone(),
                            seed: l.seed,
                            contribution_ppm: l.ppm,
                            ceiling: l.ceiling,
                            mystery: l.mystery,
                            min_bet: l.min_bet,
                        })
                        .collect(),
                },
                halls: p
                    .halls
                    .as_ref()
                    .map(|hs| hs.iter().map(|h| HallId::new(h).unwrap()).collect()),
            })
            .collect(),
        vouchers: VoucherPolicy {
            expiry_days: m.voucher_expiry_days,
            hall_expiry_days: m
                .voucher_hall_expiry_days
                .iter()
                .map(|(h, d)| (HallId::new(h).unwrap(), *d))
                .collect(),
            hold_ms: m.voucher_hold_ms,
            home_only: m
                .voucher_home_only_halls
                .iter()
                .map(|h| HallId::new(h).unwrap())
                .collect(),
        },
    }
}

/// The model draws mystery hit points from the same keyed generator as the core: an input
/// to the rules, like the events.
fn draw() -> Draw {
    let mut keyed = KeyedHitPoints::new(SECRET);
    Box::new(move |pool, level, reset, lo, hi| {
        keyed.draw(&PoolId::new(pool).unwrap(), level, reset, lo, hi)
    })
}

fn meters(m: &Meters) -> BTreeMap<&'static str, i64> {
    BTreeMap::from([
        ("coin_in", m.coin_in),
        ("coin_out", m.coin_out),
        ("games_played", m.games_played),
        ("games_won", m.games_won),
        ("bills_in", m.bills_in),
        ("tickets_in", m.tickets_in),
        ("tickets_out", m.tickets_out),
        ("cashless_in", m.cashless_in),
        ("cashless_out", m.cashless_out),
        ("handpaid", m.handpaid),
        ("jackpot_paid", m.jackpot_paid),
        ("jackpot_handpaid", m.jackpot_handpaid),
        ("doors_opened", m.doors_opened),
        ("restricted_in", m.restricted_in),
        ("nonrestricted_in", m.nonrestricted_in),
        ("restricted_played", m.restricted_played),
    ])
}

/// Runs one generated stream through both and returns the differences, named.
/// Also returns the alert and refusal codes the core raised.
fn differences(seed: u64, events: usize) -> (Vec<String>, BTreeSet<&'static str>) {
    let g = generate(&GenConfig {
        events,
        seed,
        ..GenConfig::default()
    });
    let mc = config();
    let mut model = Model::new(mc.clone(), draw());
    let mut core = Direct::new(runtime_config(&mc), SECRET);
    for item in &g.items {
        // Machine events and voucher commands only (see the module's comment); malformed
        // messages are E-1.
        let Some(env) = &item.env else { continue };
        if env.payload.player().is_some() {
            continue;
        }
        model.apply_bytes(&item.bytes, Some(item.kafka_time));
        if let Ok(mut input) = wire::decode_input(&item.bytes) {
            // As the Kafka source does: the record's timestamp stands in for a missing
            // receive time (E-3).
            if let Input::Machine { meta, .. } = &mut input {
                meta.receive_time = meta.receive_time.or(Some(Timestamp(item.kafka_time)));
            }
            core.apply(input);
        }
    }

    let mut diffs = Vec::new();
    let mut core_machines = BTreeMap::new();
    let mut core_halls = BTreeMap::new();
    let mut core_pools = BTreeMap::new();
    let mut core_vouchers = BTreeMap::new();
    for s in core.snapshots() {
        match s {
            Snapshot::Machine(m) => {
                let variance: BTreeMap<&'static str, i64> = ReportedMeter::ALL
                    .iter()
                    .map(|r| (r.name(), m.meter_variance().get(*r)))
                    .filter(|(_, v)| *v != 0)
                    .collect();
                core_machines.insert(
                    m.id.to_string(),
                    (
                        m.profile.hall.to_string(),
                        m.credits,
                        meters(&m.meters),
                        variance,
                    ),
                );
            }
            Snapshot::Hall(h) => {
                let windows: BTreeMap<i64, [i64; 4]> = h
                    .windows
                    .iter()
                    .map(|(t, w)| {
                        let t2 = &w.totals;
                        (t.0, [t2.bets, t2.wins, t2.jackpots, t2.games])
                    })
                    .filter(|(_, v)| *v != [0; 4])
                    .collect();
                core_halls.insert(h.id.to_string(), windows);
            }
            Snapshot::Pool(p) => {
                let levels: Vec<[i128; 7]> = p
                    .levels
                    .iter()
                    .map(|l| {
                        [
                            l.level.into(),
                            l.frac.into(),
                            l.reserve.into(),
                            l.contributed_micro,
                            l.seeded.into(),
                            l.paid.into(),
                            l.variance.into(),
                        ]
                    })
                    .collect();
                core_pools.insert(
                    p.id.to_string(),
                    (levels, p.levels.iter().map(|l| l.hits).collect::<Vec<_>>()),
                );
            }
            Snapshot::Voucher(v) => {
                core_vouchers.insert(
                    v.number.to_string(),
                    (
                        v.status.name(),
                        v.issue
                            .as_ref()
                            .map(|i| (i.amount, i.hall.to_string(), i.by.to_string())),
                        v.unbacked,
                        v.reprinted,
                    ),
                );
            }
            // Wallets and desks (RULES.md D) are compared in `model_check`.
            Snapshot::Wallet(_) | Snapshot::Desk(_) => {}
        }
    }
    let model_vouchers: BTreeMap<String, _> = model
        .vouchers()
        .into_iter()
        .map(|(n, v)| {
            let issue = v.hall.map(|h| (v.amount, h, v.issuer.unwrap_or_default()));
            (n, (v.status, issue, v.unbacked, v.reprinted))
        })
        .collect();
    let ids: BTreeSet<&String> = core_vouchers.keys().chain(model_vouchers.keys()).collect();
    for id in ids {
        let (c, m) = (core_vouchers.get(id), model_vouchers.get(id));
        if c != m {
            diffs.push(format!(
                "voucher {id}: core {c:?} model {m:?} (status, (amount, hall, issuer), unbacked, reprinted)"
            ));
        }
    }
    let model_machines: BTreeMap<String, _> = model
        .machines()
        .into_iter()
        .map(|(id, v)| (id, (v.hall, v.credits, v.meters, v.meter_variance)))
        .collect();
    let ids: BTreeSet<&String> = core_machines.keys().chain(model_machines.keys()).collect();
    for id in ids {
        let (c, m) = (core_machines.get(id), model_machines.get(id));
        if c != m {
            diffs.push(format!("machine {id}: core {c:?} model {m:?}"));
        }
    }
    let model_halls: BTreeMap<String, BTreeMap<i64, [i64; 4]>> = model
        .halls
        .iter()
        .map(|(id, h)| {
            let windows = h
                .windows
                .iter()
                .map(|(t, w)| (*t, [w.bets, w.wins, w.jackpots, w.games]))
                .filter(|(_, v)| *v != [0; 4])
                .collect();
            (id.clone(), windows)
        })
        .collect();
    let ids: BTreeSet<&String> = core_halls.keys().chain(model_halls.keys()).collect();
    for id in ids {
        let (c, m) = (
            core_halls.get(id).cloned().unwrap_or_default(),
            model_halls.get(id).cloned().unwrap_or_default(),
        );
        let windows: BTreeSet<&i64> = c.keys().chain(m.keys()).collect();
        for w in windows {
            if c.get(w) != m.get(w) {
                diffs.push(format!(
                    "hall {id} window {w}: core {:?} model {:?} (bets, wins, jackpots, games)",
                    c.get(w),
                    m.get(w)
                ));
            }
        }
    }
    let model_pools: BTreeMap<String, _> = model
        .pools()
        .into_iter()
        .map(|(id, levels)| {
            let books: Vec<[i128; 7]> = levels
                .iter()
                .map(|l| {
                    [
                        l.level.into(),
                        l.frac.into(),
                        l.reserve.into(),
                        l.contributed_micro,
                        l.seeded.into(),
                        l.paid.into(),
                        l.variance.into(),
                    ]
                })
                .collect();
            (
                id,
                (books, levels.iter().map(|l| l.hits).collect::<Vec<_>>()),
            )
        })
        .collect();
    let ids: BTreeSet<&String> = core_pools.keys().chain(model_pools.keys()).collect();
    for id in ids {
        let (c, m) = (core_pools.get(id), model_pools.get(id));
        if c != m {
            diffs.push(format!(
                "pool {id}: core {c:?} model {m:?} (level, frac, reserve, contributed, seeded, paid, variance; hits)"
            ));
        }
    }
    // What was refused and alerted, by code.
    if core.refusals != model.refusals {
        diffs.push(format!(
            "refusals: core {:?} model {:?}",
            core.refusals, model.refusals
        ));
    }
    if core.alerts != model.alerts {
        diffs.push(format!(
            "alerts: core {:?} model {:?}",
            core.alerts, model.alerts
        ));
    }
    (
        diffs,
        core.alerts
            .keys()
            .chain(core.refusals.keys())
            .copied()
            .collect(),
    )
}

#[test]
fn core_and_model_agree_on_machines_halls_and_pools() {
    let mut total = 0;
    let mut seen = BTreeSet::new();
    for seed in 1..=8 {
        let (diffs, codes) = differences(seed, 6_000);
        seen.extend(codes);
        total += diffs.len();
        assert!(
            diffs.is_empty(),
            "seed {seed}: {} differences, the first:\n{}",
            diffs.len(),
            diffs.iter().take(8).cloned().collect::<Vec<_>>().join("\n")
        );
    }
    assert_eq!(total, 0);
    // The streams exercised the machine rules, not only ordinary play.
    for code in [
        "sequence_gap",
        "sequence_reset",
        "credit_variance",
        "win_outside_game",
        "game_end_without_bet",
        "card_session_overlap",
        "card_out_without_session",
        "machine_moved",
        "clock_skew",
        "wrong_currency",
        "jackpot_not_eligible",
        "meter_variance",
        "meter_reset",
        "handpay_pending",
        "handpay_reset_without_pending",
        "win_above_handpay_threshold",
        "power_off",
        // RULES.md V.
        "voucher_unknown",
        "voucher_already_redeemed",
        "voucher_pending_elsewhere",
        "voucher_expired",
        "voucher_voided",
        "voucher_amount_mismatch",
        "voucher_exists",
        "voucher_not_held",
        "voucher_wrong_hall",
        "tx_conflict",
        "voucher_number_reused",
        "voucher_credit_unbacked",
        "voucher_redeemed_without_hold",
        "voucher_amount_variance",
        "voucher_hold_released",
    ] {
        assert!(seen.contains(code), "no {code} in {seen:?}");
    }
}
