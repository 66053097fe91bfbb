//! The built-in hall-network simulator: halls of machines played by players (bets, wins,
//! game ends, cash in and out, card in/out, progressive hits, doors, meter snapshots at
//! door close) and online players
//! betting through a game server against their wallets. Deterministic for a given seed.
//!
//! It keeps its own model of every machine's credits and every wallet's balance so that what
//! it sends is valid, and counts what it sent: the demo compares those counts with the
//! processor's recount.

use pitboss_actors::domain::HallId;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::config::Config;
use crate::recount::Recount;
use crate::wire::{InputEnvelope, InputPayload, SnapshotMeters, Source};

/// One message for the processor.
#[derive(Clone, Debug)]
pub struct SimMessage {
    /// Kafka key (machine or player id).
    pub key: String,
    /// MessagePack bytes.
    pub bytes: Vec<u8>,
}

/// What the simulator sent and expects to be accepted, in minor units.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct SentTotals {
    /// Messages generated.
    pub messages: u64,
    /// Malformed messages injected.
    pub malformed: u64,
    /// Late bets sent after their rollback (the processor must refuse them).
    pub late_bets: u64,
    /// Cash into machines.
    pub cash_in: i64,
    /// Promotional credits put on machines, restricted and not (RULES.md M-13).
    pub promo_in: i64,
    /// Restricted promotional credits the machines' bets played (M-13); part of `bets`.
    pub promo_played: i64,
    /// Cash out of machines.
    pub cash_out: i64,
    /// Wallet deposits.
    pub deposits: i64,
    /// Wallet withdrawals.
    pub withdrawals: i64,
    /// Bets (machines and wallets, net of rolled-back bets).
    pub bets: i64,
    /// Wins (machines and wallets).
    pub wins: i64,
    /// Tickets printed by machines or sold at desks, with validation numbers (RULES.md V-2).
    pub vouchers_issued: i64,
    /// Redemptions asked for (a machine's gateway or a desk, RULES.md V-3); how many end
    /// redeemed is the processor's to say (a request can meet a ticket not issued yet).
    pub voucher_requests: u64,
    /// Handpays of cancelled credits paid by an attendant (RULES.md M-10: the reset sent).
    pub handpays: u64,
    /// Meter snapshots machines reported (RULES.md M-8).
    pub meter_snapshots: u64,
    /// Times a machine stopped sending for a while without saying so (RULES.md M-11).
    pub silences: u64,
    /// KYC statuses sent by the KYC service (RULES.md W-8).
    pub kyc_statuses: u64,
    /// Commands sent that W-8 must refuse: a withdrawal above the limit by an unverified
    /// player (`kyc_required`), a deposit by a blocked one (`player_blocked`).
    pub kyc_refusals: u64,
    /// Deposits sent that W-9 must refuse: by a self-excluded player (`self_excluded`) or
    /// above a deposit limit (`limit_deposit`).
    pub limit_refusals: u64,
    /// Cashless transfers made (RULES.md W-10), both directions.
    pub cashless_transfers: u64,
    /// Cashless transfers from carded players' wallets to their machines (RULES.md W-10):
    /// the cashless host's request and the machine's acknowledgement, counted in `cash_in`.
    pub transfers_to_machines: i64,
    /// Cashless transfers of machines' credits to their carded players' wallets (W-10),
    /// counted in `cash_out`.
    pub transfers_from_machines: i64,
    /// Bonus money awarded to wallets (RULES.md W-12); the simulator's awards ask for no
    /// wagering, so each becomes cash as it is awarded.
    pub bonus_awarded: i64,
    /// Shifts the desk closed (RULES.md D-4), and their variances as the cashier counted
    /// them against what the simulator believes the drawer holds (a commit the processor
    /// refused shows there too).
    pub shifts_closed: u64,
    /// Wallet deposits and withdrawals made at the desk's cage (RULES.md D-10): part of
    /// `deposits` and `withdrawals`, and of the desk's cash.
    pub desk_wallet_in: i64,
    pub desk_wallet_out: i64,
    /// Patrons sent on a structuring series (RULES.md W-11: `structuring-count` deposits just
    /// under the reportable threshold): each must open a `structuring` case.
    pub structuring: u64,
}

impl SentTotals {
    fn add(&mut self, d: &SentTotals) {
        self.messages += d.messages;
        self.malformed += d.malformed;
        self.late_bets += d.late_bets;
        self.cash_in += d.cash_in;
        self.promo_in += d.promo_in;
        self.promo_played += d.promo_played;
        self.cash_out += d.cash_out;
        self.deposits += d.deposits;
        self.withdrawals += d.withdrawals;
        self.bets += d.bets;
        self.wins += d.wins;
        self.vouchers_issued += d.vouchers_issued;
        self.voucher_requests += d.voucher_requests;
        self.handpays += d.handpays;
        self.meter_snapshots += d.meter_snapshots;
        self.silences += d.silences;
        self.kyc_statuses += d.kyc_statuses;
        self.kyc_refusals += d.kyc_refusals;
        self.limit_refusals += d.limit_refusals;
        self.cashless_transfers += d.cashless_transfers;
        self.transfers_to_machines += d.transfers_to_machines;
        self.transfers_from_machines += d.transfers_from_machines;
        self.bonus_awarded += d.bonus_awarded;
        self.shifts_closed += d.shifts_closed;
        self.desk_wallet_in += d.desk_wallet_in;
        self.desk_wallet_out += d.desk_wallet_out;
        self.structuring += d.structuring;
    }

    /// The processor's recount agrees with what was sent. Transfers (RULES.md W-10): what
    /// machines took is what their wallets paid, plus what nobody paid (`unbacked`), plus
    /// what acknowledgements still waiting for their request took (read before the request,
    /// as a run across partitions may read them, and the request refused or not yet read);
    /// what they sent is what the wallets received.
    pub fn matches(&self, r: &Recount) -> bool {
        self.cash_in == r.cash_in
            && self.promo_in == r.promo_in
            && self.promo_played == r.promo_played
            && self.promo_played == r.promo
            && self.cash_out == r.cash_out
            && self.deposits == r.deposits
            && self.withdrawals == r.withdrawals
            && self.desk_wallet_in == r.desk_wallet_in
            && self.desk_wallet_out == r.desk_wallet_out
            && self.bets == r.bets
            && self.wins == r.wins
            && self.vouchers_issued == r.voucher_issued
            && self.transfers_to_machines
                == r.transfers_to_machines + r.transfers_unbacked + r.transfers_waiting
            && self.transfers_from_machines == r.transfers_from_machines
            && self.bonus_awarded == r.bonus_awarded
            && r.bonus_balances == 0
            && r.bonus_expired == 0
            && self.shifts_closed == r.shifts_closed
    }
}

struct SimMachine {
    id: String,
    hall: usize,
    seq: u64,
    /// Cashable credits.
    credits: i64,
    /// Restricted promotional credits (RULES.md M-13): played first, never cashed out.
    restricted: i64,
    carded: Option<usize>,
    door_open: bool,
    claimable: Vec<(String, u8)>,
    /// The machine's own meters, reported at each door close (RULES.md M-8).
    meters: SnapshotMeters,
    /// The open game paid something.
    game_won: bool,
    /// A ticket this machine asked to redeem (RULES.md V-3): it credits it at its next
    /// cash in, as a machine does once its host authorised the ticket.
    awaiting: Option<(String, i64)>,
    /// Cancelled credits the machine locked up for (RULES.md M-10); an attendant pays them
    /// at the machine's next step.
    handpay: Option<i64>,
    /// Silent (sends nothing, says nothing) until this time (RULES.md M-11).
    silent_until: i64,
}

struct SimPlayer {
    id: String,
    balance: i64,
    tx: u64,
    last_bet: Option<(String, i64)>,
    /// The KYC service said `verified` (RULES.md W-8).
    verified: bool,
    /// Self-excluded until then: no deposits, no bets (RULES.md W-9).
    excluded_until: i64,
    /// A deposit limit it asked to remove waits until then: no deposits (W-9).
    limited_until: i64,
}

pub struct Simulator {
    rng: SmallRng,
    currency: String,
    halls: Vec<String>,
    online_hall: String,
    machines: Vec<SimMachine>,
    players: Vec<SimPlayer>,
    server_seq: u64,
    bets: Vec<i64>,
    bills: Vec<i64>,
    rtp_bp: i64,
    online_share_ppm: u32,
    progressive_ppm: u32,
    malformed_ppm: u32,
    /// Per million machine steps: the machine falls silent for `silence_ms`.
    silence_ppm: u32,
    silence_ms: i64,
    /// RULES.md W-8: the largest withdrawal of an unverified player (the runtime's).
    kyc_max: Option<i64>,
    /// RULES.md D-10: the desk is a cash desk (`runtime.cash-desks` lists it): players
    /// deposit and withdraw at its cage.
    cage: bool,
    /// RULES.md W-11: a structuring series' deposit (between the structuring floor and the
    /// reportable threshold) and its length; `None` when the thresholds are off.
    structuring: Option<(i64, u32)>,
    /// RULES.md W-9: how long a removed deposit limit waits.
    cooling_off_ms: i64,
    seed: u64,
    next_id: u64,
    queue: std::collections::VecDeque<(SimMessage, SentTotals)>,
    /// What the next pushed message carries (counted when it is handed out, not when made).
    pending: SentTotals,
    sent: SentTotals,
    /// Tickets printed or sold and not yet asked for, oldest first, with the message count
    /// at their issue: one is redeemed only `TICKET_AGE_MIN` messages later, as a ticket
    /// leaves the hall with its player, so its issue is applied first.
    tickets: std::collections::VecDeque<(String, i64, u64)>,
    /// Validation numbers given so far.
    ticket_no: u64,
    /// Messages made so far.
    made: u64,
    /// Cashless transfers made so far (their ids).
    transfers: u64,
    /// Carded players transfer to and from their machines (RULES.md W-10).
    cashless: bool,
    /// The desk's shift (RULES.md D): its clock (event times never go back, so each
    /// operation falls in the shift the simulator booked it to), the open shift, and the
    /// desk's transactions so far.
    desk: SimDesk,
}

/// The simulated desk's drawer, as its cashier believes it.
#[derive(Default)]
struct SimDesk {
    clock: i64,
    /// The open shift: the cash expected in the drawer and the operations booked.
    open: Option<(i64, u32)>,
    shifts: u64,
    tx: u64,
}

/// The float a shift opens with; below `DESK_LOW` a fill of `DESK_FILL` comes from the vault,
/// above `DESK_HIGH` a credit takes the drawer back to the float (tickets paid outweigh
/// tickets sold, so a shift sees both).
const DESK_FLOAT: i64 = 200_000;
const DESK_LOW: i64 = 100_000;
const DESK_FILL: i64 = 250_000;
const DESK_HIGH: i64 = 300_000;
/// Desk operations in a shift before it closes.
const DESK_SHIFT_OPS: u32 = 30;
/// The cashiers, taking turns.
const DESK_CASHIERS: [&str; 3] = ["C-ANNA", "C-BEN", "C-CLARA"];

/// Messages between a ticket's issue and its redemption, at least.
const TICKET_AGE_MIN: u64 = 5_000;

/// A cash desk of the simulated network (source.server of its voucher commands).
const SIM_DESK: &str = "DESK-1";

/// The KYC service of the simulated network (RULES.md W-8).
const SIM_KYC: &str = "KYC-1";

/// The responsible-gaming service of the simulated network (RULES.md W-9).
const SIM_RG: &str = "RG-1";

/// The cashless host of the simulated network (RULES.md W-10).
const SIM_AFT: &str = "AFT-1";

/// Probability that a game pays; the win size is set so that the long-run RTP holds.
const WIN_ONE_IN: i64 = 4;
/// One refill of a machine's credits in this many is a host's promotional credits
/// (RULES.md M-13), three in four of them restricted.
const PROMO_ONE_IN: u32 = 25;

impl Simulator {
    /// A simulator for the configured network.
    pub fn new(cfg: &Config) -> anyhow::Result<Self> {
        let s = &cfg.sim;
        anyhow::ensure!(
            s.halls > 0 && s.machines_per_hall > 0,
            "sim needs at least one hall and one machine"
        );
        anyhow::ensure!(
            !s.bet_minor.is_empty() && s.bet_minor.iter().all(|b| *b > 0),
            "sim.bet-minor needs positive sizes"
        );
        anyhow::ensure!(
            !s.bill_minor.is_empty() && s.bill_minor.iter().all(|b| *b > 0),
            "sim.bill-minor needs positive sizes"
        );
        anyhow::ensure!(
            s.silence_per_million <= 100_000,
            "sim.silence-per-million must be at most 100000 (a tenth of the machine steps), got {}",
            s.silence_per_million
        );
        let halls: Vec<String> = (1..=s.halls).map(|h| format!("H-{h:03}")).collect();
        let rc = cfg.runtime_config()?;
        let mut machines = Vec::new();
        for (hi, hall) in halls.iter().enumerate() {
            let hall_id = HallId::new(hall)?;
            let mut claimable = Vec::new();
            for p in &rc.pools {
                if p.halls.as_ref().is_none_or(|hs| hs.contains(&hall_id)) {
                    for (i, l) in p.config.levels.iter().enumerate() {
                        if !l.mystery {
                            claimable.push((p.id.to_string(), i as u8));
                        }
                    }
                }
            }
            for m in 1..=s.machines_per_hall {
                machines.push(SimMachine {
                    id: format!("M-{:03}-{m:05}", hi + 1),
                    hall: hi,
                    seq: 0,
                    credits: 0,
                    restricted: 0,
                    carded: None,
                    door_open: false,
                    claimable: claimable.clone(),
                    meters: SnapshotMeters::default(),
                    game_won: false,
                    awaiting: None,
                    handpay: None,
                    silent_until: 0,
                });
            }
        }
        let players = (1..=s.players)
            .map(|p| SimPlayer {
                id: format!("P-{p:07}"),
                balance: 0,
                tx: 0,
                last_bet: None,
                verified: false,
                excluded_until: i64::MIN,
                limited_until: i64::MIN,
            })
            .collect();
        let pct_to_ppm = |d: Decimal| (d * Decimal::from(10_000)).to_u32().unwrap_or(0);
        Ok(Self {
            rng: SmallRng::seed_from_u64(s.seed),
            currency: cfg.network.currency.clone(),
            halls,
            online_hall: s.online_hall.clone(),
            machines,
            players,
            server_seq: 0,
            bets: s.bet_minor.clone(),
            bills: s.bill_minor.clone(),
            rtp_bp: (s.rtp_percent * Decimal::from(100))
                .to_i64()
                .unwrap_or(9000),
            online_share_ppm: if s.players == 0 {
                0
            } else {
                pct_to_ppm(s.online_share_percent)
            },
            progressive_ppm: s.progressive_hit_per_million,
            malformed_ppm: s.malformed_per_million,
            silence_ppm: s.silence_per_million,
            silence_ms: i64::try_from(s.silence_secs.saturating_mul(1_000)).unwrap_or(i64::MAX),
            kyc_max: rc.wallet_kyc_withdrawal_max_minor,
            cage: rc.cash_desks.iter().any(|d| d.as_str() == SIM_DESK),
            structuring: {
                let a = rc.aml;
                (a.structuring_count > 0
                    && a.structuring_floor_minor > 0
                    && a.report_minor > a.structuring_floor_minor)
                    .then(|| {
                        let near = a.structuring_floor_minor
                            + (a.report_minor - a.structuring_floor_minor) / 2;
                        (near, a.structuring_count)
                    })
            },
            cooling_off_ms: rc.wallet_cooling_off_ms,
            seed: s.seed,
            next_id: 0,
            queue: Default::default(),
            pending: SentTotals::default(),
            sent: SentTotals::default(),
            tickets: Default::default(),
            ticket_no: 0,
            made: 0,
            transfers: 0,
            cashless: s.cashless_transfers,
            desk: SimDesk::default(),
        })
    }

    /// The halls of the network (the online hall included when there are players).
    pub fn hall_ids(&self) -> Vec<HallId> {
        let mut v: Vec<HallId> = self
            .halls
            .iter()
            .filter_map(|h| HallId::new(h).ok())
            .collect();
        if !self.players.is_empty() {
            v.extend(HallId::new(&self.online_hall).ok());
        }
        v
    }

    /// What has been sent so far.
    pub fn sent(&self) -> &SentTotals {
        &self.sent
    }

    /// The next message, stamped with event time `now_ms`.
    pub fn next(&mut self, now_ms: i64) -> SimMessage {
        while self.queue.is_empty() {
            self.step(now_ms);
        }
        let (msg, delta) = self.queue.pop_front().expect("queue filled above");
        self.sent.add(&delta);
        self.sent.messages += 1;
        msg
    }

    fn event_id(&mut self) -> String {
        self.next_id += 1;
        let v = ((self.seed as u128) << 64) | self.next_id as u128;
        uuid::Uuid::from_u128(v).hyphenated().to_string()
    }

    fn push(&mut self, key: String, source: Source, seq: u64, now_ms: i64, payload: InputPayload) {
        // Version 1 throughout, but for what only version 2 says: a credit type (M-13).
        let v2 = matches!(
            payload,
            InputPayload::CashIn {
                credit_type: Some(_),
                ..
            }
        );
        let env = InputEnvelope {
            event_id: self.event_id(),
            schema_version: if v2 { 2 } else { 1 },
            source,
            epoch: None,
            seq,
            event_time: now_ms,
            receive_time: None,
            payload,
        };
        let delta = std::mem::take(&mut self.pending);
        self.made += 1;
        self.queue.push_back((
            SimMessage {
                key,
                bytes: env.to_bytes(),
            },
            delta,
        ));
    }

    fn step(&mut self, now_ms: i64) {
        if self.malformed_ppm > 0 && self.rng.gen_range(0..1_000_000) < self.malformed_ppm {
            let len = self.rng.gen_range(1..64);
            let bytes = (0..len).map(|_| self.rng.gen()).collect();
            let delta = SentTotals {
                malformed: 1,
                ..SentTotals::default()
            };
            self.queue.push_back((
                SimMessage {
                    key: "garbage".into(),
                    bytes,
                },
                delta,
            ));
            return;
        }
        if self.rng.gen_range(0..1_000_000) < self.online_share_ppm {
            let p = self.rng.gen_range(0..self.players.len());
            self.step_player(p, now_ms);
        } else {
            // A silent machine sends nothing: another is picked. Should the picks keep
            // landing on silent ones (a tiny network), the last one speaks again early rather
            // than the stream stalling.
            let mut m = self.rng.gen_range(0..self.machines.len());
            for _ in 0..8 {
                if now_ms >= self.machines[m].silent_until {
                    break;
                }
                m = self.rng.gen_range(0..self.machines.len());
            }
            if self.silence_ppm > 0 && self.rng.gen_range(0..1_000_000) < self.silence_ppm {
                // It stops sending (a cut cable): no event, no comms_lost.
                self.machines[m].silent_until = now_ms.saturating_add(self.silence_ms);
                self.sent.silences += 1;
                return;
            }
            self.step_machine(m, now_ms);
        }
    }

    fn machine_event(&mut self, m: usize, now_ms: i64, payload: InputPayload) {
        let mach = &mut self.machines[m];
        mach.meters.count(&payload, &mut mach.game_won);
        mach.seq += 1;
        let (key, seq) = (mach.id.clone(), mach.seq);
        let source = Source {
            hall: self.halls[mach.hall].clone(),
            machine: Some(key.clone()),
            server: None,
        };
        self.push(key, source, seq, now_ms, payload);
    }

    fn step_machine(&mut self, m: usize, now_ms: i64) {
        let cur = self.currency.clone();
        if let Some(amount) = self.machines[m].handpay.take() {
            // The attendant pays the locked-up credits by hand (RULES.md M-10).
            let mach = &mut self.machines[m];
            mach.credits = 0;
            mach.meters.handpaid += amount;
            self.pending.cash_out += amount;
            self.pending.handpays += 1;
            let attendant = format!("ATT-{}", self.halls[mach.hall].trim_start_matches("H-"));
            return self.machine_event(m, now_ms, InputPayload::HandpayReset { attendant });
        }
        let min_bet = *self.bets.iter().min().expect("bets checked non-empty");
        let roll = self.rng.gen_range(0..10_000);
        let mach = &self.machines[m];
        if roll < 10 {
            let payload = if mach.door_open {
                InputPayload::DoorClose {}
            } else {
                InputPayload::DoorOpen {}
            };
            self.machines[m].door_open = !self.machines[m].door_open;
            let closed = matches!(payload, InputPayload::DoorClose {});
            self.machine_event(m, now_ms, payload);
            if closed {
                // Machines report their meters at door close (RULES.md M-8).
                let meters = self.machines[m].meters;
                self.pending.meter_snapshots += 1;
                self.machine_event(
                    m,
                    now_ms,
                    InputPayload::MeterSnapshot {
                        reason: "door_close".into(),
                        currency: cur,
                        meters,
                    },
                );
            }
            return;
        }
        if roll < 60 && !self.players.is_empty() {
            let payload = match mach.carded {
                Some(_) => {
                    self.machines[m].carded = None;
                    InputPayload::CardOut {}
                }
                None => {
                    let p = self.rng.gen_range(0..self.players.len());
                    self.machines[m].carded = Some(p);
                    InputPayload::CardIn {
                        player: self.players[p].id.clone(),
                    }
                }
            };
            return self.machine_event(m, now_ms, payload);
        }
        if mach.credits < min_bet {
            if let Some((validation, amount)) = self.machines[m].awaiting.take() {
                // RULES.md V-5: the authorised ticket is credited.
                self.machines[m].credits += amount;
                self.pending.cash_in += amount;
                return self.machine_event(
                    m,
                    now_ms,
                    InputPayload::CashIn {
                        kind: "ticket".into(),
                        amount,
                        currency: cur,
                        validation: Some(validation),
                        credit_type: None,
                    },
                );
            }
            if let Some(p) = self.machines[m].carded.filter(|_| self.cashless) {
                // RULES.md W-10: the carded player moves money from the wallet to the
                // machine (the host holds it, the machine takes it), when there is some.
                let amount = self.bills[self.rng.gen_range(0..self.bills.len())];
                let player = &self.players[p];
                if self.rng.gen_range(0..3) == 0
                    && player.balance >= amount
                    && now_ms >= player.excluded_until
                {
                    return self.transfer(m, p, now_ms, amount, true);
                }
            }
            let old = self
                .tickets
                .front()
                .is_some_and(|t| t.2 + TICKET_AGE_MIN <= self.made);
            if old && self.rng.gen_range(0..4) == 0 {
                return self.redeem_ticket(m, now_ms);
            }
            let bill = self.bills[self.rng.gen_range(0..self.bills.len())];
            if self.rng.gen_range(0..PROMO_ONE_IN) == 0 {
                return self.promo(m, now_ms, bill);
            }
            let kind = if self.rng.gen_range(0..10) == 0 {
                "ticket"
            } else {
                "bill"
            };
            self.machines[m].credits += bill;
            self.pending.cash_in += bill;
            return self.machine_event(
                m,
                now_ms,
                InputPayload::CashIn {
                    kind: kind.into(),
                    amount: bill,
                    currency: cur,
                    validation: None,
                    credit_type: None,
                },
            );
        }
        if roll < 260 {
            let all = mach.credits;
            let kind = if self.rng.gen_range(0..20) == 0 {
                "handpay"
            } else {
                "ticket"
            };
            if kind == "handpay" && all > 0 {
                // The machine locks up until an attendant pays (RULES.md M-10).
                self.machines[m].handpay = Some(all);
                return self.machine_event(
                    m,
                    now_ms,
                    InputPayload::HandpayPending {
                        kind: "cancelled_credits".into(),
                        amount: all,
                        currency: cur,
                    },
                );
            }
            if let Some(p) = self.machines[m].carded.filter(|_| all > 0 && self.cashless) {
                if self.rng.gen_range(0..4) == 0 {
                    // RULES.md W-10: the credits go to the carded player's wallet.
                    return self.transfer(m, p, now_ms, all, false);
                }
            }
            self.machines[m].credits = 0;
            self.pending.cash_out += all;
            // A ticket carries its validation number (RULES.md V-2), when there is money.
            let validation = (kind == "ticket" && all > 0).then(|| self.new_ticket(all));
            if validation.is_some() {
                self.pending.vouchers_issued += all;
            }
            return self.machine_event(
                m,
                now_ms,
                InputPayload::CashOut {
                    kind: kind.into(),
                    amount: all,
                    currency: cur,
                    validation,
                },
            );
        }
        // A game: bet, maybe a win, rarely a progressive hit, game end.
        let affordable: Vec<i64> = self
            .bets
            .iter()
            .copied()
            .filter(|b| *b <= mach.credits + mach.restricted)
            .collect();
        let bet = affordable[self.rng.gen_range(0..affordable.len())];
        // RULES.md M-13: restricted promotional credits pay first.
        let promo = bet.min(self.machines[m].restricted);
        self.machines[m].restricted -= promo;
        self.machines[m].credits -= bet - promo;
        self.pending.bets += bet;
        self.pending.promo_played += promo;
        self.machine_event(
            m,
            now_ms,
            InputPayload::Bet {
                amount: bet,
                currency: cur.clone(),
            },
        );
        if self.rng.gen_range(0..WIN_ONE_IN) == 0 {
            let win = bet * self.rtp_bp * WIN_ONE_IN / 10_000;
            if win > 0 {
                self.machines[m].credits += win;
                self.pending.wins += win;
                self.machine_event(
                    m,
                    now_ms,
                    InputPayload::Win {
                        amount: win,
                        currency: cur,
                    },
                );
            }
        }
        // A progressive hit happens during a game (RULES.md P-3: a claim after the game
        // ended is not eligible).
        let claimable = &self.machines[m].claimable;
        if !claimable.is_empty() && self.rng.gen_range(0..1_000_000) < self.progressive_ppm {
            let (pool, level) = claimable[self.rng.gen_range(0..claimable.len())].clone();
            self.machine_event(
                m,
                now_ms,
                InputPayload::JackpotHit {
                    pool,
                    level,
                    amount: None,
                    currency: None,
                },
            );
        }
        self.machine_event(m, now_ms, InputPayload::GameEnd {});
    }

    /// A cashless transfer between player `p`'s wallet and machine `m` (RULES.md W-10): to
    /// the machine, the cashless host's request holds the amount and the machine's
    /// acknowledgement takes it; from the machine, its credits go to the wallet in one fact.
    fn transfer(&mut self, m: usize, p: usize, now_ms: i64, amount: i64, to_machine: bool) {
        self.transfers += 1;
        self.pending.cashless_transfers += 1;
        let id = format!("XF-{:02}-{}", self.seed % 100, self.transfers);
        let player = self.players[p].id.clone();
        if to_machine {
            self.players[p].balance -= amount;
            self.server_seq += 1;
            let source = Source {
                hall: self.online_hall.clone(),
                machine: None,
                server: Some(SIM_AFT.into()),
            };
            let request = InputPayload::TransferRequest {
                player: player.clone(),
                tx: id.clone(),
                machine: self.machines[m].id.clone(),
                amount,
                currency: self.currency.clone(),
                credit_type: None,
            };
            self.push(player.clone(), source, self.server_seq, now_ms, request);
            self.machines[m].credits += amount;
            self.pending.cash_in += amount;
            self.pending.transfers_to_machines += amount;
        } else {
            // The player's own books leave it out: the wallet receives it when the machine's
            // fact reaches it, which another partition may delay past the player's next
            // commands (then a withdrawal counting on it would be refused).
            self.machines[m].credits -= amount;
            self.pending.cash_out += amount;
            self.pending.transfers_from_machines += amount;
        }
        let direction = if to_machine {
            "to_machine"
        } else {
            "from_machine"
        };
        let fact = InputPayload::CashlessTransfer {
            transfer: id,
            player,
            direction: direction.into(),
            amount,
            currency: self.currency.clone(),
            credit_type: None,
        };
        self.machine_event(m, now_ms, fact);
    }

    /// A new validation number for a ticket of `amount`, remembered for redemption.
    /// RULES.md M-13: a host puts promotional credits on machine `m` (a version 2 cashless
    /// cash-in with its credit type): restricted ones are played first and never cashed out,
    /// non-restricted ones are cashable credits from then on.
    fn promo(&mut self, m: usize, now_ms: i64, amount: i64) {
        let restricted = self.rng.gen_range(0..4) != 0;
        if restricted {
            self.machines[m].restricted += amount;
        } else {
            self.machines[m].credits += amount;
        }
        self.pending.promo_in += amount;
        let payload = InputPayload::CashIn {
            kind: "cashless".into(),
            amount,
            currency: self.currency.clone(),
            validation: None,
            credit_type: Some(
                if restricted {
                    "restricted"
                } else {
                    "nonrestricted"
                }
                .into(),
            ),
        };
        self.machine_event(m, now_ms, payload);
    }

    fn new_ticket(&mut self, amount: i64) -> String {
        self.ticket_no += 1;
        // 18 digits: a system number (the seed's last two digits) and a counter.
        let v = format!("{:02}{:016}", self.seed % 100, self.ticket_no);
        self.tickets.push_back((v.clone(), amount, self.made));
        v
    }

    /// A voucher command, keyed by its validation number (RULES.md V-1), from machine `m`'s
    /// gateway or from the desk.
    fn voucher_command(&mut self, m: Option<usize>, now_ms: i64, payload: InputPayload) {
        let key = payload.voucher().unwrap_or_default().to_string();
        self.pending.voucher_requests +=
            u64::from(matches!(payload, InputPayload::VoucherRedeem { .. }));
        let (hall, machine, server) = match m {
            Some(m) => {
                let mach = &self.machines[m];
                (self.halls[mach.hall].clone(), Some(mach.id.clone()), None)
            }
            None => (self.halls[0].clone(), None, Some(SIM_DESK.to_string())),
        };
        self.server_seq += 1;
        let source = Source {
            hall,
            machine,
            server,
        };
        self.push(key, source, self.server_seq, now_ms, payload);
    }

    /// A desk command (RULES.md D), keyed by the desk.
    fn desk_command(&mut self, time: i64, payload: InputPayload) {
        self.server_seq += 1;
        let source = Source {
            hall: self.halls[0].clone(),
            machine: None,
            server: Some(SIM_DESK.to_string()),
        };
        self.push(SIM_DESK.to_string(), source, self.server_seq, time, payload);
    }

    fn desk_tx(&mut self) -> String {
        self.desk.tx += 1;
        format!("D-{}", self.desk.tx)
    }

    /// The desk's time for an operation at `now_ms`: never before its last one. Opens a
    /// shift first if none is open (RULES.md D-1).
    fn desk_time(&mut self, now_ms: i64) -> i64 {
        self.desk.clock = self.desk.clock.max(now_ms);
        if self.desk.open.is_none() {
            let cashier = DESK_CASHIERS[self.desk.shifts as usize % DESK_CASHIERS.len()];
            self.desk.shifts += 1;
            let open = InputPayload::ShiftOpen {
                tx: self.desk_tx(),
                cashier: cashier.into(),
                float: DESK_FLOAT,
                currency: self.currency.clone(),
            };
            self.desk_command(self.desk.clock, open);
            self.desk.open = Some((DESK_FLOAT, 0));
        }
        self.desk.clock
    }

    /// After a desk operation that moved `delta` in the drawer (RULES.md D-3): a fill or a
    /// credit when the drawer runs low or high, and the close after `DESK_SHIFT_OPS`
    /// operations, one time in five a little short (a variance, D-4). The close is a
    /// millisecond after the last operation, so every operation before it is in its shift.
    fn desk_booked(&mut self, delta: i64) {
        let Some((mut expected, mut ops)) = self.desk.open else {
            return;
        };
        expected += delta;
        ops += 1;
        let t = self.desk.clock;
        let cur = self.currency.clone();
        if expected < DESK_LOW {
            let fill = InputPayload::DeskFill {
                tx: self.desk_tx(),
                amount: DESK_FILL,
                currency: cur.clone(),
            };
            self.desk_command(t, fill);
            expected += DESK_FILL;
        } else if expected > DESK_HIGH {
            let credit = InputPayload::DeskCredit {
                tx: self.desk_tx(),
                amount: expected - DESK_FLOAT,
                currency: cur.clone(),
            };
            self.desk_command(t, credit);
            expected = DESK_FLOAT;
        }
        if ops < DESK_SHIFT_OPS {
            self.desk.open = Some((expected, ops));
            return;
        }
        let short = if self.rng.gen_range(0..5) == 0 {
            self.rng.gen_range(1..=500)
        } else {
            0
        };
        self.desk.clock += 1;
        let close = InputPayload::ShiftClose {
            tx: self.desk_tx(),
            counted: (expected - short).max(0),
            currency: cur,
        };
        self.pending.shifts_closed += 1;
        self.desk_command(self.desk.clock, close);
        self.desk.open = None;
    }

    /// The oldest open ticket is redeemed: at machine `m` (a request now, the credit at its
    /// next cash in) or, one time in three, paid at the desk (a request, then the commit);
    /// one time in twenty the desk also sells a new ticket for cash.
    fn redeem_ticket(&mut self, m: usize, now_ms: i64) {
        let Some((validation, amount, _)) = self.tickets.pop_front() else {
            return;
        };
        let cur = self.currency.clone();
        let tx = format!("T-{}", self.made);
        let request = InputPayload::VoucherRedeem {
            validation: validation.clone(),
            tx: tx.clone(),
            amount,
            currency: cur.clone(),
        };
        if self.rng.gen_range(0..3) == 0 {
            // At the desk, in its shift (RULES.md D-3).
            let t = self.desk_time(now_ms);
            self.voucher_command(None, t, request);
            let commit = InputPayload::VoucherCommit {
                validation,
                tx: format!("{tx}-c"),
            };
            self.voucher_command(None, t, commit);
            self.desk_booked(-amount);
            if self.rng.gen_range(0..20) == 0 {
                let t = self.desk_time(now_ms);
                let amount = self.bills[self.rng.gen_range(0..self.bills.len())];
                let validation = self.new_ticket(amount);
                self.pending.vouchers_issued += amount;
                let issue = InputPayload::VoucherIssue {
                    validation,
                    tx: format!("{tx}-i"),
                    amount,
                    currency: cur,
                };
                self.voucher_command(None, t, issue);
                self.desk_booked(amount);
            }
        } else {
            self.voucher_command(Some(m), now_ms, request);
            self.machines[m].awaiting = Some((validation, amount));
        }
    }

    fn wallet_event(&mut self, p: usize, now_ms: i64, payload: InputPayload) {
        self.server_seq += 1;
        let source = Source {
            hall: self.online_hall.clone(),
            machine: None,
            server: Some("GS-1".into()),
        };
        let (key, seq) = (self.players[p].id.clone(), self.server_seq);
        self.push(key, source, seq, now_ms, payload);
    }

    /// RULES.md W-8 in play: an unverified player asks for more than the limit (refused
    /// `kyc_required`) and the KYC service then verifies them; now and then a player is
    /// blocked, tries a deposit (refused `player_blocked`) and the block is lifted (back to
    /// what the player was).
    fn step_kyc(&mut self, p: usize, now_ms: i64, status: &str) {
        let (player, tx) = (self.players[p].id.clone(), self.new_tx(p));
        self.pending.kyc_statuses += 1;
        self.server_seq += 1;
        let source = Source {
            hall: self.online_hall.clone(),
            machine: None,
            server: Some(SIM_KYC.into()),
        };
        let payload = InputPayload::KycStatus {
            player: player.clone(),
            tx,
            status: status.into(),
        };
        let seq = self.server_seq;
        self.push(player, source, seq, now_ms, payload);
    }

    fn kyc_step(&mut self, p: usize, now_ms: i64, max: i64, block: bool) {
        let (cur, player) = (self.currency.clone(), self.players[p].id.clone());
        let tx = self.new_tx(p);
        if !block {
            // Called for an unverified player only. The refusal is counted with the message
            // that gets it (a run may stop between two messages).
            self.pending.kyc_refusals += 1;
            let payload = InputPayload::Withdraw {
                player,
                tx,
                amount: max.saturating_add(1),
                currency: cur,
                round: None,
            };
            self.wallet_event(p, now_ms, payload);
            self.players[p].verified = true;
            return self.step_kyc(p, now_ms, "verified");
        }
        self.step_kyc(p, now_ms, "blocked");
        self.pending.kyc_refusals += 1;
        let amount = self.bills[self.rng.gen_range(0..self.bills.len())];
        let payload = InputPayload::Deposit {
            player,
            tx,
            amount,
            currency: cur,
            round: None,
        };
        self.wallet_event(p, now_ms, payload);
        let back = if self.players[p].verified {
            "verified"
        } else {
            "unverified"
        };
        self.step_kyc(p, now_ms, back);
    }

    /// RULES.md W-9 in play, one step in five thousand: a player excludes themself for ten
    /// minutes and tries a deposit (refused `self_excluded`), or sets a daily deposit limit of
    /// one minor unit, tries a deposit (refused `limit_deposit`) and removes the limit, which
    /// waits out the cooling-off (no deposits meanwhile).
    fn limit_step(&mut self, p: usize, now_ms: i64, exclude: bool) {
        let (cur, player) = (self.currency.clone(), self.players[p].id.clone());
        let source = |s: &Self| Source {
            hall: s.online_hall.clone(),
            machine: None,
            server: Some(SIM_RG.into()),
        };
        let tx = self.new_tx(p);
        let payload = if exclude {
            let until = now_ms.saturating_add(600_000);
            self.players[p].excluded_until = until;
            InputPayload::SelfExclusion {
                player: player.clone(),
                tx,
                until,
            }
        } else {
            InputPayload::DepositLimit {
                player: player.clone(),
                tx,
                period: "day".into(),
                amount: Some(1),
                currency: Some(cur.clone()),
            }
        };
        self.server_seq += 1;
        let seq = self.server_seq;
        let src = source(self);
        self.push(player.clone(), src, seq, now_ms, payload);
        let tx = self.new_tx(p);
        let amount = self.bills[self.rng.gen_range(0..self.bills.len())].max(2);
        self.pending.limit_refusals += 1;
        let deposit = InputPayload::Deposit {
            player: player.clone(),
            tx,
            amount,
            currency: cur,
            round: None,
        };
        self.wallet_event(p, now_ms, deposit);
        if !exclude {
            let tx = self.new_tx(p);
            self.players[p].limited_until = now_ms.saturating_add(self.cooling_off_ms);
            let remove = InputPayload::DepositLimit {
                player: player.clone(),
                tx,
                period: "day".into(),
                amount: None,
                currency: None,
            };
            self.server_seq += 1;
            let seq = self.server_seq;
            let src = source(self);
            self.push(player, src, seq, now_ms, remove);
        }
    }

    /// RULES.md W-12 in play, two steps in ten thousand: the promotions system awards a
    /// player a cash bonus (no wagering), which the wallet makes cash as it awards it.
    fn award_step(&mut self, p: usize, now_ms: i64) {
        let amount = self.bills[self.rng.gen_range(0..self.bills.len())];
        let tx = self.new_tx(p);
        self.players[p].balance += amount;
        self.pending.bonus_awarded += amount;
        let payload = InputPayload::BonusAward {
            player: self.players[p].id.clone(),
            tx,
            amount,
            currency: self.currency.clone(),
            wagering: 0,
            expires_at: now_ms.saturating_add(86_400_000),
        };
        self.wallet_event(p, now_ms, payload);
    }

    /// RULES.md W-11 in play: a patron brings cash just under the reportable threshold
    /// `count` times in a row (each a deposit, one in eight at the cage): near-threshold
    /// cash-ins within the window, a `structuring` case, and the day's total past the log and
    /// report thresholds.
    fn structure(&mut self, p: usize, now_ms: i64, near: i64, count: u32) {
        self.pending.structuring += 1;
        for i in 0..i64::from(count) {
            let (player, tx) = (self.players[p].id.clone(), self.new_tx(p));
            self.players[p].balance += near;
            self.pending.deposits += near;
            let deposit = InputPayload::Deposit {
                player,
                tx,
                amount: near,
                currency: self.currency.clone(),
                round: None,
            };
            self.cash_wallet_event(p, now_ms + i, deposit, near);
        }
    }

    /// A withdrawal the wallet will apply: counted, and taken off the player's balance.
    fn withdraw(&mut self, p: usize, now_ms: i64, amount: i64) {
        let (player, tx) = (self.players[p].id.clone(), self.new_tx(p));
        self.players[p].balance -= amount;
        self.pending.withdrawals += amount;
        let payload = InputPayload::Withdraw {
            player,
            tx,
            amount,
            currency: self.currency.clone(),
            round: None,
        };
        self.cash_wallet_event(p, now_ms, payload, -amount);
    }

    /// A deposit or withdrawal the wallet will apply, moving `drawer` in the cash it takes:
    /// one time in eight at the desk's cage, in its shift, when the desk is a cash desk
    /// (RULES.md D-10: one of `runtime.cash-desks`), else through the game server.
    fn cash_wallet_event(&mut self, p: usize, now_ms: i64, payload: InputPayload, drawer: i64) {
        if !self.cage || self.rng.gen_range(0..8) != 0 {
            return self.wallet_event(p, now_ms, payload);
        }
        let t = self.desk_time(now_ms);
        self.server_seq += 1;
        let source = Source {
            hall: self.halls[0].clone(),
            machine: None,
            server: Some(SIM_DESK.to_string()),
        };
        if drawer > 0 {
            self.pending.desk_wallet_in += drawer;
        } else {
            self.pending.desk_wallet_out -= drawer;
        }
        let (key, seq) = (self.players[p].id.clone(), self.server_seq);
        self.push(key, source, seq, t, payload);
        self.desk_booked(drawer);
    }

    fn new_tx(&mut self, p: usize) -> String {
        let pl = &mut self.players[p];
        pl.tx += 1;
        format!("{}-{}", pl.id, pl.tx)
    }

    fn step_player(&mut self, p: usize, now_ms: i64) {
        let cur = self.currency.clone();
        let player = self.players[p].id.clone();
        let min_bet = *self.bets.iter().min().expect("bets checked non-empty");
        let roll = self.rng.gen_range(0..10_000);
        if now_ms < self.players[p].excluded_until {
            // W-9: a self-excluded player may still take money out, nothing else.
            let amount = self.players[p]
                .balance
                .min(self.kyc_max.unwrap_or(i64::MAX));
            if roll < 100 && amount > 0 && self.players[p].verified {
                self.withdraw(p, now_ms, amount);
            }
            return;
        }
        if roll < 2 {
            return self.limit_step(p, now_ms, roll == 0);
        }
        if roll < 4 && now_ms >= self.players[p].limited_until {
            if let Some((near, count)) = self.structuring {
                return self.structure(p, now_ms, near, count);
            }
        }
        if self.players[p].balance < min_bet {
            if now_ms < self.players[p].limited_until {
                // W-9: a deposit limit of 1 waits out its removal; nothing to stake.
                return;
            }
            let amount = self.bills[self.rng.gen_range(0..self.bills.len())];
            let tx = self.new_tx(p);
            self.players[p].balance += amount;
            self.pending.deposits += amount;
            let deposit = InputPayload::Deposit {
                player,
                tx,
                amount,
                currency: cur,
                round: None,
            };
            return self.cash_wallet_event(p, now_ms, deposit, amount);
        }
        if roll < 100 {
            let mut amount = self.players[p].balance / 2;
            if let Some(max) = self.kyc_max.filter(|_| !self.players[p].verified) {
                // W-8: an unverified player asks for no more than the limit here.
                amount = amount.min(max);
            }
            if amount > 0 {
                return self.withdraw(p, now_ms, amount);
            }
        }
        if roll < 200 {
            if let Some((bet_tx, amount)) = self.players[p].last_bet.take() {
                let tx = self.new_tx(p);
                self.players[p].balance += amount;
                self.pending.bets -= amount;
                return self.wallet_event(
                    p,
                    now_ms,
                    InputPayload::Rollback {
                        player,
                        tx,
                        bet_tx,
                        currency: cur,
                        round: None,
                    },
                );
            }
        }
        if roll < 210 {
            // A rollback that overtakes its bet: the late bet must be refused.
            let bet_tx = self.new_tx(p);
            let tx = self.new_tx(p);
            self.wallet_event(
                p,
                now_ms,
                InputPayload::Rollback {
                    player: player.clone(),
                    tx,
                    bet_tx: bet_tx.clone(),
                    currency: cur.clone(),
                    round: None,
                },
            );
            self.pending.late_bets += 1;
            return self.wallet_event(
                p,
                now_ms,
                InputPayload::WalletBet {
                    player,
                    tx: bet_tx,
                    amount: min_bet,
                    currency: cur,
                    round: None,
                },
            );
        }
        if roll < 220 {
            // W-8 (RULES.md): in seven of ten thousand steps an unverified player asks for
            // more than the limit and is then verified; in three a player is blocked for a
            // while.
            let block = roll >= 217;
            if let Some(max) = self.kyc_max.filter(|_| block || !self.players[p].verified) {
                return self.kyc_step(p, now_ms, max, block);
            }
        }
        if (220..222).contains(&roll) {
            return self.award_step(p, now_ms);
        }
        let affordable: Vec<i64> = self
            .bets
            .iter()
            .copied()
            .filter(|b| *b <= self.players[p].balance)
            .collect();
        let bet = affordable[self.rng.gen_range(0..affordable.len())];
        let tx = self.new_tx(p);
        self.players[p].balance -= bet;
        self.players[p].last_bet = Some((tx.clone(), bet));
        self.pending.bets += bet;
        self.wallet_event(
            p,
            now_ms,
            InputPayload::WalletBet {
                player: player.clone(),
                tx: tx.clone(),
                amount: bet,
                currency: cur.clone(),
                round: None,
            },
        );
        if self.rng.gen_range(0..WIN_ONE_IN) == 0 {
            let win = bet * self.rtp_bp * WIN_ONE_IN / 10_000;
            if win > 0 {
                let wtx = self.new_tx(p);
                self.players[p].balance += win;
                // A settled bet can no longer be rolled back.
                self.players[p].last_bet = None;
                self.pending.wins += win;
                self.wallet_event(
                    p,
                    now_ms,
                    InputPayload::WalletWin {
                        player,
                        tx: wtx,
                        amount: win,
                        currency: cur,
                        bet_tx: Some(tx),
                        round: None,
                    },
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim(machines: u32, players: u32, silence_ppm: u32) -> Simulator {
        let mut cfg = Config::load_with_env(None, Vec::new()).expect("defaults");
        cfg.sim.halls = 1;
        cfg.sim.machines_per_hall = machines;
        cfg.sim.players = players;
        cfg.sim.malformed_per_million = 0;
        cfg.sim.silence_per_million = silence_ppm;
        cfg.sim.silence_secs = 60;
        Simulator::new(&cfg).expect("sim")
    }

    /// RULES.md W-8: unverified players ask for more than the limit (to be refused) and are
    /// verified; players are blocked, try a deposit (to be refused) and are let go; every
    /// message decodes, and no other withdrawal of an unverified player is above the limit.
    /// RULES.md W-10 in play: carded players move money to their machines (the host's
    /// request before the machine's acknowledgement, same transfer, same amount) and
    /// machines send credits to their players' wallets; the totals count them.
    #[test]
    fn carded_players_transfer_to_and_from_their_machines() {
        let mut s = sim(4, 3, 0);
        let (mut requested, mut to, mut from) = (std::collections::BTreeMap::new(), 0, 0);
        for i in 0..50_000 {
            let m = s.next(1_000 + i);
            let env = InputEnvelope::from_bytes(&m.bytes).expect("an event");
            match env.payload {
                InputPayload::TransferRequest { tx, amount, .. } => {
                    requested.insert(tx, amount);
                }
                InputPayload::CashlessTransfer {
                    transfer,
                    direction,
                    amount,
                    ..
                } => {
                    if direction == "to_machine" {
                        assert_eq!(requested.get(&transfer), Some(&amount), "{transfer}");
                        to += amount;
                    } else {
                        assert_eq!(direction, "from_machine");
                        assert!(!requested.contains_key(&transfer), "{transfer}");
                        from += amount;
                    }
                }
                _ => {}
            }
        }
        assert!(to > 0 && from > 0, "to machines {to}, from machines {from}");
        assert_eq!(
            (
                s.sent().transfers_to_machines,
                s.sent().transfers_from_machines
            ),
            (to, from)
        );
    }

    #[test]
    fn players_meet_the_kyc_rules() {
        let mut s = sim(10, 500, 0);
        let max = s
            .kyc_max
            .expect("the shipped configuration sets a KYC limit");
        let (mut statuses, mut blocked, mut above) = (0u64, 0u64, 0u64);
        let (mut exclusions, mut limits, mut removals) = (0u64, 0u64, 0u64);
        // Each player's last status, as the wallet will see it.
        let mut status_of = std::collections::HashMap::new();
        for _ in 0..400_000 {
            let m = s.next(1_800_000_000_000);
            let env = crate::wire::InputEnvelope::from_bytes(&m.bytes);
            match env.map(|e| e.payload) {
                Ok(InputPayload::SelfExclusion { .. }) => exclusions += 1,
                Ok(InputPayload::DepositLimit { amount, .. }) => {
                    limits += u64::from(amount.is_some());
                    removals += u64::from(amount.is_none());
                }
                Ok(InputPayload::KycStatus { player, status, .. }) => {
                    statuses += 1;
                    blocked += u64::from(status == "blocked");
                    status_of.insert(player, status);
                }
                Ok(InputPayload::Withdraw { player, amount, .. })
                    if amount > max
                        && status_of.get(&player).map(String::as_str) != Some("verified") =>
                {
                    above += 1;
                }
                _ => {}
            }
        }
        let sent = s.sent();
        assert_eq!(sent.kyc_statuses, statuses);
        assert!(blocked > 0 && above > 0, "blocked {blocked}, above {above}");
        // Each block refuses one deposit; each withdrawal above the limit is refused.
        assert_eq!(sent.kyc_refusals, blocked + above);
        // RULES.md W-9: each self-exclusion and each limit of one minor unit is followed by
        // a deposit to be refused; each such limit is removed again.
        assert!(exclusions > 0 && limits > 0, "{exclusions} {limits}");
        // (The run may stop between a step's messages.)
        assert!(
            limits - removals <= 1,
            "{limits} limits, {removals} removals"
        );
        assert!(exclusions + limits - sent.limit_refusals <= 1);
        assert!(sent.limit_refusals <= exclusions + limits);
    }

    /// RULES.md W-11 in play: patrons bring cash just under the reportable threshold, a
    /// structuring series of `structuring-count` deposits each, some at the cage (D-10).
    #[test]
    fn patrons_structure_cash_just_under_the_reportable_threshold() {
        let mut s = sim(4, 300, 0);
        let (near, count) = s.structuring.expect("the shipped thresholds are on");
        assert!((900_000..1_000_000).contains(&near), "{near}");
        let (mut deposits, mut at_cage) = (0u64, 0u64);
        for _ in 0..300_000 {
            let m = s.next(1_800_000_000_000);
            let Ok(env) = InputEnvelope::from_bytes(&m.bytes) else {
                continue;
            };
            if let InputPayload::Deposit { amount, .. } = env.payload {
                if amount == near {
                    deposits += 1;
                    at_cage += u64::from(env.source.server.as_deref() == Some(SIM_DESK));
                }
            }
        }
        let series = s.sent().structuring;
        assert!(series >= 3, "{series} series");
        // The last series may still be queued.
        let count = u64::from(count);
        assert!(
            deposits <= series * count && deposits > (series - 1) * count,
            "{deposits} near-threshold deposits in {series} series"
        );
        assert!(
            at_cage > 0 && at_cage < deposits,
            "{at_cage} of {deposits} at the cage"
        );
    }

    /// RULES.md M-11: machines fall silent (nothing sent, nothing said) and speak again after
    /// their silence; the stream never stalls, even when every machine is silent.
    #[test]
    fn machines_fall_silent_and_the_stream_goes_on() {
        let mut s = sim(100, 0, 100_000);
        let t = 1_800_000_000_000;
        for _ in 0..5_000 {
            s.next(t);
        }
        let silent = s.machines.iter().filter(|m| m.silent_until > t).count();
        assert!(silent > 50, "most machines fell silent: {silent}");
        assert!(
            s.sent().silences as usize >= silent,
            "each silence is counted"
        );
        // A minute later they speak again.
        let before = s.sent().messages;
        for _ in 0..100 {
            s.next(t + 61_000);
        }
        assert_eq!(s.sent().messages, before + 100);
        // One machine, no players, always falling silent: still a stream.
        let mut one = sim(1, 0, 100_000);
        for _ in 0..1_000 {
            one.next(t);
        }
        assert_eq!(one.sent().messages, 1_000);
        // Too much silence is a configuration error.
        let mut cfg = Config::load_with_env(None, Vec::new()).expect("defaults");
        cfg.sim.silence_per_million = 100_001;
        let e = Simulator::new(&cfg).err().expect("refused").to_string();
        assert!(
            e.contains("sim.silence-per-million must be at most 100000"),
            "{e}"
        );
    }
}
