//! The census: every few seconds, the state of the machines and halls that changed since its
//! previous round, summed up per hall (GGR, machines by status) for the operator view,
//! `/api/halls`, `/api/machines` and the `pitboss_machines` / `pitboss_hall_*` gauges.
//!
//! A round costs what changed, not what is live: the runtime lists the entities whose state
//! changed or whose actor passivated since the previous round (`Runtime::take_changed`), the
//! census reads only those (`Runtime::inspect_live_one`, one message each) and updates its
//! per-hall counts by difference. Only its first round reads every live machine and hall.
//!
//! A machine that goes quiet is passivated after a while; its status cannot have changed
//! since (it received no event), so the census keeps the last status it saw for every
//! machine (bounded by `census-machines-max`). That is how a machine that went offline and
//! stopped talking stays counted as offline. Reads never start an actor.
//!
//! After a restart no actor is live, so the census starts from the stored states instead
//! ([`Census::seed`], once, before its first round): every stored machine with its last
//! status and every stored hall with its totals, within the same bounds. Without it, a hall or machine
//! that received nothing since the restart (typically the offline, tilted and door-open
//! ones) would be missing from the APIs and its gauges would be absent.
//!
//! It also keeps the open vouchers (RULES.md V-8) by difference, as they change: the
//! outstanding ticket liability per issuing hall (`/api/vouchers/liability`, the operator
//! view, `pitboss_voucher_liability_minor`). Only open vouchers are kept.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;

use pitboss_actors::domain::ggr::HallState;
use pitboss_actors::domain::machine::{Alert, MachineState, MachineStatus};
use pitboss_actors::domain::voucher::{VoucherMeta, VoucherState};
use pitboss_actors::domain::wallet::WalletMeta;
use pitboss_actors::domain::{
    EventId, HallId, MachineId, PlayerId, ReportedMeter, Timestamp, ValidationNo,
};
use pitboss_actors::shell::{
    AckToken, HallEntity, MachineEntity, Output, Remote, Runtime, Snapshot, VoucherEntity,
    VoucherMsg, WalletMsg,
};
use serde::Serialize;

use super::config::HttpConfig;
use super::money::format_minor;
use super::silence::{Found, Silence};
use crate::clock::now_ms;
use crate::telemetry;

/// Machine statuses, each machine counted in exactly one.
pub const STATUSES: [&str; 4] = ["online", "offline", "door_open", "tilt"];

/// A machine's status: offline if not communicating, else tilt, else door open, else online.
pub fn status_of(s: &MachineStatus) -> &'static str {
    if !s.online {
        "offline"
    } else if s.tilt.is_some() {
        "tilt"
    } else if s.door_open {
        "door_open"
    } else {
        "online"
    }
}

/// One machine in the census.
#[derive(Clone, Debug, Serialize)]
pub struct MachineBrief {
    /// The machine.
    pub id: String,
    pub hall: String,
    /// One of [`STATUSES`].
    pub status: &'static str,
    /// Credits, minor units.
    pub credits_minor: i64,
    /// Event time of its last event, ms since the epoch.
    pub last_event_time_ms: i64,
    /// Its actor is live (else: last state seen before it was passivated).
    pub live: bool,
    /// Its handpays pending (RULES.md M-10), oldest first; listed by `/api/handpays`.
    #[serde(skip)]
    pub handpays: Vec<HandpayBrief>,
    /// Its effect number: moves with every event it applies (silence detection, M-11).
    #[serde(skip)]
    pub effect_seq: u64,
    /// The conditions its state shows that an alert raised and a later event clears (door
    /// open, tilt, offline, a meter variance not explained): its open alerts.
    #[serde(skip)]
    pub conditions: Vec<Condition>,
}

/// A condition of a machine's state that an alert raised and that is not cleared yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    /// The open alert's code.
    pub code: &'static str,
    /// What the operator needs to know (a tilt's code, the meters that differ).
    pub detail: String,
    /// When it began, if the state says (a variance: its snapshot's booked time); else the
    /// booked time of the machine's newest event when the census first saw it.
    pub since_ms: Option<i64>,
}

/// An alert that is still open: raised, and its clear not seen yet (see [`Census::alerts`]).
#[derive(Clone, Debug, Serialize)]
pub struct OpenAlert {
    /// The alert's code: `machine_offline` (raised by `comms_lost` or `power_off`),
    /// `door_open`, `tilt`, `meter_variance`, `handpay_pending`, `machine_silent` or
    /// `location_offline`.
    pub code: &'static str,
    /// `info`, `warning` or `critical`.
    pub severity: &'static str,
    pub hall: String,
    /// The machine (absent for a hall's `location_offline`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub machine: Option<String>,
    /// When it began, ms since the epoch (booked time).
    pub since_ms: i64,
    /// Details; empty if the code says it all.
    pub detail: String,
    /// What clears it.
    pub cleared_by: &'static str,
}

impl OpenAlert {
    /// An open alert of `code`, with the severity and the clear its code has.
    fn new(
        code: &'static str,
        hall: String,
        machine: Option<String>,
        since_ms: i64,
        detail: String,
    ) -> Self {
        Self {
            code,
            severity: severity_of(code),
            hall,
            machine,
            since_ms,
            detail,
            cleared_by: cleared_by(code),
        }
    }
}

/// The event that clears an open alert, by its code.
fn cleared_by(code: &str) -> &'static str {
    match code {
        "machine_offline" => "comms_restored or power_on",
        "door_open" => "door_close",
        "tilt" => "tilt_clear",
        "meter_variance" => "a snapshot that explains it (the variance back to zero)",
        "handpay_pending" => "handpay_reset",
        "machine_silent" => "the machine's next event (machine_silence_cleared)",
        "location_offline" => "an event of one of its machines (location_online)",
        _ => "",
    }
}

/// The severity of an open alert, as its alert has it (RULES.md, alert severities).
fn severity_of(code: &str) -> &'static str {
    match code {
        "door_open" => "info",
        _ => "warning",
    }
}

/// The open conditions of a machine's state.
fn conditions(m: &MachineState) -> Vec<Condition> {
    let mut c = Vec::new();
    let plain = |code, detail: &str| Condition {
        code,
        detail: detail.to_string(),
        since_ms: None,
    };
    if !m.status.online {
        c.push(plain("machine_offline", "comms lost or power off"));
    }
    if m.status.door_open {
        c.push(plain("door_open", ""));
    }
    if let Some(code) = m.status.tilt {
        c.push(plain("tilt", &format!("tilt code {code}")));
    }
    if let Some(r) = &m.reconcile {
        let moved: Vec<String> = ReportedMeter::ALL
            .iter()
            .map(|meter| (meter.name(), r.variance.get(*meter)))
            .filter(|(_, v)| *v != 0)
            .map(|(name, v)| format!("{name} {v:+}"))
            .collect();
        if !moved.is_empty() {
            c.push(Condition {
                code: "meter_variance",
                detail: moved.join(", "),
                since_ms: Some(r.baseline.time.0),
            });
        }
    }
    c
}

/// A handpay pending, as the census lists it (RULES.md M-10).
#[derive(Clone, Debug, Serialize)]
pub struct HandpayBrief {
    pub machine: String,
    pub hall: String,
    /// `cancelled_credits` or `jackpot`.
    pub kind: &'static str,
    pub amount_minor: i64,
    /// The `handpay_pending` event.
    pub event_id: String,
    /// Booked time of the lock-up, ms since the epoch.
    pub since_ms: i64,
}

fn brief(m: &MachineState, live: bool) -> MachineBrief {
    MachineBrief {
        id: m.id.to_string(),
        hall: m.profile.hall.to_string(),
        status: status_of(&m.status),
        credits_minor: m.credits,
        last_event_time_ms: m.last_event_time.0,
        live,
        effect_seq: m.effect_seq,
        conditions: conditions(m),
        handpays: m
            .handpays
            .iter()
            .map(|h| HandpayBrief {
                machine: m.id.to_string(),
                hall: h.hall.to_string(),
                kind: h.kind.name(),
                amount_minor: h.amount,
                event_id: h.cause.to_string(),
                since_ms: h.time.0,
            })
            .collect(),
    }
}

/// Machines of a hall by status.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StatusCounts {
    /// Online, no fault.
    pub online: u64,
    /// Not communicating.
    pub offline: u64,
    /// A door open.
    pub door_open: u64,
    /// In tilt.
    pub tilt: u64,
    /// All of them.
    pub total: u64,
}

/// One hall in the census.
#[derive(Clone, Debug, Serialize)]
pub struct HallSummary {
    /// The hall.
    pub id: String,
    /// The network's currency.
    pub currency: String,
    /// All-time bets, minor units.
    pub bets_minor: i64,
    /// All-time wins, minor units.
    pub wins_minor: i64,
    /// All-time GGR, minor units.
    pub ggr_minor: i64,
    /// All-time GGR, formatted.
    pub ggr: String,
    /// All-time jackpots paid to the hall's machines (progressive and mystery), minor units.
    pub jackpots_minor: i64,
    /// All-time restricted promotional credits played (part of bets, RULES.md M-13), minor
    /// units.
    pub promo_minor: i64,
    /// All-time net win (bets - wins - jackpots - promo, RULES.md H-1), minor units.
    pub net_win_minor: i64,
    /// GGR of the newest one-minute window, minor units.
    pub ggr_last_window_minor: i64,
    /// Games played.
    pub games: i64,
    /// Machines by status.
    pub machines: StatusCounts,
}

impl StatusCounts {
    fn add(&mut self, status: &str, n: i64) {
        let c = match status {
            "offline" => &mut self.offline,
            "tilt" => &mut self.tilt,
            "door_open" => &mut self.door_open,
            _ => &mut self.online,
        };
        *c = c.wrapping_add_signed(n);
        self.total = self.total.wrapping_add_signed(n);
    }
}

/// A hall's totals as its state last showed them.
#[derive(Clone, Copy, Debug, Default)]
struct HallTotals {
    bets: i64,
    wins: i64,
    jackpots: i64,
    promo: i64,
    games: i64,
    last_window_ggr: i64,
}

impl From<&HallState> for HallTotals {
    fn from(h: &HallState) -> Self {
        Self {
            bets: h.totals.bets,
            wins: h.totals.wins,
            jackpots: h.totals.jackpots,
            promo: h.totals.promo,
            games: h.totals.games,
            last_window_ggr: h.windows.values().next_back().map_or(0, |w| w.totals.ggr()),
        }
    }
}

/// What the census knows, updated by difference each round.
#[derive(Default)]
struct Board {
    /// When the last round ended, ms since the epoch (0: not yet).
    at_ms: i64,
    /// Machines by id.
    machines: HashMap<String, MachineBrief>,
    /// The same machines, ordered by hall then id (the listing order).
    order: BTreeSet<(String, String)>,
    /// Machines by status, per hall (every hall a known machine stands in).
    counts: HashMap<String, StatusCounts>,
    /// Halls by id, with their totals (zero for a hall known only from its machines).
    halls: BTreeMap<String, HallTotals>,
    /// Handpays pending, oldest first (by lock-up time, machine, position), kept by
    /// difference as machines change: the oldest is the first.
    handpays: BTreeMap<(i64, String, usize), HandpayBrief>,
    /// Open vouchers (RULES.md V-8), by validation number: the issuing hall and the amount
    /// owed. Only open ones are kept: a voucher redeemed, expired or voided leaves.
    vouchers: HashMap<String, (String, i64)>,
    /// Ticket liability per issuing hall: open vouchers and the amount owed, kept by
    /// difference as vouchers change.
    liability: BTreeMap<String, (u64, i64)>,
    /// Open alerts of machines' states and of silence, by subject (machine, or hall for
    /// `location_offline`) and code, kept by difference (handpays are in `handpays`).
    open: BTreeMap<(String, &'static str), OpenAlert>,
    /// The sweep (RULES.md V-6): open vouchers with something to lapse (a hold's end, an
    /// expiry), by when the sweep looks at them next, then validation number.
    sweep: BTreeSet<(i64, String)>,
    /// Per voucher in `sweep`: what it waits for.
    lapses: HashMap<String, Lapse>,
}

/// A voucher waiting for the sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Lapse {
    /// When it lapses (booked time, ms since the epoch).
    at: i64,
    /// Its key in `Board::sweep`.
    next: i64,
    /// Lapses sent for it without the census seeing it change.
    sent: u8,
}

/// How long the sweep waits for a lapse it sent to show before it sends it again.
const LAPSE_RETRY_MS: i64 = 60_000;

/// How often the sweep sends a voucher's lapse. A voucher the census knows only from the
/// store at start and that lives with another instance never shows its change here; its
/// owner's census sweeps it.
const LAPSE_SENDS_MAX: u8 = 3;

impl Board {
    /// Adds or replaces a machine (within `max` machines); its hall too (within `halls_max`).
    /// Returns the halls whose counts changed.
    fn put_machine(&mut self, b: MachineBrief, max: usize, halls_max: usize) -> Vec<String> {
        if self.machines.len() >= max && !self.machines.contains_key(&b.id) {
            return Vec::new();
        }
        let mut touched = Vec::with_capacity(2);
        self.put_conditions(&b);
        if let Some(old) = self.machines.get(&b.id) {
            for (i, h) in old.handpays.iter().enumerate() {
                self.handpays.remove(&(h.since_ms, b.id.clone(), i));
            }
        }
        for (i, h) in b.handpays.iter().enumerate() {
            self.handpays
                .insert((h.since_ms, b.id.clone(), i), h.clone());
        }
        if let Some(old) = self.machines.get(&b.id) {
            if old.hall == b.hall && old.status == b.status {
                self.machines.insert(b.id.clone(), b);
                return touched;
            }
            let old = self.machines.remove(&b.id).expect("present");
            self.order.remove(&(old.hall.clone(), old.id.clone()));
            if let Some(c) = self.counts.get_mut(&old.hall) {
                c.add(old.status, -1);
            }
            touched.push(old.hall);
        }
        if self.halls.len() < halls_max {
            self.halls.entry(b.hall.clone()).or_default();
        }
        self.counts
            .entry(b.hall.clone())
            .or_default()
            .add(b.status, 1);
        self.order.insert((b.hall.clone(), b.id.clone()));
        touched.push(b.hall.clone());
        self.machines.insert(b.id.clone(), b);
        touched
    }

    /// The vouchers whose lapse is due by `now_ms`, with the time each lapses at and its
    /// issuing hall; each is looked at again after [`LAPSE_RETRY_MS`] unless its change
    /// shows first, at most [`LAPSE_SENDS_MAX`] times.
    fn due_lapses(&mut self, now_ms: i64) -> Vec<(String, i64, String)> {
        let mut due = Vec::new();
        while let Some((next, id)) = self.sweep.first().cloned() {
            if next > now_ms {
                break;
            }
            self.sweep.pop_first();
            let Some(l) = self.lapses.get_mut(&id) else {
                continue;
            };
            if l.sent >= LAPSE_SENDS_MAX {
                self.lapses.remove(&id);
                continue;
            }
            l.sent += 1;
            l.next = now_ms + LAPSE_RETRY_MS;
            let at = l.at;
            self.sweep.insert((l.next, id.clone()));
            let hall = self.vouchers.get(&id).map(|(h, _)| h.clone());
            if let Some(hall) = hall {
                due.push((id, at, hall));
            }
        }
        due
    }

    /// A machine's open conditions as they stand now: those gone leave, new ones open (since
    /// the state says, else its newest event's time), those kept keep their start.
    fn put_conditions(&mut self, b: &MachineBrief) {
        let old: Vec<&'static str> = self
            .machines
            .get(&b.id)
            .map(|m| m.conditions.iter().map(|c| c.code).collect())
            .unwrap_or_default();
        for code in old {
            if !b.conditions.iter().any(|c| c.code == code) {
                self.open.remove(&(b.id.clone(), code));
            }
        }
        for c in &b.conditions {
            let since = c.since_ms.unwrap_or(b.last_event_time_ms);
            let a = self.open.entry((b.id.clone(), c.code)).or_insert_with(|| {
                OpenAlert::new(
                    c.code,
                    b.hall.clone(),
                    Some(b.id.clone()),
                    since,
                    String::new(),
                )
            });
            a.detail.clone_from(&c.detail);
            a.hall.clone_from(&b.hall);
            if c.since_ms.is_some() {
                a.since_ms = since;
            }
        }
    }

    /// What a silence round found, as open alerts: a silence opens, the next event clears it.
    fn put_silence(&mut self, f: &Found, now_ms: i64) {
        match f {
            Found::Silent {
                machine,
                hall,
                last_event_ms,
                ..
            } => {
                let code = "machine_silent";
                self.open.insert(
                    (machine.clone(), code),
                    OpenAlert::new(
                        code,
                        hall.clone(),
                        Some(machine.clone()),
                        *last_event_ms,
                        "no event since".into(),
                    ),
                );
            }
            Found::Back { machine, .. } => {
                self.open.remove(&(machine.clone(), "machine_silent"));
            }
            Found::LocationOffline {
                hall,
                machine,
                machines,
                ..
            } => {
                let code = "location_offline";
                self.open.insert(
                    (hall.clone(), code),
                    OpenAlert::new(
                        code,
                        hall.clone(),
                        None,
                        now_ms,
                        format!("all {machines} machines silent, the last {machine}"),
                    ),
                );
            }
            Found::LocationOnline { hall, .. } => {
                self.open.remove(&(hall.clone(), "location_offline"));
            }
        }
    }

    /// A voucher as it stands now: open (owed by its issuing hall) or not.
    fn put_voucher(&mut self, v: &VoucherState) {
        let id = v.number.to_string();
        if let Some(l) = self.lapses.remove(&id) {
            self.sweep.remove(&(l.next, id.clone()));
        }
        if let Some(at) = v.next_lapse() {
            let at = at.0;
            self.lapses.insert(
                id.clone(),
                Lapse {
                    at,
                    next: at,
                    sent: 0,
                },
            );
            self.sweep.insert((at, id.clone()));
        }
        if let Some((hall, owed)) = self.vouchers.remove(&id) {
            if let Some(l) = self.liability.get_mut(&hall) {
                l.0 -= 1;
                l.1 -= owed;
                if l.0 == 0 {
                    self.liability.remove(&hall);
                }
            }
        }
        if let (true, Some(issue)) = (v.status.is_open(), &v.issue) {
            let hall = issue.hall.to_string();
            let l = self.liability.entry(hall.clone()).or_default();
            l.0 += 1;
            l.1 += issue.amount;
            self.vouchers.insert(id, (hall, issue.amount));
        }
    }

    /// A hall's totals (within `halls_max` halls).
    fn put_hall(&mut self, id: String, t: HallTotals, halls_max: usize) -> bool {
        if self.halls.len() >= halls_max && !self.halls.contains_key(&id) {
            return false;
        }
        self.halls.insert(id, t);
        true
    }

    fn summary(&self, id: &str, t: &HallTotals, currency: &str) -> HallSummary {
        HallSummary {
            id: id.to_string(),
            currency: currency.to_string(),
            bets_minor: t.bets,
            wins_minor: t.wins,
            ggr_minor: t.bets - t.wins,
            ggr: format_minor(t.bets - t.wins, currency),
            jackpots_minor: t.jackpots,
            promo_minor: t.promo,
            net_win_minor: t.bets - t.wins - t.jackpots - t.promo,
            ggr_last_window_minor: t.last_window_ggr,
            games: t.games,
            machines: self.counts.get(id).cloned().unwrap_or_default(),
        }
    }

    /// Sets the gauges of the given halls.
    fn export(&self, halls: &BTreeSet<String>) {
        for id in halls {
            let Some(t) = self.halls.get(id) else {
                continue;
            };
            telemetry::hall_totals(id, t.bets, t.wins, t.jackpots, t.promo);
            let c = self.counts.get(id).cloned().unwrap_or_default();
            telemetry::machines_by_status(id, c.online, c.offline, c.door_open, c.tilt);
        }
    }
}

/// A page of machines from the census.
#[derive(Clone, Debug)]
pub struct MachinePage {
    /// When the census last ended a round, ms since the epoch (0: not yet).
    pub at_ms: i64,
    /// Machines matching the filter.
    pub total: usize,
    /// The first of them, by hall then id.
    pub machines: Vec<MachineBrief>,
}

/// Handpays pending from the census (RULES.md M-10).
#[derive(Clone, Debug)]
pub struct HandpayPage {
    /// When the census last ended a round, ms since the epoch (0: not yet).
    pub at_ms: i64,
    /// Handpays pending.
    pub total: usize,
    /// The oldest of them, oldest first.
    pub handpays: Vec<HandpayBrief>,
}

/// Outstanding ticket liability per issuing hall (RULES.md V-8), from the census.
#[derive(Clone, Debug, Serialize)]
pub struct LiabilityRow {
    pub hall: String,
    /// Vouchers issued or held, not yet redeemed, expired or voided.
    pub open_vouchers: u64,
    /// What they are for, minor units.
    pub liability_minor: i64,
    /// The same, for display.
    pub liability: String,
}

/// Ticket liability from the census.
#[derive(Clone, Debug)]
pub struct LiabilityPage {
    /// When the census last ended a round, ms since the epoch (0: not yet).
    pub at_ms: i64,
    pub currency: String,
    /// Open vouchers across the network.
    pub open_vouchers: u64,
    /// Their amounts, minor units.
    pub liability_minor: i64,
    /// Per issuing hall, by id.
    pub halls: Vec<LiabilityRow>,
}

/// The open alerts from the census.
#[derive(Clone, Debug)]
pub struct AlertPage {
    /// When the census last ended a round, ms since the epoch (0: not yet).
    pub at_ms: i64,
    /// Open alerts matching the filter.
    pub total: usize,
    /// How many of them by code.
    pub by_code: BTreeMap<&'static str, u64>,
    /// The first of them: most severe first, then oldest first.
    pub alerts: Vec<OpenAlert>,
}

/// Halls from the census.
#[derive(Clone, Debug)]
pub struct HallPage {
    /// When the census last ended a round, ms since the epoch (0: not yet).
    pub at_ms: i64,
    /// Halls known.
    pub total: usize,
    /// The first of them, by id.
    pub halls: Vec<HallSummary>,
}

/// The census and what it remembers between rounds.
pub struct Census {
    board: RwLock<Board>,
    /// pitboss's own silence detection (RULES.md M-11), fed by the rounds.
    silence: std::sync::Mutex<Silence>,
    /// The runtime lists changes for the census (set at the first round).
    watching: AtomicBool,
    machines_max: usize,
    halls_max: usize,
    /// The network's currency (hall summaries are in it).
    currency: String,
}

impl Census {
    pub fn new(cfg: &HttpConfig, currency: &str) -> Self {
        Self {
            board: RwLock::new(Board::default()),
            silence: std::sync::Mutex::new(Silence::new(
                i64::try_from(cfg.machine_silence_secs.saturating_mul(1_000)).unwrap_or(i64::MAX),
            )),
            watching: AtomicBool::new(false),
            machines_max: cfg.census_machines_max,
            halls_max: cfg.census_halls_max,
            currency: currency.to_string(),
        }
    }

    /// The machines in `hall` (all if `None`) with `status` (any if `None`): how many, and
    /// the first `limit` by hall then id.
    pub fn machines(&self, hall: Option<&str>, status: Option<&str>, limit: usize) -> MachinePage {
        let b = self.board.read().expect("census lock");
        let keys: Box<dyn Iterator<Item = &(String, String)>> = match hall {
            Some(h) => Box::new(
                b.order
                    .range((h.to_string(), String::new())..)
                    .take_while(move |(mh, _)| mh == h),
            ),
            None => Box::new(b.order.iter()),
        };
        let mut total = 0;
        let mut machines = Vec::new();
        for (_, id) in keys {
            let m = &b.machines[id];
            if status.is_some_and(|s| m.status != s) {
                continue;
            }
            total += 1;
            if machines.len() < limit {
                machines.push(m.clone());
            }
        }
        MachinePage {
            at_ms: b.at_ms,
            total,
            machines,
        }
    }

    /// The handpays pending (RULES.md M-10): how many, and the oldest `limit`.
    pub fn handpays(&self, limit: usize) -> HandpayPage {
        let b = self.board.read().expect("census lock");
        HandpayPage {
            at_ms: b.at_ms,
            total: b.handpays.len(),
            handpays: b.handpays.values().take(limit).cloned().collect(),
        }
    }

    /// The open alerts (of `hall` if given): conditions of the machines' states that an
    /// alert raised and no event has cleared yet (offline, door open, tilt, a meter variance
    /// not explained), handpays pending, silent machines and offline halls. How many, by
    /// code, and the first `limit`: warnings before infos, then oldest first. A round's cost
    /// follows what changed; a listing's, the open alerts.
    pub fn alerts(&self, hall: Option<&str>, limit: usize) -> AlertPage {
        let b = self.board.read().expect("census lock");
        let handpays = b.handpays.values().map(|h| {
            OpenAlert::new(
                "handpay_pending",
                h.hall.clone(),
                Some(h.machine.clone()),
                h.since_ms,
                format!(
                    "{} {}",
                    h.kind,
                    format_minor(h.amount_minor, &self.currency)
                ),
            )
        });
        let mut all: Vec<OpenAlert> = b
            .open
            .values()
            .cloned()
            .chain(handpays)
            .filter(|a| hall.is_none_or(|h| a.hall == h))
            .collect();
        let rank = |s: &str| match s {
            "critical" => 0,
            "warning" => 1,
            _ => 2,
        };
        all.sort_by(|x, y| {
            (rank(x.severity), x.since_ms, &x.hall, &x.machine, x.code).cmp(&(
                rank(y.severity),
                y.since_ms,
                &y.hall,
                &y.machine,
                y.code,
            ))
        });
        let mut by_code = BTreeMap::new();
        for a in &all {
            *by_code.entry(a.code).or_insert(0) += 1;
        }
        let total = all.len();
        all.truncate(limit);
        AlertPage {
            at_ms: b.at_ms,
            total,
            by_code,
            alerts: all,
        }
    }

    /// Outstanding ticket liability, per issuing hall and in total (RULES.md V-8).
    pub fn liability(&self) -> LiabilityPage {
        let b = self.board.read().expect("census lock");
        let halls: Vec<LiabilityRow> = b
            .liability
            .iter()
            .map(|(hall, (n, owed))| LiabilityRow {
                hall: hall.clone(),
                open_vouchers: *n,
                liability_minor: *owed,
                liability: format_minor(*owed, &self.currency),
            })
            .collect();
        LiabilityPage {
            at_ms: b.at_ms,
            currency: self.currency.clone(),
            open_vouchers: halls.iter().map(|h| h.open_vouchers).sum(),
            liability_minor: halls.iter().map(|h| h.liability_minor).sum(),
            halls,
        }
    }

    /// The halls: how many, and the first `limit` by id.
    pub fn halls(&self, limit: usize) -> HallPage {
        let b = self.board.read().expect("census lock");
        HallPage {
            at_ms: b.at_ms,
            total: b.halls.len(),
            halls: b
                .halls
                .iter()
                .take(limit)
                .map(|(id, t)| b.summary(id, t, &self.currency))
                .collect(),
        }
    }

    /// Adds the machines and halls of `states` (the store's, at start) that the census does
    /// not know yet, within its bounds; what it already saw of a live actor is newer and is
    /// kept. Other entities are ignored.
    pub fn seed(&self, states: &[Snapshot]) {
        let mut b = self.board.write().expect("census lock");
        let mut touched = BTreeSet::new();
        let now = now_ms();
        let mut silence = self.silence.lock().expect("silence lock");
        for s in states {
            if let Snapshot::Machine(m) = s {
                silence.known(
                    m.id.as_str(),
                    m.profile.hall.as_str(),
                    m.effect_seq,
                    m.last_event_time.0,
                    now,
                );
            }
            match s {
                Snapshot::Voucher(v) if !b.vouchers.contains_key(v.number.as_str()) => {
                    b.put_voucher(v);
                }
                Snapshot::Machine(m) if !b.machines.contains_key(m.id.as_str()) => {
                    touched.extend(b.put_machine(
                        brief(m, false),
                        self.machines_max,
                        self.halls_max,
                    ));
                }
                Snapshot::Hall(h) => {
                    let id = h.id.to_string();
                    let known = b
                        .halls
                        .get(&id)
                        .is_some_and(|t| t.bets != 0 || t.games != 0);
                    if !known && b.put_hall(id.clone(), HallTotals::from(h), self.halls_max) {
                        touched.insert(id);
                    }
                }
                _ => {}
            }
        }
        b.export(&touched);
    }

    /// [`Census::seed`] from the runtime's store. Returns false if the store could not be
    /// read (the caller tries again at its next round).
    pub async fn seed_from_store(&self, rt: &Runtime) -> bool {
        match rt.store.all().await {
            Ok(states) => {
                self.seed(&states);
                // RULES.md W-10: the stored wallets' holds are the sweep's too (no wallet is
                // live after a restart to note its own).
                for s in &states {
                    if let Snapshot::Wallet(w) = s {
                        if let Some(until) = w.next_lapse() {
                            rt.note_hold(&w.id, until);
                        }
                    }
                }
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "census: the stored states could not be read; retrying");
                false
            }
        }
    }

    /// One round: reads the machines and halls that changed since the previous round (the
    /// first round: every live one) and updates the counts, the totals and the gauges.
    pub async fn run(&self, rt: &Runtime) {
        const CHUNK: usize = 1024;
        let (machine_ids, hall_ids, voucher_ids) = if !self.watching.swap(true, Ordering::SeqCst) {
            // Changes from now on are listed; read what is live once.
            rt.watch::<MachineEntity>();
            rt.watch::<HallEntity>();
            rt.watch::<VoucherEntity>();
            (
                rt.live_machine_ids(),
                rt.live_hall_ids(),
                rt.live_ids::<VoucherEntity>(),
            )
        } else {
            (
                rt.take_changed::<MachineEntity>(),
                rt.take_changed::<HallEntity>(),
                rt.take_changed::<VoucherEntity>(),
            )
        };
        let mut vouchers = Vec::with_capacity(voucher_ids.len());
        for chunk in voucher_ids.chunks(CHUNK) {
            let futs = chunk
                .iter()
                .map(|id| rt.inspect_live_one::<VoucherEntity>(id));
            for s in futures::future::join_all(futs).await {
                // A passivated voucher changes nothing until its next message.
                if let Some(Snapshot::Voucher(v)) = s {
                    vouchers.push(v);
                }
            }
        }
        let mut machines = Vec::with_capacity(machine_ids.len());
        for chunk in machine_ids.chunks(CHUNK) {
            let futs = chunk
                .iter()
                .map(|id| rt.inspect_live_one::<MachineEntity>(id));
            for (id, s) in chunk.iter().zip(futures::future::join_all(futs).await) {
                machines.push(match s {
                    Some(Snapshot::Machine(m)) => Ok(brief(&m, true)),
                    _ => Err(id.clone()),
                });
            }
        }
        let mut halls = Vec::with_capacity(hall_ids.len());
        for chunk in hall_ids.chunks(CHUNK) {
            let futs = chunk.iter().map(|id| rt.inspect_live_one::<HallEntity>(id));
            for s in futures::future::join_all(futs).await {
                if let Some(Snapshot::Hall(h)) = s {
                    halls.push((h.id.to_string(), HallTotals::from(&h)));
                }
            }
        }
        let mut b = self.board.write().expect("census lock");
        let mut touched = BTreeSet::new();
        let now = now_ms();
        let mut found = Vec::new();
        let mut silence = self.silence.lock().expect("silence lock");
        for m in machines {
            match m {
                Ok(brief) => {
                    silence.seen(
                        &brief.id,
                        &brief.hall,
                        brief.effect_seq,
                        brief.last_event_time_ms,
                        now,
                        &mut found,
                    );
                    touched.extend(b.put_machine(brief, self.machines_max, self.halls_max));
                }
                // Passivated: its status cannot change until its next event; keep it.
                Err(id) => {
                    if let Some(m) = b.machines.get_mut(id.as_str()) {
                        m.live = false;
                    }
                }
            }
        }
        for (id, t) in halls {
            if b.put_hall(id.clone(), t, self.halls_max) {
                touched.insert(id);
            }
        }
        for v in &vouchers {
            b.put_voucher(v);
        }
        silence.tick(now, &mut found);
        drop(silence);
        for f in &found {
            b.put_silence(f, now);
        }
        for f in found {
            if let Some(out) = silence_alert(f) {
                rt.sink.emit(out, &AckToken::none());
            }
        }
        let lapses = b.due_lapses(now);
        b.export(&touched);
        b.at_ms = now;
        // The oldest is the first: the gauges cost nothing per machine.
        let oldest = b.handpays.keys().next().map(|(since, _, _)| *since);
        telemetry::handpays_open(b.handpays.len(), oldest.map(|t| (b.at_ms - t).max(0)));
        telemetry::voucher_liability(b.vouchers.len(), b.liability.values().map(|l| l.1).sum());
        drop(b);
        for (id, at, hall) in lapses {
            if let Some(msg) = lapse_message(&id, at, &hall) {
                rt.forward(msg);
            }
        }
        for (player, until) in rt.take_lapsed_holds(now) {
            rt.forward(hold_lapse_message(player, until));
        }
    }
}

/// The sweep's message for a wallet whose hold for a transfer lapsed after `until` (RULES.md
/// W-10): to the wallet's owner, at the first instant after the hold's time. It answers no
/// input: its cause is a UUID v5 naming the wallet and the time, so a lapse sent again (a
/// restart, another instance) is published under the same ids and releases nothing twice.
fn hold_lapse_message(player: PlayerId, until: Timestamp) -> Remote {
    let cause = uuid::Uuid::new_v5(
        &SILENCE_NAMESPACE,
        format!("transfer lapse {player} {}", until.0).as_bytes(),
    );
    Remote::Wallet(
        player,
        WalletMsg::Lapse {
            meta: WalletMeta {
                event_id: EventId(cause.as_u128()),
                time: Timestamp(until.0.saturating_add(1)),
                hall: HallId::new(SWEEP_HALL).expect("a valid id"),
            },
            ack: AckToken::none(),
        },
    )
}

/// The hall a sweep's lapse names: it books nothing in any hall.
const SWEEP_HALL: &str = "sweep";

/// The sweep's message for a voucher that lapses at `at` (RULES.md V-6): to its owner, like
/// a machine's ticket fact. It answers no input: its cause is a UUID v5 naming the voucher
/// and the time, so a lapse sent again (a retry, a restart, another instance) books nothing
/// new and publishes under the same ids.
fn lapse_message(id: &str, at: i64, hall: &str) -> Option<Remote> {
    let number = ValidationNo::new(id).ok()?;
    let cause = uuid::Uuid::new_v5(&SILENCE_NAMESPACE, format!("lapse {id} {at}").as_bytes());
    Some(Remote::Voucher(
        number,
        VoucherMsg::Lapse {
            meta: VoucherMeta {
                event_id: EventId(cause.as_u128()),
                time: Timestamp(at),
                hall: HallId::new(hall).ok()?,
            },
            ack: AckToken::none(),
        },
    ))
}

/// The alert of a silence finding (RULES.md M-11). It answers no input: its `cause` is a
/// UUID v5 naming the silence (the machine, the time of its last event before it, and what
/// happened), so the same silence found again (after a restart, by another instance) is
/// published under the same id.
fn silence_alert(f: Found) -> Option<Output> {
    let ids =
        |machine: &str, hall: &str| Some((MachineId::new(machine).ok()?, HallId::new(hall).ok()?));
    let (name, alert) = match f {
        Found::Silent {
            machine,
            hall,
            last_event_ms,
            silent_ms,
        } => {
            let (m, h) = ids(&machine, &hall)?;
            (
                format!("silent {machine} {last_event_ms}"),
                Alert::MachineSilent {
                    machine: m,
                    hall: h,
                    last_event_time: Timestamp(last_event_ms),
                    silent_secs: silent_ms / 1_000,
                },
            )
        }
        Found::Back {
            machine,
            hall,
            silent_since_event_ms,
        } => {
            let (m, h) = ids(&machine, &hall)?;
            (
                format!("heard {machine} {silent_since_event_ms}"),
                Alert::MachineSilenceCleared {
                    machine: m,
                    hall: h,
                },
            )
        }
        Found::LocationOffline {
            hall,
            machine,
            last_event_ms,
            machines,
        } => {
            let (m, h) = ids(&machine, &hall)?;
            (
                format!("offline {hall} {machine} {last_event_ms}"),
                Alert::LocationOffline {
                    machine: m,
                    hall: h,
                    machines,
                },
            )
        }
        Found::LocationOnline {
            hall,
            machine,
            silent_since_event_ms,
        } => {
            let (m, h) = ids(&machine, &hall)?;
            (
                format!("online {hall} {machine} {silent_since_event_ms}"),
                Alert::LocationOnline {
                    machine: m,
                    hall: h,
                },
            )
        }
    };
    let cause = uuid::Uuid::new_v5(&SILENCE_NAMESPACE, name.as_bytes());
    Some(Output::Alert {
        alert,
        cause: EventId(cause.as_u128()),
        index: 0,
    })
}

/// The namespace of the silence alerts' and the sweep's lapses' causes.
const SILENCE_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x5113_4ce0_6d1e_4b5a_9c2f_70a1_e55e_0000);

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: &str, handpays: &[(i64, i64)]) -> MachineBrief {
        MachineBrief {
            id: id.into(),
            hall: "H-1".into(),
            status: "online",
            credits_minor: 0,
            last_event_time_ms: 0,
            live: true,
            effect_seq: 0,
            conditions: Vec::new(),
            handpays: handpays
                .iter()
                .map(|(since, amount)| HandpayBrief {
                    machine: id.into(),
                    hall: "H-1".into(),
                    kind: "jackpot",
                    amount_minor: *amount,
                    event_id: String::new(),
                    since_ms: *since,
                })
                .collect(),
        }
    }

    /// RULES.md M-10: the list of pending handpays follows the machines by difference,
    /// oldest first, whatever their status does.
    #[test]
    fn pending_handpays_follow_the_machines_oldest_first() {
        let mut b = Board::default();
        b.put_machine(m("M-1", &[(300, 10)]), 10, 10);
        b.put_machine(m("M-2", &[(100, 20), (400, 30)]), 10, 10);
        let list = |b: &Board| {
            b.handpays
                .values()
                .map(|h| (h.machine.clone(), h.amount_minor))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            list(&b),
            [("M-2".into(), 20), ("M-1".into(), 10), ("M-2".into(), 30)]
        );
        // M-2's oldest is paid (same status: the fast path), M-1's too (and it tilts).
        b.put_machine(m("M-2", &[(400, 30)]), 10, 10);
        let mut tilted = m("M-1", &[]);
        tilted.status = "tilt";
        b.put_machine(tilted, 10, 10);
        assert_eq!(list(&b), [("M-2".into(), 30)]);
        assert_eq!(b.handpays.keys().next().map(|k| k.0), Some(400));
    }

    fn codes(b: &Board) -> Vec<(String, &'static str, i64)> {
        b.open
            .values()
            .map(|a| {
                (
                    a.machine.clone().unwrap_or_else(|| a.hall.clone()),
                    a.code,
                    a.since_ms,
                )
            })
            .collect()
    }

    /// The open alerts follow the machines' states by difference: a condition opens when
    /// the census first sees it (since the machine's newest event then, or the time its
    /// state gives), keeps its start while it lasts, and leaves when the state clears it.
    #[test]
    fn open_alerts_open_with_their_condition_and_close_with_its_clear() {
        let cond = |code, since_ms| Condition {
            code,
            detail: String::new(),
            since_ms,
        };
        let mut b = Board::default();
        let mut m1 = m("M-1", &[]);
        m1.last_event_time_ms = 1_000;
        m1.conditions = vec![cond("tilt", None), cond("meter_variance", Some(700))];
        b.put_machine(m1.clone(), 10, 10);
        assert_eq!(
            codes(&b),
            [
                ("M-1".into(), "meter_variance", 700),
                ("M-1".into(), "tilt", 1_000)
            ]
        );
        // Later events: the tilt keeps its start; the variance is explained and leaves.
        m1.last_event_time_ms = 5_000;
        m1.conditions = vec![cond("tilt", None), cond("door_open", None)];
        b.put_machine(m1.clone(), 10, 10);
        assert_eq!(
            codes(&b),
            [
                ("M-1".into(), "door_open", 5_000),
                ("M-1".into(), "tilt", 1_000)
            ]
        );
        m1.conditions.clear();
        b.put_machine(m1, 10, 10);
        assert!(codes(&b).is_empty());

        // Silence opens and its clear closes it; a hall's offline the same.
        b.put_silence(
            &Found::Silent {
                machine: "M-2".into(),
                hall: "H-1".into(),
                last_event_ms: 200,
                silent_ms: 900_000,
            },
            1_000_000,
        );
        b.put_silence(
            &Found::LocationOffline {
                hall: "H-1".into(),
                machine: "M-2".into(),
                last_event_ms: 200,
                machines: 1,
            },
            1_000_000,
        );
        assert_eq!(
            codes(&b),
            [
                ("H-1".into(), "location_offline", 1_000_000),
                ("M-2".into(), "machine_silent", 200)
            ]
        );
        b.put_silence(
            &Found::Back {
                machine: "M-2".into(),
                hall: "H-1".into(),
                silent_since_event_ms: 200,
            },
            1_100_000,
        );
        b.put_silence(
            &Found::LocationOnline {
                hall: "H-1".into(),
                machine: "M-2".into(),
                silent_since_event_ms: 200,
            },
            1_100_000,
        );
        assert!(codes(&b).is_empty());
    }

    /// The listing: handpays pending among them, warnings before infos, oldest first, a
    /// hall's only when asked for, counted by code.
    #[test]
    fn the_open_alerts_list_orders_by_severity_then_age() {
        let cfg = HttpConfig::default();
        let census = Census::new(&cfg, "EUR");
        {
            let mut b = census.board.write().unwrap();
            let mut door = m("M-1", &[]);
            door.last_event_time_ms = 100;
            door.conditions = vec![Condition {
                code: "door_open",
                detail: String::new(),
                since_ms: None,
            }];
            b.put_machine(door, 10, 10);
            let mut tilt = m("M-2", &[(300, 125_000)]);
            tilt.hall = "H-2".into();
            tilt.handpays[0].hall = "H-2".into();
            tilt.last_event_time_ms = 500;
            tilt.conditions = vec![Condition {
                code: "tilt",
                detail: "tilt code 17".into(),
                since_ms: None,
            }];
            b.put_machine(tilt, 10, 10);
        }
        let page = census.alerts(None, 10);
        let got: Vec<(&str, &str, i64, &str)> = page
            .alerts
            .iter()
            .map(|a| (a.code, a.severity, a.since_ms, a.detail.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("handpay_pending", "warning", 300, "jackpot 1250.00"),
                ("tilt", "warning", 500, "tilt code 17"),
                ("door_open", "info", 100, ""),
            ]
        );
        assert_eq!(page.total, 3);
        assert_eq!(page.by_code.get("tilt"), Some(&1));
        let h2 = census.alerts(Some("H-2"), 1);
        assert_eq!((h2.total, h2.alerts.len()), (2, 1));
        assert_eq!(h2.alerts[0].cleared_by, "handpay_reset");
    }

    /// RULES.md V-6, the sweep: an open voucher waits for its next lapse; when due it is
    /// sent (with the time it lapses at), looked at again after a while if its change does
    /// not show, at most a few times; a change (lapsed, redeemed) takes it off.
    #[test]
    fn the_sweep_sends_each_due_lapse_and_retries_a_few_times() {
        use pitboss_actors::domain::voucher::{Issue, Party, VoucherStatus};
        use pitboss_actors::domain::{Currency, ServerId};
        let issued = |number: &str, expires: i64| {
            let mut v = VoucherState::new(
                ValidationNo::new(number).unwrap(),
                Currency::new("EUR").unwrap(),
            );
            v.issue = Some(Issue {
                amount: 500,
                hall: HallId::new("H-1").unwrap(),
                by: Party::Desk(ServerId::new("D-1").unwrap()),
                at: Timestamp(0),
                expires: Some(Timestamp(expires)),
                cause: EventId(1),
            });
            v.status = VoucherStatus::Issued;
            v
        };
        let (a, b) = ("100000000000000001", "100000000000000002");
        let mut board = Board::default();
        let va = issued(a, 1_000);
        board.put_voucher(&va);
        board.put_voucher(&issued(b, 5_000));
        assert!(board.due_lapses(999).is_empty());
        assert_eq!(
            board.due_lapses(1_000),
            [(a.to_string(), 1_000, "H-1".to_string())]
        );
        // Not yet seen to change: again after the retry time, with the same lapse time.
        assert!(board
            .due_lapses(1_000 + LAPSE_RETRY_MS - 1)
            .iter()
            .all(|d| d.0 != a));
        assert_eq!(
            board.due_lapses(1_000 + LAPSE_RETRY_MS),
            [(a.to_string(), 1_000, "H-1".to_string())]
        );
        let _ = board.due_lapses(i64::MAX / 4);
        let _ = board.due_lapses(i64::MAX / 2);
        assert!(
            board.due_lapses(i64::MAX).is_empty(),
            "at most LAPSE_SENDS_MAX sends"
        );
        // A change takes a voucher off: b expired.
        let mut vb = issued(b, 5_000);
        vb.status = VoucherStatus::Expired {
            at: Timestamp(5_000),
        };
        board.put_voucher(&vb);
        assert!(board.lapses.is_empty() && board.sweep.is_empty());
        assert!(lapse_message(a, 1_000, "H-1").is_some());
    }
}
