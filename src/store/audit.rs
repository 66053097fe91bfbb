//! `pitboss audit`: recomputes every entity's totals from the money ledger and compares them
//! with the stored state. Any difference is reported by entity, with both values.
//!
//! What is checked, per entity:
//! - the ledger's movements are numbered 1..=n without gaps, and n is the movement count
//!   stored with the state;
//! - machines: credits = the sum of credit movements = the last entry's balance; every money
//!   meter (coin in/out, bills, tickets in/out, cashless in/out, handpaid, jackpot paid,
//!   jackpot handpaid) = the
//!   sum of its movements;
//! - wallets: balance = the sum of movements = the last balance; deposits, withdrawals,
//!   bets, wins, refunds = the sums of their movements;
//! - pools, per level: contributed, seeded and paid = the sums of contributions, seeds and
//!   hits; the holdings (level + reserve + remainder) = the sum of the level's movements =
//!   the level's last balance;
//! - vouchers: the liability (the amount while issued or held, else 0) = the sum of its
//!   movements = the last balance; issued, redeemed, expired and voided = the sums of their
//!   movements, each the whole amount or nothing as the status says;
//! - halls (where the store keeps GGR rows): all-time bets, wins and games = the sums over
//!   the hall's stored windows;
//! - no ledger without a stored state;
//! - no input moved an entity twice: one input event is the cause of at most one movement of
//!   a kind (and level) per entity (pool contributions, summed per checkpoint, and jackpot
//!   awards, whose level is the pool's, are left out: their causes may repeat honestly);
//! - every entry's balance is the previous entry's balance plus its amount (per entity; per
//!   level for pools, per cash and bonus for wallets), starting from zero: the running
//!   balance is a chain without a break;
//! - a store that records input positions holds state: positions with no state mean the
//!   state was lost (or never written) while the input was marked consumed, and an audit of
//!   such a store is not "0 differences".

use std::collections::{BTreeMap, HashMap};

use pitboss_actors::domain::desk::DeskState;
use pitboss_actors::domain::jackpot::MICRO;
use pitboss_actors::domain::{HallId, Timestamp};
use pitboss_actors::shell::ports::BoxFuture;
use pitboss_actors::shell::{
    EntityKey, LedgerEntry, MemoryStore, Movement, Position, Snapshot, StoreError, Stored,
};
use serde::Serialize;

use super::codec::GgrRow;

/// Where an audit reads from.
pub trait AuditSource: Send + Sync {
    /// Every stored entity state, with its movement count.
    fn entities(&self) -> BoxFuture<Result<Vec<Stored>, StoreError>>;
    /// Hands every stored ledger entry to `sink`, then hands the sink back.
    fn scan_ledger(
        &self,
        sink: Box<dyn LedgerSink>,
    ) -> BoxFuture<Result<Box<dyn LedgerSink>, StoreError>>;
    /// Every stored GGR window; `None` if this store keeps no GGR rows.
    fn ggr_rows(&self) -> BoxFuture<Result<Option<Vec<GgrRow>>, StoreError>>;
    /// The stored GGR windows whose start is in `[from, to)`, of `hall` or of every hall;
    /// `None` if this store keeps no GGR rows. By default a filtered
    /// [`AuditSource::ggr_rows`]; a store that can read a range per hall does so (the
    /// embedded and CQL stores).
    fn ggr_rows_between(
        &self,
        from: Timestamp,
        to: Timestamp,
        hall: Option<HallId>,
    ) -> BoxFuture<Result<Option<Vec<GgrRow>>, StoreError>> {
        let all = self.ggr_rows();
        Box::pin(async move {
            Ok(all.await?.map(|rows| {
                rows.into_iter()
                    .filter(|r| r.window >= from && r.window < to)
                    .filter(|r| hall.as_ref().is_none_or(|h| *h == r.hall))
                    .collect()
            }))
        })
    }
    /// Every stored cash desk (RULES.md D): the shift report's source. By default the
    /// desks among [`AuditSource::entities`]; the embedded and CQL stores read only them.
    fn desks(&self) -> BoxFuture<Result<Vec<DeskState>, StoreError>> {
        let all = self.entities();
        Box::pin(async move {
            Ok(all
                .await?
                .into_iter()
                .filter_map(|s| match s.snapshot {
                    Snapshot::Desk(d) => Some(d),
                    _ => None,
                })
                .collect())
        })
    }
    /// The input positions stored with the last checkpoint.
    fn positions(&self) -> BoxFuture<Result<Vec<Position>, StoreError>> {
        Box::pin(async { Ok(Vec::new()) })
    }
    /// Every partition's newest claim (`StateStore::claim`); `None` for a store that fences
    /// nothing (one instance's).
    fn claims(&self) -> BoxFuture<Result<Option<Vec<Claim>>, StoreError>> {
        Box::pin(async { Ok(None) })
    }
}

/// A partition's newest claim in a store several instances share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    pub topic: String,
    pub partition: i32,
    /// How many claims the partition has had.
    pub fence: i64,
    /// The instance (`store.scylla.instance`) that made the newest.
    pub instance: String,
}

/// What a scan of the stored ledger hands each entry to: the audit's totals
/// ([`LedgerTotals`]), the gaming-day report's machine rows (`crate::report`).
pub trait LedgerSink: Send + 'static {
    /// One entry of `key`'s ledger.
    fn add(&mut self, key: &EntityKey, e: &LedgerEntry);
    /// Back to the sink's own type, after the scan.
    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any>;
}

/// Scans `src`'s ledger into `sink` and gives it back as its own type.
pub async fn scan_into<S: LedgerSink>(src: &dyn AuditSource, sink: S) -> Result<S, StoreError> {
    let back = src.scan_ledger(Box::new(sink)).await?;
    back.into_any()
        .downcast::<S>()
        .map(|s| *s)
        .map_err(|_| StoreError::permanent("a ledger scan handed back another sink"))
}

impl LedgerSink for LedgerTotals {
    fn add(&mut self, key: &EntityKey, e: &LedgerEntry) {
        LedgerTotals::add(self, key, e)
    }
    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any> {
        self
    }
}

/// Per-entity sums of the ledger (bounded by the number of entities, not of entries).
#[derive(Default)]
pub struct LedgerTotals {
    per: HashMap<EntityKey, EntityTotals>,
    entries: u64,
}

#[derive(Default)]
struct EntityTotals {
    count: u64,
    min_n: u64,
    max_n: u64,
    /// Sum of amounts per (movement, level).
    sums: Vec<(Movement, u8, i128)>,
    /// Per level: the highest movement number seen and its balance.
    last: Vec<(u8, u64, i64)>,
    /// Causes seen, per (cause, movement, level), with the movement number.
    causes: HashMap<(u128, Movement, u8), u64>,
    /// Inputs that moved the entity twice: (cause, movement, level, first n, second n).
    twice: Vec<(u128, Movement, u8, u64, u64)>,
    /// Every entry's (chain, n, amount, balance, moves the balance), to check the chain.
    chain: Vec<(u8, u64, i64, i64, bool)>,
}

impl LedgerTotals {
    /// Adds one entry of `key`'s ledger.
    pub fn add(&mut self, key: &EntityKey, e: &LedgerEntry) {
        self.entries += 1;
        let t = match self.per.get_mut(key) {
            Some(t) => t,
            None => self.per.entry(key.clone()).or_default(),
        };
        if t.count == 0 || e.n < t.min_n {
            t.min_n = e.n;
        }
        t.max_n = t.max_n.max(e.n);
        t.count += 1;
        match t
            .sums
            .iter_mut()
            .find(|(k, l, _)| *k == e.kind && *l == e.level)
        {
            Some(s) => s.2 += e.amount as i128,
            None => t.sums.push((e.kind, e.level, e.amount as i128)),
        }
        // Pool contributions are summed per checkpoint (their cause is the last one folded
        // in) and a machine's jackpot awards carry the pool's level, so two awards of one bet
        // from two pools may share it: neither is one movement per input.
        let per_input =
            e.causes == 1 && !matches!(e.kind, Movement::Contribution | Movement::JackpotPaid);
        if per_input {
            if let Some(first) = t.causes.insert((e.cause.0, e.kind, e.level), e.n) {
                t.twice.push((e.cause.0, e.kind, e.level, first, e.n));
            }
        }
        // Pools keep one balance per level, wallets one for their cash and one for their
        // bonus (RULES.md W-12); machines one for all their entries.
        // Desks one for the drawer and one for unshifted cash (RULES.md D-9).
        let chain = if matches!(
            key,
            EntityKey::Pool(_) | EntityKey::Wallet(_) | EntityKey::Desk(_)
        ) {
            e.level
        } else {
            0
        };
        // A jackpot award and a jackpot handpay are paid by hand: they pass the machine's
        // meters, not its credits; promotional credits played are part of a bet's entry;
        // games are a count (RULES.md H-4), a patron's cash counted a record (W-11).
        let moves = !matches!(
            e.kind,
            Movement::JackpotPaid
                | Movement::HandpaidWin
                | Movement::PromoPlayed
                | Movement::Games
                | Movement::PatronCashIn
                | Movement::PatronCashOut
        );
        t.chain.push((chain, e.n, e.amount, e.balance, moves));
        match t.last.iter_mut().find(|(l, _, _)| *l == e.level) {
            Some(last) => {
                if e.n > last.1 {
                    *last = (e.level, e.n, e.balance);
                }
            }
            None => t.last.push((e.level, e.n, e.balance)),
        }
    }

    /// Entries added.
    pub fn entries(&self) -> u64 {
        self.entries
    }
}

impl EntityTotals {
    fn sum(&self, kind: Movement, level: u8) -> i128 {
        self.sums
            .iter()
            .filter(|(k, l, _)| *k == kind && *l == level)
            .map(|s| s.2)
            .sum()
    }

    fn level_sum(&self, level: u8) -> i128 {
        self.sums
            .iter()
            .filter(|(_, l, _)| *l == level)
            .map(|s| s.2)
            .sum()
    }

    fn last_balance(&self, level: u8) -> Option<i64> {
        self.last.iter().find(|l| l.0 == level).map(|l| l.2)
    }
}

/// The outcome of an audit.
#[derive(Debug, Default, Serialize)]
pub struct AuditReport {
    /// Entities with a stored state.
    pub entities: u64,
    /// Ledger entries read.
    pub ledger_entries: u64,
    /// Halls whose GGR was checked against stored windows.
    pub halls_checked: u64,
    /// Input positions stored.
    pub positions: u64,
    /// Every difference found, one line each.
    pub differences: Vec<String>,
}

impl AuditReport {
    /// No difference.
    pub fn ok(&self) -> bool {
        self.differences.is_empty()
    }
}

/// Audits a store.
pub async fn audit(src: &dyn AuditSource) -> Result<AuditReport, StoreError> {
    let states = src.entities().await?;
    let mut totals = scan_into(src, LedgerTotals::default()).await?;
    let ggr = src.ggr_rows().await?;
    let positions = src.positions().await?;
    let mut report = AuditReport {
        entities: states.len() as u64,
        ledger_entries: totals.entries,
        positions: positions.len() as u64,
        ..Default::default()
    };
    if states.is_empty() && !positions.is_empty() {
        let consumed: Vec<String> = positions
            .iter()
            .map(|p| format!("{}/{}@{}", p.topic, p.partition, p.next_offset))
            .collect();
        report.differences.push(format!(
            "the store records input consumed up to {} but holds no state: the state is lost, or was never written",
            consumed.join(", ")
        ));
    }
    let mut ggr_by_hall: Option<HashMap<HallId, (i128, i128, i128)>> = ggr.map(|rows| {
        let mut m: HashMap<HallId, (i128, i128, i128)> = HashMap::new();
        for r in rows {
            let e = m.entry(r.hall).or_default();
            e.0 += r.totals.bets as i128;
            e.1 += r.totals.wins as i128;
            e.2 += r.totals.games as i128;
        }
        m
    });
    let d = &mut report.differences;
    for stored in &states {
        let key = stored.snapshot.key();
        let t = totals.per.remove(&key).unwrap_or_default();
        let name = entity_name(&key);
        check_numbering(d, &name, &t, stored.movements);
        check_causes_and_chain(d, &name, &t);
        match &stored.snapshot {
            Snapshot::Machine(m) => {
                let credit_kinds = [
                    Movement::Bet,
                    Movement::Win,
                    Movement::BillIn,
                    Movement::TicketIn,
                    Movement::CashlessIn,
                    Movement::TicketOut,
                    Movement::CashlessOut,
                    Movement::Handpay,
                    Movement::RestrictedIn,
                    Movement::NonRestrictedIn,
                ];
                let credits: i128 = credit_kinds.iter().map(|k| t.sum(*k, 0)).sum();
                let mt = &m.meters;
                let checks: [(&str, i128, i128); 16] = [
                    ("credits", m.credits as i128, credits),
                    (
                        "games played",
                        mt.games_played as i128,
                        t.sum(Movement::Games, 0),
                    ),
                    (
                        "restricted in",
                        mt.restricted_in as i128,
                        t.sum(Movement::RestrictedIn, 0),
                    ),
                    (
                        "nonrestricted in",
                        mt.nonrestricted_in as i128,
                        t.sum(Movement::NonRestrictedIn, 0),
                    ),
                    (
                        "restricted played",
                        mt.restricted_played as i128,
                        t.sum(Movement::PromoPlayed, 0),
                    ),
                    ("coin in", mt.coin_in as i128, -t.sum(Movement::Bet, 0)),
                    ("coin out", mt.coin_out as i128, t.sum(Movement::Win, 0)),
                    ("bills in", mt.bills_in as i128, t.sum(Movement::BillIn, 0)),
                    (
                        "tickets in",
                        mt.tickets_in as i128,
                        t.sum(Movement::TicketIn, 0),
                    ),
                    (
                        "cashless in",
                        mt.cashless_in as i128,
                        t.sum(Movement::CashlessIn, 0),
                    ),
                    (
                        "tickets out",
                        mt.tickets_out as i128,
                        -t.sum(Movement::TicketOut, 0),
                    ),
                    (
                        "cashless out",
                        mt.cashless_out as i128,
                        -t.sum(Movement::CashlessOut, 0),
                    ),
                    (
                        "handpaid",
                        mt.handpaid as i128,
                        -t.sum(Movement::Handpay, 0),
                    ),
                    ("jackpot paid", mt.jackpot_paid as i128, jackpot_paid(&t)),
                    (
                        "jackpot handpaid",
                        mt.jackpot_handpaid as i128,
                        t.sum(Movement::HandpaidWin, 0),
                    ),
                    (
                        "credits (last balance)",
                        m.credits as i128,
                        t.last_balance(0).map_or(0, i128::from),
                    ),
                ];
                compare(d, &name, &checks);
            }
            Snapshot::Wallet(w) => {
                // RULES.md W-12: the cash at level 0, the bonus account at level 1; bets,
                // wins, refunds and transfers to machines count both parts.
                let both = |m: Movement| t.sum(m, 0) + t.sum(m, 1);
                let wt = &w.totals;
                let b = w.bonus.as_deref().cloned().unwrap_or_default();
                let held_restricted = w.restricted_held() as i128;
                let checks: [(&str, i128, i128); 18] = [
                    ("balance", w.balance as i128, t.level_sum(0)),
                    (
                        "balance (last balance)",
                        w.balance as i128,
                        t.last_balance(0).map_or(0, i128::from),
                    ),
                    ("deposits", wt.deposits as i128, t.sum(Movement::Deposit, 0)),
                    (
                        "withdrawals",
                        wt.withdrawals as i128,
                        -t.sum(Movement::Withdrawal, 0),
                    ),
                    ("bets", wt.bets as i128, -both(Movement::Bet)),
                    ("wins", wt.wins as i128, both(Movement::Win)),
                    ("refunds", wt.refunds as i128, both(Movement::Refund)),
                    // RULES.md W-10: what the holds took and did not give back is what
                    // machines took or still may take.
                    (
                        "to machines + held",
                        wt.to_machines as i128 + w.held() as i128,
                        -(both(Movement::TransferHold)
                            + both(Movement::TransferRelease)
                            + both(Movement::TransferSettle)),
                    ),
                    ("bonus", b.balance as i128, t.level_sum(1)),
                    (
                        "bonus (last balance)",
                        b.balance as i128,
                        t.last_balance(1).map_or(0, i128::from),
                    ),
                    (
                        "bonus awarded",
                        b.awarded as i128,
                        t.sum(Movement::BonusAward, 1),
                    ),
                    ("bonus staked", b.staked as i128, -t.sum(Movement::Bet, 1)),
                    ("bonus won", b.won as i128, t.sum(Movement::Win, 1)),
                    (
                        "bonus refunded",
                        b.refunded as i128,
                        t.sum(Movement::Refund, 1),
                    ),
                    (
                        "bonus converted",
                        b.converted as i128,
                        t.sum(Movement::BonusConvert, 0),
                    ),
                    (
                        "bonus expired",
                        b.expired as i128,
                        -t.sum(Movement::BonusExpire, 1),
                    ),
                    (
                        "restricted to machines + held",
                        b.to_machines as i128 + held_restricted,
                        -(t.sum(Movement::TransferHold, 1)
                            + t.sum(Movement::TransferRelease, 1)
                            + t.sum(Movement::TransferSettle, 1)),
                    ),
                    (
                        "from machines",
                        wt.from_machines as i128,
                        t.sum(Movement::TransferIn, 0),
                    ),
                ];
                compare(d, &name, &checks);
            }
            Snapshot::Pool(p) => {
                let m = MICRO as i128;
                for (i, l) in p.levels.iter().enumerate() {
                    let lv = i as u8;
                    let held = (l.level as i128 + l.reserve as i128) * m + l.frac as i128;
                    let checks: [(&str, i128, i128); 5] = [
                        (
                            "contributed (micro)",
                            l.contributed_micro,
                            t.sum(Movement::Contribution, lv),
                        ),
                        (
                            "seeded (micro)",
                            l.seeded as i128 * m,
                            t.sum(Movement::Seed, lv),
                        ),
                        (
                            "paid (micro)",
                            l.paid as i128 * m,
                            -t.sum(Movement::Hit, lv),
                        ),
                        ("holdings (micro)", held, t.level_sum(lv)),
                        (
                            "holdings (last balance, micro)",
                            held,
                            t.last_balance(lv).map_or(0, i128::from),
                        ),
                    ];
                    compare(d, &format!("{name} level {i} ({})", l.config.name), &checks);
                }
            }
            Snapshot::Desk(k) => {
                // RULES.md D-9: level 0 is the open shift's drawer, level 1 unshifted cash.
                let mut checks = vec![
                    ("drawer", k.drawer() as i128, t.level_sum(0)),
                    (
                        "drawer (last balance)",
                        k.drawer() as i128,
                        t.last_balance(0).map_or(0, i128::from),
                    ),
                    (
                        "unshifted in",
                        k.unshifted_in as i128,
                        t.sum(Movement::DeskCashIn, 1),
                    ),
                    (
                        "unshifted out",
                        k.unshifted_out as i128,
                        -t.sum(Movement::DeskCashOut, 1),
                    ),
                    (
                        "unshifted (last balance)",
                        k.unshifted() as i128,
                        t.last_balance(1).map_or(0, i128::from),
                    ),
                    (
                        "cash in (all)",
                        k.cash_in as i128,
                        t.sum(Movement::DeskCashIn, 0) + t.sum(Movement::DeskCashIn, 1),
                    ),
                    (
                        "cash out (all)",
                        k.cash_out as i128,
                        -(t.sum(Movement::DeskCashOut, 0) + t.sum(Movement::DeskCashOut, 1)),
                    ),
                ];
                // Every shift the desk opened is still kept (D-5 keeps the last 100): the
                // shifts' figures sum to the ledger's movements.
                let shifts: Vec<_> = k.closed.iter().chain(k.open.iter()).collect();
                if shifts.len() == k.next as usize {
                    let sum = |f: fn(&pitboss_actors::domain::desk::ShiftFigures) -> i64| {
                        shifts.iter().map(|s| f(s) as i128).sum::<i128>()
                    };
                    let closed_expected: i128 = k.closed.iter().map(|s| s.expected() as i128).sum();
                    checks.extend([
                        ("floats", sum(|s| s.float), t.sum(Movement::ShiftFloat, 0)),
                        (
                            "cash in",
                            sum(|s| s.cash_in),
                            t.sum(Movement::DeskCashIn, 0),
                        ),
                        (
                            "cash out",
                            sum(|s| s.cash_out),
                            -t.sum(Movement::DeskCashOut, 0),
                        ),
                        ("fills", sum(|s| s.fills), t.sum(Movement::DeskFill, 0)),
                        (
                            "credits",
                            sum(|s| s.credits),
                            -t.sum(Movement::DeskCredit, 0),
                        ),
                        (
                            "closed shifts' cash to the vault",
                            closed_expected,
                            -t.sum(Movement::ShiftClose, 0),
                        ),
                    ]);
                }
                compare(d, &name, &checks);
            }
            Snapshot::Voucher(v) => {
                use pitboss_actors::domain::voucher::VoucherStatus as S;
                // RULES.md V-8: the liability is the voucher's amount while open, and each
                // way out is booked once, for the whole amount.
                let amount = v.amount() as i128;
                let was = |closed: bool| if closed { amount } else { 0 };
                let all: i128 = t.sums.iter().map(|s| s.2).sum();
                let checks: [(&str, i128, i128); 6] = [
                    ("liability", v.liability() as i128, all),
                    (
                        "liability (last balance)",
                        v.liability() as i128,
                        t.last_balance(0).map_or(0, i128::from),
                    ),
                    ("issued", amount, t.sum(Movement::VoucherIssue, 0)),
                    (
                        "redeemed",
                        was(matches!(v.status, S::Redeemed { .. })),
                        -t.sum(Movement::VoucherRedeem, 0),
                    ),
                    (
                        "expired",
                        was(matches!(v.status, S::Expired { .. })),
                        -t.sum(Movement::VoucherExpire, 0),
                    ),
                    (
                        "voided",
                        was(matches!(v.status, S::Voided { .. })),
                        -t.sum(Movement::VoucherVoid, 0),
                    ),
                ];
                compare(d, &name, &checks);
            }
            Snapshot::Hall(h) => {
                if let Some(by_hall) = ggr_by_hall.as_mut() {
                    report.halls_checked += 1;
                    let (bets, wins, games) = by_hall.remove(&h.id).unwrap_or_default();
                    let checks: [(&str, i128, i128); 3] = [
                        ("GGR bets", h.totals.bets as i128, bets),
                        ("GGR wins", h.totals.wins as i128, wins),
                        ("games", h.totals.games as i128, games),
                    ];
                    compare(d, &name, &checks);
                }
            }
        }
    }
    let mut orphans: BTreeMap<String, u64> = BTreeMap::new();
    for (key, t) in totals.per {
        orphans.insert(entity_name(&key), t.count);
    }
    for (name, count) in orphans {
        d.push(format!(
            "{name}: the ledger holds {count} movements but no state is stored"
        ));
    }
    if let Some(rest) = ggr_by_hall {
        let mut halls: Vec<_> = rest.keys().map(ToString::to_string).collect();
        halls.sort();
        for h in halls {
            d.push(format!(
                "hall {h}: GGR windows are stored but no hall state is"
            ));
        }
    }
    Ok(report)
}

fn jackpot_paid(t: &EntityTotals) -> i128 {
    t.sums
        .iter()
        .filter(|(k, _, _)| *k == Movement::JackpotPaid)
        .map(|s| s.2)
        .sum()
}

fn entity_name(key: &EntityKey) -> String {
    format!("{} {}", key.kind(), key.id_str())
}

fn check_numbering(d: &mut Vec<String>, name: &str, t: &EntityTotals, movements: u64) {
    if t.count == 0 {
        if movements != 0 {
            d.push(format!(
                "{name}: the state counts {movements} movements but the ledger holds none"
            ));
        }
        return;
    }
    if t.min_n != 1 || t.max_n != t.count {
        d.push(format!(
            "{name}: the ledger holds {} movements numbered {}..={} (expected 1..={})",
            t.count, t.min_n, t.max_n, t.count
        ));
    }
    if t.max_n != movements {
        d.push(format!(
            "{name}: the state counts {movements} movements but the ledger's last is number {}",
            t.max_n
        ));
    }
}

fn check_causes_and_chain(d: &mut Vec<String>, name: &str, t: &EntityTotals) {
    for (cause, kind, level, first, second) in &t.twice {
        d.push(format!(
            "{name}: input {} moved its {} (level {level}) twice, movements {first} and {second}",
            pitboss_actors::domain::EventId(*cause),
            kind.code()
        ));
    }
    let mut chain = t.chain.clone();
    chain.sort_by_key(|(c, n, ..)| (*c, *n));
    let mut prev: Option<(u8, i64)> = None;
    for (c, n, amount, balance, moves) in chain {
        let before = match prev {
            Some((pc, b)) if pc == c => b,
            _ => 0,
        };
        let expected = if moves {
            before.checked_add(amount)
        } else {
            Some(before)
        };
        if expected != Some(balance) {
            d.push(format!(
                "{name}: movement {n} (chain {c}) has balance {balance}, but the balance before it was {before} and it moved {}",
                if moves { amount } else { 0 }
            ));
        }
        prev = Some((c, balance));
    }
}

fn compare(d: &mut Vec<String>, name: &str, checks: &[(&str, i128, i128)]) {
    for (what, state, ledger) in checks {
        if state != ledger {
            d.push(format!(
                "{name}: {what} is {state} in the state but {ledger} from the ledger"
            ));
        }
    }
}

/// The in-memory store as an audit source (it keeps no GGR rows; make it with
/// [`MemoryStore::with_ledger`] for it to keep a ledger).
pub struct MemoryAudit(pub std::sync::Arc<MemoryStore>);

impl AuditSource for MemoryAudit {
    fn entities(&self) -> BoxFuture<Result<Vec<Stored>, StoreError>> {
        let all = self.0.stored();
        Box::pin(async move { Ok(all) })
    }

    fn scan_ledger(
        &self,
        mut totals: Box<dyn LedgerSink>,
    ) -> BoxFuture<Result<Box<dyn LedgerSink>, StoreError>> {
        for (k, e) in self.0.ledger() {
            totals.add(&k, &e);
        }
        Box::pin(async move { Ok(totals) })
    }

    fn ggr_rows(&self) -> BoxFuture<Result<Option<Vec<GgrRow>>, StoreError>> {
        Box::pin(async { Ok(None) })
    }

    fn positions(&self) -> BoxFuture<Result<Vec<Position>, StoreError>> {
        use pitboss_actors::shell::StateStore;
        self.0.positions()
    }
}
