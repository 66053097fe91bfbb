//! Every metric pitboss exports, and its emit function, in one place (as Vector's
//! `internal_events`). Labels are bounded: by event kind, reason code, actor kind, hall,
//! pool and level, partition; never by player, machine or event id.
//!
//! Call [`install`] once at the start of the process, before anything emits: the hot-path
//! emit functions cache their metric handles on first use, so a handle taken before the
//! recorder exists stays a no-op. Without [`install`] (tests, benches) every emit is a no-op.
//!
//! Who calls what:
//! - ingest (`pipeline.rs`): [`event_in`], [`event_rejected`];
//! - the output tee (`http::feed::TeeSink`): [`output_emitted`];
//! - the demo loop and `pitboss run`: [`batch_completed`], [`inflight_events`];
//! - the `/metrics` handler: [`runtime_stats`] (actors, duplicates, refusals) and [`ready`];
//! - the census (`http::census`): [`hall_totals`], [`machines_by_status`];
//! - the Kafka consumer: [`consumer_lag`], [`partitions_assigned`], [`offsets_committed`],
//!   [`kafka_error`];
//! - the durable stores: [`store_flush`], [`store_backlog`], [`store_error`];
//! - the HTTP side: [`feed_clients`], [`feed_lagged`], [`admin_action`];
//! - backups (`store::backup`): [`backup_result`], [`restore_check_result`].

use std::sync::atomic::Ordering;
use std::sync::OnceLock;
use std::time::Duration;

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, Counter};
use metrics::{histogram, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use pitboss_actors::domain::desk::DeskOp;
use pitboss_actors::domain::limits::LimitKind;
use pitboss_actors::domain::machine::{Alert, MachineCommand, SignificantEvent};
use pitboss_actors::domain::voucher::VoucherOp;
use pitboss_actors::domain::wallet::WalletOp;
use pitboss_actors::domain::EntityKind;
use pitboss_actors::shell::{Input, Output, Runtime};

use crate::wire::REASON_CODES;

/// Input events routed to an entity, by kind.
pub const EVENTS_IN: &str = "pitboss_events_in_total";
/// Input messages rejected at the wire, by reason code.
pub const EVENTS_REJECTED: &str = "pitboss_events_rejected_total";
/// Valid events the core refused (late bet, insufficient credits...).
pub const EVENTS_REFUSED: &str = "pitboss_events_refused_total";
/// Repeated inputs recognised and skipped.
pub const EVENTS_DUPLICATE: &str = "pitboss_events_duplicate_total";
/// Time from a batch's ingest to the completion of everything its events caused.
pub const PROCESSING_LATENCY: &str = "pitboss_processing_latency_seconds";
/// Input events decoded and not yet fully processed (the bounded in-flight window; actix
/// does not expose mailbox lengths, this is the queue depth across all mailboxes).
pub const INFLIGHT_EVENTS: &str = "pitboss_inflight_events";
/// Live actors, by kind.
pub const ACTORS_ACTIVE: &str = "pitboss_actors_active";
/// Actors started, by kind.
pub const ACTORS_STARTED: &str = "pitboss_actors_started_total";
/// Actors passivated, by kind.
pub const ACTORS_PASSIVATED: &str = "pitboss_actors_passivated_total";
/// Outputs handed to the sink, by kind.
pub const OUTPUTS: &str = "pitboss_outputs_total";
/// Operator alerts raised, by kind.
pub const ALERTS: &str = "pitboss_alerts_total";
/// Jackpot level, minor units, by pool and level.
pub const JACKPOT_LEVEL: &str = "pitboss_jackpot_level_minor";
/// Jackpot hits, by pool and level.
pub const JACKPOT_HITS: &str = "pitboss_jackpot_hits_total";
/// Jackpot amounts paid, minor units, by pool and level.
pub const JACKPOT_PAID: &str = "pitboss_jackpot_paid_minor_total";
/// All-time GGR (bets - wins) of a hall, minor units.
pub const HALL_GGR: &str = "pitboss_hall_ggr_minor";
/// All-time bets of a hall (net of rollbacks), minor units.
pub const HALL_BETS: &str = "pitboss_hall_bets_minor";
/// All-time wins of a hall, minor units.
pub const HALL_WINS: &str = "pitboss_hall_wins_minor";
/// All-time jackpots paid to a hall's machines, minor units.
pub const HALL_JACKPOTS: &str = "pitboss_hall_jackpots_minor";
/// All-time net win (bets - wins - jackpots - promotional credits played) of a hall, minor
/// units.
pub const HALL_NET_WIN: &str = "pitboss_hall_net_win_minor";
/// All-time restricted promotional credits played on a hall's machines, minor units
/// (RULES.md M-13).
pub const HALL_PROMO: &str = "pitboss_hall_promo_minor";
/// Machines by hall and status (online, offline, door_open, tilt), from the census.
pub const MACHINES: &str = "pitboss_machines";
pub const HANDPAYS_OPEN: &str = "pitboss_handpays_open";
/// Open vouchers (RULES.md V-8), from the census.
pub const VOUCHERS_OPEN: &str = "pitboss_vouchers_open";
/// Outstanding ticket liability, minor units, from the census.
pub const VOUCHER_LIABILITY: &str = "pitboss_voucher_liability_minor";
pub const HANDPAY_OLDEST_AGE: &str = "pitboss_handpay_oldest_age_seconds";
/// Store flush duration.
pub const STORE_FLUSH: &str = "pitboss_store_flush_seconds";
/// Entity states handed to the store and not yet durable.
pub const STORE_BACKLOG: &str = "pitboss_store_backlog_entities";
/// Store errors, by operation (load, flush, other).
pub const STORE_ERRORS: &str = "pitboss_store_errors_total";
/// Consumer lag, messages, by topic and partition.
pub const CONSUMER_LAG: &str = "pitboss_consumer_lag_messages";
/// Partitions assigned to this instance, by topic.
pub const PARTITIONS_ASSIGNED: &str = "pitboss_consumer_partitions_assigned";
/// Offset commits.
pub const OFFSETS_COMMITTED: &str = "pitboss_offsets_committed_total";
/// Kafka client errors, by kind (consume, produce, commit, other).
pub const KAFKA_ERRORS: &str = "pitboss_kafka_errors_total";
/// Ready (1) or not (0): consuming and the store reachable.
pub const READY: &str = "pitboss_ready";
/// Build information (value 1, label version).
pub const BUILD_INFO: &str = "pitboss_build_info";
/// Clients connected to the jackpot display feed.
pub const FEED_CLIENTS: &str = "pitboss_feed_clients";
/// Times a feed client fell behind and was resynchronised (old level updates dropped).
pub const FEED_LAGGED: &str = "pitboss_feed_lagged_total";
/// Admin API actions, by action and outcome.
pub const ADMIN_ACTIONS: &str = "pitboss_admin_actions_total";
/// Gateway requests answered, by scope, operation and outcome.
pub const GATEWAY_REQUESTS: &str = "pitboss_gateway_requests_total";
/// Time from a gateway request to its answer (or its timeout).
pub const GATEWAY_SECONDS: &str = "pitboss_gateway_request_seconds";
// --- Backups (issue 15): `store::backup` emits these. ---
/// When the last backup of the embedded store ended, seconds since the epoch.
pub const BACKUP_LAST_TIME: &str = "pitboss_backup_last_time_seconds";
/// Whether the last backup succeeded (1) or failed (0).
pub const BACKUP_LAST_SUCCESS: &str = "pitboss_backup_last_success";
/// When the last restore check (a backup restored into a scratch directory and audited)
/// ended, seconds since the epoch.
pub const RESTORE_CHECK_LAST_TIME: &str = "pitboss_backup_restore_check_last_time_seconds";
/// Whether the last restore check restored and audited clean (1) or not (0).
pub const RESTORE_CHECK_LAST_SUCCESS: &str = "pitboss_backup_restore_check_last_success";
// --- end of backups ---

/// What kind of metric a name is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Monotonic counter.
    Counter,
    /// Value that goes up and down.
    Gauge,
    /// Histogram (exported as `_bucket`, `_sum`, `_count`).
    Histogram,
}

/// One exported metric: its name, kind, labels and help text.
#[derive(Clone, Copy, Debug)]
pub struct MetricDef {
    /// Prometheus name.
    pub name: &'static str,
    /// Kind.
    pub kind: Kind,
    /// Label names (bounded sets).
    pub labels: &'static [&'static str],
    /// Help text.
    pub help: &'static str,
}

const fn def(
    name: &'static str,
    kind: Kind,
    labels: &'static [&'static str],
    help: &'static str,
) -> MetricDef {
    MetricDef {
        name,
        kind,
        labels,
        help,
    }
}

/// Every metric pitboss exports. Tests check that alerts and dashboards use only these.
pub const METRICS: &[MetricDef] = &[
    def(EVENTS_IN, Kind::Counter, &["kind"], "Input events routed to an entity, by event kind."),
    def(EVENTS_REJECTED, Kind::Counter, &["reason"], "Input messages rejected at the wire, by reason code."),
    def(EVENTS_REFUSED, Kind::Counter, &[], "Valid input events the money core refused."),
    def(EVENTS_DUPLICATE, Kind::Counter, &[], "Repeated input events recognised and skipped."),
    def(PROCESSING_LATENCY, Kind::Histogram, &[], "Time from a batch's ingest to the completion of everything its events caused."),
    def(INFLIGHT_EVENTS, Kind::Gauge, &[], "Input events decoded and not yet fully processed (queued in actor mailboxes or being applied)."),
    def(ACTORS_ACTIVE, Kind::Gauge, &["kind"], "Live actors, by kind (machine, wallet, pool, hall)."),
    def(ACTORS_STARTED, Kind::Counter, &["kind"], "Actors started, by kind."),
    def(ACTORS_PASSIVATED, Kind::Counter, &["kind"], "Actors passivated (state handed to the store), by kind."),
    def(OUTPUTS, Kind::Counter, &["kind"], "Output events handed to the sink, by kind."),
    def(ALERTS, Kind::Counter, &["kind"], "Operator alerts raised, by kind."),
    def(JACKPOT_LEVEL, Kind::Gauge, &["pool", "level"], "Current jackpot level in minor units."),
    def(JACKPOT_HITS, Kind::Counter, &["pool", "level"], "Jackpot hits."),
    def(JACKPOT_PAID, Kind::Counter, &["pool", "level"], "Jackpot amounts paid, minor units."),
    def(HALL_GGR, Kind::Gauge, &["hall"], "All-time gross gaming revenue (bets - wins) of a hall, minor units."),
    def(HALL_BETS, Kind::Gauge, &["hall"], "All-time bets of a hall, net of rollbacks, minor units."),
    def(HALL_WINS, Kind::Gauge, &["hall"], "All-time wins of a hall, minor units."),
    def(HALL_JACKPOTS, Kind::Gauge, &["hall"], "All-time jackpots paid to a hall's machines (progressive and mystery), minor units."),
    def(HALL_PROMO, Kind::Gauge, &["hall"], "All-time restricted promotional credits played on a hall's machines (part of bets, not revenue), minor units."),
    def(HALL_NET_WIN, Kind::Gauge, &["hall"], "All-time net win (bets - wins - jackpots - promotional credits played) of a hall, minor units."),
    def(MACHINES, Kind::Gauge, &["hall", "status"], "Machines by hall and status (online, offline, door_open, tilt)."),
    def(HANDPAYS_OPEN, Kind::Gauge, &[], "Handpays pending (machines locked up until an attendant pays and resets them), from the census."),
    def(VOUCHERS_OPEN, Kind::Gauge, &[], "Vouchers (TITO tickets) issued or held and not yet redeemed, expired or voided, from the census (RULES.md V-8)."),
    def(VOUCHER_LIABILITY, Kind::Gauge, &[], "Outstanding ticket liability: what the open vouchers are for, minor units, from the census (RULES.md V-8)."),
    def(HANDPAY_OLDEST_AGE, Kind::Gauge, &[], "Age of the oldest handpay pending, seconds (0 when none)."),
    def(STORE_FLUSH, Kind::Histogram, &[], "Duration of a store flush (state made durable)."),
    def(STORE_BACKLOG, Kind::Gauge, &[], "Entity states handed to the store and not yet durable."),
    def(STORE_ERRORS, Kind::Counter, &["op"], "Store errors, by operation (load, flush, other)."),
    def(CONSUMER_LAG, Kind::Gauge, &["topic", "partition"], "Kafka consumer lag in messages (high watermark - position)."),
    def(PARTITIONS_ASSIGNED, Kind::Gauge, &["topic"], "Kafka partitions assigned to this instance."),
    def(OFFSETS_COMMITTED, Kind::Counter, &[], "Kafka offset commits."),
    def(KAFKA_ERRORS, Kind::Counter, &["kind"], "Kafka client errors, by kind (consume, produce, commit, other)."),
    def(READY, Kind::Gauge, &[], "1 when ready (consuming and the store reachable), else 0."),
    def(BUILD_INFO, Kind::Gauge, &["version"], "Build information; the value is always 1."),
    def(FEED_CLIENTS, Kind::Gauge, &[], "Clients connected to the jackpot display feed."),
    def(FEED_LAGGED, Kind::Counter, &[], "Times a feed client fell behind and was resynchronised."),
    def(ADMIN_ACTIONS, Kind::Counter, &["action", "outcome"], "Admin API actions, by action and outcome."),
    def(GATEWAY_REQUESTS, Kind::Counter, &["scope", "op", "outcome"], "Synchronous gateway requests, by scope (wallet, vouchers), operation and outcome (applied, refused, conflict, invalid, timeout, unavailable, unauthorized)."),
    def(GATEWAY_SECONDS, Kind::Histogram, &["scope"], "Time from a gateway request to its answer or its timeout."),
    // Backups (issue 15).
    def(BACKUP_LAST_TIME, Kind::Gauge, &[], "When the last backup of the embedded store ended, seconds since the epoch."),
    def(BACKUP_LAST_SUCCESS, Kind::Gauge, &[], "1 if the last backup succeeded, else 0."),
    def(RESTORE_CHECK_LAST_TIME, Kind::Gauge, &[], "When the last restore check of a backup (restored and audited) ended, seconds since the epoch."),
    def(RESTORE_CHECK_LAST_SUCCESS, Kind::Gauge, &[], "1 if the last restore check restored the backup and audited it with no difference, else 0."),
];

/// Histogram buckets, seconds: 100 us to 30 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder (once per process; later calls return the same handle)
/// and describes every metric.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let mut builder = PrometheusBuilder::new();
            for m in METRICS.iter().filter(|m| m.kind == Kind::Histogram) {
                builder = builder
                    .set_buckets_for_metric(Matcher::Full(m.name.to_string()), LATENCY_BUCKETS)
                    .expect("non-empty buckets");
            }
            let handle = builder
                .install_recorder()
                .expect("the metrics recorder is installed once");
            for m in METRICS {
                let unit = if m.name.ends_with("_seconds") {
                    Unit::Seconds
                } else {
                    Unit::Count
                };
                match m.kind {
                    Kind::Counter => describe_counter!(m.name, unit, m.help),
                    Kind::Gauge => describe_gauge!(m.name, unit, m.help),
                    Kind::Histogram => describe_histogram!(m.name, unit, m.help),
                }
            }
            gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
            handle
        })
        .clone()
}

/// The installed recorder's handle, if [`install`] was called.
pub fn handle() -> Option<PrometheusHandle> {
    HANDLE.get().cloned()
}

/// Every event kind [`event_kind`] returns: the label set of [`EVENTS_IN`].
pub const EVENT_KINDS: [&str; 42] = [
    "bet",
    "win",
    "game_end",
    "cash_in",
    "cash_out",
    "card_in",
    "card_out",
    "jackpot_hit",
    "door_open",
    "door_close",
    "tilt",
    "tilt_clear",
    "comms_lost",
    "comms_restored",
    "wallet_deposit",
    "wallet_withdrawal",
    "wallet_bet",
    "wallet_win",
    "wallet_rollback",
    "meter_snapshot",
    "handpay_pending",
    "handpay_reset",
    "power_off",
    "power_on",
    "voucher_issue",
    "voucher_redeem",
    "voucher_commit",
    "voucher_cancel",
    "voucher_void",
    "kyc_status",
    "deposit_limit",
    "self_exclusion",
    "transfer_request",
    "transfer_cancel",
    "cashless_transfer",
    "loss_limit",
    "session_limit",
    "bonus_award",
    "shift_open",
    "desk_fill",
    "desk_credit",
    "shift_close",
];

/// The kind of an input event, one of [`EVENT_KINDS`].
pub fn event_kind(input: &Input) -> &'static str {
    EVENT_KINDS[event_kind_index(input)]
}

fn event_kind_index(input: &Input) -> usize {
    // Indices into EVENT_KINDS (same order); no string comparison on the hot path.
    match input {
        Input::Machine { cmd, .. } => match cmd {
            MachineCommand::Bet(_) => 0,
            MachineCommand::Win(_) => 1,
            MachineCommand::GameEnd => 2,
            MachineCommand::CashIn(..) => 3,
            MachineCommand::CashOut(..) => 4,
            MachineCommand::Transfer(_) => 34,
            MachineCommand::CardIn(_) => 5,
            MachineCommand::CardOut => 6,
            MachineCommand::JackpotHit { .. } => 7,
            MachineCommand::Significant(s) => match s {
                SignificantEvent::DoorOpen => 8,
                SignificantEvent::DoorClose => 9,
                SignificantEvent::Tilt(_) => 10,
                SignificantEvent::TiltClear => 11,
                SignificantEvent::CommsLost => 12,
                SignificantEvent::CommsRestored => 13,
                SignificantEvent::PowerOff => 22,
                SignificantEvent::PowerOn => 23,
            },
            MachineCommand::MeterSnapshot { .. } => 19,
            MachineCommand::HandpayPending { .. } => 20,
            MachineCommand::HandpayReset { .. } => 21,
        },
        Input::Wallet { cmd, .. } => match cmd.op {
            WalletOp::Deposit(_) => 14,
            WalletOp::Withdraw(_) => 15,
            WalletOp::Bet(_) => 16,
            WalletOp::Win { .. } => 17,
            WalletOp::Rollback { .. } => 18,
            WalletOp::Kyc(_) => 29,
            WalletOp::Limit {
                kind: LimitKind::Deposit,
                ..
            } => 30,
            WalletOp::Limit {
                kind: LimitKind::Loss,
                ..
            } => 35,
            WalletOp::SessionLimit { .. } => 36,
            WalletOp::SelfExclude { .. } => 31,
            WalletOp::TransferRequest { .. } => 32,
            WalletOp::TransferCancel { .. } => 33,
            WalletOp::BonusAward { .. } => 37,
        },
        Input::Voucher { cmd, .. } => match cmd.op {
            VoucherOp::Issue(_) => 24,
            VoucherOp::Redeem(_) => 25,
            VoucherOp::Commit => 26,
            VoucherOp::Cancel => 27,
            VoucherOp::Void(_) => 28,
        },
        Input::Desk { cmd, .. } => match cmd.op {
            DeskOp::Open { .. } => 38,
            DeskOp::Fill(_) => 39,
            DeskOp::Credit(_) => 40,
            DeskOp::Close { .. } => 41,
        },
    }
}

struct HotHandles {
    events_in: Vec<Counter>,
    rejected: Vec<Counter>,
    outputs: Vec<Counter>,
}

const OUTPUT_KINDS: [&str; 12] = [
    "ggr",
    "jackpot_levels",
    "jackpot_hit",
    "wallet",
    "alert",
    "rejected",
    "refused",
    "voucher",
    "rated_session",
    "aml_case",
    "transfer",
    "shift",
];

fn hot() -> &'static HotHandles {
    static HOT: OnceLock<HotHandles> = OnceLock::new();
    HOT.get_or_init(|| HotHandles {
        events_in: EVENT_KINDS
            .iter()
            .map(|k| counter!(EVENTS_IN, "kind" => *k))
            .collect(),
        rejected: REASON_CODES
            .iter()
            .map(|r| counter!(EVENTS_REJECTED, "reason" => *r))
            .collect(),
        outputs: OUTPUT_KINDS
            .iter()
            .map(|k| counter!(OUTPUTS, "kind" => *k))
            .collect(),
    })
}

/// An input event was decoded and routed (hot path: one cached atomic add).
pub fn event_in(input: &Input) {
    hot().events_in[event_kind_index(input)].increment(1);
}

/// An input message was rejected with `code` (one of [`REASON_CODES`]).
pub fn event_rejected(code: &str) {
    let i = REASON_CODES.iter().position(|r| *r == code).unwrap_or(0);
    hot().rejected[i].increment(1);
}

/// The kind label of an output.
pub fn output_kind(o: &Output) -> &'static str {
    OUTPUT_KINDS[output_kind_index(o)]
}

fn output_kind_index(o: &Output) -> usize {
    match o {
        Output::Ggr { .. } => 0,
        Output::JackpotLevels { .. } => 1,
        Output::JackpotHit { .. } => 2,
        Output::Wallet { .. } => 3,
        Output::Alert { .. } => 4,
        Output::Rejected { .. } => 5,
        Output::Refused { .. } => 6,
        Output::Voucher { .. } => 7,
        Output::RatedSession { .. } => 8,
        Output::AmlCase { .. } => 9,
        Output::Transfer { .. } => 10,
        Output::Shift { .. } => 11,
    }
}

fn alert_kind(a: &Alert) -> &'static str {
    a.code()
}

/// An output was handed to the sink: counts it, and follows jackpot levels and hits.
pub fn output_emitted(o: &Output) {
    hot().outputs[output_kind_index(o)].increment(1);
    match o {
        Output::Alert { alert, .. } => counter!(ALERTS, "kind" => alert_kind(alert)).increment(1),
        Output::JackpotLevels { pool, levels, .. } => {
            for l in levels {
                gauge!(JACKPOT_LEVEL, "pool" => pool.to_string(), "level" => l.name.clone())
                    .set(l.amount as f64);
            }
        }
        Output::JackpotHit { hit, .. } => {
            let (pool, level) = (hit.pool.to_string(), hit.name.clone());
            counter!(JACKPOT_HITS, "pool" => pool.clone(), "level" => level.clone()).increment(1);
            counter!(JACKPOT_PAID, "pool" => pool, "level" => level)
                .increment(hit.amount.minor().max(0) as u64);
        }
        _ => {}
    }
}

/// A batch of input events completed (everything they caused is done) `elapsed` after its
/// ingest began.
pub fn batch_completed(elapsed: Duration) {
    histogram!(PROCESSING_LATENCY).record(elapsed.as_secs_f64());
}

/// Input events in flight now.
pub fn inflight_events(n: usize) {
    gauge!(INFLIGHT_EVENTS).set(n as f64);
}

/// Copies the runtime's counters (actors, duplicates, refusals) into the metrics; cheap
/// (atomic loads), called at every scrape.
pub fn runtime_stats(rt: &Runtime) {
    let live = rt.live_actors();
    for kind in EntityKind::ALL {
        let (i, name) = (kind.index(), kind.name());
        gauge!(ACTORS_ACTIVE, "kind" => name).set(live[i] as f64);
        counter!(ACTORS_STARTED, "kind" => name)
            .absolute(rt.stats.started[i].load(Ordering::Relaxed));
        counter!(ACTORS_PASSIVATED, "kind" => name)
            .absolute(rt.stats.passivated[i].load(Ordering::Relaxed));
    }
    counter!(EVENTS_DUPLICATE).absolute(rt.stats.duplicates.load(Ordering::Relaxed));
    counter!(EVENTS_REFUSED).absolute(rt.stats.refused.load(Ordering::Relaxed));
}

/// Readiness as a gauge.
pub fn ready(ready: bool) {
    gauge!(READY).set(if ready { 1.0 } else { 0.0 });
}

/// A hall's all-time totals (from the census), minor units.
pub fn hall_totals(hall: &str, bets: i64, wins: i64, jackpots: i64, promo: i64) {
    let h = hall.to_string();
    gauge!(HALL_BETS, "hall" => h.clone()).set(bets as f64);
    gauge!(HALL_WINS, "hall" => h.clone()).set(wins as f64);
    gauge!(HALL_JACKPOTS, "hall" => h.clone()).set(jackpots as f64);
    gauge!(HALL_PROMO, "hall" => h.clone()).set(promo as f64);
    gauge!(HALL_NET_WIN, "hall" => h.clone()).set((bets - wins - jackpots - promo) as f64);
    gauge!(HALL_GGR, "hall" => h).set((bets - wins) as f64);
}

/// Machine counts of a hall by status (from the census).
pub fn machines_by_status(hall: &str, online: u64, offline: u64, door_open: u64, tilt: u64) {
    for (status, n) in [
        ("online", online),
        ("offline", offline),
        ("door_open", door_open),
        ("tilt", tilt),
    ] {
        gauge!(MACHINES, "hall" => hall.to_string(), "status" => status).set(n as f64);
    }
}

/// Handpays pending and the age of the oldest, ms (from the census, RULES.md M-10).
pub fn handpays_open(open: usize, oldest_age_ms: Option<i64>) {
    gauge!(HANDPAYS_OPEN).set(open as f64);
    gauge!(HANDPAY_OLDEST_AGE).set(oldest_age_ms.unwrap_or(0) as f64 / 1_000.0);
}

/// Open vouchers and what they are for (from the census, RULES.md V-8).
pub fn voucher_liability(open: usize, minor: i64) {
    gauge!(VOUCHERS_OPEN).set(open as f64);
    gauge!(VOUCHER_LIABILITY).set(minor as f64);
}

/// A checkpoint's flush made the stashed state durable in `elapsed` (the processor and the
/// demo call it after every successful flush).
pub fn store_flush(elapsed: Duration) {
    histogram!(STORE_FLUSH).record(elapsed.as_secs_f64());
}

/// States handed to the store and not yet durable.
pub fn store_backlog(entities: u64) {
    gauge!(STORE_BACKLOG).set(entities as f64);
}

/// A store operation failed; `op` is `load`, `flush` or anything else (counted as `other`).
pub fn store_error(op: &str) {
    let op = match op {
        "load" => "load",
        "flush" => "flush",
        _ => "other",
    };
    counter!(STORE_ERRORS, "op" => op).increment(1);
}

/// Consumer lag of one partition, messages (Kafka consumer: call it from the statistics
/// callback or after each poll round). `topic` is one of the configured topics.
pub fn consumer_lag(topic: &str, partition: i32, lag: i64) {
    gauge!(CONSUMER_LAG, "topic" => topic.to_string(), "partition" => partition.to_string())
        .set(lag.max(0) as f64);
}

/// Partitions of `topic` assigned to this instance (after every rebalance).
pub fn partitions_assigned(topic: &str, n: usize) {
    gauge!(PARTITIONS_ASSIGNED, "topic" => topic.to_string()).set(n as f64);
}

/// An offset commit succeeded.
pub fn offsets_committed() {
    counter!(OFFSETS_COMMITTED).increment(1);
}

/// A Kafka client error; `kind` is `consume`, `produce`, `commit` or anything else (`other`).
pub fn kafka_error(kind: &str) {
    let kind = match kind {
        "consume" => "consume",
        "produce" => "produce",
        "commit" => "commit",
        _ => "other",
    };
    counter!(KAFKA_ERRORS, "kind" => kind).increment(1);
}

/// Clients connected to the jackpot feed.
pub fn feed_clients(n: usize) {
    gauge!(FEED_CLIENTS).set(n as f64);
}

/// A feed client fell behind and was resynchronised.
pub fn feed_lagged() {
    counter!(FEED_LAGGED).increment(1);
}

/// A gateway request answered; every label comes from the gateway's fixed sets.
pub fn gateway_request(
    scope: &'static str,
    op: &'static str,
    outcome: &'static str,
    took: std::time::Duration,
) {
    counter!(GATEWAY_REQUESTS, "scope" => scope, "op" => op, "outcome" => outcome).increment(1);
    histogram!(GATEWAY_SECONDS, "scope" => scope).record(took.as_secs_f64());
}

/// An admin action; `action` and `outcome` come from the admin API's fixed sets.
pub fn admin_action(action: &'static str, outcome: &'static str) {
    counter!(ADMIN_ACTIONS, "action" => action, "outcome" => outcome).increment(1);
}

// --- Backups (issue 15) ---

/// A backup ended at `at_ms` (ms since the epoch), successfully or not (`store::backup`).
pub fn backup_result(at_ms: i64, ok: bool) {
    gauge!(BACKUP_LAST_TIME).set(at_ms as f64 / 1000.0);
    gauge!(BACKUP_LAST_SUCCESS).set(if ok { 1.0 } else { 0.0 });
}

/// A restore check ended at `at_ms`: the backup restored and audited clean, or not.
pub fn restore_check_result(at_ms: i64, ok: bool) {
    gauge!(RESTORE_CHECK_LAST_TIME).set(at_ms as f64 / 1000.0);
    gauge!(RESTORE_CHECK_LAST_SUCCESS).set(if ok { 1.0 } else { 0.0 });
}

// --- end of backups ---

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_prefixed() {
        let mut seen = std::collections::BTreeSet::new();
        for m in METRICS {
            assert!(m.name.starts_with("pitboss_"), "{}", m.name);
            assert!(seen.insert(m.name), "{} defined twice", m.name);
            if m.kind == Kind::Counter {
                assert!(m.name.ends_with("_total"), "{}", m.name);
            }
            for l in m.labels {
                assert!(
                    !["player", "machine", "event", "event_id", "tx"].contains(l),
                    "{} has an unbounded label {l}",
                    m.name
                );
            }
        }
    }
}
