//! The machine (EGM) state machine: credits, meters, sequence check, play session, status.
//!
//! Money enters a machine by cash in (bills, tickets, cashless) and leaves by cash out
//! (tickets, cashless, handpay). Bets move credits to the house, wins move them back.
//! Jackpot awards are paid by the pool as a handpay: they pass the `jackpot_paid` meter and
//! leave the system without touching the credits.

use super::error::{DomainError, Subject};
use super::ids::{
    AttendantId, EventId, HallId, MachineId, PlayerId, PoolId, ServerId, SourceKey, TxId,
    ValidationNo,
};
use super::kinds::{HandpayKind, LogCode, MachineOp, ReportedMeter, SnapshotReason, Total};
use super::money::{add, Amount, Currency};
use super::time::{booked_time, SkewLimits, Timestamp};
use super::transfer::{CreditType, Direction, TransferFact};

use super::aml::CashDir;
pub use super::applied::Applied;
pub use super::ggr::GgrDelta;

/// How money entered a machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CashInKind {
    /// A banknote in the bill validator.
    Bill,
    /// A TITO ticket redeemed at this machine, with its validation number if the gateway
    /// sent one (then the voucher is redeemed, RULES.md V-5).
    Ticket(Option<ValidationNo>),
    /// An electronic transfer from a cashless account.
    Cashless,
    /// Promotional credits a host put on the machine (an AFT transfer of a promotional
    /// credit type, RULES.md M-13): free play the house gives, not cash.
    Promo(PromoCredit),
}

/// The promotional credit types of SAS and G2S (RULES.md M-13).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromoCredit {
    /// Non-cashable: can only be played, and is played first.
    Restricted,
    /// Cashable once on the machine: it joins the credits a player can cash out.
    NonRestricted,
}

/// How money left a machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CashOutKind {
    /// A TITO ticket printed by this machine, with its validation number if the gateway
    /// sent one (then the voucher is issued, RULES.md V-2).
    Ticket(Option<ValidationNo>),
    /// An electronic transfer to a cashless account.
    Cashless,
    /// Paid by hand by an attendant.
    Handpay,
}

/// A significant (non-money) event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignificantEvent {
    /// A cabinet door opened.
    DoorOpen,
    /// A cabinet door closed.
    DoorClose,
    /// A tilt (fault) with the machine's code.
    Tilt(u32),
    /// The tilt was cleared.
    TiltClear,
    /// The machine lost communication with its host (reported by the hall gateway).
    CommsLost,
    /// Communication restored.
    CommsRestored,
    /// The machine lost its power (or was switched off).
    PowerOff,
    /// The machine was powered on.
    PowerOn,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MachineCommand {
    /// A wager: credits to the house, contributions to the machine's pools.
    Bet(Amount),
    /// A payout of the game in progress.
    Win(Amount),
    /// The game in progress ended.
    GameEnd,
    /// Money entered.
    CashIn(CashInKind, Amount),
    /// Money left.
    CashOut(CashOutKind, Amount),
    /// A player inserted a player card.
    CardIn(PlayerId),
    /// The player removed the card.
    CardOut,
    /// The machine reports a progressive hit on a level of a pool (RULES.md P-3).
    JackpotHit {
        pool: PoolId,
        /// The level index.
        level: u8,
        /// What the machine showed and paid (version 2); without it, the level's amount.
        amount: Option<Amount>,
    },
    Significant(SignificantEvent),
    /// The machine reports its absolute meters (RULES.md M-8): compared with the previous
    /// snapshot plus what pitboss applied in between.
    /// (`meters` boxed: 88 bytes in a rare command would grow every input the runtime moves.)
    MeterSnapshot {
        reason: SnapshotReason,
        meters: Box<MeterReport>,
    },
    /// The machine locked up to pay `amount` by hand (RULES.md M-10).
    HandpayPending {
        kind: HandpayKind,
        amount: Amount,
    },
    /// An attendant paid the oldest pending handpay and reset the machine (RULES.md M-10).
    HandpayReset {
        attendant: AttendantId,
    },
    /// A cashless transfer naming its wallet (RULES.md W-10): counted like a cashless cash
    /// in or out, then forwarded to the player's wallet. Boxed: rare, and larger than the
    /// commands every game moves.
    Transfer(Box<MachineTransfer>),
}

/// A cashless transfer as the machine reports it (RULES.md W-10).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MachineTransfer {
    /// To the machine (its cashless cash-in) or from it (its cashless cash-out).
    pub direction: Direction,
    /// The transfer id (the wallet's request's `tx`).
    pub transfer: TxId,
    /// Whose wallet.
    pub player: PlayerId,
    pub amount: Amount,
    /// Which credits (RULES.md W-12): a restricted transfer to the machine counts as
    /// restricted promotional credits (M-13); from a machine always cashable.
    pub credit: CreditType,
}

/// A transfer a machine applied, as its wallet receives it (RULES.md W-10).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletTransferFact {
    pub player: PlayerId,
    pub fact: TransferFact,
    /// The hall the machine stands in.
    pub hall: HallId,
    /// The event's booked time.
    pub at: Timestamp,
}

/// A player's card-in, as the player's wallet receives it (RULES.md W-9: a self-excluded
/// player's card-in raises an alert there; the machine does not know the wallet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlayerCardIn {
    pub player: PlayerId,
    /// The hall the machine stands in.
    pub hall: HallId,
    /// The event's booked time.
    pub at: Timestamp,
}

/// A handpay the machine locked up for and no attendant has reset yet (RULES.md M-10).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenHandpay {
    pub kind: HandpayKind,
    /// Minor units.
    pub amount: i64,
    /// The `handpay_pending` event.
    pub cause: EventId,
    /// Where and when it was booked (a jackpot's win counts there, RULES.md H-1).
    pub hall: HallId,
    pub time: Timestamp,
}

/// Absolute meters as a machine reports them in a snapshot (RULES.md M-8), one value per
/// [`ReportedMeter`] in its order; money in minor units, games as counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MeterReport(pub [i64; ReportedMeter::COUNT]);

impl MeterReport {
    pub fn get(&self, m: ReportedMeter) -> i64 {
        self.0[m.index()]
    }

    pub fn set(&mut self, m: ReportedMeter, v: i64) {
        self.0[m.index()] = v;
    }

    /// True when every value is zero.
    pub fn is_zero(&self) -> bool {
        self.0.iter().all(|v| *v == 0)
    }
}

/// The snapshot the next one is compared with (RULES.md M-8): what the machine reported and
/// what pitboss's own meters were when it was applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeterBaseline {
    /// The snapshot's input event.
    pub cause: EventId,
    /// Its booked time.
    pub time: Timestamp,
    pub reason: SnapshotReason,
    /// The machine's meters.
    pub reported: MeterReport,
    /// pitboss's meters at that moment, in the same shape ([`Meters::report`]).
    pub applied: MeterReport,
}

/// One meter that moved otherwise on the machine than in pitboss between two snapshots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MeterDiff {
    pub meter: ReportedMeter,
    /// How much the machine's meter moved.
    pub reported: i64,
    /// How much pitboss's moved (the events it applied in between).
    pub applied: i64,
}

/// An entry of a machine's event log (RULES.md M-9): a significant event or a meter
/// snapshot, numbered per machine from 1, with the meters at that moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// The entry's number in the machine's log (1, 2, ...).
    pub number: u64,
    pub code: LogCode,
    /// The booked time of the event (RULES.md E-3).
    pub time: Timestamp,
    /// The input event.
    pub cause: EventId,
    /// A tilt's code.
    pub tilt: Option<u32>,
    /// A handpay's amount (minor units).
    pub amount: Option<i64>,
    /// Who reset a handpay.
    pub attendant: Option<AttendantId>,
    /// For a snapshot and what it found (`meter_snapshot`, `meter_variance`,
    /// `meter_reset`), the meters the machine reported; otherwise pitboss's own.
    pub meters: MeterReport,
}

impl MeterDiff {
    /// `reported - applied`: positive when the machine counted more than pitboss saw.
    pub fn variance(&self) -> i64 {
        self.reported - self.applied
    }
}

/// What the envelope of an input event tells the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventMeta {
    pub event_id: EventId,
    /// The source's sequence-number epoch (0 for version 1 events).
    pub epoch: u64,
    /// The source's sequence number within its epoch.
    pub seq: u64,
    /// When the event happened at the source.
    pub time: Timestamp,
    /// When the gateway (or Kafka) received it, if known (RULES.md E-3).
    pub receive_time: Option<Timestamp>,
}

impl EventMeta {
    /// The meta of an event of epoch 0 with no receive time.
    pub fn new(event_id: EventId, seq: u64, time: Timestamp) -> Self {
        Self {
            event_id,
            epoch: 0,
            seq,
            time,
            receive_time: None,
        }
    }
}

/// Meters, as G2S and SAS keep them. They never go backwards.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Meters {
    /// Total wagered.
    pub coin_in: i64,
    /// Total won by games (not jackpots).
    pub coin_out: i64,
    /// Games played (counted at game end).
    pub games_played: i64,
    /// Games that paid something.
    pub games_won: i64,
    /// Bills accepted.
    pub bills_in: i64,
    /// Tickets redeemed.
    pub tickets_in: i64,
    /// Tickets printed.
    pub tickets_out: i64,
    /// Cashless transfers in.
    pub cashless_in: i64,
    /// Cashless transfers out.
    pub cashless_out: i64,
    /// Cash outs paid by hand (not jackpots).
    pub handpaid: i64,
    /// Jackpot awards paid (by hand) for hits on this machine.
    pub jackpot_paid: i64,
    /// Game wins paid by hand (jackpot handpays, RULES.md M-10): won, never on the credit
    /// meter.
    pub jackpot_handpaid: i64,
    /// Times a door was opened.
    pub doors_opened: i64,
    /// Restricted (non-cashable) promotional credits put on the machine (RULES.md M-13).
    pub restricted_in: i64,
    /// Non-restricted promotional credits put on the machine (M-13).
    pub nonrestricted_in: i64,
    /// Restricted promotional credits played (part of `coin_in`, M-13).
    pub restricted_played: i64,
}

impl Meters {
    /// Total cash in (bills, tickets, cashless).
    pub fn cash_in(&self) -> i64 {
        self.bills_in + self.tickets_in + self.cashless_in
    }

    /// Promotional credits put on the machine, restricted and not (RULES.md M-13).
    pub fn promo_in(&self) -> i64 {
        self.restricted_in + self.nonrestricted_in
    }

    /// Restricted promotional credits still on the machine: put on and not yet played
    /// (RULES.md M-13).
    pub fn restricted_credits(&self) -> i64 {
        self.restricted_in - self.restricted_played
    }

    /// Total cash out (tickets, cashless, handpay); jackpot awards excluded.
    pub fn cash_out(&self) -> i64 {
        self.tickets_out + self.cashless_out + self.handpaid
    }

    /// pitboss's meters in the shape a machine reports them (RULES.md M-8): `handpaid` the
    /// cash outs paid by hand. `jackpot` is left at 0: awards reach the machine from its pools
    /// asynchronously, so its value at a given event would differ between a run and its
    /// replay (it is not compared either).
    pub fn report(&self) -> MeterReport {
        use ReportedMeter as R;
        let mut r = MeterReport::default();
        r.set(R::CoinIn, self.coin_in);
        r.set(R::CoinOut, self.coin_out);
        r.set(R::Handpaid, self.handpaid);
        r.set(R::GamesPlayed, self.games_played);
        r.set(R::GamesWon, self.games_won);
        r.set(R::BillsIn, self.bills_in);
        r.set(R::TicketsIn, self.tickets_in);
        r.set(R::TicketsOut, self.tickets_out);
        r.set(R::CashlessIn, self.cashless_in);
        r.set(R::CashlessOut, self.cashless_out);
        r
    }

    /// True when every meter is at least the one in `earlier`.
    pub fn dominates(&self, earlier: &Meters) -> bool {
        let a = self.as_array();
        let b = earlier.as_array();
        a.iter().zip(b.iter()).all(|(x, y)| x >= y)
    }

    fn as_array(&self) -> [i64; 16] {
        [
            self.coin_in,
            self.coin_out,
            self.games_played,
            self.games_won,
            self.bills_in,
            self.tickets_in,
            self.tickets_out,
            self.cashless_in,
            self.cashless_out,
            self.handpaid,
            self.jackpot_paid,
            self.jackpot_handpaid,
            self.doors_opened,
            self.restricted_in,
            self.nonrestricted_in,
            self.restricted_played,
        ]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MachineStatus {
    /// Communicating with its host.
    pub online: bool,
    pub door_open: bool,
    /// In tilt, with the tilt code.
    pub tilt: Option<u32>,
}

impl Default for MachineStatus {
    fn default() -> Self {
        Self {
            online: true,
            door_open: false,
            tilt: None,
        }
    }
}

/// Static facts about a machine that the core needs: where it is and what it plays for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MachineProfile {
    /// The hall the machine stands in.
    pub hall: HallId,
    pub currency: Currency,
    /// Pools the machine contributes to (and may claim hits of).
    pub pools: Vec<PoolId>,
    /// Cash in at or above this amount raises an AML review alert (0 = never).
    pub large_cash_in_alert_minor: i64,
    /// A win credited at or above this amount should have been a handpay (RULES.md M-10):
    /// alerted (0 = never).
    pub handpay_threshold_minor: i64,
}

/// A player's card session being rated (RULES.md M-12): what the machine applied while the
/// player was carded in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rating {
    /// The card-in's booked time.
    pub start: Timestamp,
    /// The card-in event.
    pub started_by: EventId,
    /// Bets, minor units.
    pub coin_in: i64,
    /// Wins, minor units.
    pub coin_out: i64,
    /// Game ends.
    pub games: u64,
}

impl Rating {
    /// A rating starting at the event `at`, nothing applied yet.
    fn starting_at(at: &Booked<'_>) -> Box<Rating> {
        Box::new(Rating {
            start: at.time,
            started_by: at.cause,
            coin_in: 0,
            coin_out: 0,
            games: 0,
        })
    }
}

/// How a card session ended (RULES.md M-12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEnd {
    /// The player's card-out.
    CardOut,
    /// Another player's card-in (M-4).
    CardIn,
    /// The machine fell silent: its gateway reported `comms_lost` (M-6).
    CommsLost,
    /// The machine lost its power.
    PowerOff,
}

impl SessionEnd {
    /// The stable name (`card_out`, `card_in`, `comms_lost`, `power_off`).
    pub fn name(self) -> &'static str {
        match self {
            SessionEnd::CardOut => "card_out",
            SessionEnd::CardIn => "card_in",
            SessionEnd::CommsLost => "comms_lost",
            SessionEnd::PowerOff => "power_off",
        }
    }
}

/// A card session that ended, rated (RULES.md M-12), for the player-tracking topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RatedSession {
    pub player: PlayerId,
    /// The hall of the event that ended it.
    pub hall: HallId,
    /// What the machine applied while the player was carded in, and when it began.
    pub rating: Rating,
    /// The ending event's booked time.
    pub end: Timestamp,
    pub ended_by: SessionEnd,
    /// Coin in times the hall's theoretical hold, rounded down to the minor unit.
    pub theoretical_win: i64,
    /// The player's loyalty points for it: the theoretical win times the points per minor
    /// unit, rounded down.
    pub points: i64,
}

impl RatedSession {
    /// Coin in per game, rounded down (0 without a game).
    pub fn average_bet(&self) -> i64 {
        match i64::try_from(self.rating.games) {
            Ok(g) if g > 0 => self.rating.coin_in / g,
            _ => 0,
        }
    }

    /// What the machine won from the player: coin in less coin out.
    pub fn actual_win(&self) -> i64 {
        self.rating.coin_in.saturating_sub(self.rating.coin_out)
    }
}

/// `amount` times `ppm` parts per million, rounded down (RULES.md M-12: a theoretical win,
/// and the loyalty points for it).
pub fn theoretical_win(amount: i64, ppm: i64) -> i64 {
    let w = i128::from(amount) * i128::from(ppm) / 1_000_000;
    i64::try_from(w).unwrap_or(i64::MAX)
}

/// Epochs whose sequence marks a machine keeps (RULES.md M-1).
pub const EPOCHS_KEPT: usize = 4;
/// Hole ranges a machine keeps per epoch (RULES.md M-1); as many forgotten ranges are kept
/// to tell their late events (`sequence_stale`) from repeats.
pub const HOLES_KEPT: usize = 64;

/// The sequence numbers seen under one epoch: every number up to `high` was seen, except the
/// holes (still expected) and the forgotten holes (no longer told apart from a repeat of a
/// number seen; their events are refused as stale).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EpochMarks {
    pub epoch: u64,
    /// The highest number seen.
    pub high: u64,
    /// Ranges of numbers never seen below `high` (inclusive, ascending), at most
    /// [`HOLES_KEPT`].
    pub holes: Vec<(u64, u64)>,
    /// Hole ranges forgotten when more than [`HOLES_KEPT`] were open (ascending), at most
    /// [`HOLES_KEPT`].
    pub forgotten: Vec<(u64, u64)>,
}

/// What the sequence check decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SeqCheck {
    Apply,
    Repeat,
    Stale,
}

impl EpochMarks {
    /// The marks of an epoch whose first number is `seq`: the numbers below it are holes
    /// (events from before pitboss saw the epoch may still arrive).
    fn first(epoch: u64, seq: u64) -> Self {
        let holes = if seq > 1 {
            vec![(1, seq - 1)]
        } else {
            Vec::new()
        };
        Self {
            epoch,
            high: seq,
            holes,
            forgotten: Vec::new(),
        }
    }

    fn check(&mut self, seq: u64, machine: &MachineId, fx: &mut Vec<MachineEffect>) -> SeqCheck {
        if seq > self.high {
            if seq > self.high + 1 {
                fx.push(MachineEffect::Alert(Alert::SequenceGap {
                    machine: machine.clone(),
                    expected: self.high + 1,
                    got: seq,
                }));
                self.holes.push((self.high + 1, seq - 1));
                self.trim();
            }
            self.high = seq;
            return SeqCheck::Apply;
        }
        if let Some(i) = self.holes.iter().position(|&(a, b)| a <= seq && seq <= b) {
            // A late gap-fill: applied once, the hole closes.
            let (a, b) = self.holes.remove(i);
            if seq < b {
                self.holes.insert(i, (seq + 1, b));
            }
            if a < seq {
                self.holes.insert(i, (a, seq - 1));
            }
            self.trim();
            return SeqCheck::Apply;
        }
        if self.forgotten.iter().any(|&(a, b)| a <= seq && seq <= b) {
            return SeqCheck::Stale;
        }
        SeqCheck::Repeat
    }

    /// Forgets the oldest hole ranges beyond [`HOLES_KEPT`].
    fn trim(&mut self) {
        while self.holes.len() > HOLES_KEPT {
            let oldest = self.holes.remove(0);
            self.forgotten.push(oldest);
            if self.forgotten.len() > HOLES_KEPT {
                self.forgotten.remove(0);
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MachineState {
    pub id: MachineId,
    /// Hall, currency and pools.
    pub profile: MachineProfile,
    /// Credits on the machine, in minor units; negative when the machine reported more play
    /// than pitboss has seen money for (RULES.md M-2).
    pub credits: i64,
    pub meters: Meters,
    /// Sequence marks of the newest [`EPOCHS_KEPT`] epochs, ascending by epoch.
    pub marks: Vec<EpochMarks>,
    /// Numbers the effects this machine sends to halls and pools (one per event that
    /// passed the sequence check), so that they deduplicate them whatever the epoch.
    pub effect_seq: u64,
    /// Numbers the jackpot awards this machine books in its hall (their own sequence:
    /// [`SourceKey::Award`]).
    pub award_seq: u64,
    pub status: MachineStatus,
    /// The carded-in player, if any.
    pub session: Option<PlayerId>,
    /// The carded-in player's session as rated so far (RULES.md M-12); boxed: a machine
    /// without a carded player costs a pointer. `None` with a player carded in: the card-in
    /// came before ratings existed (that session is not rated).
    pub rating: Option<Box<Rating>>,
    /// A game has been bet on and has not ended.
    pub game_open: bool,
    /// The open game paid something.
    pub game_won: bool,
    /// Bets of the open game (0 with no game open).
    pub game_bet: i64,
    /// Booked time (RULES.md E-3) of the newest event applied.
    pub last_event_time: Timestamp,
    /// The last jackpot award applied per pool level (replay deduplication).
    pub awards: Vec<AwardMark>,
    /// Where and when the newest events that may cause a jackpot hit were booked, so that
    /// an award counts in the hall and window of the hit (RULES.md H-1). At most
    /// [`HIT_ORIGINS_KEPT`].
    pub hit_origins: Vec<HitOrigin>,
    /// The number of the newest entry of the machine's event log (RULES.md M-9).
    pub log_seq: u64,
    /// Handpays pending, oldest first (RULES.md M-10).
    pub handpays: Vec<OpenHandpay>,
    /// Meter reconciliation (RULES.md M-8), from the first snapshot on; boxed, so a machine
    /// that reports none costs a pointer, not 300 bytes.
    pub reconcile: Option<Box<Reconciliation>>,
}

/// A machine's meter reconciliation (RULES.md M-8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reconciliation {
    /// The newest meter snapshot applied, which the next is compared with.
    pub baseline: MeterBaseline,
    /// The variance not yet explained, per meter: the sum of every snapshot's `reported -
    /// applied` since the first (a late gap-fill shows at the next snapshot as the
    /// opposite variance, and the sum goes back to zero).
    pub variance: MeterReport,
}

/// Events whose booking a machine remembers for the awards they may cause.
pub const HIT_ORIGINS_KEPT: usize = 16;

/// The booking of an event that sent a contribution or a claim to a pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HitOrigin {
    /// The input event.
    pub cause: EventId,
    /// Its hall.
    pub hall: HallId,
    /// Its booked time.
    pub time: Timestamp,
}

/// The last hit number of a pool level paid to a machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwardMark {
    pub pool: PoolId,
    /// The level index.
    pub level: u8,
    /// The pool level's hit number.
    pub hit_number: u64,
}

/// Something the machine's actor must do after an apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MachineEffect {
    /// Add to the hall's GGR window.
    Ggr(GgrDelta),
    /// A bet to contribute to a pool; `eligible`: the machine may win a mystery hit with
    /// it (online, not in tilt: RULES.md P-2).
    Contribute {
        pool: PoolId,
        bet: Amount,
        eligible: bool,
    },
    /// A claimed progressive hit for the pool to pay.
    ClaimHit {
        pool: PoolId,
        /// The level index.
        level: u8,
        /// The open game's bets (the pool checks the level's minimum bet).
        bet: i64,
        /// What the machine paid, if it said (version 2).
        amount: Option<Amount>,
    },
    /// An alert for the operators.
    Alert(Alert),
    /// An entry for the machine's event log (RULES.md M-9), stored with its state. Boxed: an
    /// entry is rare and twice the size of the other effects, which every bet moves.
    Log(Box<LogEntry>),
    /// A game win paid by hand (a jackpot handpay reset, RULES.md M-10): the ledger books it
    /// at the booked time of the handpay's lock-up (where its hall's window counts the win);
    /// the credits do not move.
    HandpaidWin(i64, Timestamp),
    /// A ticket the machine printed or credited, for its voucher (RULES.md V-2, V-5). Boxed:
    /// rare, and larger than the effects every bet moves.
    Voucher(Box<TicketFact>),
    /// A cashless transfer the machine applied, for its wallet (RULES.md W-10). Boxed: rare.
    Transfer(Box<WalletTransferFact>),
    /// A player carded in, for the player's wallet (RULES.md W-9). Boxed: rare.
    CardIn(Box<PlayerCardIn>),
    /// A card session ended, rated (RULES.md M-12). Boxed: rare.
    Rated(Box<RatedSession>),
    /// Cash of the carded-in player, for the player's wallet (RULES.md W-11). Boxed: rare.
    Cash(Box<PatronCashFact>),
}

/// Cash a carded-in player paid in (bills) or took out (a handpay) at a machine (RULES.md
/// W-11), as the player's wallet receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatronCashFact {
    pub player: PlayerId,
    /// The hall the machine stands in.
    pub hall: HallId,
    /// The event's booked time.
    pub at: Timestamp,
    /// Minor units.
    pub amount: i64,
    pub dir: CashDir,
}

/// A fact a machine reported about a ticket, forwarded by the machine after applying it
/// (RULES.md V-2, V-5): defined with the machine, which reports it; the voucher imports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VoucherFact {
    /// The machine printed the ticket (cash out to ticket).
    Printed(MachineId, Amount),
    /// The machine credited the ticket (ticket in).
    Credited(MachineId, Amount),
}

/// A ticket a machine printed or credited, as its voucher receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketFact {
    pub validation: ValidationNo,
    pub fact: VoucherFact,
    /// The hall the machine stands in.
    pub hall: HallId,
    /// The event's booked time.
    pub at: Timestamp,
}

/// How urgent an alert is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// Worth knowing; nothing to do.
    Info,
    /// Someone should look (a variance, a device fault, an AML review).
    Warning,
    /// Money could not be counted: act now.
    Critical,
}

impl Severity {
    /// The stable text on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// Operator alerts. Each has a stable code (RULES.md) and a severity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Alert {
    /// Sequence numbers skipped (M-1).
    SequenceGap {
        machine: MachineId,
        /// The number expected.
        expected: u64,
        /// The number received.
        got: u64,
    },
    /// The machine's numbering restarted under a higher epoch (M-1).
    SequenceReset {
        machine: MachineId,
        /// The epoch before.
        old_epoch: u64,
        /// Its highest number.
        old_high: u64,
        /// The new epoch.
        epoch: u64,
    },
    /// An event too old to be told from a repeat: refused (M-1).
    SequenceStale {
        machine: MachineId,
        epoch: u64,
        seq: u64,
    },
    /// A bet or cash-out beyond pitboss's credits, applied (M-2).
    CreditVariance {
        machine: MachineId,
        /// What the machine reported.
        op: MachineOp,
        /// The reported amount.
        amount: i64,
        /// The credits pitboss had.
        credits: i64,
        /// `amount - credits`: how far credits went below zero.
        shortfall: i64,
    },
    /// A win with no game open (a bonus award), applied (M-3).
    WinOutsideGame { machine: MachineId, amount: i64 },
    /// A game end with no bet before it, counted (M-3).
    GameEndWithoutBet { machine: MachineId },
    /// A card-in ended another player's session (M-4).
    CardSessionOverlap {
        machine: MachineId,
        /// The player carding in.
        player: PlayerId,
        /// The player whose session ended.
        previous: PlayerId,
    },
    /// A card-out with nobody carded in (M-4).
    CardOutWithoutSession { machine: MachineId },
    /// The machine's event names another hall: it moved (M-5).
    MachineMoved {
        machine: MachineId,
        /// The hall it was in.
        from: HallId,
        /// The hall it is in now.
        to: HallId,
    },
    /// An event time beyond the skew limits: booked at the receive time (E-3).
    ClockSkew {
        machine: MachineId,
        event_time: Timestamp,
        receive_time: Timestamp,
    },
    /// An amount in another currency than the network's: refused (E-4).
    WrongCurrency {
        machine: MachineId,
        currency: Currency,
    },
    /// Counting a fact would overflow a running total: refused (E-5).
    Overflow { machine: MachineId, total: Total },
    /// A large cash in for AML review (M-7).
    LargeCashIn { machine: MachineId, amount: i64 },
    /// A progressive claim refused (P-3): the alert's code is the refusal's.
    ClaimRefused {
        machine: MachineId,
        pool: PoolId,
        /// The level index.
        level: u8,
        /// `unknown_level`, `mystery_claim`, `pool_not_linked` or `jackpot_not_eligible`.
        code: &'static str,
    },
    /// A version 2 claim paid another amount than the level's (P-3): the difference is
    /// booked as a jackpot variance.
    JackpotVariance {
        machine: MachineId,
        pool: PoolId,
        /// The level index.
        level: u8,
        /// The level's amount the pool paid.
        level_amount: i64,
        /// What the machine paid.
        paid: i64,
    },
    /// A cabinet door opened.
    DoorOpen { machine: MachineId },
    /// The machine tilted.
    Tilt { machine: MachineId, code: u32 },
    /// The machine lost communication.
    CommsLost { machine: MachineId },
    /// The machine lost its power (M-6).
    PowerOff { machine: MachineId },
    /// pitboss has heard nothing from the machine for the silence time (M-11).
    MachineSilent {
        machine: MachineId,
        hall: HallId,
        /// Its last event's booked time.
        last_event_time: Timestamp,
        /// Seconds since pitboss last heard from it.
        silent_secs: i64,
    },
    /// A silent machine was heard again (M-11): clears its `machine_silent`.
    MachineSilenceCleared { machine: MachineId, hall: HallId },
    /// Every machine of the hall is silent (M-11); `machine` is the last to fall silent.
    LocationOffline {
        machine: MachineId,
        hall: HallId,
        /// The machines the hall has.
        machines: u64,
    },
    /// A machine of an offline hall was heard again (M-11): clears its `location_offline`.
    LocationOnline { machine: MachineId, hall: HallId },
    /// A meter snapshot differs from the previous one plus what pitboss applied in between
    /// (M-8): every meter that differs, with both movements.
    MeterVariance {
        machine: MachineId,
        /// Why the machine reported.
        reason: SnapshotReason,
        /// The snapshot compared with: its input event and booked time.
        previous: EventId,
        previous_time: Timestamp,
        rows: Vec<MeterDiff>,
    },
    /// The machine locked up for a handpay (M-10): an attendant must pay it.
    HandpayPending {
        machine: MachineId,
        kind: HandpayKind,
        amount: i64,
    },
    /// A handpay reset with no handpay pending (M-10): nothing is booked.
    HandpayResetWithoutPending {
        machine: MachineId,
        attendant: AttendantId,
    },
    /// A win credited at or above the handpay threshold (M-10): counted as reported.
    WinAboveHandpayThreshold {
        machine: MachineId,
        amount: i64,
        threshold: i64,
    },
    /// A reported meter went below its previous value (RAM clear, a replaced board, a
    /// rollover): the snapshot starts a new baseline (M-8).
    MeterReset {
        machine: MachineId,
        /// The first meter found lower.
        meter: ReportedMeter,
        /// Its value in the previous snapshot.
        previous: i64,
        /// Its value now.
        reported: i64,
    },
    /// A machine printed a ticket under a validation number already in use (V-5): counted
    /// at the machine, not owed again (`reprinted` on the voucher).
    VoucherNumberReused {
        machine: MachineId,
        validation: ValidationNo,
        amount: i64,
        /// Where the voucher stood.
        status: &'static str,
    },
    /// A machine credited a ticket no open voucher covers (V-5): counted at the machine,
    /// `unbacked` on the voucher.
    VoucherCreditUnbacked {
        machine: MachineId,
        validation: ValidationNo,
        amount: i64,
        /// Where the voucher stood.
        status: &'static str,
    },
    /// A machine credited an open voucher that was not held for it (V-5): redeemed.
    VoucherRedeemedWithoutHold {
        machine: MachineId,
        validation: ValidationNo,
        amount: i64,
        /// Who held it, if anyone.
        holder: Option<String>,
    },
    /// A machine credited another amount than the voucher's (V-5): redeemed, the difference
    /// `unbacked` on the voucher.
    VoucherAmountVariance {
        machine: MachineId,
        validation: ValidationNo,
        /// The voucher's amount.
        voucher: i64,
        /// What the machine credited.
        credited: i64,
    },
    /// A redemption hold lapsed uncommitted (V-6): the voucher is open again.
    VoucherHoldReleased {
        validation: ValidationNo,
        /// Who held it.
        holder: String,
        /// The holder, if a machine.
        machine: Option<MachineId>,
        amount: i64,
    },
    /// A shift closed (or revised, D-5) with counted cash other than expected (D-4).
    ShiftVariance {
        desk: ServerId,
        shift: u32,
        expected: i64,
        counted: i64,
        /// Counted - expected.
        variance: i64,
    },
    /// A desk's cash operation no shift covered (D-3): signed, + in, - out.
    DeskCashWithoutShift { desk: ServerId, amount: i64 },
    /// A wallet's hold for a transfer to a machine lapsed unacknowledged (W-10): the money
    /// is back in the wallet.
    TransferHoldReleased {
        machine: MachineId,
        player: PlayerId,
        transfer: TxId,
        amount: i64,
    },
    /// A machine acknowledged a transfer its wallet held nothing for (W-10): paid from the
    /// wallet's balance, what the balance could not cover `unbacked`.
    TransferWithoutHold {
        machine: MachineId,
        player: PlayerId,
        transfer: TxId,
        amount: i64,
        unbacked: i64,
    },
    /// A machine acknowledged another amount than its wallet held (W-10).
    TransferAmountVariance {
        machine: MachineId,
        player: PlayerId,
        transfer: TxId,
        /// What the wallet held.
        held: i64,
        /// What the machine took.
        amount: i64,
        unbacked: i64,
    },
    /// A machine acknowledged a transfer a second time (W-10).
    TransferAcknowledgedTwice {
        machine: MachineId,
        player: PlayerId,
        transfer: TxId,
        amount: i64,
        /// `to_machine` or `from_machine`.
        direction: &'static str,
    },
    /// A self-excluded player carded in at a machine (W-9): raised by the player's wallet.
    SelfExcludedCardIn {
        machine: MachineId,
        player: PlayerId,
        /// The exclusion's end (exclusive).
        until: Timestamp,
    },
}

impl Alert {
    /// The stable code (RULES.md).
    pub fn code(&self) -> &'static str {
        match self {
            Alert::SequenceGap { .. } => "sequence_gap",
            Alert::SequenceReset { .. } => "sequence_reset",
            Alert::SequenceStale { .. } => "sequence_stale",
            Alert::CreditVariance { .. } => "credit_variance",
            Alert::WinOutsideGame { .. } => "win_outside_game",
            Alert::GameEndWithoutBet { .. } => "game_end_without_bet",
            Alert::CardSessionOverlap { .. } => "card_session_overlap",
            Alert::CardOutWithoutSession { .. } => "card_out_without_session",
            Alert::MachineMoved { .. } => "machine_moved",
            Alert::ClockSkew { .. } => "clock_skew",
            Alert::WrongCurrency { .. } => "wrong_currency",
            Alert::Overflow { .. } => "overflow",
            Alert::LargeCashIn { .. } => "large_cash_in",
            Alert::ClaimRefused { code, .. } => code,
            Alert::JackpotVariance { .. } => "jackpot_variance",
            Alert::DoorOpen { .. } => "door_open",
            Alert::Tilt { .. } => "tilt",
            Alert::CommsLost { .. } => "comms_lost",
            Alert::PowerOff { .. } => "power_off",
            Alert::MachineSilent { .. } => "machine_silent",
            Alert::MachineSilenceCleared { .. } => "machine_silence_cleared",
            Alert::LocationOffline { .. } => "location_offline",
            Alert::LocationOnline { .. } => "location_online",
            Alert::MeterVariance { .. } => "meter_variance",
            Alert::MeterReset { .. } => "meter_reset",
            Alert::HandpayPending { .. } => "handpay_pending",
            Alert::HandpayResetWithoutPending { .. } => "handpay_reset_without_pending",
            Alert::WinAboveHandpayThreshold { .. } => "win_above_handpay_threshold",
            Alert::VoucherNumberReused { .. } => "voucher_number_reused",
            Alert::VoucherCreditUnbacked { .. } => "voucher_credit_unbacked",
            Alert::VoucherRedeemedWithoutHold { .. } => "voucher_redeemed_without_hold",
            Alert::VoucherAmountVariance { .. } => "voucher_amount_variance",
            Alert::VoucherHoldReleased { .. } => "voucher_hold_released",
            Alert::ShiftVariance { .. } => "shift_variance",
            Alert::DeskCashWithoutShift { .. } => "desk_cash_without_shift",
            Alert::TransferHoldReleased { .. } => "transfer_hold_released",
            Alert::TransferWithoutHold { .. } => "transfer_without_hold",
            Alert::TransferAmountVariance { .. } => "transfer_amount_variance",
            Alert::TransferAcknowledgedTwice { .. } => "transfer_acknowledged_twice",
            Alert::SelfExcludedCardIn { .. } => "self_excluded_card_in",
        }
    }

    /// How urgent it is.
    pub fn severity(&self) -> Severity {
        match self {
            Alert::WinOutsideGame { .. }
            | Alert::CardOutWithoutSession { .. }
            | Alert::DoorOpen { .. }
            | Alert::MachineSilenceCleared { .. }
            | Alert::LocationOnline { .. } => Severity::Info,
            Alert::SequenceStale { .. }
            | Alert::WrongCurrency { .. }
            | Alert::Overflow { .. }
            | Alert::VoucherNumberReused { .. }
            | Alert::VoucherCreditUnbacked { .. }
            | Alert::TransferAcknowledgedTwice { .. } => Severity::Critical,
            Alert::TransferWithoutHold { unbacked, .. }
            | Alert::TransferAmountVariance { unbacked, .. }
                if *unbacked != 0 =>
            {
                Severity::Critical
            }
            _ => Severity::Warning,
        }
    }

    /// The machine it is about (every alert but a voucher hold of a desk has one).
    pub fn machine(&self) -> Option<&MachineId> {
        Some(match self {
            Alert::VoucherHoldReleased { machine, .. } => return machine.as_ref(),
            Alert::ShiftVariance { .. } | Alert::DeskCashWithoutShift { .. } => return None,
            Alert::VoucherNumberReused { machine, .. }
            | Alert::VoucherCreditUnbacked { machine, .. }
            | Alert::VoucherRedeemedWithoutHold { machine, .. }
            | Alert::VoucherAmountVariance { machine, .. } => machine,
            Alert::TransferHoldReleased { machine, .. }
            | Alert::TransferWithoutHold { machine, .. }
            | Alert::TransferAmountVariance { machine, .. }
            | Alert::TransferAcknowledgedTwice { machine, .. }
            | Alert::SelfExcludedCardIn { machine, .. } => machine,
            Alert::SequenceGap { machine, .. }
            | Alert::SequenceReset { machine, .. }
            | Alert::SequenceStale { machine, .. }
            | Alert::CreditVariance { machine, .. }
            | Alert::WinOutsideGame { machine, .. }
            | Alert::GameEndWithoutBet { machine }
            | Alert::CardSessionOverlap { machine, .. }
            | Alert::CardOutWithoutSession { machine }
            | Alert::MachineMoved { machine, .. }
            | Alert::ClockSkew { machine, .. }
            | Alert::WrongCurrency { machine, .. }
            | Alert::Overflow { machine, .. }
            | Alert::LargeCashIn { machine, .. }
            | Alert::ClaimRefused { machine, .. }
            | Alert::JackpotVariance { machine, .. }
            | Alert::DoorOpen { machine }
            | Alert::Tilt { machine, .. }
            | Alert::CommsLost { machine }
            | Alert::PowerOff { machine }
            | Alert::MachineSilent { machine, .. }
            | Alert::MachineSilenceCleared { machine, .. }
            | Alert::LocationOffline { machine, .. }
            | Alert::LocationOnline { machine, .. }
            | Alert::MeterVariance { machine, .. }
            | Alert::MeterReset { machine, .. }
            | Alert::HandpayPending { machine, .. }
            | Alert::HandpayResetWithoutPending { machine, .. }
            | Alert::WinAboveHandpayThreshold { machine, .. } => machine,
        })
    }

    /// The voucher it is about, if any (RULES.md V-5, V-6).
    pub fn voucher(&self) -> Option<ValidationNo> {
        match self {
            Alert::VoucherNumberReused { validation, .. }
            | Alert::VoucherCreditUnbacked { validation, .. }
            | Alert::VoucherRedeemedWithoutHold { validation, .. }
            | Alert::VoucherAmountVariance { validation, .. }
            | Alert::VoucherHoldReleased { validation, .. } => Some(*validation),
            _ => None,
        }
    }
}

/// What the machine reads from the configuration while it applies an event.
pub struct MachineEnv<'a> {
    /// Clock skew limits (RULES.md E-3).
    pub skew: SkewLimits,
    /// The profile of a machine standing in a hall (RULES.md M-5: a machine that moves
    /// takes its new hall's pools).
    pub profile_of: &'a dyn Fn(&HallId) -> MachineProfile,
    /// The machine's theoretical hold in a hall, parts per million of coin in (RULES.md M-12:
    /// a rated session's theoretical win). Asked only when a session ends.
    pub hold_of: &'a dyn Fn(&HallId) -> i64,
    /// Loyalty points per minor unit of theoretical win, in millionths (RULES.md M-12).
    pub loyalty_micro_points: i64,
}

impl MachineState {
    /// A new machine with no credits and zero meters.
    pub fn new(id: MachineId, profile: MachineProfile) -> Self {
        Self {
            id,
            profile,
            credits: 0,
            meters: Meters::default(),
            marks: Vec::new(),
            effect_seq: 0,
            award_seq: 0,
            status: MachineStatus::default(),
            session: None,
            rating: None,
            game_open: false,
            game_won: false,
            game_bet: 0,
            last_event_time: Timestamp::default(),
            awards: Vec::new(),
            hit_origins: Vec::new(),
            reconcile: None,
            log_seq: 0,
            handpays: Vec::new(),
        }
    }

    /// Numbers an entry of the machine's event log (RULES.md M-9).
    fn log<'f>(
        &mut self,
        at: &Booked<'_>,
        code: LogCode,
        meters: MeterReport,
        fx: &'f mut Vec<MachineEffect>,
    ) -> &'f mut LogEntry {
        self.log_seq += 1;
        fx.push(MachineEffect::Log(Box::new(LogEntry {
            number: self.log_seq,
            code,
            time: at.time,
            cause: at.cause,
            tilt: None,
            amount: None,
            attendant: None,
            meters,
        })));
        match fx.last_mut() {
            Some(MachineEffect::Log(e)) => e,
            _ => unreachable!("just pushed"),
        }
    }

    /// The newest meter snapshot applied (RULES.md M-8), if any.
    pub fn baseline(&self) -> Option<&MeterBaseline> {
        self.reconcile.as_ref().map(|r| &r.baseline)
    }

    /// The meter variance not yet explained (RULES.md M-8); zero before any snapshot.
    pub fn meter_variance(&self) -> MeterReport {
        self.reconcile
            .as_ref()
            .map_or_else(MeterReport::default, |r| r.variance)
    }

    /// The highest sequence number seen under the newest epoch.
    pub fn last_seq(&self) -> Option<u64> {
        self.marks.last().map(|m| m.high)
    }

    /// RULES.md M-1: whether (epoch, seq) is new, recording it.
    fn sequence(&mut self, epoch: u64, seq: u64, fx: &mut Vec<MachineEffect>) -> SeqCheck {
        if let Some(m) = self.marks.iter_mut().find(|m| m.epoch == epoch) {
            return m.check(seq, &self.id, fx);
        }
        if self.marks.len() >= EPOCHS_KEPT && epoch < self.marks[0].epoch {
            return SeqCheck::Stale;
        }
        if let Some(newest) = self.marks.last() {
            if epoch > newest.epoch {
                fx.push(MachineEffect::Alert(Alert::SequenceReset {
                    machine: self.id.clone(),
                    old_epoch: newest.epoch,
                    old_high: newest.high,
                    epoch,
                }));
            }
        }
        let at = self.marks.partition_point(|m| m.epoch < epoch);
        self.marks.insert(at, EpochMarks::first(epoch, seq));
        if self.marks.len() > EPOCHS_KEPT {
            self.marks.remove(0);
        }
        SeqCheck::Apply
    }

    /// Applies one input event, sent from `hall`.
    ///
    /// First the sequence check (M-1): a repeat changes nothing; a stale event is refused.
    /// Otherwise the number is recorded even when the command is refused, so a refused
    /// command is refused once and its redelivery is recognised as a repeat. The event is
    /// booked at its event time or, beyond the skew limits, its receive time (E-3). An
    /// amount in another currency is refused (E-4), as is one that would overflow a total
    /// (E-5); both alert. A refused command leaves every other part of the state unchanged.
    /// An event naming another hall is counted there; if it is the newest the machine has
    /// seen, the machine moves (M-5).
    pub fn apply(
        &mut self,
        hall: &HallId,
        meta: &EventMeta,
        cmd: &MachineCommand,
        currency: Option<Currency>,
        env: &MachineEnv<'_>,
        fx: &mut Vec<MachineEffect>,
    ) -> Result<Applied, DomainError> {
        let newest_epoch = self.marks.last().map(|m| m.epoch);
        match self.sequence(meta.epoch, meta.seq, fx) {
            SeqCheck::Repeat => return Ok(Applied::Duplicate),
            SeqCheck::Stale => {
                fx.push(MachineEffect::Alert(Alert::SequenceStale {
                    machine: self.id.clone(),
                    epoch: meta.epoch,
                    seq: meta.seq,
                }));
                return Err(DomainError::SequenceStale {
                    machine: self.id.to_string(),
                    epoch: meta.epoch,
                    seq: meta.seq,
                });
            }
            SeqCheck::Apply => {}
        }
        self.effect_seq += 1;
        let (booked, skewed) = booked_time(env.skew, meta.time, meta.receive_time);
        if newest_epoch.is_some_and(|e| meta.epoch > e) {
            // A new epoch (RAM clear, gateway restart): in the event log (M-9) with the
            // `sequence_reset` alert, whatever becomes of the event itself.
            let at = Booked {
                hall,
                time: booked,
                seq: self.effect_seq,
                cause: meta.event_id,
                late: false,
                hold_of: env.hold_of,
                micro_points: env.loyalty_micro_points,
            };
            let meters = self.meters.report();
            self.log(&at, LogCode::SequenceReset, meters, fx);
        }
        if skewed {
            fx.push(MachineEffect::Alert(Alert::ClockSkew {
                machine: self.id.clone(),
                event_time: meta.time,
                receive_time: booked,
            }));
        }
        if let Some(c) = currency {
            if c != self.profile.currency {
                fx.push(MachineEffect::Alert(Alert::WrongCurrency {
                    machine: self.id.clone(),
                    currency: c,
                }));
                return Err(DomainError::WrongCurrency {
                    entity: Subject::Machine(self.id.to_string()),
                    expected: self.profile.currency.to_string(),
                    got: c.to_string(),
                });
            }
        }
        let moved = *hall != self.profile.hall && booked >= self.last_event_time;
        let before = if moved {
            let to = (env.profile_of)(hall);
            Some(std::mem::replace(&mut self.profile, to))
        } else {
            None
        };
        // A late gap-fill, or an event of an older epoch: it happened before the newest event
        // applied (M-8 does not compare a snapshot taken before the baseline).
        let late = self
            .marks
            .last()
            .is_some_and(|m| m.epoch != meta.epoch || m.high != meta.seq);
        let at = Booked {
            hall,
            time: booked,
            seq: self.effect_seq,
            cause: meta.event_id,
            late,
            hold_of: env.hold_of,
            micro_points: env.loyalty_micro_points,
        };
        if let Err(e) = self.apply_command(&at, cmd, fx) {
            if let Some(p) = before {
                self.profile = p;
            }
            if let DomainError::Overflow(total) = e {
                fx.push(MachineEffect::Alert(Alert::Overflow {
                    machine: self.id.clone(),
                    total,
                }));
            }
            return Err(e);
        }
        if let Some(p) = before {
            fx.push(MachineEffect::Alert(Alert::MachineMoved {
                machine: self.id.clone(),
                from: p.hall,
                to: hall.clone(),
            }));
        }
        // Only once the command is applied: a refused command leaves the time alone too.
        if booked > self.last_event_time {
            self.last_event_time = booked;
        }
        Ok(Applied::Done)
    }

    /// W-11: cash paid in or taken out while a player is carded in is the player's.
    fn patron_cash(&self, at: &Booked<'_>, amount: i64, dir: CashDir, fx: &mut Vec<MachineEffect>) {
        if let Some(player) = &self.session {
            fx.push(MachineEffect::Cash(Box::new(PatronCashFact {
                player: player.clone(),
                hall: at.hall.clone(),
                at: at.time,
                amount,
                dir,
            })));
        }
    }

    /// M-12: a machine that falls silent (its gateway's `comms_lost`) or loses power ends
    /// the rated session, the player still carded in; its return (`comms_restored`,
    /// `power_on`) starts a new rated session for the player from that event on.
    fn cut_rating(&mut self, ev: SignificantEvent, at: &Booked<'_>, fx: &mut Vec<MachineEffect>) {
        match ev {
            SignificantEvent::CommsLost => self.end_session(at, SessionEnd::CommsLost, fx),
            SignificantEvent::PowerOff => self.end_session(at, SessionEnd::PowerOff, fx),
            SignificantEvent::CommsRestored | SignificantEvent::PowerOn
                if self.session.is_some() && self.rating.is_none() =>
            {
                self.rating = Some(Rating::starting_at(at));
            }
            _ => {}
        }
    }

    /// M-12: the carded-in player's session ends at `at`; a rated one is published.
    fn end_session(&mut self, at: &Booked<'_>, how: SessionEnd, fx: &mut Vec<MachineEffect>) {
        let rating = self.rating.take();
        if let (Some(player), Some(rating)) = (&self.session, rating) {
            let theo = theoretical_win(rating.coin_in, (at.hold_of)(at.hall));
            let points = theoretical_win(theo, at.micro_points);
            fx.push(MachineEffect::Rated(Box::new(RatedSession {
                player: player.clone(),
                hall: at.hall.clone(),
                rating: *rating,
                end: at.time,
                ended_by: how,
                theoretical_win: theo,
                points,
            })));
        }
    }

    fn ggr(&self, at: &Booked<'_>, bets: i64, wins: i64, games: i64) -> MachineEffect {
        self.ggr_promo(at, bets, 0, wins, games)
    }

    /// A GGR delta whose bets played `promo` restricted promotional credits (RULES.md M-13).
    fn ggr_promo(
        &self,
        at: &Booked<'_>,
        bets: i64,
        promo: i64,
        wins: i64,
        games: i64,
    ) -> MachineEffect {
        MachineEffect::Ggr(GgrDelta {
            source: SourceKey::Machine(self.id.clone()),
            seq: at.seq,
            cause: at.cause,
            hall: at.hall.clone(),
            window: at.time.window_start(),
            bets,
            wins,
            games,
            jackpots: 0,
            promo,
        })
    }

    fn ticket(
        &self,
        validation: ValidationNo,
        at: &Booked<'_>,
        fact: VoucherFact,
    ) -> MachineEffect {
        MachineEffect::Voucher(Box::new(TicketFact {
            validation,
            fact,
            hall: at.hall.clone(),
            at: at.time,
        }))
    }

    /// Remembers where and when an event that reaches the pools was booked.
    fn remember_origin(&mut self, at: &Booked<'_>) {
        if self.hit_origins.len() >= HIT_ORIGINS_KEPT {
            self.hit_origins.remove(0);
        }
        self.hit_origins.push(HitOrigin {
            cause: at.cause,
            hall: at.hall.clone(),
            time: at.time,
        });
    }

    /// M-2: a bet or cash-out beyond the credits it may take (a cash-out never takes
    /// restricted promotional credits, M-13).
    fn variance(&self, op: MachineOp, amount: i64) -> Option<MachineEffect> {
        let credits = match op {
            MachineOp::CashOut => self.credits - self.meters.restricted_credits().max(0),
            _ => self.credits,
        };
        (amount > credits).then(|| {
            MachineEffect::Alert(Alert::CreditVariance {
                machine: self.id.clone(),
                op,
                amount,
                credits,
                shortfall: amount - credits,
            })
        })
    }

    fn apply_command(
        &mut self,
        at: &Booked<'_>,
        cmd: &MachineCommand,
        fx: &mut Vec<MachineEffect>,
    ) -> Result<(), DomainError> {
        match cmd {
            MachineCommand::Transfer(t) => {
                let cash = match (t.direction, t.credit) {
                    (Direction::ToMachine, CreditType::Cashable) => {
                        MachineCommand::CashIn(CashInKind::Cashless, t.amount)
                    }
                    (Direction::ToMachine, CreditType::Restricted) => {
                        MachineCommand::CashIn(CashInKind::Promo(PromoCredit::Restricted), t.amount)
                    }
                    (Direction::FromMachine, _) => {
                        MachineCommand::CashOut(CashOutKind::Cashless, t.amount)
                    }
                };
                self.apply_command(at, &cash, fx)?;
                fx.push(MachineEffect::Transfer(Box::new(WalletTransferFact {
                    player: t.player.clone(),
                    fact: TransferFact {
                        transfer: t.transfer.clone(),
                        machine: self.id.clone(),
                        direction: t.direction,
                        amount: t.amount,
                        credit: t.credit,
                        seq: at.seq,
                    },
                    hall: at.hall.clone(),
                    at: at.time,
                })));
            }
            MachineCommand::Bet(amount) => {
                let a = amount.minor();
                let credits = sub(self.credits, a, Total::Credits)?;
                let coin_in = add(self.meters.coin_in, a, Total::CoinInMeter)?;
                // M-13: restricted promotional credits are played first.
                let promo = a.min(self.meters.restricted_credits()).max(0);
                fx.extend(self.variance(MachineOp::Bet, a));
                self.credits = credits;
                self.meters.coin_in = coin_in;
                self.meters.restricted_played += promo;
                if !self.game_open {
                    self.game_open = true;
                    self.game_won = false;
                    self.game_bet = 0;
                }
                self.game_bet = self.game_bet.saturating_add(a);
                if let Some(r) = &mut self.rating {
                    r.coin_in = r.coin_in.saturating_add(a);
                }
                fx.push(self.ggr_promo(at, a, promo, 0, 0));
                let eligible = self.status.online && self.status.tilt.is_none();
                for pool in &self.profile.pools {
                    fx.push(MachineEffect::Contribute {
                        pool: pool.clone(),
                        bet: *amount,
                        eligible,
                    });
                }
                if !self.profile.pools.is_empty() {
                    self.remember_origin(at);
                }
            }
            MachineCommand::Win(amount) => {
                let a = amount.minor();
                let credits = add(self.credits, a, Total::Credits)?;
                let coin_out = add(self.meters.coin_out, a, Total::CoinOutMeter)?;
                self.credits = credits;
                self.meters.coin_out = coin_out;
                if let Some(r) = &mut self.rating {
                    r.coin_out = r.coin_out.saturating_add(a);
                }
                if self.game_open {
                    self.game_won = true;
                } else {
                    fx.push(MachineEffect::Alert(Alert::WinOutsideGame {
                        machine: self.id.clone(),
                        amount: a,
                    }));
                }
                let threshold = self.profile.handpay_threshold_minor;
                if threshold > 0 && a >= threshold {
                    fx.push(MachineEffect::Alert(Alert::WinAboveHandpayThreshold {
                        machine: self.id.clone(),
                        amount: a,
                        threshold,
                    }));
                }
                fx.push(self.ggr(at, 0, a, 0));
            }
            MachineCommand::GameEnd => {
                if !self.game_open {
                    fx.push(MachineEffect::Alert(Alert::GameEndWithoutBet {
                        machine: self.id.clone(),
                    }));
                }
                self.meters.games_played += 1;
                if self.game_won {
                    self.meters.games_won += 1;
                }
                if let Some(r) = &mut self.rating {
                    r.games += 1;
                }
                self.game_open = false;
                self.game_won = false;
                self.game_bet = 0;
                fx.push(self.ggr(at, 0, 0, 1));
            }
            MachineCommand::CashIn(kind, amount) => {
                let a = amount.minor();
                let credits = add(self.credits, a, Total::Credits)?;
                let meter = match kind {
                    CashInKind::Bill => &mut self.meters.bills_in,
                    CashInKind::Ticket(_) => &mut self.meters.tickets_in,
                    CashInKind::Cashless => &mut self.meters.cashless_in,
                    CashInKind::Promo(PromoCredit::Restricted) => &mut self.meters.restricted_in,
                    CashInKind::Promo(PromoCredit::NonRestricted) => {
                        &mut self.meters.nonrestricted_in
                    }
                };
                let total = match kind {
                    CashInKind::Promo(_) => Total::PromoMeter,
                    _ => Total::CashInMeter,
                };
                *meter = add(*meter, a, total)?;
                self.credits = credits;
                if let CashInKind::Ticket(Some(v)) = kind {
                    fx.push(self.ticket(*v, at, VoucherFact::Credited(self.id.clone(), *amount)));
                }
                let threshold = self.profile.large_cash_in_alert_minor;
                // M-7: free play is not cash.
                if threshold > 0 && a >= threshold && !matches!(kind, CashInKind::Promo(_)) {
                    fx.push(MachineEffect::Alert(Alert::LargeCashIn {
                        machine: self.id.clone(),
                        amount: a,
                    }));
                }
                if matches!(kind, CashInKind::Bill) {
                    self.patron_cash(at, a, CashDir::In, fx);
                }
            }
            MachineCommand::CashOut(kind, amount) => {
                let a = amount.minor();
                let credits = sub(self.credits, a, Total::Credits)?;
                let variance = self.variance(MachineOp::CashOut, a);
                let meter = match kind {
                    CashOutKind::Ticket(_) => &mut self.meters.tickets_out,
                    CashOutKind::Cashless => &mut self.meters.cashless_out,
                    CashOutKind::Handpay => &mut self.meters.handpaid,
                };
                *meter = add(*meter, a, Total::CashOutMeter)?;
                fx.extend(variance);
                self.credits = credits;
                if let CashOutKind::Ticket(Some(v)) = kind {
                    fx.push(self.ticket(*v, at, VoucherFact::Printed(self.id.clone(), *amount)));
                }
                if matches!(kind, CashOutKind::Handpay) {
                    self.patron_cash(at, a, CashDir::Out, fx);
                }
            }
            MachineCommand::CardIn(player) => {
                let again = self.session.as_ref() == Some(player);
                if let Some(current) = &self.session {
                    if !again {
                        fx.push(MachineEffect::Alert(Alert::CardSessionOverlap {
                            machine: self.id.clone(),
                            player: player.clone(),
                            previous: current.clone(),
                        }));
                        self.end_session(at, SessionEnd::CardIn, fx);
                    }
                }
                if !again {
                    // M-12: the new session is rated from its card-in on.
                    self.rating = Some(Rating::starting_at(at));
                }
                self.session = Some(player.clone());
                fx.push(MachineEffect::CardIn(Box::new(PlayerCardIn {
                    player: player.clone(),
                    hall: at.hall.clone(),
                    at: at.time,
                })));
            }
            MachineCommand::CardOut => {
                self.end_session(at, SessionEnd::CardOut, fx);
                if self.session.take().is_none() {
                    fx.push(MachineEffect::Alert(Alert::CardOutWithoutSession {
                        machine: self.id.clone(),
                    }));
                }
            }
            MachineCommand::JackpotHit {
                pool,
                level,
                amount,
            } => {
                let refuse = |e: DomainError, fx: &mut Vec<MachineEffect>| {
                    fx.push(MachineEffect::Alert(Alert::ClaimRefused {
                        machine: self.id.clone(),
                        pool: pool.clone(),
                        level: *level,
                        code: e.code(),
                    }));
                    Err(e)
                };
                if !self.profile.pools.contains(pool) {
                    let e = DomainError::PoolNotLinked {
                        machine: self.id.to_string(),
                        pool: pool.to_string(),
                    };
                    return refuse(e, fx);
                }
                let why = if !self.game_open {
                    Some("no game in progress")
                } else if !self.status.online {
                    Some("offline")
                } else if self.status.tilt.is_some() {
                    Some("in tilt")
                } else {
                    None
                };
                if let Some(why) = why {
                    let e = DomainError::JackpotNotEligible {
                        machine: self.id.to_string(),
                        pool: pool.to_string(),
                        level: *level,
                        why: why.into(),
                    };
                    return refuse(e, fx);
                }
                fx.push(MachineEffect::ClaimHit {
                    pool: pool.clone(),
                    level: *level,
                    bet: self.game_bet,
                    amount: *amount,
                });
                self.remember_origin(at);
            }
            MachineCommand::Significant(ev) => {
                self.apply_significant(*ev, fx);
                self.cut_rating(*ev, at, fx);
                let (code, tilt) = match ev {
                    SignificantEvent::DoorOpen => (LogCode::DoorOpen, None),
                    SignificantEvent::DoorClose => (LogCode::DoorClose, None),
                    SignificantEvent::Tilt(c) => (LogCode::Tilt, Some(*c)),
                    SignificantEvent::TiltClear => (LogCode::TiltClear, None),
                    SignificantEvent::CommsLost => (LogCode::CommsLost, None),
                    SignificantEvent::CommsRestored => (LogCode::CommsRestored, None),
                    SignificantEvent::PowerOff => (LogCode::PowerOff, None),
                    SignificantEvent::PowerOn => (LogCode::PowerOn, None),
                };
                let meters = self.meters.report();
                self.log(at, code, meters, fx).tilt = tilt;
            }
            MachineCommand::MeterSnapshot { reason, meters } => {
                self.apply_snapshot(at, *reason, meters.as_ref(), fx)?;
            }
            MachineCommand::HandpayPending { kind, amount } => {
                let a = amount.minor();
                if *kind == HandpayKind::Jackpot && self.game_open {
                    self.game_won = true;
                }
                self.handpays.push(OpenHandpay {
                    kind: *kind,
                    amount: a,
                    cause: at.cause,
                    hall: at.hall.clone(),
                    time: at.time,
                });
                fx.push(MachineEffect::Alert(Alert::HandpayPending {
                    machine: self.id.clone(),
                    kind: *kind,
                    amount: a,
                }));
                let meters = self.meters.report();
                self.log(at, LogCode::HandpayPending, meters, fx).amount = Some(a);
            }
            MachineCommand::HandpayReset { attendant } => self.handpay_reset(at, attendant, fx)?,
        }
        Ok(())
    }

    /// RULES.md M-10: pays the oldest pending handpay. Cancelled credits leave the credit
    /// meter as a cash out by hand; a jackpot is a game win paid by hand, counted in the
    /// hall where and when it was pending. Without one pending nothing is booked.
    fn handpay_reset(
        &mut self,
        at: &Booked<'_>,
        attendant: &AttendantId,
        fx: &mut Vec<MachineEffect>,
    ) -> Result<(), DomainError> {
        let Some(h) = self.handpays.first().cloned() else {
            fx.push(MachineEffect::Alert(Alert::HandpayResetWithoutPending {
                machine: self.id.clone(),
                attendant: attendant.clone(),
            }));
            let meters = self.meters.report();
            self.log(at, LogCode::HandpayReset, meters, fx).attendant = Some(attendant.clone());
            return Ok(());
        };
        match h.kind {
            HandpayKind::CancelledCredits => {
                let credits = sub(self.credits, h.amount, Total::Credits)?;
                let handpaid = add(self.meters.handpaid, h.amount, Total::CashOutMeter)?;
                fx.extend(self.variance(MachineOp::CashOut, h.amount));
                self.credits = credits;
                self.meters.handpaid = handpaid;
            }
            HandpayKind::Jackpot => {
                let paid = add(
                    self.meters.jackpot_handpaid,
                    h.amount,
                    Total::JackpotHandpaidMeter,
                )?;
                self.meters.jackpot_handpaid = paid;
                fx.push(MachineEffect::Ggr(GgrDelta {
                    source: SourceKey::Machine(self.id.clone()),
                    seq: at.seq,
                    cause: at.cause,
                    hall: h.hall.clone(),
                    window: h.time.window_start(),
                    bets: 0,
                    wins: h.amount,
                    games: 0,
                    jackpots: 0,
                    promo: 0,
                }));
                fx.push(MachineEffect::HandpaidWin(h.amount, h.time));
            }
        }
        self.handpays.remove(0);
        let meters = self.meters.report();
        let e = self.log(at, LogCode::HandpayReset, meters, fx);
        e.amount = Some(h.amount);
        e.attendant = Some(attendant.clone());
        Ok(())
    }

    /// RULES.md M-8: compares a snapshot with the baseline plus what was applied since, and
    /// makes it the next baseline. A late snapshot (taken before events already applied) is
    /// only logged. A meter lower than in the baseline starts a new baseline.
    fn apply_snapshot(
        &mut self,
        at: &Booked<'_>,
        reason: SnapshotReason,
        meters: &MeterReport,
        fx: &mut Vec<MachineEffect>,
    ) -> Result<(), DomainError> {
        if at.late {
            // In the log (M-9), compared with nothing.
            self.log(at, LogCode::MeterSnapshot, *meters, fx);
            return Ok(());
        }
        let applied = self.meters.report();
        let mut outstanding = self.meter_variance();
        let mut code = LogCode::MeterSnapshot;
        if let Some(base) = self.baseline() {
            let lower = ReportedMeter::ALL
                .iter()
                .copied()
                .find(|m| meters.get(*m) < base.reported.get(*m));
            if let Some(meter) = lower {
                code = LogCode::MeterReset;
                fx.push(MachineEffect::Alert(Alert::MeterReset {
                    machine: self.id.clone(),
                    meter,
                    previous: base.reported.get(meter),
                    reported: meters.get(meter),
                }));
            } else {
                let mut rows = Vec::new();
                for &meter in ReportedMeter::ALL.iter().filter(|m| m.compared()) {
                    // Reported meters are at least the baseline's (checked above) and
                    // pitboss's never go backwards: both movements are non-negative.
                    let row = MeterDiff {
                        meter,
                        reported: meters.get(meter) - base.reported.get(meter),
                        applied: applied.get(meter) - base.applied.get(meter),
                    };
                    if row.variance() != 0 {
                        let v = add(outstanding.get(meter), row.variance(), Total::MeterVariance)?;
                        outstanding.set(meter, v);
                        rows.push(row);
                    }
                }
                if !rows.is_empty() {
                    code = LogCode::MeterVariance;
                    fx.push(MachineEffect::Alert(Alert::MeterVariance {
                        machine: self.id.clone(),
                        reason,
                        previous: base.cause,
                        previous_time: base.time,
                        rows,
                    }));
                }
            }
        }
        self.reconcile = Some(Box::new(Reconciliation {
            baseline: MeterBaseline {
                cause: at.cause,
                time: at.time,
                reason,
                reported: *meters,
                applied,
            },
            variance: outstanding,
        }));
        self.log(at, code, *meters, fx);
        Ok(())
    }

    fn apply_significant(&mut self, ev: SignificantEvent, fx: &mut Vec<MachineEffect>) {
        match ev {
            SignificantEvent::DoorOpen => {
                if !self.status.door_open {
                    self.meters.doors_opened += 1;
                    fx.push(MachineEffect::Alert(Alert::DoorOpen {
                        machine: self.id.clone(),
                    }));
                }
                self.status.door_open = true;
            }
            SignificantEvent::DoorClose => self.status.door_open = false,
            SignificantEvent::Tilt(code) => {
                self.status.tilt = Some(code);
                fx.push(MachineEffect::Alert(Alert::Tilt {
                    machine: self.id.clone(),
                    code,
                }));
            }
            SignificantEvent::TiltClear => self.status.tilt = None,
            SignificantEvent::CommsLost => {
                if self.status.online {
                    fx.push(MachineEffect::Alert(Alert::CommsLost {
                        machine: self.id.clone(),
                    }));
                }
                self.status.online = false;
            }
            SignificantEvent::CommsRestored | SignificantEvent::PowerOn => {
                self.status.online = true
            }
            SignificantEvent::PowerOff => {
                fx.push(MachineEffect::Alert(Alert::PowerOff {
                    machine: self.id.clone(),
                }));
                self.status.online = false;
            }
        }
    }
    /// Where and when the award of a hit caused by `cause` is booked (RULES.md H-1): where
    /// and when the event that caused it was, or, if the machine no longer remembers it, its
    /// hall and newest event time.
    pub fn award_origin(&self, cause: EventId) -> (HallId, Timestamp) {
        match self.hit_origins.iter().rev().find(|o| o.cause == cause) {
            Some(o) => (o.hall.clone(), o.time),
            None => (self.profile.hall.clone(), self.last_event_time),
        }
    }

    /// Records a jackpot award paid (by hand) for a hit on this machine, and books it in the
    /// hall's jackpots (RULES.md H-1), in the hall and window of the event that caused the
    /// hit (`cause`; the machine's hall and newest booked time if it is no longer
    /// remembered).
    ///
    /// Awards come from the pool actor, not from the machine's event stream, so they carry
    /// the pool level's hit number: hit numbers of one level only grow, and a number at or
    /// below the last one recorded for that level is a replay and changes nothing.
    pub fn apply_award(
        &mut self,
        pool: &PoolId,
        level: u8,
        hit_number: u64,
        amount: Amount,
        cause: EventId,
        fx: &mut Vec<MachineEffect>,
    ) -> Result<Applied, DomainError> {
        let (hall, time) = self.award_origin(cause);
        let mark = self
            .awards
            .iter_mut()
            .find(|m| &m.pool == pool && m.level == level);
        if let Some(m) = &mark {
            if hit_number <= m.hit_number {
                return Ok(Applied::Duplicate);
            }
        }
        let paid = add(
            self.meters.jackpot_paid,
            amount.minor(),
            Total::JackpotPaidMeter,
        )?;
        self.meters.jackpot_paid = paid;
        self.award_seq += 1;
        fx.push(MachineEffect::Ggr(GgrDelta {
            source: SourceKey::Award(self.id.clone()),
            seq: self.award_seq,
            cause,
            hall,
            window: time.window_start(),
            bets: 0,
            wins: 0,
            games: 0,
            jackpots: amount.minor(),
            promo: 0,
        }));
        match mark {
            Some(m) => m.hit_number = hit_number,
            None => self.awards.push(AwardMark {
                pool: pool.clone(),
                level,
                hit_number,
            }),
        }
        Ok(Applied::Done)
    }

    /// Checks the machine's invariants; panics on a broken one (a bug, not an error).
    pub fn assert_invariants(&self) {
        let expected = self.meters.cash_in() + self.meters.promo_in()
            - self.meters.cash_out()
            - self.meters.coin_in
            + self.meters.coin_out;
        assert_eq!(
            self.credits, expected,
            "machine {}: credits {} != cash in + promo in - cash out - bets + wins = {}",
            self.id, self.credits, expected
        );
        // M-13: restricted credits are played only while some are on the machine.
        assert!(self.meters.restricted_played <= self.meters.restricted_in);
        assert!(self.meters.restricted_played <= self.meters.coin_in);
        assert!(
            self.meters.dominates(&Meters::default()),
            "machine {}: negative meter",
            self.id
        );
        assert!(self.meters.games_won <= self.meters.games_played);
        assert!(self.handpays.iter().all(|h| h.amount > 0));
        // M-12: a session is rated only while a player is carded in.
        assert!(self.rating.is_none() || self.session.is_some());
    }
}

/// Where and when an applied event is booked, and the number its effects carry.
struct Booked<'a> {
    hall: &'a HallId,
    time: Timestamp,
    seq: u64,
    cause: EventId,
    /// Applied after events that came after it (a late gap-fill, an older epoch).
    late: bool,
    /// The machine's theoretical hold in a hall (RULES.md M-12), from the environment.
    hold_of: &'a dyn Fn(&HallId) -> i64,
    /// Loyalty points per minor unit of theoretical win, in millionths (M-12).
    micro_points: i64,
}

fn sub(a: i64, b: i64, what: Total) -> Result<i64, DomainError> {
    a.checked_sub(b).ok_or(DomainError::Overflow(what))
}
