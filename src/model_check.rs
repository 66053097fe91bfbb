//! The core checked against the independent model ([`crate::model`]): the same stream of
//! input bytes through both, then every machine, wallet, hall window, pool level, jackpot
//! hit, voucher and cash desk compared, field by field, with the count of every refusal and
//! alert code.
//!
//! The core side is the reference processor ([`Direct`]: the domain's state machines applied
//! in one thread, effects routed by direct calls; the actor runtime is checked against
//! `Direct` elsewhere). The model side is [`Model`], written from `RULES.md` alone. What this
//! file shares between them is only what is not a rule: the configuration (translated from
//! the model's [`ModelConfig`] into pitboss's own [`Config`]) and the mystery hit-point
//! generator (an input to the rules, like the events).
//!
//! Used by `tests/inproc/model_check.rs` (many seeds, every difference a failure) and by
//! `pitboss-load model --events N --seed S --json` (any seed, any size, a report).

use std::collections::{BTreeMap, BTreeSet};

use pitboss_actors::domain::desk::{CashDir, DeskCash, ShiftFigures, ShiftNote, ShiftOp};
use pitboss_actors::domain::jackpot::HitPointSource;
use pitboss_actors::domain::machine::Alert;
use pitboss_actors::domain::{PoolId, ReportedMeter};
use pitboss_actors::shell::Snapshot;
use rust_decimal::Decimal;

use crate::config::{AmlSection, BetsDrawName, Config, LevelSection, PoolSection, VoucherSection};
use crate::direct::Direct;
use crate::model::gen::{generate, model_config, GenConfig, Generated};
use crate::model::{
    AmlModel, Answer as ModelAnswer, BonusView, CaseRow, DeskAlert, DeskView, Draw, HallView,
    LevelSpec, LevelView, MachineView, Model, ModelConfig, MoveRow, PoolSpec, SessionRow, ShiftRow,
    ShiftView, Totals, TransferRow, UnshiftedOp, VoucherAnswers, VoucherView, WalletView,
};
use crate::rng::KeyedHitPoints;
use crate::wire::decode_input;

/// The secret both sides key mystery hit points with.
pub const SECRET: &str = "model-check";

/// What one comparison found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Inputs in the stream.
    pub events: usize,
    /// The generator's seed.
    pub seed: u64,
    /// Every difference, as a sentence naming the entity, the field and both values.
    pub differences: Vec<String>,
    /// How often each special case occurs in the stream (retries, late gap-fills, ...).
    pub cases: BTreeMap<&'static str, u64>,
    /// Alerts the model raised, by code.
    pub alerts: BTreeMap<&'static str, u64>,
    /// Refusals the model made, by code.
    pub refusals: BTreeMap<&'static str, u64>,
    /// Rejections, by code.
    pub rejections: BTreeMap<&'static str, u64>,
    /// Entities compared: machines, wallets, hall windows, pool levels, hits.
    pub compared: u64,
    /// Money that entered and money accounted for, per the model (micro-units).
    pub conservation: (i128, i128),
    /// Rated card sessions the model published (RULES.md M-12), how many of them had games,
    /// and how many earned loyalty points.
    pub sessions: (u64, u64, u64),
    /// AML cases the model opened, by kind (RULES.md W-11).
    pub aml_cases: BTreeMap<&'static str, u64>,
    /// What bonus money did in the model, by what (RULES.md W-12): awarded, staked, won,
    /// refunded, converted, expired, settled at machines as restricted credits.
    pub bonus: BTreeMap<&'static str, u64>,
    /// What the cash desks did in the model (RULES.md D): shift outputs by op and status,
    /// shifts closed with and without a variance, cash booked unshifted, and the wallet
    /// cash the desks booked (D-10: `wallet_in`, `wallet_out`, minor units).
    pub desks: BTreeMap<&'static str, u64>,
}

impl Report {
    /// No difference, and the model's own books balance.
    pub fn ok(&self) -> bool {
        self.differences.is_empty() && self.conservation.0 == self.conservation.1
    }
}

/// pitboss's configuration for the model's: the same currency, bounds and pools.
pub fn core_config(m: &ModelConfig) -> Config {
    let mut cfg =
        Config::load_with_env(None, std::iter::empty()).expect("the embedded defaults load");
    cfg.network.currency = m.currency.clone();
    cfg.runtime.wallet_credit_line_minor = m.credit_line;
    cfg.runtime.wallet_kyc_withdrawal_max_minor = m.kyc_withdrawal_max;
    cfg.responsible_gaming.time_zone = m.limits_time_zone.clone();
    cfg.responsible_gaming.cooling_off_hours =
        u32::try_from(m.cooling_off_ms / 3_600_000).expect("a cooling-off of whole hours");
    cfg.responsible_gaming.session_break_minutes =
        u32::try_from(m.session_break_ms / 60_000).expect("a session break of whole minutes");
    cfg.runtime.large_cash_in_alert_minor = m.large_cash_in;
    cfg.runtime.handpay_threshold_minor = m.handpay_threshold;
    cfg.runtime.theoretical_hold_percent = Decimal::new(m.theoretical_hold_ppm, 4);
    let percent = |holds: &std::collections::BTreeMap<String, i64>| {
        holds
            .iter()
            .map(|(k, ppm)| (k.clone(), Decimal::new(*ppm, 4)))
            .collect()
    };
    cfg.runtime.theoretical_hold_percent_halls = percent(&m.hall_holds_ppm);
    cfg.runtime.theoretical_hold_percent_machines = percent(&m.machine_holds_ppm);
    cfg.runtime.loyalty_points_per_minor_unit = Decimal::new(m.loyalty_micro_points, 6);
    // RULES.md W-11: the configuration counts the structuring window in whole hours.
    assert!(
        m.aml.structuring_window_ms % 3_600_000 == 0,
        "the model's structuring window is not a whole number of hours"
    );
    cfg.aml = AmlSection {
        log_threshold_minor: m.aml.log_minor,
        report_threshold_minor: m.aml.report_minor,
        structuring_floor_minor: m.aml.structuring_floor_minor,
        structuring_count: m.aml.structuring_count,
        structuring_window_hours: u32::try_from(m.aml.structuring_window_ms / 3_600_000)
            .expect("a window in range"),
    };
    // RULES.md W-12: which of cash and bonus pays a bet first.
    cfg.runtime.wallet_bets_draw = if m.bonus_first {
        BetsDrawName::BonusFirst
    } else {
        BetsDrawName::CashFirst
    };
    // RULES.md D-10: the cash desks whose wallet deposits and withdrawals move their drawers.
    cfg.runtime.cash_desks = m.cash_desks.iter().cloned().collect();
    cfg.runtime.clock_ahead_max_ms = m.clock_ahead_max_ms;
    cfg.runtime.clock_behind_max_ms = m.clock_behind_max_ms;
    cfg.runtime.hit_point_secret = SECRET.to_owned();
    // The model keeps every window; the core keeps this many in memory.
    cfg.runtime.ggr_windows_max = 1 << 20;
    cfg.pools = m
        .pools
        .iter()
        .map(|p| PoolSection {
            id: p.id.clone(),
            halls: p.halls.clone().unwrap_or_default(),
            levels: p
                .levels
                .iter()
                .map(|l| LevelSection {
                    name: l.name.clone(),
                    seed_minor: l.seed,
                    // ppm -> percent, exactly: 1 % = 10,000 ppm.
                    contribution_percent: Decimal::new(l.ppm, 4),
                    ceiling_minor: l.ceiling,
                    mystery: l.mystery,
                    min_bet_minor: l.min_bet,
                })
                .collect(),
        })
        .collect();
    // RULES.md V-3, V-6: the configuration counts the hold in whole seconds.
    assert!(
        m.voucher_hold_ms > 0 && m.voucher_hold_ms % 1_000 == 0,
        "the model's voucher hold ({} ms) is not a whole number of seconds",
        m.voucher_hold_ms
    );
    // RULES.md W-10: so does a transfer's hold.
    assert!(
        m.transfer_hold_ms >= 0 && m.transfer_hold_ms % 1_000 == 0,
        "the model's transfer hold ({} ms) is not a whole number of seconds",
        m.transfer_hold_ms
    );
    cfg.runtime.wallet_transfer_hold_secs =
        u32::try_from(m.transfer_hold_ms / 1_000).expect("a transfer hold in range");
    cfg.vouchers = VoucherSection {
        expiry_days: m.voucher_expiry_days,
        hold_secs: (m.voucher_hold_ms / 1_000) as u64,
        hall_expiry_days: m.voucher_hall_expiry_days.clone(),
        home_only_halls: m.voucher_home_only_halls.iter().cloned().collect(),
    };
    cfg
}

/// Generates a stream with `gen` and compares the core with the model over it: odd seeds
/// with `runtime.wallet-bets-draw = "bonus-first"`, even ones with the default cash-first
/// (RULES.md W-12).
pub fn run(gen: &GenConfig) -> Report {
    let g = generate(gen);
    let mut mcfg = model_config();
    mcfg.bonus_first = gen.seed % 2 == 1;
    let mut report = compare(&g, &mcfg);
    report.seed = gen.seed;
    report
}

/// Runs `g` through the core and the model under `mcfg` and compares them.
pub fn compare(g: &Generated, mcfg: &ModelConfig) -> Report {
    let cfg = core_config(mcfg);
    let rc = cfg
        .runtime_config()
        .expect("the model's configuration is a valid pitboss configuration");
    let mut direct = Direct::new(rc, SECRET).keeping_answers();
    let mut model = Model::new(mcfg.clone(), draw(SECRET));
    let mut core_rejected = 0u64;
    for item in &g.items {
        // In process there is no Kafka timestamp (RULES.md E-3).
        model.apply_bytes(&item.bytes, None);
        match decode_input(&item.bytes) {
            Ok(input) => direct.apply(input),
            Err(_) => core_rejected += 1,
        }
    }

    let mut r = Report {
        events: g.items.len(),
        cases: g.cases.clone(),
        alerts: model.alerts.clone(),
        refusals: model.refusals.clone(),
        rejections: model.rejections.clone(),
        conservation: model.conservation(),
        bonus: model.bonus_events.clone(),
        ..Report::default()
    };
    // RULES.md W-12 "Conservation": the bonus account's own books, and the halls' promo.
    for d in model.bonus_books() {
        r.differences.push(format!("the model's W-12 books: {d}"));
    }
    // RULES.md D-9: the vouchers desks sold and paid against the desks' cash.
    for d in model.desk_books() {
        r.differences.push(format!("the model's D-9 books: {d}"));
    }
    r.desks = desk_summary(&model);
    let model_rejected: u64 = model.rejections.values().sum();
    if model_rejected != core_rejected {
        r.differences.push(format!(
            "rejected inputs: core {core_rejected}, model {model_rejected}"
        ));
    }
    check_states(&mut r, &direct, &model, mcfg);
    check_codes(&mut r, &direct, &model);
    check_sessions(&mut r, &direct, &model);
    check_transfers(&mut r, &direct, &model);
    check_cases(&mut r, &direct, &model);
    check_answers(&mut r, &direct, &model);
    check_shifts(&mut r, &direct, &model);
    check_desk_alerts(&mut r, &direct, &model);
    r
}

/// RULES.md D-3, D-4, D-5: every alert a desk raised, with what it names, in the order
/// raised; the first few that differ.
pub fn check_desk_alerts(r: &mut Report, direct: &Direct, model: &Model) {
    let core: Vec<Result<DeskAlert, &'static str>> =
        direct.desk_alerts.iter().map(desk_alert).collect();
    r.compared += model.desk_alerts.len() as u64;
    if core.len() != model.desk_alerts.len() {
        r.differences.push(format!(
            "desk alerts: core {}, model {}",
            core.len(),
            model.desk_alerts.len()
        ));
    }
    let mut differ = 0;
    for (i, (c, m)) in core.iter().zip(&model.desk_alerts).enumerate() {
        if c.as_ref() != Ok(m) {
            differ += 1;
            if differ <= 10 {
                r.differences
                    .push(format!("desk alert {i}: core {c:?}, model {m:?}"));
            }
        }
    }
    if differ > 10 {
        r.differences
            .push(format!("... {} more desk alerts differ", differ - 10));
    }
}

/// A core desk alert in the model's terms (RULES.md D-3, D-4); another alert's code as an
/// error (no D rule names one).
pub fn desk_alert(a: &Alert) -> Result<DeskAlert, &'static str> {
    match a {
        Alert::ShiftVariance {
            desk,
            shift,
            expected,
            counted,
            variance,
        } => Ok(DeskAlert::ShiftVariance {
            desk: desk.to_string(),
            shift: *shift,
            expected: *expected,
            counted: *counted,
            variance: *variance,
        }),
        Alert::DeskCashWithoutShift { desk, amount } => Ok(DeskAlert::CashWithoutShift {
            desk: desk.to_string(),
            amount: *amount,
        }),
        other => Err(other.code()),
    }
}

/// A core unshifted cash operation the desk keeps in the model's terms (RULES.md D-3).
pub fn unshifted_op(time: i64, c: &DeskCash) -> UnshiftedOp {
    UnshiftedOp {
        time,
        cash_in: matches!(c.dir, CashDir::In),
        amount: c.amount,
    }
}

/// RULES.md D-7: every `shift` output, field by field, in the order published (each
/// desk command's answer, a repeat's again, and each revision); the first few that differ.
pub fn check_shifts(r: &mut Report, direct: &Direct, model: &Model) {
    let core: Vec<ShiftRow> = direct
        .shifts
        .iter()
        .map(|(desk, note)| shift_row(&desk.to_string(), note))
        .collect();
    r.compared += model.shifts.len() as u64;
    if core.len() != model.shifts.len() {
        r.differences.push(format!(
            "shift outputs: core {}, model {}",
            core.len(),
            model.shifts.len()
        ));
    }
    let mut differ = 0;
    for (i, (c, m)) in core.iter().zip(&model.shifts).enumerate() {
        if c != m {
            differ += 1;
            if differ <= 10 {
                r.differences
                    .push(format!("shift output {i}: core {c:?}, model {m:?}"));
            }
        }
    }
    if differ > 10 {
        r.differences
            .push(format!("... {} more shift outputs differ", differ - 10));
    }
}

/// A wallet command's key: (player, provider, tx).
pub type AnswerKey = (String, String, String);

/// An answer in the model's terms, with the bonus's (delta, balance) if it gave one.
pub type FullAnswer = (ModelAnswer, Option<(i64, i64)>);

/// The core's first answer to every wallet command, by key, in the model's terms (what a
/// rule says, not how the core holds it). `direct` must keep its answers.
pub fn core_answers(direct: &Direct) -> BTreeMap<AnswerKey, FullAnswer> {
    use pitboss_actors::domain::wallet::Answer;
    direct
        .answers
        .iter()
        .filter(|a| !a.repeat)
        .map(|a| {
            let key = (
                a.player.to_string(),
                a.key.provider.to_string(),
                a.key.tx.to_string(),
            );
            let answer = match &a.answered.answer {
                Answer::Applied { delta, balance } => ModelAnswer::Applied {
                    delta: *delta,
                    balance: *balance,
                },
                Answer::Refused(e) => ModelAnswer::Refused(e.code()),
            };
            let bonus = a.answered.bonus.as_deref().map(|b| (b.delta, b.balance));
            (key, (answer, bonus))
        })
        .collect()
}

/// RULES.md W-6, W-12: every wallet command's first answer, applied (`delta`, `balance`
/// and, for a wallet that has a bonus account, `bonus_delta` and `bonus`) or refused (the
/// code). `direct` must keep its answers ([`Direct::keeping_answers`]).
pub fn check_answers(r: &mut Report, direct: &Direct, model: &Model) {
    let core = core_answers(direct);
    let modelled: BTreeMap<AnswerKey, FullAnswer> = model
        .answers
        .iter()
        .map(|(k, a)| (k.clone(), (a.clone(), model.bonus_answers.get(k).copied())))
        .collect();
    let keys: BTreeSet<&AnswerKey> = core.keys().chain(modelled.keys()).collect();
    let mut differ = Vec::new();
    for k in keys {
        r.compared += 1;
        let (c, m) = (core.get(k), modelled.get(k));
        if c != m {
            differ.push(format!(
                "wallet answer {k:?}: core {c:?}, model {m:?} ((answer, (bonus_delta, bonus)))"
            ));
        }
    }
    if differ.len() > 20 {
        let n = differ.len();
        differ.truncate(20);
        differ.push(format!("... {} more wallet answers differ", n - 20));
    }
    r.differences.extend(differ);
}

/// RULES.md W-11: every AML case, field by field with its evidence, in the order opened.
pub fn check_cases(r: &mut Report, direct: &Direct, model: &Model) {
    // Event ids as UUIDs, whatever their spelling.
    let uuid = |s: &str| uuid::Uuid::parse_str(s).map_or_else(|_| s.to_owned(), |u| u.to_string());
    let core: Vec<CaseRow> = direct
        .cases
        .iter()
        .map(|c| CaseRow {
            player: c.player.to_string(),
            kind: c.kind.name(),
            dir: c.dir.name(),
            day: c.day.0,
            total: c.total,
            threshold: c.threshold,
            evidence: c
                .evidence
                .iter()
                .map(|m| MoveRow {
                    event_id: uuid(&m.cause.to_string()),
                    amount: m.amount,
                    time: m.at.0,
                    dir: m.dir.name(),
                    machine: m.machine.as_ref().map(ToString::to_string),
                })
                .collect(),
            left_out: c.left_out,
            currency: c.currency.to_string(),
        })
        .collect();
    let mut modelled = model.cases.clone();
    for c in &mut modelled {
        for m in &mut c.evidence {
            m.event_id = uuid(&m.event_id);
        }
    }
    for kind in ["log", "report", "structuring"] {
        let n = modelled.iter().filter(|c| c.kind == kind).count() as u64;
        r.aml_cases.insert(kind, n);
    }
    r.compared += modelled.len() as u64;
    if core.len() != modelled.len() {
        r.differences.push(format!(
            "AML cases: core {}, model {}",
            core.len(),
            modelled.len()
        ));
    }
    for (i, (c, m)) in core.iter().zip(&modelled).enumerate() {
        if c != m {
            r.differences
                .push(format!("AML case {i}: core {c:?}, model {m:?}"));
        }
    }
}

/// RULES.md W-10: what every transfer acknowledgement settled, field by field, in the order
/// the wallets applied them.
pub fn check_transfers(r: &mut Report, direct: &Direct, model: &Model) {
    let core: Vec<TransferRow> = direct
        .transfers
        .iter()
        .map(|(player, s)| TransferRow {
            player: player.to_string(),
            transfer: s.transfer.to_string(),
            to_machine: s.direction == pitboss_actors::domain::transfer::Direction::ToMachine,
            amount: s.amount,
            held: s.held,
            delta: s.delta,
            unbacked: s.unbacked,
            repeated: s.repeated,
            balance: s.balance,
            restricted: s.credit == pitboss_actors::domain::transfer::CreditType::Restricted,
        })
        .collect();
    r.compared += model.transfers.len() as u64;
    if core.len() != model.transfers.len() {
        r.differences.push(format!(
            "transfers settled: core {}, model {}",
            core.len(),
            model.transfers.len()
        ));
    }
    for (i, (c, m)) in core.iter().zip(&model.transfers).enumerate() {
        if c != m {
            r.differences
                .push(format!("transfer settled {i}: core {c:?}, model {m:?}"));
        }
    }
}

/// RULES.md M-12: every rated session, field by field, in the order they ended.
pub fn check_sessions(r: &mut Report, direct: &Direct, model: &Model) {
    let core: Vec<SessionRow> = direct
        .sessions
        .iter()
        .map(|(machine, s)| SessionRow {
            machine: machine.to_string(),
            player: s.player.to_string(),
            hall: s.hall.to_string(),
            start: s.rating.start.0,
            end: s.end.0,
            ended_by: s.ended_by.name(),
            coin_in: s.rating.coin_in,
            coin_out: s.rating.coin_out,
            games: s.rating.games,
            theoretical_win: s.theoretical_win,
            points: s.points,
        })
        .collect();
    let played = model.sessions.iter().filter(|s| s.games > 0).count();
    let earned = model.sessions.iter().filter(|s| s.points > 0).count();
    r.sessions = (model.sessions.len() as u64, played as u64, earned as u64);
    r.compared += model.sessions.len() as u64;
    if core.len() != model.sessions.len() {
        r.differences.push(format!(
            "rated sessions: core {}, model {}",
            core.len(),
            model.sessions.len()
        ));
    }
    for (i, (c, m)) in core.iter().zip(&model.sessions).enumerate() {
        if c != m {
            r.differences
                .push(format!("rated session {i}: core {c:?}, model {m:?}"));
        }
    }
}

/// The count of every alert code, and of every refusal code but the wallets' (the
/// reference processor answers wallet commands without counting their refusals by code;
/// they are compared answer by answer in `tests/inproc/wallet_model.rs`). A repeat of a
/// refused command is not counted again on either side.
pub fn check_codes(r: &mut Report, direct: &Direct, model: &Model) {
    let mut refusals = model.refusals.clone();
    for (code, n) in &model.wallet_refusals {
        if let Some(c) = refusals.get_mut(code) {
            *c -= n;
            if *c == 0 {
                refusals.remove(code);
            }
        }
    }
    for (what, core, model) in [
        ("refusals", &direct.refusals, &refusals),
        ("alerts", &direct.alerts, &model.alerts),
    ] {
        let codes: BTreeSet<&&'static str> = core.keys().chain(model.keys()).collect();
        for code in codes {
            r.compared += 1;
            let (c, m) = (core.get(*code), model.get(*code));
            if c != m {
                r.differences.push(format!(
                    "{what} {code}: core {}, model {}",
                    c.copied().unwrap_or(0),
                    m.copied().unwrap_or(0)
                ));
            }
        }
    }
}

/// Mystery hit points for the model, from the same keyed generator the core uses.
pub fn draw(secret: &str) -> Draw {
    let mut keyed = KeyedHitPoints::new(secret);
    Box::new(move |pool: &str, level: u8, reset: u64, lo: i64, hi: i64| {
        let pool = PoolId::new(pool).expect("the model's pool ids are valid");
        keyed.draw(&pool, level, reset, lo, hi)
    })
}

/// The model's configuration for a pitboss configuration (the load harness's scenarios).
pub fn model_config_of(cfg: &Config) -> ModelConfig {
    let ppm = |percent: Decimal| {
        (percent * Decimal::from(10_000))
            .trunc()
            .try_into()
            .expect("a contribution rate validated by the configuration")
    };
    ModelConfig {
        currency: cfg.network.currency.clone(),
        credit_line: cfg.runtime.wallet_credit_line_minor,
        kyc_withdrawal_max: cfg.runtime.wallet_kyc_withdrawal_max_minor,
        cooling_off_ms: i64::from(cfg.responsible_gaming.cooling_off_hours) * 3_600_000,
        limits_time_zone: cfg.responsible_gaming.time_zone.clone(),
        large_cash_in: cfg.runtime.large_cash_in_alert_minor,
        handpay_threshold: cfg.runtime.handpay_threshold_minor,
        clock_ahead_max_ms: cfg.runtime.clock_ahead_max_ms,
        clock_behind_max_ms: cfg.runtime.clock_behind_max_ms,
        voucher_expiry_days: cfg.vouchers.expiry_days,
        voucher_hall_expiry_days: cfg.vouchers.hall_expiry_days.clone(),
        voucher_hold_ms: i64::try_from(cfg.vouchers.hold_secs)
            .map_or(i64::MAX, |s| s.saturating_mul(1_000)),
        voucher_home_only_halls: cfg.vouchers.home_only_halls.iter().cloned().collect(),
        transfer_hold_ms: i64::from(cfg.runtime.wallet_transfer_hold_secs) * 1_000,
        session_break_ms: i64::from(cfg.responsible_gaming.session_break_minutes) * 60_000,
        theoretical_hold_ppm: ppm(cfg.runtime.theoretical_hold_percent),
        hall_holds_ppm: cfg
            .runtime
            .theoretical_hold_percent_halls
            .iter()
            .map(|(k, p)| (k.clone(), ppm(*p)))
            .collect(),
        machine_holds_ppm: cfg
            .runtime
            .theoretical_hold_percent_machines
            .iter()
            .map(|(k, p)| (k.clone(), ppm(*p)))
            .collect(),
        aml: AmlModel {
            log_minor: cfg.aml.log_threshold_minor,
            report_minor: cfg.aml.report_threshold_minor,
            structuring_floor_minor: cfg.aml.structuring_floor_minor,
            structuring_count: cfg.aml.structuring_count,
            structuring_window_ms: i64::from(cfg.aml.structuring_window_hours) * 3_600_000,
        },
        loyalty_micro_points: (cfg.runtime.loyalty_points_per_minor_unit
            * Decimal::from(1_000_000))
        .trunc()
        .try_into()
        .expect("a loyalty rate validated by the configuration"),
        bonus_first: cfg.runtime.wallet_bets_draw == BetsDrawName::BonusFirst,
        cash_desks: cfg.runtime.cash_desks.iter().cloned().collect(),
        pools: cfg
            .pools
            .iter()
            .map(|p| PoolSpec {
                id: p.id.clone(),
                halls: (!p.halls.is_empty()).then(|| p.halls.clone()),
                levels: p
                    .levels
                    .iter()
                    .map(|l| LevelSpec {
                        name: l.name.clone(),
                        seed: l.seed_minor,
                        ppm: ppm(l.contribution_percent),
                        ceiling: l.ceiling_minor,
                        mystery: l.mystery,
                        min_bet: l.min_bet_minor,
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// Compares every entity of the core's reference processor with the model's, and the
/// jackpot money of both with the configuration; adds what differs to `r`.
pub fn check_states(r: &mut Report, direct: &Direct, model: &Model, mcfg: &ModelConfig) {
    let core = CoreViews::of(direct, mcfg);
    diff_maps(r, "machine", &core.machines, &model.machines());
    diff_maps(r, "wallet", &core.wallets, &model.wallets());
    diff_maps(r, "hall", &core.halls, &model.halls);
    diff_maps(r, "pool", &core.pools, &model.pools());
    diff_maps(r, "voucher", &core.vouchers, &model.vouchers());
    diff_maps(
        r,
        "voucher answers of",
        &core.voucher_answers,
        &model.voucher_answers(),
    );
    diff_desks(r, &core, model);
    let hits: Vec<String> = model
        .hits
        .iter()
        .map(|h| {
            format!(
                "{} {} #{} {} {}",
                h.pool, h.level, h.number, h.machine, h.amount
            )
        })
        .collect();
    r.compared += hits.len() as u64;
    if hits != core.hits {
        let first = hits
            .iter()
            .zip(&core.hits)
            .position(|(a, b)| a != b)
            .unwrap_or(hits.len().min(core.hits.len()));
        r.differences.push(format!(
            "jackpot hits: core {} hits, model {}; first difference at {first}: core {:?}, model {:?}",
            core.hits.len(),
            hits.len(),
            core.hits.get(first),
            hits.get(first)
        ));
    }
    expect_jackpots(r, mcfg, &core);
    let progressive = |hits: &mut dyn Iterator<Item = bool>| hits.filter(|m| !m).count();
    let (core_progressive, model_progressive) = (
        progressive(&mut core.hit_kinds.iter().copied()),
        progressive(&mut model.hits.iter().map(|h| h.mystery)),
    );
    if core_progressive != model_progressive {
        r.differences.push(format!(
            "progressive hits: core {core_progressive}, model {model_progressive}"
        ));
    }
}

/// Jackpot money against what the configuration implies, whatever either side did: every
/// level was funded its seed once at creation and once per hit (P-5: the configuration does
/// not change in a generated stream), and every mystery award lies between the level's seed
/// and its ceiling (P-2).
fn expect_jackpots(r: &mut Report, mcfg: &ModelConfig, core: &CoreViews) {
    for spec in &mcfg.pools {
        let Some(levels) = core.pools.get(&spec.id) else {
            continue;
        };
        for (i, (l, cfg)) in levels.iter().zip(&spec.levels).enumerate() {
            let expected = i128::from(cfg.seed) * (1 + i128::from(l.hits));
            if i128::from(l.seeded) != expected {
                r.differences.push(format!(
                    "pool {} level {i}: seeds funded {}, expected seed {} x (1 + {} hits) = {expected}",
                    spec.id, l.seeded, cfg.seed, l.hits
                ));
            }
        }
    }
    for (hit, mystery) in core.hit_list.iter().zip(&core.hit_kinds) {
        let (pool, level, amount) = hit;
        let Some(cfg) = mcfg
            .pools
            .iter()
            .find(|p| &p.id == pool)
            .and_then(|p| p.levels.get(usize::from(*level)))
        else {
            r.differences
                .push(format!("a hit on an unconfigured level: {pool} {level}"));
            continue;
        };
        if *mystery {
            let ceiling = cfg.ceiling.unwrap_or(i64::MAX);
            if *amount < cfg.seed || *amount > ceiling {
                r.differences.push(format!(
                    "mystery award {amount} on {pool} level {level} outside [{}, {ceiling}]",
                    cfg.seed
                ));
            }
        }
    }
}

/// One jackpot hit, as the core or a consumer of its outputs saw it.
#[derive(Clone, Debug)]
pub struct HitRow {
    /// Pool.
    pub pool: String,
    /// Level index.
    pub level: u8,
    /// The level's hit number.
    pub number: u64,
    /// The machine paid (empty when not known).
    pub machine: String,
    /// The amount paid.
    pub amount: i64,
}

/// What a pitboss run stored (its entities' states) and published (its jackpot hits)
/// against the model fed the same inputs, where the run's concurrency allows an exact
/// comparison: every wallet, every machine's credits and meters but the jackpot one, every
/// hall window's bets, wins and games, and each pool level's contributions exactly. Which
/// machine wins a mystery level depends on the order in which contributions from different
/// machines reach the pool, which a concurrent run does not fix; for pools and hits the
/// comparison is therefore by the rules: seeds funded once plus once per hit, every mystery
/// award within [seed, ceiling], each level's books balanced (P-6), and as many progressive
/// hits as the model's.
pub fn check_stored(
    r: &mut Report,
    stored: &[Snapshot],
    hits: &[HitRow],
    model: &Model,
    mcfg: &ModelConfig,
) {
    let core = CoreViews::from_parts(stored, hits, mcfg);
    let no_jackpots = |mut m: BTreeMap<String, MachineView>| {
        for v in m.values_mut() {
            v.meters.remove("jackpot_paid");
        }
        m
    };
    diff_maps(
        r,
        "machine (jackpot meter aside)",
        &no_jackpots(core.machines.clone()),
        &no_jackpots(model.machines()),
    );
    diff_maps(r, "wallet", &core.wallets, &model.wallets());
    let no_hall_jackpots = |mut h: BTreeMap<String, HallView>| {
        for v in h.values_mut() {
            v.totals.jackpots = 0;
            for w in v.windows.values_mut() {
                w.jackpots = 0;
            }
        }
        h
    };
    diff_maps(
        r,
        "hall (jackpots aside)",
        &no_hall_jackpots(core.halls.clone()),
        &no_hall_jackpots(model.halls.clone()),
    );
    let model_pools = model.pools();
    for (pool, levels) in &core.pools {
        for (i, l) in levels.iter().enumerate() {
            r.compared += 1;
            let m = model_pools.get(pool).and_then(|v| v.get(i));
            if m.map(|m| m.contributed_micro) != Some(l.contributed_micro) {
                r.differences.push(format!(
                    "pool {pool} level {i}: contributions {} micro-units stored, model {:?}",
                    l.contributed_micro,
                    m.map(|m| m.contributed_micro)
                ));
            }
            // P-6: what the operator funded and the bets contributed, less what the pool paid.
            let books = (i128::from(l.seeded) - i128::from(l.paid)) * crate::model::MICRO
                + l.contributed_micro;
            if l.held_micro() != books {
                r.differences.push(format!(
                    "pool {pool} level {i}: holds {} micro-units, its books say {books}",
                    l.held_micro()
                ));
            }
        }
    }
    expect_jackpots(r, mcfg, &core);
    // Vouchers are not compared here: a voucher hears from its own partition (commands,
    // keyed by its number) and from machines' partitions (ticket facts), and a concurrent
    // run does not fix the order in which the two reach it (a desk's commit before or
    // after a machine's credit of the same ticket decide different outcomes, both right).
    let progressive = core.hit_kinds.iter().filter(|m| !**m).count();
    let model_progressive = model.hits.iter().filter(|h| !h.mystery).count();
    if progressive != model_progressive {
        r.differences.push(format!(
            "progressive hits: published {progressive}, model {model_progressive}"
        ));
    }
}

/// The core's states, translated into the model's views.
struct CoreViews {
    machines: BTreeMap<String, MachineView>,
    wallets: BTreeMap<String, WalletView>,
    halls: BTreeMap<String, HallView>,
    pools: BTreeMap<String, Vec<LevelView>>,
    vouchers: BTreeMap<String, VoucherView>,
    voucher_answers: BTreeMap<String, VoucherAnswers>,
    desks: BTreeMap<String, DeskView>,
    /// Each desk's remembered answers (RULES.md D-6) as published (D-7), oldest first.
    desk_answers: BTreeMap<String, Vec<ShiftRow>>,
    hits: Vec<String>,
    /// (pool, level, amount) of each hit, and whether it was a mystery hit.
    hit_list: Vec<(String, u8, i64)>,
    hit_kinds: Vec<bool>,
}

impl CoreViews {
    fn of(direct: &Direct, mcfg: &ModelConfig) -> Self {
        let hits: Vec<HitRow> = direct
            .hit_log()
            .iter()
            .map(|h| HitRow {
                pool: h.pool.to_string(),
                level: h.level,
                number: h.hit_number,
                machine: h.machine.to_string(),
                amount: h.amount.minor(),
            })
            .collect();
        Self::from_parts(&direct.snapshots(), &hits, mcfg)
    }

    fn from_parts(snapshots: &[Snapshot], hits: &[HitRow], mcfg: &ModelConfig) -> Self {
        let mut v = CoreViews {
            machines: BTreeMap::new(),
            wallets: BTreeMap::new(),
            halls: BTreeMap::new(),
            pools: BTreeMap::new(),
            vouchers: BTreeMap::new(),
            voucher_answers: BTreeMap::new(),
            desks: BTreeMap::new(),
            desk_answers: BTreeMap::new(),
            hits: hits
                .iter()
                .map(|h| {
                    format!(
                        "{} {} #{} {} {}",
                        h.pool, h.level, h.number, h.machine, h.amount
                    )
                })
                .collect(),
            hit_list: hits
                .iter()
                .map(|h| (h.pool.clone(), h.level, h.amount))
                .collect(),
            hit_kinds: Vec::new(),
        };
        // A hit is a mystery hit when its level is a mystery level.
        v.hit_kinds = v
            .hit_list
            .iter()
            .map(|(pool, level, _)| {
                mcfg.pools
                    .iter()
                    .find(|p| &p.id == pool)
                    .and_then(|p| p.levels.get(usize::from(*level)))
                    .is_some_and(|l| l.mystery)
            })
            .collect();
        for s in snapshots {
            match s {
                Snapshot::Machine(m) => {
                    let meters = &m.meters;
                    let view = MachineView {
                        hall: m.profile.hall.to_string(),
                        credits: m.credits,
                        meters: [
                            ("coin_in", meters.coin_in),
                            ("coin_out", meters.coin_out),
                            ("games_played", meters.games_played),
                            ("games_won", meters.games_won),
                            ("bills_in", meters.bills_in),
                            ("tickets_in", meters.tickets_in),
                            ("tickets_out", meters.tickets_out),
                            ("cashless_in", meters.cashless_in),
                            ("cashless_out", meters.cashless_out),
                            ("handpaid", meters.handpaid),
                            ("jackpot_paid", meters.jackpot_paid),
                            ("jackpot_handpaid", meters.jackpot_handpaid),
                            ("doors_opened", meters.doors_opened),
                            ("restricted_in", meters.restricted_in),
                            ("nonrestricted_in", meters.nonrestricted_in),
                            ("restricted_played", meters.restricted_played),
                        ]
                        .into_iter()
                        .collect(),
                        session: m.session.as_ref().map(|p| p.to_string()),
                        online: m.status.online,
                        door_open: m.status.door_open,
                        tilt: m.status.tilt,
                        meter_variance: ReportedMeter::ALL
                            .iter()
                            .map(|r| (r.name(), m.meter_variance().get(*r)))
                            .filter(|(_, v)| *v != 0)
                            .collect(),
                    };
                    v.machines.insert(m.id.to_string(), view);
                }
                Snapshot::Wallet(w) => {
                    let t = &w.totals;
                    let view = WalletView {
                        balance: w.balance,
                        deposits: t.deposits,
                        withdrawals: t.withdrawals,
                        bets: t.bets,
                        wins: t.wins,
                        refunds: t.refunds,
                        kyc: w.kyc.name().to_owned(),
                        held: w.held(),
                        to_machines: t.to_machines,
                        from_machines: t.from_machines,
                        unbacked: w.unbacked(),
                        points: w.points(),
                        bonus: w.bonus.as_ref().map(|b| BonusView {
                            balance: b.balance,
                            wagering_left: b.wagering_left,
                            expires: b.expires.0,
                            awarded: b.awarded,
                            staked: b.staked,
                            won: b.won,
                            refunded: b.refunded,
                            converted: b.converted,
                            expired: b.expired,
                            to_machines: b.to_machines,
                        }),
                        restricted_held: w.restricted_held(),
                        desk_deposits: t.desk_deposits,
                        desk_withdrawals: t.desk_withdrawals,
                    };
                    v.wallets.insert(w.id.to_string(), view);
                }
                Snapshot::Hall(h) => {
                    let totals = |t: &pitboss_actors::domain::ggr::GgrTotals| Totals {
                        bets: t.bets,
                        wins: t.wins,
                        jackpots: t.jackpots,
                        games: t.games,
                        promo: t.promo,
                    };
                    let view = HallView {
                        totals: totals(&h.totals),
                        windows: h
                            .windows
                            .iter()
                            .map(|(start, w)| (start.0, totals(&w.totals)))
                            .collect(),
                    };
                    v.halls.insert(h.id.to_string(), view);
                }
                Snapshot::Pool(p) => {
                    let levels = p
                        .levels
                        .iter()
                        .map(|l| LevelView {
                            level: l.level,
                            frac: l.frac,
                            reserve: l.reserve,
                            contributed_micro: l.contributed_micro,
                            seeded: l.seeded,
                            paid: l.paid,
                            hits: l.hits,
                            variance: l.variance,
                            hit_point: l.hit_point,
                        })
                        .collect();
                    v.pools.insert(p.id.to_string(), levels);
                }
                Snapshot::Voucher(s) => {
                    let view = VoucherView {
                        status: s.status.name(),
                        amount: s.issue.as_ref().map_or(0, |i| i.amount),
                        hall: s.issue.as_ref().map(|i| i.hall.to_string()),
                        unbacked: s.unbacked,
                        reprinted: s.reprinted,
                        issuer: s.issue.as_ref().map(|i| i.by.to_string()),
                    };
                    v.vouchers.insert(s.number.to_string(), view);
                    let answers = s
                        .answered
                        .iter()
                        .map(|a| {
                            (
                                a.party.to_string(),
                                a.tx.to_string(),
                                a.note.refused.as_ref().map(|e| e.code()),
                            )
                        })
                        .collect();
                    v.voucher_answers.insert(s.number.to_string(), answers);
                }
                Snapshot::Desk(d) => {
                    let desk = d.id.to_string();
                    let rows: Vec<ShiftRow> = d
                        .answered
                        .iter()
                        .map(|a| shift_row(&desk, &a.note))
                        .collect();
                    let view = DeskView {
                        next: d.next,
                        open: d.open.as_ref().map(shift_view),
                        closed: d.closed.iter().map(shift_view).collect(),
                        unshifted_in: d.unshifted_in,
                        unshifted_out: d.unshifted_out,
                        unshifted_ops: d
                            .unshifted_ops
                            .iter()
                            .map(|(t, c)| unshifted_op(t.0, c))
                            .collect(),
                        cash_in: d.cash_in,
                        cash_out: d.cash_out,
                        wallet_in: d.wallet_in,
                        wallet_out: d.wallet_out,
                        booked: d.booked.iter().map(|e| uuid_text(&e.to_string())).collect(),
                        answers: rows
                            .iter()
                            .map(|r| (r.tx.clone().unwrap_or_default(), r.refused))
                            .collect(),
                    };
                    v.desks.insert(desk.clone(), view);
                    v.desk_answers.insert(desk, rows);
                }
            }
        }
        v
    }
}

/// An event id as a UUID's text, whatever its spelling.
fn uuid_text(s: &str) -> String {
    uuid::Uuid::parse_str(s).map_or_else(|_| s.to_owned(), |u| u.to_string())
}

/// A core shift's figures in the model's terms (RULES.md D-7).
pub fn shift_view(f: &ShiftFigures) -> ShiftView {
    ShiftView {
        number: f.number,
        cashier: f.cashier.clone(),
        opened_at: f.opened_at.0,
        closed_at: f.closed_at.map(|t| t.0),
        float: f.float,
        cash_in: f.cash_in,
        cash_out: f.cash_out,
        fills: f.fills,
        credits: f.credits,
        counted: f.counted,
        operations: f.operations,
        revision: f.revision,
    }
}

/// A core `shift` output of `desk` in the model's terms (RULES.md D-7).
pub fn shift_row(desk: &str, n: &ShiftNote) -> ShiftRow {
    ShiftRow {
        desk: desk.to_owned(),
        op: match n.op {
            ShiftOp::Open => "open",
            ShiftOp::Fill => "fill",
            ShiftOp::Credit => "credit",
            ShiftOp::Close => "close",
            ShiftOp::Revise => "revise",
        },
        tx: n.tx.as_ref().map(ToString::to_string),
        amount: n.amount,
        refused: n.refused.as_ref().map(|e| e.code()),
        hall: n.hall.to_string(),
        shift: shift_view(&n.shift),
        cause: uuid_text(&n.cause.to_string()),
        time: n.time.0,
    }
}

/// RULES.md D: what the model's desks did, by what.
fn desk_summary(model: &Model) -> BTreeMap<&'static str, u64> {
    let mut out: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut opened = BTreeSet::new();
    for row in &model.shifts {
        // D-3: an opening that took unshifted cash read before it (once, not its repeats).
        if row.op == "open"
            && row.refused.is_none()
            && row.shift.operations > 0
            && opened.insert((&row.desk, &row.tx))
        {
            *out.entry("opened_taking_unshifted").or_default() += 1;
        }
        let what = match (row.op, row.refused.is_some()) {
            ("revise", _) => "revised",
            (_, true) => "refused",
            ("open", false) => "opened",
            ("close", false) => "closed",
            _ => "filled_or_credited",
        };
        *out.entry(what).or_default() += 1;
    }
    for a in &model.desk_alerts {
        let what = match a {
            crate::model::DeskAlert::ShiftVariance { .. } => "shift_variance",
            crate::model::DeskAlert::CashWithoutShift { .. } => "cash_without_shift",
        };
        *out.entry(what).or_default() += 1;
    }
    // D-10: the wallets' deposits and withdrawals the desks booked.
    for d in model.desks().values() {
        *out.entry("wallet_in").or_default() += d.wallet_in.unsigned_abs();
        *out.entry("wallet_out").or_default() += d.wallet_out.unsigned_abs();
    }
    out
}

/// RULES.md D: every desk's shifts, unshifted cash and booked operations, and its
/// remembered answers (D-6) as they were published (D-7), field by field; at most a few
/// sentences per desk.
fn diff_desks(r: &mut Report, core: &CoreViews, model: &Model) {
    let desks = model.desks();
    let answers = model.desk_answers();
    let keys: BTreeSet<&String> = core.desks.keys().chain(desks.keys()).collect();
    for k in keys {
        r.compared += 1;
        let (c, m) = match (core.desks.get(k), desks.get(k)) {
            (Some(c), Some(m)) => (c, m),
            (c, m) => {
                r.differences.push(format!(
                    "desk {k}: core {}, model {}",
                    if c.is_some() { "has it" } else { "none" },
                    if m.is_some() { "has it" } else { "none" }
                ));
                continue;
            }
        };
        let mut fields = Vec::new();
        if c.next != m.next {
            fields.push(format!("next: core {}, model {}", c.next, m.next));
        }
        if c.open != m.open {
            fields.push(format!("open: core {:?}, model {:?}", c.open, m.open));
        }
        if c.closed != m.closed {
            let i = first_difference(&c.closed, &m.closed);
            fields.push(format!(
                "closed ({} core, {} model), first difference at {i}: core {:?}, model {:?}",
                c.closed.len(),
                m.closed.len(),
                c.closed.get(i),
                m.closed.get(i)
            ));
        }
        if (c.cash_in, c.cash_out) != (m.cash_in, m.cash_out) {
            fields.push(format!(
                "cash in/out: core {}/{}, model {}/{}",
                c.cash_in, c.cash_out, m.cash_in, m.cash_out
            ));
        }
        // RULES.md D-10: of the cash, the wallets' deposits and withdrawals at the desk.
        if (c.wallet_in, c.wallet_out) != (m.wallet_in, m.wallet_out) {
            fields.push(format!(
                "wallet in/out: core {}/{}, model {}/{}",
                c.wallet_in, c.wallet_out, m.wallet_in, m.wallet_out
            ));
        }
        if (c.unshifted_in, c.unshifted_out) != (m.unshifted_in, m.unshifted_out) {
            fields.push(format!(
                "unshifted in/out: core {}/{}, model {}/{}",
                c.unshifted_in, c.unshifted_out, m.unshifted_in, m.unshifted_out
            ));
        }
        if c.unshifted_ops != m.unshifted_ops {
            let i = first_difference(&c.unshifted_ops, &m.unshifted_ops);
            fields.push(format!(
                "unshifted operations kept ({} core, {} model), first difference at {i}: core \
                 {:?}, model {:?}",
                c.unshifted_ops.len(),
                m.unshifted_ops.len(),
                c.unshifted_ops.get(i),
                m.unshifted_ops.get(i)
            ));
        }
        if c.booked != m.booked {
            let i = first_difference(&c.booked, &m.booked);
            fields.push(format!(
                "booked ({} core, {} model), first difference at {i}: core {:?}, model {:?}",
                c.booked.len(),
                m.booked.len(),
                c.booked.get(i),
                m.booked.get(i)
            ));
        }
        let empty = Vec::new();
        let (ca, ma) = (
            core.desk_answers.get(k).unwrap_or(&empty),
            answers.get(k).unwrap_or(&empty),
        );
        r.compared += ma.len() as u64;
        if ca != ma {
            let i = first_difference(ca, ma);
            fields.push(format!(
                "answers ({} core, {} model), first difference at {i}: core {:?}, model {:?}",
                ca.len(),
                ma.len(),
                ca.get(i),
                ma.get(i)
            ));
        }
        if !fields.is_empty() {
            r.differences
                .push(format!("desk {k}: {}", fields.join("; ")));
        }
    }
}

/// The first index at which two lists differ (the shorter one's length if one is a prefix
/// of the other).
fn first_difference<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()))
}

/// Compares two maps of views: an entity on one side only, or with another value, is a
/// difference (the first few fields that differ are named through `Debug`).
fn diff_maps<V: PartialEq + std::fmt::Debug>(
    r: &mut Report,
    what: &str,
    core: &BTreeMap<String, V>,
    model: &BTreeMap<String, V>,
) {
    let keys: BTreeSet<&String> = core.keys().chain(model.keys()).collect();
    for k in keys {
        r.compared += 1;
        match (core.get(k), model.get(k)) {
            (Some(a), Some(b)) if a == b => {}
            (a, b) => r
                .differences
                .push(format!("{what} {k}: core {a:?}, model {b:?}")),
        }
    }
}
