//! A seeded generator of input streams that mixes every case `RULES.md` names into ordinary
//! play: retries hours later, conflicting repeats, late gap-fills, epoch resets, skewed
//! clocks, wrong currencies, bets rolled back after they were settled, claims on ineligible
//! machines, amounts at the bounds, malformed messages, and voucher flows (`vouchers.rs`:
//! tickets with validation numbers printed, requested, paid, cancelled, voided, expired,
//! credited twice, ...) and cash desks' shifts (`desks.rs`: opened, filled, credited,
//! closed counted right or wrong, revised by a ticket dated inside a closed shift, ...) and
//! the wallet cash players deposit and withdraw at them (`cage.rs`, RULES.md D-10).
//! The same seed gives the same stream.
//!
//! It knows nothing of the rules' outcomes (the model decides those); it only keeps enough
//! of its own books (sequence numbers, rough credits, open bets) to make play look real.

use std::collections::{BTreeMap, BTreeSet};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::wire::{InputEnvelope, InputPayload, SnapshotMeters, Source};

mod bonus;
mod cage;
mod cases;
mod desk_books;
mod desks;
mod known;
mod promo;
mod tickets;
mod transfer_books;
mod transfers;
mod vouchers;

use super::types::{AmlModel, LevelSpec, ModelConfig, PoolSpec};

/// The network's currency in generated streams.
pub const CURRENCY: &str = "EUR";
/// Wallet credit line in generated streams.
pub const CREDIT_LINE: i64 = 1_000;
/// The largest withdrawal a player not verified may make in generated streams (RULES.md
/// W-8).
pub const KYC_WITHDRAWAL_MAX: i64 = 2_000;
/// How long a raised deposit limit waits in generated streams (RULES.md W-9): an hour.
pub const COOLING_OFF_MS: i64 = 3_600_000;
/// The jurisdiction's zone of generated streams (RULES.md W-9): the stream starts on the
/// night Vienna moves its clocks forward.
pub const LIMITS_TIME_ZONE: &str = "Europe/Vienna";
/// Large cash-in alert threshold in generated streams.
pub const LARGE_CASH_IN: i64 = 50_000;
/// A credited win at or above this is alerted (RULES.md M-10).
pub const HANDPAY_THRESHOLD: i64 = 40_000;
/// The stream's start time (2026-03-29T00:30:00Z).
pub const START_MS: i64 = 1_774_744_200_000;
/// How long a redemption request holds a voucher in generated streams (RULES.md V-3).
pub const VOUCHER_HOLD_MS: i64 = 60_000;
/// How long a cashless transfer's request holds its amount in generated streams (RULES.md
/// W-10).
pub const TRANSFER_HOLD_MS: i64 = 60_000;

/// W-9: the break that ends a playing session in the generated streams: 2 minutes (the
/// default is 30), so that the session cases do not stretch a stream's time past its
/// vouchers' expiry.
pub const SESSION_BREAK_MS: i64 = 2 * 60_000;
/// M-12: the theoretical hold rated sessions are computed with (8.75 %: a rate whose
/// products are rarely whole, so rounding down shows).
pub const THEORETICAL_HOLD_PPM: i64 = 87_500;
/// M-12: loyalty points per minor unit of theoretical win, in millionths (0.15: most
/// sessions earn some, some none).
pub const LOYALTY_MICRO_POINTS: i64 = 150_000;
/// The hall whose vouchers expire after a day in generated streams (RULES.md V-6); the
/// others keep the default 30 days.
pub const SHORT_EXPIRY_HALL: usize = 0;
/// The hall whose vouchers are redeemed only in the hall in generated streams (V-3).
pub const HOME_ONLY_HALL: usize = 1;
/// The cash desks of generated streams (RULES.md D-10, `runtime.cash-desks`): the cages of
/// the first and third halls, the desk of quick shifts, and a desk that never opens a
/// shift (its wallet cash is all unshifted). The second hall's cage, which sells and pays
/// tickets, is not listed: its players' deposits and withdrawals move no drawer.
pub const CASH_DESKS: [&str; 4] = ["CAGE-00", "CAGE-02", desk_books::RUSH, "CAGE-EXPRESS"];
/// A desk of generated streams that sells and pays tickets but is not a cash desk of D-10.
pub const UNLISTED_CAGE: &str = "CAGE-01";

/// The size and mix of a stream.
#[derive(Clone, Debug)]
pub struct GenConfig {
    /// Input messages to generate (at least).
    pub events: usize,
    /// Seed of the stream.
    pub seed: u64,
    /// Halls.
    pub halls: usize,
    /// Machines per hall.
    pub machines_per_hall: usize,
    /// Online players.
    pub players: usize,
    /// Per mille of steps that inject a special case instead of ordinary play.
    pub special_per_mille: u32,
    /// Per mille of steps followed by a voucher flow (RULES.md V: a ticket requested and
    /// paid, cancelled, requested twice, credited without a request, voided, ...).
    pub voucher_per_mille: u32,
    /// Per mille of steps followed by a cashless transfer flow (RULES.md W-10: a hold paid
    /// by its machine, cancelled, lapsed, acknowledged with another amount or twice, ...).
    pub transfer_per_mille: u32,
}

impl Default for GenConfig {
    fn default() -> Self {
        Self {
            events: 10_000,
            seed: 1,
            halls: 3,
            machines_per_hall: 4,
            players: 6,
            special_per_mille: 150,
            voucher_per_mille: 25,
            transfer_per_mille: 15,
        }
    }
}

/// One message of a stream.
#[derive(Clone, Debug)]
pub struct Item {
    /// The message's bytes.
    pub bytes: Vec<u8>,
    /// The envelope, when the bytes are one (not for malformed bytes).
    pub env: Option<InputEnvelope>,
    /// Kafka key.
    pub key: String,
    /// The Kafka record timestamp it is produced with.
    pub kafka_time: i64,
}

/// A generated stream and how many of each case it holds.
#[derive(Clone, Debug, Default)]
pub struct Generated {
    /// The messages, in order.
    pub items: Vec<Item>,
    /// Cases by name.
    pub cases: BTreeMap<&'static str, u64>,
}

/// The configuration streams from [`generate`] are meant for: two pools, one wide-area
/// (a mystery level with a minimum bet, a capped progressive level, a mystery level) and one
/// linked to the first hall only.
pub fn model_config() -> ModelConfig {
    let level = |name: &str, seed, ppm, ceiling, mystery, min_bet| LevelSpec {
        name: name.to_owned(),
        seed,
        ppm,
        ceiling,
        mystery,
        min_bet,
    };
    ModelConfig {
        currency: CURRENCY.to_owned(),
        credit_line: CREDIT_LINE,
        kyc_withdrawal_max: Some(KYC_WITHDRAWAL_MAX),
        cooling_off_ms: COOLING_OFF_MS,
        limits_time_zone: LIMITS_TIME_ZONE.to_owned(),
        large_cash_in: LARGE_CASH_IN,
        handpay_threshold: HANDPAY_THRESHOLD,
        clock_ahead_max_ms: 300_000,
        clock_behind_max_ms: 7 * 86_400_000,
        pools: vec![
            PoolSpec {
                id: "WAP-1".to_owned(),
                halls: None,
                levels: vec![
                    level("grand", 50_000, 5_000, Some(200_000), true, 100),
                    level("major", 10_000, 10_000, Some(40_000), false, 50),
                    level("mini", 1_000, 20_000, Some(5_000), true, 0),
                ],
            },
            PoolSpec {
                id: "LAP-1".to_owned(),
                halls: Some(vec![hall_name(0)]),
                levels: vec![level("bonus", 2_000, 10_000, None, false, 0)],
            },
        ],
        voucher_expiry_days: 30,
        voucher_hall_expiry_days: BTreeMap::from([(hall_name(SHORT_EXPIRY_HALL), 1)]),
        voucher_hold_ms: VOUCHER_HOLD_MS,
        voucher_home_only_halls: BTreeSet::from([hall_name(HOME_ONLY_HALL)]),
        transfer_hold_ms: TRANSFER_HOLD_MS,
        session_break_ms: SESSION_BREAK_MS,
        theoretical_hold_ppm: THEORETICAL_HOLD_PPM,
        // M-12: a hall of its own hold, and in it a machine of its own.
        hall_holds_ppm: BTreeMap::from([(hall_name(1), 52_500)]),
        machine_holds_ppm: BTreeMap::from([(format!("M-{:02}-{:03}", 1, 0), 123_400)]),
        loyalty_micro_points: LOYALTY_MICRO_POINTS,
        // W-11: thresholds the generated cash reaches: bills of 10,000 are near the
        // reportable threshold, three of them in an hour are structuring.
        aml: AmlModel {
            log_minor: 30_000,
            report_minor: 100_000,
            structuring_floor_minor: 9_000,
            structuring_count: 3,
            structuring_window_ms: 3_600_000,
        },
        // W-12: the default, cash first (`model_check::run` plays odd seeds bonus-first).
        bonus_first: false,
        cash_desks: CASH_DESKS.iter().map(|d| (*d).to_owned()).collect(),
    }
}

fn hall_name(h: usize) -> String {
    format!("H-{h:02}")
}

struct Machine {
    id: String,
    hall: String,
    v2: bool,
    epoch: u64,
    seq: u64,
    credits: i64,
    /// Restricted promotional credits on the machine (RULES.md M-13): played first, never
    /// cashed out; not in `credits`.
    restricted: i64,
    game_open: bool,
    carded: Option<String>,
    tilted: bool,
    offline: bool,
    /// Events held back, each with how many more events of this machine pass first.
    held: Vec<(usize, InputEnvelope)>,
    /// The machine's own absolute meters (RULES.md M-8): from a history before the stream,
    /// moved by the money events it sends through [`World::send_machine`] (not by the
    /// special cases, which is what makes variances).
    meters: SnapshotMeters,
    /// The open game paid something.
    game_won: bool,
    /// Handpays pending (RULES.md M-10): cancelled credits or a jackpot, and the amount.
    handpays: std::collections::VecDeque<(bool, i64)>,
    /// Switched off (RULES.md M-6).
    powered_off: bool,
}

struct Player {
    id: String,
    v2: bool,
    tx: u64,
    balance: i64,
    open_bets: Vec<(String, String, i64)>,
    settled_bets: Vec<(String, String)>,
    /// The KYC provider said `verified` (RULES.md W-8).
    verified: bool,
}

struct World {
    rng: SmallRng,
    /// Draws the meter snapshots (RULES.md M-8) apart from `rng`, so that adding them left
    /// the rest of every seed's stream as it was.
    snap_rng: SmallRng,
    now: i64,
    ids: u64,
    machines: Vec<Machine>,
    players: Vec<Player>,
    providers: Vec<String>,
    halls: usize,
    out: Generated,
    /// Wallet commands sent, for retries and conflicts: (provider, payload).
    sent_wallet: Vec<(String, InputPayload, bool)>,
    /// Machine events sent, for exact redelivery.
    sent_machine: Vec<Item>,
    /// Vouchers (RULES.md V): their own generator, so that adding them left the rest of
    /// every seed's stream as it was (but for the validation numbers on tickets, and the
    /// voucher flows between steps), and the generator's own books of them.
    vouchers: tickets::Vouchers,
    /// Cashless transfers (RULES.md W-10): their own random draws and ids, for the same
    /// reason.
    transfers: transfer_books::Transfers,
    /// Loss and session limits (RULES.md W-9): their own random draws, for the same reason.
    limits_rng: SmallRng,
    /// Promotional credits (RULES.md M-13): their own random draws, for the same reason.
    promo_rng: SmallRng,
    /// Bonus money (RULES.md W-12): its own random draws, for the same reason, and the
    /// serial of the wallets of its own.
    bonus_rng: SmallRng,
    bonus_serial: u32,
    /// Awards to players pitboss knows nothing of, or made known (RULES.md W-12,
    /// `player_unknown`; `known.rs`): their own random draws, for the same reason.
    known_rng: SmallRng,
    known_turn: usize,
    /// Cash desks (RULES.md D): their own random draws and books, for the same reason.
    desks: desk_books::Desks,
}

/// How often, per thousand steps, a loss or session limit flow (RULES.md W-9) is mixed in.
const LIMIT_FLOWS_PER_MILLE: u32 = 2;

/// How often, per thousand steps, a bonus flow (RULES.md W-12, `bonus.rs`) is mixed in.
const BONUS_FLOWS_PER_MILLE: u32 = 20;

/// How often, per thousand steps, an award to a player of its own, known to pitboss or not
/// (RULES.md W-12, `known.rs`), is mixed in.
const KNOWN_FLOWS_PER_MILLE: u32 = 6;

/// How often, per thousand steps, a cash desk flow (RULES.md D, `desks.rs`) is mixed in.
const DESK_FLOWS_PER_MILLE: u32 = 30;

/// How often, per thousand steps, a flow of wallet cash at the cage (RULES.md D-10,
/// `cage.rs`) is mixed in.
const CAGE_CASH_FLOWS_PER_MILLE: u32 = 25;

/// Generates a stream.
pub fn generate(cfg: &GenConfig) -> Generated {
    let mut rng = SmallRng::seed_from_u64(cfg.seed);
    let mut snap_rng = SmallRng::seed_from_u64(cfg.seed ^ 0x6d65_7465_7273);
    let halls = cfg.halls.max(2);
    let mut machines = Vec::new();
    for h in 0..halls {
        for i in 0..cfg.machines_per_hall.max(1) {
            machines.push(Machine {
                id: format!("M-{h:02}-{i:03}"),
                hall: hall_name(h),
                v2: rng.gen_bool(0.6),
                epoch: 0,
                seq: 0,
                credits: 0,
                restricted: 0,
                game_open: false,
                carded: None,
                tilted: false,
                offline: false,
                held: Vec::new(),
                meters: SnapshotMeters {
                    coin_in: snap_rng.gen_range(0..1_000_000),
                    games_played: snap_rng.gen_range(0..10_000),
                    ..SnapshotMeters::default()
                },
                game_won: false,
                handpays: std::collections::VecDeque::new(),
                powered_off: false,
            });
        }
    }
    let players = (0..cfg.players.max(1))
        .map(|i| Player {
            id: format!("P-{i:05}"),
            v2: rng.gen_bool(0.5),
            tx: 0,
            balance: 0,
            open_bets: Vec::new(),
            settled_bets: Vec::new(),
            verified: false,
        })
        .collect();
    let mut w = World {
        rng,
        snap_rng,
        now: START_MS,
        ids: cfg.seed << 32,
        machines,
        players,
        providers: vec!["GS-A".to_owned(), "GS-B".to_owned(), "PSP-1".to_owned()],
        halls,
        out: Generated::default(),
        sent_wallet: Vec::new(),
        sent_machine: Vec::new(),
        vouchers: tickets::Vouchers::new(cfg.seed),
        transfers: transfer_books::Transfers::new(cfg.seed),
        limits_rng: SmallRng::seed_from_u64(cfg.seed ^ 0x0000_6c69_6d69_7473),
        promo_rng: SmallRng::seed_from_u64(cfg.seed ^ 0x0070_726f_6d6f),
        bonus_rng: SmallRng::seed_from_u64(cfg.seed ^ 0x0062_6f6e_7573),
        bonus_serial: 0,
        known_rng: SmallRng::seed_from_u64(cfg.seed ^ 0x006b_6e6f_776e),
        known_turn: 0,
        desks: desk_books::Desks::new(cfg.seed),
    };
    while w.out.items.len() < cfg.events {
        w.now += w.rng.gen_range(1..40);
        if w.rng.gen_range(0..1000) < cfg.special_per_mille {
            w.special();
        } else if w.rng.gen_bool(0.7) {
            let m = w.rng.gen_range(0..w.machines.len());
            w.play_machine(m);
            w.promo_flow(m);
            match w.snap_rng.gen_range(0..200) {
                0 | 1 => w.send_snapshot(m),
                2 => w.handpay(m),
                3 => {
                    // M-6: a power cut and, later, power back.
                    w.case("power_off");
                    let off = std::mem::replace(&mut w.machines[m].powered_off, false);
                    if off {
                        w.send_machine(m, InputPayload::PowerOn {});
                    } else {
                        w.machines[m].powered_off = true;
                        w.send_machine(m, InputPayload::PowerOff {});
                    }
                }
                _ => {}
            }
        } else {
            let p = w.rng.gen_range(0..w.players.len());
            w.play_wallet(p);
        }
        if w.vouchers.rng.gen_range(0..1000) < cfg.voucher_per_mille {
            w.voucher_flow();
        }
        if w.transfers.rng.gen_range(0..1000) < cfg.transfer_per_mille {
            w.transfer_flow();
        }
        if w.limits_rng.gen_range(0..1000) < LIMIT_FLOWS_PER_MILLE {
            w.limit_flow();
        }
        if w.bonus_rng.gen_range(0..1000) < BONUS_FLOWS_PER_MILLE {
            // Restricted transfers ride on the transfers' setting (see `bonus_flow`).
            w.bonus_flow(cfg.transfer_per_mille > 0);
        }
        if w.known_rng.gen_range(0..1000) < KNOWN_FLOWS_PER_MILLE {
            // Machines' facts ride on the transfers' setting, as the bonus flows' do.
            w.unknown_player_award(cfg.transfer_per_mille > 0);
        }
        if w.desks.rng.gen_range(0..1000) < DESK_FLOWS_PER_MILLE {
            w.desk_flow();
        }
        if w.desks.cash_rng.gen_range(0..1000) < CAGE_CASH_FLOWS_PER_MILLE {
            w.cage_cash_flow();
        }
    }
    // Last, a ticket sold at a desk: every stream ends with a voucher owed (RULES.md V-8's
    // liability above zero), whatever its random flows redeemed or expired before.
    w.desk_issue(None);
    // Whatever is still held back is delivered at the end, late.
    for m in 0..w.machines.len() {
        let held = std::mem::take(&mut w.machines[m].held);
        for (_, env) in held {
            w.push(env);
        }
    }
    w.out
}

impl World {
    fn case(&mut self, name: &'static str) {
        *self.out.cases.entry(name).or_default() += 1;
    }

    fn next_id(&mut self) -> String {
        self.ids += 1;
        uuid::Uuid::from_u128(0x5eed_0000_0000_4000_8000_0000_0000_0000 | u128::from(self.ids))
            .hyphenated()
            .to_string()
    }

    fn push_item(&mut self, bytes: Vec<u8>, env: Option<InputEnvelope>, key: String) {
        let item = Item {
            bytes,
            env,
            key,
            kafka_time: self.now,
        };
        self.out.items.push(item);
    }

    fn push(&mut self, env: InputEnvelope) {
        let bytes = env.to_bytes();
        let key = env.kafka_key().to_owned();
        let is_machine = env.source.machine.is_some();
        self.push_item(bytes, Some(env), key);
        if is_machine {
            let item = self.out.items.last().expect("just pushed").clone();
            self.sent_machine.push(item);
        }
    }

    /// A machine event, sent now or held back behind the machine's held events.
    fn machine_event(&mut self, m: usize, payload: InputPayload) -> InputEnvelope {
        let id = self.next_id();
        let now = self.now;
        let mach = &mut self.machines[m];
        mach.seq += 1;
        InputEnvelope {
            event_id: id,
            schema_version: if mach.v2 { 2 } else { 1 },
            source: Source {
                hall: mach.hall.clone(),
                machine: Some(mach.id.clone()),
                server: None,
            },
            epoch: mach.v2.then_some(mach.epoch),
            seq: mach.seq,
            event_time: now,
            receive_time: mach.v2.then_some(now + 3),
            payload,
        }
    }

    fn send_machine(&mut self, m: usize, payload: InputPayload) {
        let mach = &mut self.machines[m];
        mach.meters.count(&payload, &mut mach.game_won);
        let env = self.machine_event(m, payload);
        self.deliver_machine(m, env);
    }

    /// A handpay step (RULES.md M-10): the machine locks up for its credits or for a jackpot,
    /// an attendant resets the oldest pending one; now and then a reset with nothing
    /// pending, a second lock-up before the reset, or a big win credited instead.
    fn handpay(&mut self, m: usize) {
        self.case("handpay");
        let roll = self.snap_rng.gen_range(0..10);
        let pending = !self.machines[m].handpays.is_empty();
        if roll == 0 {
            self.case("win_above_handpay_threshold");
            self.machines[m].credits += HANDPAY_THRESHOLD;
            return self.send_machine(m, money("win", HANDPAY_THRESHOLD));
        }
        if pending && roll > 2 {
            let (cancelled, amount) = self.machines[m].handpays.pop_front().expect("pending");
            let mach = &mut self.machines[m];
            if cancelled {
                mach.credits -= amount;
                mach.meters.handpaid += amount;
            } else {
                mach.meters.jackpot += amount;
            }
            return self.send_machine(
                m,
                InputPayload::HandpayReset {
                    attendant: "ATT-1".to_owned(),
                },
            );
        }
        if !pending && roll == 1 {
            self.case("handpay_reset_without_pending");
            return self.send_machine(
                m,
                InputPayload::HandpayReset {
                    attendant: "ATT-2".to_owned(),
                },
            );
        }
        let credits = self.machines[m].credits;
        let (cancelled, amount) = if credits > 0 && self.snap_rng.gen_bool(0.5) {
            (true, credits)
        } else {
            (false, self.snap_rng.gen_range(1_000..100_000))
        };
        self.machines[m].handpays.push_back((cancelled, amount));
        let kind = if cancelled {
            "cancelled_credits"
        } else {
            "jackpot"
        };
        self.send_machine(
            m,
            InputPayload::HandpayPending {
                kind: kind.to_owned(),
                amount,
                currency: CURRENCY.to_owned(),
            },
        );
    }

    /// A meter snapshot of the machine's own meters (RULES.md M-8); now and then after a
    /// RAM clear (every meter from zero).
    fn send_snapshot(&mut self, m: usize) {
        self.case("meter_snapshot");
        if self.snap_rng.gen_range(0..25) == 0 {
            self.case("meter_reset");
            self.machines[m].meters = SnapshotMeters::default();
        }
        let reason =
            ["periodic", "door_close", "day_end", "request"][self.snap_rng.gen_range(0..4)];
        let meters = self.machines[m].meters;
        self.send_machine(
            m,
            InputPayload::MeterSnapshot {
                reason: reason.to_owned(),
                currency: CURRENCY.to_owned(),
                meters,
            },
        );
    }

    fn deliver_machine(&mut self, m: usize, env: InputEnvelope) {
        self.push(env);
        // Held events whose turn has come follow (late gap-fills).
        let mut due = Vec::new();
        let held = &mut self.machines[m].held;
        for h in held.iter_mut() {
            h.0 = h.0.saturating_sub(1);
        }
        while let Some(pos) = held.iter().position(|h| h.0 == 0) {
            due.push(held.remove(pos).1);
        }
        for env in due {
            self.push(env);
        }
    }

    fn play_machine(&mut self, m: usize) {
        let bet = *[10, 20, 50, 100, 200, 500]
            .get(self.rng.gen_range(0..6))
            .unwrap_or(&10);
        let mach = &self.machines[m];
        if mach.credits < 500 {
            let bill = [1_000, 2_000, 5_000, 10_000][self.rng.gen_range(0..4)];
            self.machines[m].credits += bill;
            self.send_machine(m, cash_in("bill", bill));
            return;
        }
        if mach.game_open {
            if self.rng.gen_bool(0.35) {
                let win = bet * self.rng.gen_range(1..6);
                self.machines[m].credits += win;
                self.send_machine(m, money("win", win));
            }
            self.machines[m].game_open = false;
            self.send_machine(m, InputPayload::GameEnd {});
            return;
        }
        match self.rng.gen_range(0..100) {
            0..=3 => {
                let c = self.machines[m].credits;
                self.machines[m].credits = 0;
                // Most tickets carry their validation number (RULES.md V-2); a producer that
                // sends none is counted at the machine only.
                let payload = match self.print_number(m, c.max(1)) {
                    Some(number) => ticket_out(c, number),
                    None => cash_out("ticket", c),
                };
                self.send_machine(m, payload);
            }
            4..=5 => {
                let player = format!("P-{:05}", self.rng.gen_range(0..self.players.len()));
                if self.machines[m].carded.is_some() {
                    self.machines[m].carded = None;
                    self.send_machine(m, InputPayload::CardOut {});
                } else {
                    self.machines[m].carded = Some(player.clone());
                    self.send_machine(m, InputPayload::CardIn { player });
                }
            }
            6 => {
                let open = self.machines[m].tilted;
                self.machines[m].tilted = !open;
                if open {
                    self.send_machine(m, InputPayload::TiltClear {});
                } else {
                    self.send_machine(m, InputPayload::Tilt { code: 42 });
                }
            }
            7 => {
                let off = self.machines[m].offline;
                self.machines[m].offline = !off;
                if off {
                    self.send_machine(m, InputPayload::CommsRestored {});
                } else {
                    self.send_machine(m, InputPayload::CommsLost {});
                }
            }
            8 => {
                self.send_machine(m, InputPayload::DoorOpen {});
                self.send_machine(m, InputPayload::DoorClose {});
            }
            _ => {
                // M-13: restricted promotional credits pay first.
                let promo = self.machines[m].restricted.min(bet);
                self.machines[m].restricted -= promo;
                self.machines[m].credits -= bet - promo;
                self.machines[m].game_open = true;
                self.send_machine(m, money("bet", bet));
            }
        }
    }

    fn player_tx(&mut self, p: usize) -> String {
        let pl = &mut self.players[p];
        pl.tx += 1;
        format!("T{}-{}", &pl.id[2..], pl.tx)
    }

    /// Sends a wallet command; a version 2 player's game commands name their game round
    /// (RULES.md E-2): a bet its own, a win or rollback its bet's (a win naming no bet, its
    /// own). Payments name none.
    fn send_wallet(&mut self, p: usize, provider: &str, mut payload: InputPayload) {
        if self.players[p].v2 {
            let round = game_round(&payload);
            payload.set_round(round);
        }
        self.send_wallet_as_is(p, provider, payload);
    }

    /// Sends a wallet command exactly as given, and keeps it for retries and conflicts.
    fn send_wallet_as_is(&mut self, p: usize, provider: &str, payload: InputPayload) {
        let v2 = self.players[p].v2;
        let env = self.wallet_envelope(p, provider, payload.clone(), self.now);
        self.sent_wallet.push((provider.to_owned(), payload, v2));
        self.push(env);
    }

    /// A wallet command from `provider` sent at `time`.
    fn wallet_envelope(
        &mut self,
        p: usize,
        provider: &str,
        payload: InputPayload,
        time: i64,
    ) -> InputEnvelope {
        let id = self.next_id();
        let v2 = self.players[p].v2;
        InputEnvelope {
            event_id: id,
            schema_version: if v2 { 2 } else { 1 },
            source: Source {
                hall: "ONLINE-1".to_owned(),
                machine: None,
                server: Some(provider.to_owned()),
            },
            epoch: None,
            seq: 0,
            event_time: time,
            receive_time: v2.then_some(time + 2),
            payload,
        }
    }

    fn provider(&mut self) -> String {
        self.providers[self.rng.gen_range(0..2)].clone()
    }

    fn play_wallet(&mut self, p: usize) {
        let player = self.players[p].id.clone();
        let tx = self.player_tx(p);
        if self.players[p].balance < 300 {
            let a = [500, 1_000, 5_000][self.rng.gen_range(0..3)];
            self.players[p].balance += a;
            self.send_wallet(p, "PSP-1", wallet("deposit", &player, &tx, a, None));
            return;
        }
        let prov = self.provider();
        match self.rng.gen_range(0..100) {
            0..=49 => {
                let a = [10, 50, 100, 200][self.rng.gen_range(0..4)];
                self.players[p].balance -= a;
                self.players[p]
                    .open_bets
                    .push((prov.clone(), tx.clone(), a));
                self.send_wallet(p, &prov, wallet("wallet_bet", &player, &tx, a, None));
            }
            50..=84 => {
                let Some(i) = (!self.players[p].open_bets.is_empty())
                    .then(|| self.rng.gen_range(0..self.players[p].open_bets.len()))
                else {
                    return;
                };
                let (bprov, btx, a) = self.players[p].open_bets.remove(i);
                let win = a * self.rng.gen_range(1..4);
                self.players[p].balance += win;
                let named = self.rng.gen_bool(0.8).then(|| btx.clone());
                self.players[p].settled_bets.push((bprov.clone(), btx));
                self.send_wallet(p, &bprov, wallet("wallet_win", &player, &tx, win, named));
            }
            85..=92 => {
                let Some((bprov, btx, a)) = self.players[p].open_bets.pop() else {
                    return;
                };
                self.players[p].balance += a;
                self.send_wallet(p, &bprov, rollback(&player, &tx, &btx));
            }
            _ => {
                let a = self.players[p].balance / 2;
                if a > KYC_WITHDRAWAL_MAX && !self.players[p].verified {
                    // W-8: above the limit an unverified player is refused; the KYC provider
                    // verifies most of them in time.
                    if self.rng.gen_bool(0.5) {
                        self.case("kyc_required");
                        self.send_wallet(p, "PSP-1", wallet("withdraw", &player, &tx, a, None));
                        return;
                    }
                    self.case("kyc_verified");
                    self.players[p].verified = true;
                    self.send_wallet(p, "KYC-1", kyc(&player, &tx, "verified"));
                    return;
                }
                if a > 0 {
                    self.players[p].balance -= a;
                    self.send_wallet(p, "PSP-1", wallet("withdraw", &player, &tx, a, None));
                }
            }
        }
    }
}

fn money(kind: &str, amount: i64) -> InputPayload {
    let currency = CURRENCY.to_owned();
    match kind {
        "bet" => InputPayload::Bet { amount, currency },
        _ => InputPayload::Win { amount, currency },
    }
}

fn cash_in(kind: &str, amount: i64) -> InputPayload {
    InputPayload::CashIn {
        kind: kind.to_owned(),
        amount,
        currency: CURRENCY.to_owned(),
        validation: None,
        credit_type: None,
    }
}

fn cash_out(kind: &str, amount: i64) -> InputPayload {
    InputPayload::CashOut {
        kind: kind.to_owned(),
        amount: amount.max(1),
        currency: CURRENCY.to_owned(),
        validation: None,
    }
}

/// A ticket credited with its validation number (RULES.md V-5).
fn ticket_in(amount: i64, number: String) -> InputPayload {
    InputPayload::CashIn {
        kind: "ticket".to_owned(),
        amount,
        currency: CURRENCY.to_owned(),
        validation: Some(number),
        credit_type: None,
    }
}

/// A ticket printed with its validation number (RULES.md V-2).
fn ticket_out(amount: i64, number: String) -> InputPayload {
    InputPayload::CashOut {
        kind: "ticket".to_owned(),
        amount: amount.max(1),
        currency: CURRENCY.to_owned(),
        validation: Some(number),
    }
}

fn jackpot(pool: &str, level: u8, amount: Option<i64>) -> InputPayload {
    InputPayload::JackpotHit {
        pool: pool.to_owned(),
        level,
        amount,
        currency: amount.map(|_| CURRENCY.to_owned()),
    }
}

fn wallet(kind: &str, player: &str, tx: &str, amount: i64, bet_tx: Option<String>) -> InputPayload {
    let (player, tx, currency) = (player.to_owned(), tx.to_owned(), CURRENCY.to_owned());
    match kind {
        "deposit" => InputPayload::Deposit {
            player,
            tx,
            amount,
            currency,
            round: None,
        },
        "withdraw" => InputPayload::Withdraw {
            player,
            tx,
            amount,
            currency,
            round: None,
        },
        "wallet_bet" => InputPayload::WalletBet {
            player,
            tx,
            amount,
            currency,
            round: None,
        },
        _ => InputPayload::WalletWin {
            player,
            tx,
            amount,
            currency,
            bet_tx,
            round: None,
        },
    }
}

/// The game round of a game command: its bet's, else its own (`None` for payments).
fn game_round(p: &InputPayload) -> Option<String> {
    match p {
        InputPayload::WalletBet { tx, .. }
        | InputPayload::WalletWin {
            tx, bet_tx: None, ..
        } => Some(format!("R-{tx}")),
        InputPayload::WalletWin {
            bet_tx: Some(b), ..
        }
        | InputPayload::Rollback { bet_tx: b, .. } => Some(format!("R-{b}")),
        _ => None,
    }
}

/// A deposit limit (RULES.md W-9); `None` removes it.
fn deposit_limit(player: &str, tx: &str, period: &str, amount: Option<i64>) -> InputPayload {
    InputPayload::DepositLimit {
        player: player.to_owned(),
        tx: tx.to_owned(),
        period: period.to_owned(),
        amount,
        currency: amount.map(|_| CURRENCY.to_owned()),
    }
}

/// A loss limit (RULES.md W-9); `None` removes it.
fn loss_limit(player: &str, tx: &str, period: &str, amount: Option<i64>) -> InputPayload {
    match deposit_limit(player, tx, period, amount) {
        InputPayload::DepositLimit {
            player,
            tx,
            period,
            amount,
            currency,
        } => InputPayload::LossLimit {
            player,
            tx,
            period,
            amount,
            currency,
        },
        other => other,
    }
}

/// A session limit in minutes (RULES.md W-9); `None` removes it.
fn session_limit(player: &str, tx: &str, minutes: Option<i64>) -> InputPayload {
    InputPayload::SessionLimit {
        player: player.to_owned(),
        tx: tx.to_owned(),
        minutes,
    }
}

/// A self-exclusion until `until` (RULES.md W-9).
fn self_exclusion(player: &str, tx: &str, until: i64) -> InputPayload {
    InputPayload::SelfExclusion {
        player: player.to_owned(),
        tx: tx.to_owned(),
        until,
    }
}

/// A KYC status (RULES.md W-8).
fn kyc(player: &str, tx: &str, status: &str) -> InputPayload {
    InputPayload::KycStatus {
        player: player.to_owned(),
        tx: tx.to_owned(),
        status: status.to_owned(),
    }
}

fn rollback(player: &str, tx: &str, bet_tx: &str) -> InputPayload {
    InputPayload::Rollback {
        player: player.to_owned(),
        tx: tx.to_owned(),
        bet_tx: bet_tx.to_owned(),
        currency: CURRENCY.to_owned(),
        round: None,
    }
}
