//! Read APIs (JSON): machines, wallets, pools, halls and their GGR windows. Money is integer
//! minor units (`*_minor`); each amount is also given formatted in major units as text
//! (`amount`), with the currency, for display only.

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use pitboss_actors::domain::limits::{DepositPeriod, LimitKind, PeriodSums};
use pitboss_actors::domain::time::WINDOW_MS;
use pitboss_actors::domain::wallet::WalletState;
use pitboss_actors::domain::{
    Currency, HallId, MachineId, PlayerId, PoolId, ReportedMeter, ServerId, ValidationNo,
};
use pitboss_actors::shell::{
    DeskEntity, HallEntity, MachineEntity, Snapshot, VoucherEntity, WalletEntity,
};
use serde::{Deserialize, Serialize};

use super::auth::{authorize, Role};
use super::census::{status_of, STATUSES};
use super::error::ApiError;
use super::money::{format_minor, money, Money};
use super::state::HttpState;
use super::views::pool_view;

fn parse_id<T>(
    raw: &str,
    what: &str,
    new: fn(&str) -> Result<T, pitboss_actors::domain::DomainError>,
) -> Result<T, ApiError> {
    new(raw).map_err(|e| ApiError::bad_request(format!("bad {what}: {e}")))
}

fn read_guard(state: &HttpState, req: &HttpRequest) -> Result<(), ApiError> {
    if state.config.read_requires_key {
        authorize(&state.config.api_keys, req, Role::Viewer)?;
    }
    Ok(())
}

/// `GET /api/pools`: every pool with its levels.
pub async fn pools(state: web::Data<HttpState>) -> Result<HttpResponse, ApiError> {
    let mut out = Vec::new();
    for spec in state.runtime.pool_specs() {
        out.push(pool_view(&state, &spec).await?);
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({ "pools": out })))
}

/// `GET /api/pools/{id}`.
pub async fn pool(
    state: web::Data<HttpState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "pool id", PoolId::new)?;
    let spec = state
        .runtime
        .pool_spec(&id)
        .ok_or_else(|| ApiError::not_found(format!("pool {id} not found")))?;
    Ok(HttpResponse::Ok().json(pool_view(&state, &spec).await?))
}

#[derive(Serialize)]
struct MachineView {
    id: String,
    hall: String,
    currency: String,
    status: &'static str,
    online: bool,
    door_open: bool,
    tilt: Option<u32>,
    credits: Money,
    meters: BTreeMap<&'static str, i64>,
    last_seq: Option<u64>,
    last_event_time_ms: i64,
    game_open: bool,
    carded_player: Option<String>,
    pools: Vec<String>,
    /// RULES.md M-8: the newest meter snapshot compared, if any.
    last_snapshot: Option<SnapshotView>,
    /// RULES.md M-8: the meter variance not explained, by meter (only those not zero).
    meter_variance: BTreeMap<&'static str, i64>,
    /// RULES.md M-10: handpays pending, oldest first.
    handpays: Vec<HandpayView>,
}

#[derive(Serialize)]
struct HandpayView {
    kind: &'static str,
    amount: Money,
    event_id: String,
    hall: String,
    /// Booked time of the lock-up.
    since_ms: i64,
    /// Wall-clock time since then, seconds (0 if the booked time is ahead).
    age_secs: i64,
}

#[derive(Serialize)]
struct SnapshotView {
    event_id: String,
    time_ms: i64,
    reason: &'static str,
    /// The meters the machine reported.
    reported: BTreeMap<&'static str, i64>,
}

/// `GET /api/machines/{id}`.
pub async fn machine(
    state: web::Data<HttpState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    read_guard(&state, &req)?;
    let id = parse_id(&path, "machine id", MachineId::new)?;
    let Some(Snapshot::Machine(m)) = state.runtime.inspect::<MachineEntity>(&id).await? else {
        return Err(ApiError::not_found(format!("machine {id} not found")));
    };
    let cur = m.profile.currency.as_str().to_string();
    let mt = &m.meters;
    let meters = BTreeMap::from([
        ("coin_in_minor", mt.coin_in),
        ("coin_out_minor", mt.coin_out),
        ("games_played", mt.games_played),
        ("games_won", mt.games_won),
        ("bills_in_minor", mt.bills_in),
        ("tickets_in_minor", mt.tickets_in),
        ("tickets_out_minor", mt.tickets_out),
        ("cashless_in_minor", mt.cashless_in),
        ("cashless_out_minor", mt.cashless_out),
        ("handpaid_minor", mt.handpaid),
        ("jackpot_paid_minor", mt.jackpot_paid),
        ("jackpot_handpaid_minor", mt.jackpot_handpaid),
        ("doors_opened", mt.doors_opened),
        ("restricted_in_minor", mt.restricted_in),
        ("nonrestricted_in_minor", mt.nonrestricted_in),
        ("restricted_played_minor", mt.restricted_played),
    ]);
    let view = MachineView {
        id: m.id.to_string(),
        hall: m.profile.hall.to_string(),
        status: status_of(&m.status),
        online: m.status.online,
        door_open: m.status.door_open,
        tilt: m.status.tilt,
        credits: money(m.credits, &cur),
        meters,
        last_seq: m.last_seq(),
        last_event_time_ms: m.last_event_time.0,
        game_open: m.game_open,
        carded_player: m.session.as_ref().map(ToString::to_string),
        pools: m.profile.pools.iter().map(ToString::to_string).collect(),
        last_snapshot: m.baseline().map(|b| SnapshotView {
            event_id: b.cause.to_string(),
            time_ms: b.time.0,
            reason: b.reason.name(),
            reported: ReportedMeter::ALL
                .iter()
                .map(|r| (r.name(), b.reported.get(*r)))
                .collect(),
        }),
        meter_variance: ReportedMeter::ALL
            .iter()
            .map(|r| (r.name(), m.meter_variance().get(*r)))
            .filter(|(_, v)| *v != 0)
            .collect(),
        handpays: m
            .handpays
            .iter()
            .map(|h| HandpayView {
                kind: h.kind.name(),
                amount: money(h.amount, &cur),
                event_id: h.cause.to_string(),
                hall: h.hall.to_string(),
                since_ms: h.time.0,
                age_secs: (crate::clock::now_ms() - h.time.0).max(0) / 1_000,
            })
            .collect(),
        currency: cur,
    };
    Ok(HttpResponse::Ok().json(view))
}

/// Query of `GET /api/machines/{id}/events`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    before: Option<u64>,
    limit: Option<usize>,
}

#[derive(Serialize)]
struct LogView {
    number: u64,
    code: &'static str,
    time_ms: i64,
    event_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    tilt_code: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount_minor: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attendant: Option<String>,
    meters: BTreeMap<&'static str, i64>,
}

/// `GET /api/machines/{id}/events?before=&limit=`: the machine's event log (RULES.md M-9),
/// newest first, `limit` entries (default 50) numbered below `before` (default: from the
/// newest); `next_before` pages on. What the last checkpoint stored, plus what was handed to
/// the store since (a live machine's newest entries reach it at its next checkpoint).
pub async fn machine_events(
    state: web::Data<HttpState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    read_guard(&state, &req)?;
    let id = parse_id(&path, "machine id", MachineId::new)?;
    let Some(Snapshot::Machine(m)) = state.runtime.inspect::<MachineEntity>(&id).await? else {
        return Err(ApiError::not_found(format!("machine {id} not found")));
    };
    let newest = m.log_seq.saturating_add(1);
    let before = q.before.map_or(newest, |b| b.min(newest));
    let limit = q.limit.unwrap_or(50).min(state.config.list_len_max).max(1);
    let entries = state.runtime.store.machine_log(&id, before, limit).await?;
    let next_before = entries
        .last()
        .filter(|e| entries.len() == limit && e.number > 1)
        .map(|e| e.number);
    let events: Vec<LogView> = entries
        .into_iter()
        .map(|e| LogView {
            number: e.number,
            code: e.code.name(),
            time_ms: e.time.0,
            event_id: e.cause.to_string(),
            tilt_code: e.tilt,
            amount_minor: e.amount,
            attendant: e.attendant.as_ref().map(ToString::to_string),
            meters: ReportedMeter::ALL
                .iter()
                .map(|r| (r.name(), e.meters.get(*r)))
                .collect(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "machine": id.as_str(),
        "newest": m.log_seq,
        "events": events,
        "next_before": next_before,
    })))
}

/// Query of `GET /api/machines`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MachinesQuery {
    hall: Option<String>,
    status: Option<String>,
    limit: Option<usize>,
}

/// `GET /api/machines?hall=&status=&limit=`: machines from the census, filtered.
pub async fn machines(
    state: web::Data<HttpState>,
    req: HttpRequest,
    q: web::Query<MachinesQuery>,
) -> Result<HttpResponse, ApiError> {
    read_guard(&state, &req)?;
    if let Some(h) = &q.hall {
        parse_id(h, "hall id", HallId::new)?;
    }
    if let Some(s) = &q.status {
        if !STATUSES.contains(&s.as_str()) {
            return Err(ApiError::bad_request(format!(
                "bad status {s:?}: expected one of {}",
                STATUSES.join(", ")
            )));
        }
    }
    let limit = q.limit.unwrap_or(100).min(state.config.list_len_max).max(1);
    let page = state
        .census
        .machines(q.hall.as_deref(), q.status.as_deref(), limit);
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "census_at_ms": page.at_ms,
        "total": page.total,
        "truncated": page.total > page.machines.len(),
        "machines": page.machines,
    })))
}

/// `GET /api/handpays?limit=`: the handpays pending across the census's machines, oldest
/// first, with their age (RULES.md M-10).
pub async fn handpays(
    state: web::Data<HttpState>,
    req: HttpRequest,
    q: web::Query<LimitQuery>,
) -> Result<HttpResponse, ApiError> {
    read_guard(&state, &req)?;
    let limit = q.limit.unwrap_or(100).min(state.config.list_len_max).max(1);
    let page = state.census.handpays(limit);
    let now = crate::clock::now_ms();
    let handpays = with_age(&page.handpays, now, |h| h.since_ms);
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "census_at_ms": page.at_ms,
        "total": page.total,
        "truncated": page.total > page.handpays.len(),
        "handpays": handpays,
    })))
}

/// Each item as JSON with its `age_secs`: whole seconds from its `since` (booked time) to
/// `now` (0 if the booked time is ahead).
fn with_age<T: serde::Serialize>(
    items: &[T],
    now: i64,
    since: impl Fn(&T) -> i64,
) -> Vec<serde_json::Value> {
    items
        .iter()
        .map(|item| {
            let mut v = serde_json::to_value(item).unwrap_or_default();
            v["age_secs"] = ((now - since(item)).max(0) / 1_000).into();
            v
        })
        .collect()
}

/// Query of `GET /api/alerts`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsQuery {
    hall: Option<String>,
    limit: Option<usize>,
}

/// `GET /api/alerts?hall=&limit=`: the open alerts from the census (an alert raised and its
/// clear not seen yet: machines offline, doors open, tilts, meter variances not explained,
/// handpays pending, silent machines, offline halls), warnings first, then oldest first,
/// with their age and what clears each.
pub async fn alerts(
    state: web::Data<HttpState>,
    req: HttpRequest,
    q: web::Query<AlertsQuery>,
) -> Result<HttpResponse, ApiError> {
    read_guard(&state, &req)?;
    if let Some(h) = &q.hall {
        parse_id(h, "hall id", HallId::new)?;
    }
    let limit = q.limit.unwrap_or(100).min(state.config.list_len_max);
    let page = state.census.alerts(q.hall.as_deref(), limit);
    let now = crate::clock::now_ms();
    let alerts = with_age(&page.alerts, now, |a| a.since_ms);
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "census_at_ms": page.at_ms,
        "total": page.total,
        "truncated": page.total > page.alerts.len(),
        "by_code": page.by_code,
        "alerts": alerts,
    })))
}

/// Query of `GET /api/compliance/cases`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CasesQuery {
    player: Option<String>,
    status: Option<String>,
    limit: Option<usize>,
}

/// `GET /api/compliance/cases?player=&status=open|closed|all&limit=`: the AML cases (RULES.md
/// W-11), newest first, each with its evidence and whether (and how) it was closed; the
/// newest `aml-cases-kept` are kept (the compliance topic has them all). `pitboss run` reads
/// them from the compliance topic, the demo from its own outputs.
pub async fn aml_cases(
    state: web::Data<HttpState>,
    req: HttpRequest,
    q: web::Query<CasesQuery>,
) -> Result<HttpResponse, ApiError> {
    read_guard(&state, &req)?;
    if let Some(p) = &q.player {
        parse_id(p, "player id", PlayerId::new)?;
    }
    let status = match q.status.as_deref() {
        None => super::cases::Status::All,
        Some(s) => super::cases::Status::parse(s).ok_or_else(|| {
            ApiError::bad_request(format!("status {s:?}: expected open, closed or all"))
        })?,
    };
    let limit = q.limit.unwrap_or(100).min(state.config.list_len_max);
    let page = state.feed.cases.page(q.player.as_deref(), status, limit);
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "total": page.total,
        "opened": page.opened,
        "closed": page.closed,
        "truncated": page.total > page.cases.len(),
        "cases": page.cases,
    })))
}

/// Query of `GET /api/handpays`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitQuery {
    limit: Option<usize>,
}

/// `GET /api/halls`: every hall the census knows, with GGR and machine counts.
pub async fn halls(
    state: web::Data<HttpState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    read_guard(&state, &req)?;
    let page = state.census.halls(state.config.list_len_max);
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "census_at_ms": page.at_ms,
        "total": page.total,
        "truncated": page.total > page.halls.len(),
        "halls": page.halls,
    })))
}

/// A wallet as the API shows it: its money, and the player's KYC status and limits (RULES.md
/// W-8, W-9).
#[derive(Serialize)]
pub(super) struct WalletView {
    player: String,
    currency: String,
    balance: Money,
    credit_line_minor: i64,
    deposits_minor: i64,
    withdrawals_minor: i64,
    bets_minor: i64,
    wins_minor: i64,
    refunds_minor: i64,
    operations: u64,
    remembered_transactions: usize,
    /// `unverified`, `verified` or `blocked` (W-8).
    kyc: &'static str,
    /// The deposit limits in force, by period (W-9); absent periods have none.
    deposit_limits_minor: BTreeMap<&'static str, i64>,
    /// The loss limits in force, by period (W-9); absent periods have none.
    loss_limits_minor: BTreeMap<&'static str, i64>,
    /// Raised or removed limits waiting out the cooling-off.
    pending_limits: Vec<PendingLimit>,
    /// Deposited in the current day, week and month (each from the period's start).
    deposited: BTreeMap<&'static str, PeriodSum>,
    /// Lost (bets less wins and refunds) in the current day, week and month.
    lost: BTreeMap<&'static str, PeriodSum>,
    /// The session limit in force, in minutes (W-9).
    #[serde(skip_serializing_if = "Option::is_none")]
    session_limit_minutes: Option<i64>,
    /// The player's latest playing session: its first and latest bet or win.
    #[serde(skip_serializing_if = "Option::is_none")]
    session: Option<SessionView>,
    /// Self-excluded until then (ms), if an exclusion was ever set.
    #[serde(skip_serializing_if = "Option::is_none")]
    self_excluded_until_ms: Option<i64>,
    /// The loyalty points of the player's rated card sessions (RULES.md M-12).
    loyalty_points: i64,
    /// The player's cash of the latest local day any was counted in (RULES.md W-11).
    #[serde(skip_serializing_if = "Option::is_none")]
    patron_cash: Option<PatronCashView>,
    /// The player's bonus account, once a bonus was awarded (RULES.md W-12).
    #[serde(skip_serializing_if = "Option::is_none")]
    bonus: Option<BonusView>,
}

/// A wallet's bonus account (RULES.md W-12).
#[derive(Serialize)]
struct BonusView {
    balance_minor: i64,
    wagering_left_minor: i64,
    expires_at_ms: i64,
    /// Held for restricted transfers to machines.
    held_minor: i64,
    awarded_minor: i64,
    staked_minor: i64,
    won_minor: i64,
    refunded_minor: i64,
    converted_minor: i64,
    expired_minor: i64,
    to_machines_minor: i64,
}

#[derive(Serialize)]
struct PatronCashView {
    /// The local day's first instant, ms since the epoch.
    day_start_ms: i64,
    cash_in_minor: i64,
    cash_out_minor: i64,
    /// AML cases the day opened (RULES.md W-11), by way and threshold.
    cases_opened: Vec<&'static str>,
}

#[derive(Serialize)]
struct SessionView {
    start_ms: i64,
    last_ms: i64,
}

#[derive(Serialize)]
struct PendingLimit {
    /// `deposit`, `loss` or `session`.
    kind: &'static str,
    /// The period of a deposit or loss limit (a session limit has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    period: Option<&'static str>,
    /// The new deposit or loss limit; absent: the limit is removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    limit_minor: Option<i64>,
    /// The new session limit in minutes; absent: the limit is removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    limit_minutes: Option<i64>,
    effective_at_ms: i64,
}

#[derive(Serialize)]
struct PeriodSum {
    since_ms: i64,
    minor: i64,
}

/// The API's view of a wallet's state.
pub(super) fn wallet_view(w: &WalletState) -> WalletView {
    let cur = w.currency.as_str();
    let limits = w.limits.as_deref();
    let in_force = |kind| {
        let Some(l) = limits else {
            return BTreeMap::new();
        };
        DepositPeriod::ALL
            .iter()
            .zip(*l.in_force(kind))
            .filter_map(|(p, limit)| Some((p.name(), limit?)))
            .collect()
    };
    let per_period = |sums: PeriodSums| {
        DepositPeriod::ALL
            .iter()
            .zip(sums)
            .map(|(p, (since, minor))| {
                (
                    p.name(),
                    PeriodSum {
                        since_ms: since.0,
                        minor,
                    },
                )
            })
            .collect()
    };
    let mut pending_limits = Vec::new();
    if let Some(l) = limits {
        pending_limits = l
            .pending
            .iter()
            .map(|(kind, p, limit, at)| PendingLimit {
                kind: kind.name(),
                period: Some(p.name()),
                limit_minor: *limit,
                limit_minutes: None,
                effective_at_ms: at.0,
            })
            .collect();
        if let Some((limit, at)) = l.session_pending {
            pending_limits.push(PendingLimit {
                kind: "session",
                period: None,
                limit_minor: None,
                limit_minutes: limit.map(|ms| ms / 60_000),
                effective_at_ms: at.0,
            });
        }
    }
    WalletView {
        player: w.id.to_string(),
        currency: cur.to_string(),
        balance: money(w.balance, cur),
        credit_line_minor: w.credit_line,
        deposits_minor: w.totals.deposits,
        withdrawals_minor: w.totals.withdrawals,
        bets_minor: w.totals.bets,
        wins_minor: w.totals.wins,
        refunds_minor: w.totals.refunds,
        operations: w.ops,
        remembered_transactions: w.window_order.len(),
        kyc: w.kyc.name(),
        deposit_limits_minor: in_force(LimitKind::Deposit),
        loss_limits_minor: in_force(LimitKind::Loss),
        pending_limits,
        deposited: per_period(w.deposited),
        lost: per_period(w.lost),
        session_limit_minutes: limits.and_then(|l| l.session).map(|ms| ms / 60_000),
        session: w.session.map(|s| SessionView {
            start_ms: s.start.0,
            last_ms: s.last.0,
        }),
        self_excluded_until_ms: limits.and_then(|l| l.excluded_until).map(|t| t.0),
        loyalty_points: w.points(),
        patron_cash: w.cash.as_deref().map(|c| PatronCashView {
            day_start_ms: c.day.0,
            cash_in_minor: c.cash_in,
            cash_out_minor: c.cash_out,
            cases_opened: [
                (1, "in_log"),
                (2, "in_report"),
                (4, "out_log"),
                (8, "out_report"),
            ]
            .into_iter()
            .filter(|(bit, _)| c.opened & bit != 0)
            .map(|(_, name)| name)
            .collect(),
        }),
        bonus: w.bonus.as_deref().map(|b| BonusView {
            balance_minor: b.balance,
            wagering_left_minor: b.wagering_left,
            expires_at_ms: b.expires.0,
            held_minor: w.restricted_held(),
            awarded_minor: b.awarded,
            staked_minor: b.staked,
            won_minor: b.won,
            refunded_minor: b.refunded,
            converted_minor: b.converted,
            expired_minor: b.expired,
            to_machines_minor: b.to_machines,
        }),
    }
}

/// `GET /api/wallets/{id}`.
pub async fn wallet(
    state: web::Data<HttpState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    read_guard(&state, &req)?;
    let id = parse_id(&path, "player id", PlayerId::new)?;
    let Some(Snapshot::Wallet(w)) = state.runtime.inspect::<WalletEntity>(&id).await? else {
        return Err(ApiError::not_found(format!(
            "wallet of player {id} not found"
        )));
    };
    Ok(HttpResponse::Ok().json(wallet_view(&w)))
}

/// A voucher as the API shows it (RULES.md V).
#[derive(Serialize)]
pub(super) struct VoucherView {
    validation: String,
    /// `unissued`, `issued`, `held`, `redeemed`, `expired` or `voided`.
    status: &'static str,
    currency: String,
    amount_minor: i64,
    amount: Money,
    /// What the house owes on it (its amount while issued or held).
    liability_minor: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    issuing_hall: Option<String>,
    /// `machine <id>` or `desk <id>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    issued_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    issued_at_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at_ms: Option<i64>,
    /// Held: who holds it and until when; redeemed: by whom and when.
    #[serde(skip_serializing_if = "Option::is_none")]
    holder: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hold_until_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    redeemed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    redeemed_at_ms: Option<i64>,
    /// Expired or voided: when (and a void's reason).
    #[serde(skip_serializing_if = "Option::is_none")]
    closed_at_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    void_reason: Option<String>,
    /// Variances (RULES.md V-5): credited by machines beyond what it covered, and printed
    /// by machines under its number after its issue.
    unbacked_minor: i64,
    reprinted_minor: i64,
    /// Commands it keeps the answers of (RULES.md V-7).
    remembered_commands: usize,
}

/// `GET /api/vouchers/{validation}`: one voucher (a live actor, else the store).
pub async fn voucher(
    state: web::Data<HttpState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    use pitboss_actors::domain::voucher::VoucherStatus as S;
    read_guard(&state, &req)?;
    let id = parse_id(&path, "validation number", ValidationNo::new)?;
    let Some(Snapshot::Voucher(v)) = state.runtime.inspect::<VoucherEntity>(&id).await? else {
        return Err(ApiError::not_found(format!("voucher {id} not found")));
    };
    if v.status == S::Unissued {
        return Err(ApiError::not_found(format!(
            "voucher {id} was never issued"
        )));
    }
    Ok(HttpResponse::Ok().json(voucher_view(&v)))
}

/// `GET /api/desks/{id}`: a cash desk (RULES.md D): its open shift with the drawer's
/// expected cash, its latest closed shift, its unshifted cash (a live actor, else the store).
pub async fn desk(
    state: web::Data<HttpState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    read_guard(&state, &req)?;
    let id = parse_id(&path, "desk id", ServerId::new)?;
    let Some(Snapshot::Desk(d)) = state.runtime.inspect::<DeskEntity>(&id).await? else {
        return Err(ApiError::not_found(format!("desk {id} not found")));
    };
    let cur = d.currency.as_str();
    let shift = |s: &pitboss_actors::domain::desk::ShiftFigures| {
        serde_json::json!({
            "shift": s.number,
            "cashier": s.cashier,
            "opened_at_ms": s.opened_at.0,
            "closed_at_ms": s.closed_at.map(|t| t.0),
            "float_minor": s.float,
            "cash_in_minor": s.cash_in,
            "cash_out_minor": s.cash_out,
            "fills_minor": s.fills,
            "credits_minor": s.credits,
            "expected_minor": s.expected(),
            "expected": money(s.expected(), cur),
            "counted_minor": s.counted,
            "variance_minor": s.variance(),
            "operations": s.operations,
            "revision": s.revision,
        })
    };
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "desk": d.id.to_string(),
        "hall": d.hall.as_ref().map(|h| h.to_string()),
        "currency": cur,
        "shifts_opened": d.next,
        "open_shift": d.open.as_ref().map(shift),
        "last_closed_shift": d.closed.back().map(shift),
        "unshifted_in_minor": d.unshifted_in,
        "unshifted_out_minor": d.unshifted_out,
        "cash_in_minor": d.cash_in,
        "cash_out_minor": d.cash_out,
    })))
}

/// The API's view of a voucher's state.
pub(super) fn voucher_view(v: &pitboss_actors::domain::voucher::VoucherState) -> VoucherView {
    use pitboss_actors::domain::voucher::VoucherStatus as S;
    let cur = v.currency.as_str();
    let issue = v.issue.as_ref();
    let (holder, hold_until, redeemed_by, redeemed_at, closed_at, void_reason) = match &v.status {
        S::Held { by, until } => (Some(by.to_string()), Some(until.0), None, None, None, None),
        S::Redeemed { by, at } => (None, None, Some(by.to_string()), Some(at.0), None, None),
        S::Expired { at } => (None, None, None, None, Some(at.0), None),
        S::Voided { at, reason } => (None, None, None, None, Some(at.0), Some(reason.clone())),
        S::Issued | S::Unissued => (None, None, None, None, None, None),
    };
    VoucherView {
        validation: v.number.to_string(),
        status: v.status.name(),
        currency: cur.to_string(),
        amount_minor: v.amount(),
        amount: money(v.amount(), cur),
        liability_minor: v.liability(),
        issuing_hall: issue.map(|i| i.hall.to_string()),
        issued_by: issue.map(|i| i.by.to_string()),
        issued_at_ms: issue.map(|i| i.at.0),
        expires_at_ms: issue.and_then(|i| i.expires).map(|t| t.0),
        holder,
        hold_until_ms: hold_until,
        redeemed_by,
        redeemed_at_ms: redeemed_at,
        closed_at_ms: closed_at,
        void_reason,
        unbacked_minor: v.unbacked,
        reprinted_minor: v.reprinted,
        remembered_commands: v.answered.len(),
    }
}

/// `GET /api/vouchers/liability`: outstanding ticket liability per issuing hall and in
/// total, from the census (RULES.md V-8).
pub async fn voucher_liability(
    state: web::Data<HttpState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    read_guard(&state, &req)?;
    let page = state.census.liability();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "census_at_ms": page.at_ms,
        "currency": page.currency,
        "open_vouchers": page.open_vouchers,
        "liability_minor": page.liability_minor,
        "liability": format_minor(page.liability_minor, &page.currency),
        "halls": page.halls,
    })))
}

/// Query of `GET /api/halls/{id}/ggr`: window starts, ms since the Unix epoch.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GgrQuery {
    from: Option<i64>,
    to: Option<i64>,
}

/// One GGR window.
#[derive(Serialize)]
struct WindowView {
    start_ms: i64,
    end_ms: i64,
    bets_minor: i64,
    wins_minor: i64,
    ggr_minor: i64,
    ggr: String,
    jackpots_minor: i64,
    promo_minor: i64,
    net_win_minor: i64,
    games: i64,
    revision: u32,
    published: bool,
}

/// `GET /api/halls/{id}/ggr?from=&to=`: the hall's one-minute windows whose start is in
/// `[from, to)` (ms since the epoch; both optional), oldest first, and its all-time totals.
pub async fn hall_ggr(
    state: web::Data<HttpState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<GgrQuery>,
) -> Result<HttpResponse, ApiError> {
    read_guard(&state, &req)?;
    let id = parse_id(&path, "hall id", HallId::new)?;
    let from = q.from.unwrap_or(i64::MIN);
    let to = q.to.unwrap_or(i64::MAX);
    if from > to {
        return Err(ApiError::bad_request(format!(
            "from {from} is after to {to}"
        )));
    }
    let Some(Snapshot::Hall(h)) = state.runtime.inspect::<HallEntity>(&id).await? else {
        return Err(ApiError::not_found(format!("hall {id} not found")));
    };
    let currency: Currency = state.runtime.config.currency;
    let cur = currency.as_str();
    let windows: Vec<WindowView> = h
        .windows
        .iter()
        .filter(|(start, _)| start.0 >= from && start.0 < to)
        .take(state.config.list_len_max)
        .map(|(start, w)| WindowView {
            start_ms: start.0,
            end_ms: start.0 + WINDOW_MS,
            bets_minor: w.totals.bets,
            wins_minor: w.totals.wins,
            ggr_minor: w.totals.ggr(),
            ggr: format_minor(w.totals.ggr(), cur),
            jackpots_minor: w.totals.jackpots,
            promo_minor: w.totals.promo,
            net_win_minor: w.totals.net_win(),
            games: w.totals.games,
            revision: w.revision,
            published: w.closed,
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "hall": h.id.to_string(),
        "currency": cur,
        "window_ms": WINDOW_MS,
        "totals": {
            "bets_minor": h.totals.bets,
            "wins_minor": h.totals.wins,
            "ggr_minor": h.totals.ggr(),
            "ggr": format_minor(h.totals.ggr(), cur),
            "jackpots_minor": h.totals.jackpots,
            "promo_minor": h.totals.promo,
            "net_win_minor": h.totals.net_win(),
            "games": h.totals.games,
        },
        "windows": windows,
    })))
}

/// A report's `format`: CSV or JSON (the default).
fn csv_asked(format: Option<&str>) -> Result<bool, ApiError> {
    match format {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "format {other:?} (expected json or csv)"
        ))),
    }
}

/// What the reports read from, if this process keeps stored state.
fn reports_of(state: &HttpState) -> Result<std::sync::Arc<crate::report::Reports>, ApiError> {
    state.reports.clone().ok_or_else(|| {
        ApiError::unavailable("no reports: this process keeps no stored state (store.kind memory)")
    })
}

/// Query of `GET /api/reports/gaming-day`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GamingDayQuery {
    date: String,
    hall: Option<String>,
    format: Option<String>,
    level: Option<String>,
}

/// `GET /api/reports/gaming-day?date=&hall=&format=json|csv&level=halls|machines`: one
/// gaming day per hall and for the network, each hall's day in its own time zone from its
/// rollover (issue 13), summed from the stored GGR windows; with `level=machines` also one
/// row per machine from the stored ledger (in CSV, the machine rows instead of the halls').
pub async fn gaming_day(
    state: web::Data<HttpState>,
    req: HttpRequest,
    q: web::Query<GamingDayQuery>,
) -> Result<HttpResponse, ApiError> {
    read_guard(&state, &req)?;
    let csv = csv_asked(q.format.as_deref())?;
    let machines = match q.level.as_deref() {
        None | Some("halls") => false,
        Some("machines") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "level {other:?} (expected halls or machines)"
            )))
        }
    };
    let reports = reports_of(&state)?;
    let mut report = crate::report::read_gaming_day(
        reports.source.as_ref(),
        &reports.days,
        &q.date,
        q.hall.as_deref(),
        &reports.currency,
    )
    .await?;
    if machines {
        report
            .add_machines(
                reports.source.as_ref(),
                &reports.days,
                q.hall.as_deref(),
                &reports.holds,
            )
            .await?;
    }
    Ok(if csv {
        HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(if machines {
                report.machines_csv()
            } else {
                report.csv()
            })
    } else {
        HttpResponse::Ok().json(report)
    })
}

/// Query of `GET /api/reports/shifts`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShiftsQuery {
    date: String,
    hall: Option<String>,
    format: Option<String>,
}

/// `GET /api/reports/shifts?date=&hall=&format=json|csv`: the cash desks' closed shifts of a
/// gaming day (RULES.md D-8), with their totals per cashier, per desk and for the day, read
/// from the stored desks.
pub async fn shifts(
    state: web::Data<HttpState>,
    req: HttpRequest,
    q: web::Query<ShiftsQuery>,
) -> Result<HttpResponse, ApiError> {
    read_guard(&state, &req)?;
    let csv = csv_asked(q.format.as_deref())?;
    let reports = reports_of(&state)?;
    let report = crate::report::shifts::read_shifts(
        reports.source.as_ref(),
        &reports.days,
        &q.date,
        q.hall.as_deref(),
        &reports.currency,
    )
    .await?;
    Ok(if csv {
        HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(report.csv())
    } else {
        HttpResponse::Ok().json(report)
    })
}

/// Query of `GET /api/reports/patrons`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatronsQuery {
    date: String,
    player: Option<String>,
    format: Option<String>,
}

/// `GET /api/reports/patrons?date=&player=&format=json|csv`: every patron's cash in and out
/// of one local day of the jurisdiction (RULES.md W-11), with the threshold each total
/// reached, from the wallets' stored ledgers.
pub async fn patrons(
    state: web::Data<HttpState>,
    req: HttpRequest,
    q: web::Query<PatronsQuery>,
) -> Result<HttpResponse, ApiError> {
    read_guard(&state, &req)?;
    let csv = csv_asked(q.format.as_deref())?;
    let reports = reports_of(&state)?;
    let report = crate::report::patrons::read_patrons(
        reports.source.as_ref(),
        &reports.patron_time_zone,
        &reports.aml,
        &q.date,
        q.player.as_deref(),
        &reports.currency,
    )
    .await?;
    Ok(if csv {
        HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(crate::report::patrons::csv(&report))
    } else {
        HttpResponse::Ok().json(report)
    })
}

/// Anything else: 404 as JSON.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    ApiError::not_found(format!("no route for {} {}", req.method(), req.path())).error_response()
}
