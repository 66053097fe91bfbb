//! The wallet state machine: a player's balance for online play (seamless wallet).
//!
//! A command is identified by (provider, transaction id) within its wallet (RULES.md W-1):
//! the provider is the sender (`source.server`). Every command is answered exactly once
//! (W-6); a repeat with the same content gets the first answer again, the same key with
//! other content is a conflict (W-2). The content is the operation (with its amount and the
//! bet it names), the currency and the game round (`round`, E-2). The newest answers are kept in memory; every answer is
//! also handed to the store ([`WalletEffect::Remember`]) and, when a key is not in memory,
//! the shell reads it back and passes it in ([`WalletState::missing`], [`Recalled`]): the core
//! itself never reads a store.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::FastMap;

use super::aml::{AmlCase, AmlRules, CashDir, CashMove, PatronCash};
use super::applied::Applied;
use super::bonus::{self, BetsDraw, Bonus};
use super::desk::DeskCash;
use super::error::{DomainError, Subject};
use super::ggr::GgrDelta;
use super::ids::{EventId, HallId, MachineId, PlayerId, RoundId, ServerId, SourceKey, TxId};
use super::kinds::{KycStatus, Total, WalletOpKind};
use super::limits::{
    self, Calendar, DepositPeriod, Deposited, LimitKind, LimitRefusal, Limits, Lost, PeriodSums,
    Session, UtcCalendar,
};
use super::machine::Alert;
use super::money::{add, Amount, Currency};
use super::time::Timestamp;
use super::transfer::{
    CreditType, Direction, Hold, TransferFact, Transfers, Waiting, TRANSFER_HOLD_MS_DEFAULT,
};

/// What a wallet command asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WalletOp {
    /// Money in from outside (payment provider, cash desk).
    Deposit(Amount),
    /// Money out to the player.
    Withdraw(Amount),
    /// A wager (debit).
    Bet(Amount),
    /// A payout (credit), optionally naming the bet it settles.
    Win {
        /// The amount won.
        amount: Amount,
        /// The bet settled, if the game server says.
        bet_tx: Option<TxId>,
    },
    /// Cancel a bet: refund it if it was applied, or refuse it in advance if it was not.
    Rollback {
        /// The bet to cancel.
        bet_tx: TxId,
    },
    /// The KYC provider's word on the player (RULES.md W-8): moves no money.
    Kyc(KycStatus),
    /// Sets (or, with no amount, removes) the player's deposit or loss limit for a period
    /// (RULES.md W-9): moves no money.
    Limit {
        kind: LimitKind,
        period: DepositPeriod,
        amount: Option<Amount>,
    },
    /// Sets (or, with none, removes) the longest a playing session may last, in minutes
    /// (RULES.md W-9): moves no money.
    SessionLimit { minutes: Option<u32> },
    /// Excludes the player from deposits and bets until a time (RULES.md W-9).
    SelfExclude { until: Timestamp },
    /// Holds money for a cashless transfer to a machine (RULES.md W-10); the command's `tx`
    /// is the transfer id the machine acknowledges. `credit`: cash or bonus (W-12).
    TransferRequest {
        machine: MachineId,
        amount: Amount,
        credit: CreditType,
    },
    /// Gives back the money held for a transfer the machine did not take (W-10).
    TransferCancel { transfer: TxId },
    /// Awards bonus money with a wagering requirement (`wagering` times the amount) and an
    /// expiry (RULES.md W-12).
    BonusAward {
        amount: Amount,
        wagering: u32,
        expires: Timestamp,
    },
}

impl WalletOp {
    /// Which operation, without its amount.
    pub fn kind(&self) -> WalletOpKind {
        match self {
            WalletOp::Deposit(_) => WalletOpKind::Deposit,
            WalletOp::Withdraw(_) => WalletOpKind::Withdrawal,
            WalletOp::Bet(_) => WalletOpKind::Bet,
            WalletOp::Win { .. } => WalletOpKind::Win,
            WalletOp::Rollback { .. } => WalletOpKind::Rollback,
            WalletOp::Kyc(_) => WalletOpKind::KycStatus,
            WalletOp::Limit {
                kind: LimitKind::Deposit,
                ..
            } => WalletOpKind::DepositLimit,
            WalletOp::Limit {
                kind: LimitKind::Loss,
                ..
            } => WalletOpKind::LossLimit,
            WalletOp::SessionLimit { .. } => WalletOpKind::SessionLimit,
            WalletOp::SelfExclude { .. } => WalletOpKind::SelfExclusion,
            WalletOp::TransferRequest { .. } => WalletOpKind::TransferRequest,
            WalletOp::TransferCancel { .. } => WalletOpKind::TransferCancel,
            WalletOp::BonusAward { .. } => WalletOpKind::BonusAward,
        }
    }

    /// The bet the operation names (a win's `bet_tx`, a rollback's bet).
    pub fn bet_tx(&self) -> Option<&TxId> {
        match self {
            WalletOp::Win { bet_tx, .. } => bet_tx.as_ref(),
            WalletOp::Rollback { bet_tx } => Some(bet_tx),
            _ => None,
        }
    }
}

/// A command's idempotency key within its wallet (W-1): who sent it and its transaction id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxKey {
    /// The sender (`source.server`): game provider, payment service, cash desk.
    pub provider: ServerId,
    /// The sender's transaction id.
    pub tx: TxId,
}

/// A wallet command: an operation under a provider's transaction id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletCommand {
    /// The sender (`source.server`), part of the idempotency key.
    pub provider: ServerId,
    /// The sender's transaction id, the rest of the key.
    pub tx: TxId,
    /// The operation.
    pub op: WalletOp,
    /// The game provider's round the command belongs to (version 2 `round`, E-2): part of
    /// the command's content (W-2), echoed in its answer (W-6). Not part of the key.
    pub round: Option<RoundId>,
}

impl WalletCommand {
    /// The command's idempotency key.
    pub fn key(&self) -> TxKey {
        TxKey {
            provider: self.provider.clone(),
            tx: self.tx.clone(),
        }
    }

    /// The key of the bet it names (same provider, W-4, W-5).
    pub fn bet_key(&self) -> Option<TxKey> {
        self.op.bet_tx().map(|b| TxKey {
            provider: self.provider.clone(),
            tx: b.clone(),
        })
    }
}

/// The configured rules a wallet applies (they may change between runs, so they are not
/// part of its state).
#[derive(Clone, Copy, Debug)]
pub struct WalletRules<'a> {
    /// The largest withdrawal a player whose identity is not verified may make (RULES.md
    /// W-8); `None`: no such limit.
    pub kyc_withdrawal_max: Option<i64>,
    /// How long a raised or removed deposit limit waits before it takes effect (RULES.md
    /// W-9), in milliseconds.
    pub cooling_off_ms: i64,
    /// Where days, weeks and months start in the jurisdiction's local time (W-9).
    pub calendar: &'a dyn Calendar,
    /// How long a transfer's hold waits for its machine (RULES.md W-10), in milliseconds.
    pub transfer_hold_ms: i64,
    /// The longest break between bets and wins that keeps a playing session going (RULES.md
    /// W-9), in milliseconds.
    pub session_break_ms: i64,
    /// The patron-cash thresholds (RULES.md W-11).
    pub aml: AmlRules,
    /// Which of cash and bonus pays a bet first (RULES.md W-12).
    pub bets_draw: BetsDraw,
    /// The cash desks: a deposit or withdrawal one of them sends is cash in its drawer
    /// (RULES.md D-10).
    pub cash_desks: &'a BTreeSet<ServerId>,
}

/// No cash desks (the default rules).
static NO_DESKS: BTreeSet<ServerId> = BTreeSet::new();

/// The default break that ends a playing session: 30 minutes (RULES.md W-9).
pub const SESSION_BREAK_MS_DEFAULT: i64 = 30 * 60_000;

/// The default cooling-off of a raised deposit limit: 24 hours (RULES.md W-9).
pub const COOLING_OFF_MS_DEFAULT: i64 = 24 * 3_600_000;

impl Default for WalletRules<'static> {
    /// No KYC limit, a 24-hour cooling-off, periods in UTC.
    fn default() -> Self {
        Self {
            kyc_withdrawal_max: None,
            cooling_off_ms: COOLING_OFF_MS_DEFAULT,
            calendar: &UtcCalendar,
            transfer_hold_ms: TRANSFER_HOLD_MS_DEFAULT,
            session_break_ms: SESSION_BREAK_MS_DEFAULT,
            aml: AmlRules::default(),
            bets_draw: BetsDraw::CashFirst,
            cash_desks: &NO_DESKS,
        }
    }
}

/// What the envelope tells the wallet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletMeta {
    /// The input event's id.
    pub event_id: EventId,
    /// Event time.
    pub time: Timestamp,
    /// The hall (online brand) whose GGR the wallet's bets and wins count in.
    pub hall: HallId,
}

/// Running totals of a wallet, for reconciliation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WalletTotals {
    pub deposits: i64,
    /// Withdrawn.
    pub withdrawals: i64,
    /// Wagered (gross, before rollbacks).
    pub bets: i64,
    /// Won.
    pub wins: i64,
    /// Refunded by rollbacks.
    pub refunds: i64,
    /// Paid to machines by acknowledged cashless transfers (RULES.md W-10).
    pub to_machines: i64,
    /// Received from machines by cashless transfers (W-10).
    pub from_machines: i64,
    /// Deposited in cash at a cash desk (part of `deposits`, RULES.md D-10).
    pub desk_deposits: i64,
    /// Withdrawn in cash at a cash desk (part of `withdrawals`, D-10).
    pub desk_withdrawals: i64,
}

/// Where an accepted bet stands (W-4, W-5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BetStatus {
    /// Accepted, neither settled nor rolled back.
    Open,
    /// A win named it: it can no longer be rolled back.
    Settled,
    /// Refunded by a rollback.
    RolledBack,
}

/// An accepted bet: where it stands and where its GGR was booked (a rollback reverses it
/// there, W-5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BetBooking {
    pub status: BetStatus,
    /// The hall its GGR counted in.
    pub hall: HallId,
    /// The window its GGR counted in.
    pub window: Timestamp,
    /// Its part in a bonus account (RULES.md W-12), if it had one. Boxed: most bets have
    /// none, and every remembered answer carries a booking's room.
    pub bonus: Option<Box<BetBonus>>,
}

/// A bet's part in its wallet's bonus account (RULES.md W-12).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BetBonus {
    /// What the bonus paid of it: a win naming it is split the same way, a rollback gives it
    /// back to the bonus.
    pub paid: i64,
    /// What it took off the wagering requirement: a rollback gives it back.
    pub wagered: i64,
}

impl BetBooking {
    /// Its part in a bonus account (zero without one).
    pub fn bonus(&self) -> BetBonus {
        self.bonus.as_deref().copied().unwrap_or_default()
    }
}

/// The first answer to a command (W-6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Applied: the signed change and the balance after.
    Applied {
        /// Signed change of the balance (0 for a rollback that refunds nothing).
        delta: i64,
        /// Balance after.
        balance: i64,
    },
    /// Refused, and why.
    Refused(DomainError),
}

/// An answered command as remembered: its content (to tell a repeat from a conflict), its
/// first answer and the input that got it (a repeat republishes both).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answered {
    /// The operation, with its amount and the bet it names.
    pub op: WalletOp,
    /// The command's currency.
    pub currency: Currency,
    /// The command's round, if it named one (content, W-2; echoed, W-6).
    pub round: Option<RoundId>,
    /// The first answer.
    pub answer: Answer,
    /// The input event that got it.
    pub cause: EventId,
    /// For an accepted bet: where it stands.
    pub bet: Option<BetBooking>,
    /// Applied by a wallet that has a bonus account (RULES.md W-12): the bonus's change by
    /// the command and its balance after. Boxed: rare, and every remembered answer has room
    /// for it.
    pub bonus: Option<Box<BonusAnswer>>,
}

/// The bonus account in an answer (RULES.md W-12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BonusAnswer {
    /// The bonus balance's change by the command.
    pub delta: i64,
    /// The bonus balance after.
    pub balance: i64,
}

/// What a remembered key holds.
// Nearly every record is an answer; a tombstone is rare. Boxing the answer to shrink the
// tombstone would add an allocation to every command.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxRecord {
    /// A command answered under the key.
    Answered(Answered),
    /// A rollback named this key before any bet arrived under it: the bet is refused if it
    /// comes (W-5). Not an answer: nothing was asked under the key yet.
    Tombstone,
}

/// Records the shell read back from the store for keys [`WalletState::missing`] named, and
/// the keys the store does not hold either.
pub type Recalled = Vec<(TxKey, Option<TxRecord>)>;

/// The answer to a wallet command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletReply {
    /// The balance after the command (or at its first application, for a repeat).
    pub balance: i64,
    /// True when this was a repeat and nothing changed.
    pub repeat: bool,
}

/// Something the wallet's actor must do after an apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WalletEffect {
    /// Add to the hall's GGR.
    Ggr(GgrDelta),
    /// A money movement of the balance (the ledger).
    Changed {
        /// The transaction.
        tx: TxId,
        /// The operation.
        kind: WalletOpKind,
        /// 0: the cash balance; 1: the bonus account (RULES.md W-12).
        level: u8,
        /// Signed change of the balance.
        delta: i64,
        /// The balance after.
        balance: i64,
    },
    /// Publish the answer to a command (W-6): every command gets one, a repeat the first
    /// one again (its content and its first cause).
    Answer {
        /// The command's key.
        key: TxKey,
        /// What was answered.
        answered: Answered,
        /// True when this republishes an earlier answer.
        repeat: bool,
    },
    /// Hand a record (new or changed) to the store with the next checkpoint (W-1).
    Remember(TxKey, TxRecord),
    /// An operator alert (a lapsed transfer hold, a machine's acknowledgement that does not
    /// match, RULES.md W-10).
    Alert(Alert),
    /// An alert about a transfer (RULES.md W-10) caused by the transfer's own event: a
    /// machine's acknowledgement (whenever it settles: at once, at its request, or after
    /// waiting) or, for a lapsed hold, its request; so that a replay that settles or lapses
    /// it at another message publishes it under the same id.
    TransferAlert(EventId, Alert),
    /// A case for the compliance officers (RULES.md W-11). Boxed: rare.
    Case(Box<AmlCase>),
    /// What a machine's acknowledgement of a transfer settled (RULES.md W-10). Boxed: rare.
    Transfer(Box<TransferSettled>),
    /// Cash a cash desk took or paid for the wallet (RULES.md D-10): the desk books it.
    Desk(ServerId, DeskCash),
    /// A patron's cash counted (RULES.md W-11), at a time in the day it counted in (a late
    /// move's, counted in a later day, at that day's start): the patron-cash report's record.
    PatronCash {
        dir: CashDir,
        amount: i64,
        at: Timestamp,
    },
}

/// What a machine's acknowledgement of a cashless transfer settled in the wallet (RULES.md
/// W-10): published for every acknowledgement applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferSettled {
    /// The acknowledging event (the output's cause, whenever it settles).
    pub event: EventId,
    pub transfer: TxId,
    pub machine: MachineId,
    pub direction: Direction,
    /// What the machine reported moving.
    pub amount: i64,
    /// The hold the acknowledgement took (to a machine; 0 without one).
    pub held: i64,
    /// The balance's change at the acknowledgement: from a machine the amount; to a machine
    /// what went back below the hold (positive) or was paid beyond it (negative).
    pub delta: i64,
    /// What no funds of the wallet covered (to a machine).
    pub unbacked: i64,
    /// The machine acknowledged this transfer before.
    pub repeated: bool,
    /// The balance after.
    pub balance: i64,
    /// Which credits the machine took (RULES.md W-12): for restricted ones `held` and
    /// `delta` are the bonus's.
    pub credit: CreditType,
}

/// A player's loyalty account (RULES.md M-12): the points of the player's rated sessions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Loyalty {
    pub points: i64,
    /// Per machine, the effect number of the newest rated session counted from it: a session
    /// redelivered after a crash (at or below it) is counted once.
    pub seen: BTreeMap<MachineId, u64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletState {
    pub id: PlayerId,
    /// The wallet's currency: the network's, from its creation (E-4).
    pub currency: Currency,
    /// Balance in minor units.
    pub balance: i64,
    /// How far below zero a bet may take the balance (0 = no credit).
    pub credit_line: i64,
    /// Running totals.
    pub totals: WalletTotals,
    /// Count of applied money operations; sequences the wallet's GGR deltas.
    pub ops: u64,
    /// The player's KYC status, as the last `kyc_status` command set it (RULES.md W-8).
    pub kyc: KycStatus,
    /// What the player deposited in the current day, week and month (RULES.md W-9).
    pub deposited: Deposited,
    /// What the player lost (bets less wins and refunds) in the current day, week and month
    /// (RULES.md W-9).
    pub lost: Lost,
    /// The player's playing session: its first and latest bet or win (RULES.md W-9).
    pub session: Option<Session>,
    /// The player's responsible-gaming limits, once any was set (RULES.md W-9).
    pub limits: Option<Box<Limits>>,
    /// Cashless transfers held and acknowledged, once any was asked for (RULES.md W-10).
    pub transfers: Option<Box<Transfers>>,
    /// The player's loyalty points, once a rated session earned any (RULES.md M-12).
    pub loyalty: Option<Box<Loyalty>>,
    /// The player's cash of the current local day, once any was counted (RULES.md W-11).
    pub cash: Option<Box<PatronCash>>,
    /// The player's bonus account, once a bonus was awarded (RULES.md W-12).
    pub bonus: Option<Box<Bonus>>,
    /// How many records are kept in memory.
    pub window_len: usize,
    /// Keys in memory, oldest first.
    pub window_order: VecDeque<TxKey>,
    /// Records in memory (every record is in the store too).
    pub window: FastMap<TxKey, TxRecord>,
    /// Records that have left memory so far. While 0, a key not in memory was never
    /// answered, and nothing needs to be read from the store.
    pub forgotten: u64,
}

impl WalletState {
    /// An empty wallet in the network's currency.
    pub fn new(id: PlayerId, currency: Currency, credit_line: i64, window_len: usize) -> Self {
        Self {
            id,
            currency,
            balance: 0,
            credit_line: credit_line.max(0),
            totals: WalletTotals::default(),
            ops: 0,
            kyc: KycStatus::Unverified,
            deposited: Deposited::default(),
            lost: Lost::default(),
            session: None,
            limits: None,
            transfers: None,
            loyalty: None,
            cash: None,
            bonus: None,
            window_len: window_len.max(1),
            window_order: VecDeque::new(),
            window: FastMap::default(),
            forgotten: 0,
        }
    }

    /// The keys `cmd` needs that are not in memory: its own and the bet it names. The shell
    /// reads them from the store and passes them to [`WalletState::apply`].
    pub fn missing(&self, cmd: &WalletCommand) -> Vec<TxKey> {
        let mut v = Vec::new();
        if self.forgotten == 0 {
            // Everything ever recorded is in memory.
            return v;
        }
        let key = cmd.key();
        if !self.window.contains_key(&key) {
            v.push(key);
        }
        if let Some(b) = cmd.bet_key() {
            if !self.window.contains_key(&b) && !v.contains(&b) {
                v.push(b);
            }
        }
        v
    }

    /// Keeps a record in memory as the newest; the oldest beyond the window leave memory
    /// (they stay in the store).
    fn remember(&mut self, key: TxKey, record: TxRecord) {
        if self.window.insert(key.clone(), record).is_some() {
            if let Some(pos) = self.window_order.iter().position(|k| k == &key) {
                self.window_order.remove(pos);
            }
        }
        self.window_order.push_back(key);
        while self.window_order.len() > self.window_len {
            if let Some(old) = self.window_order.pop_front() {
                self.window.remove(&old);
                self.forgotten += 1;
            }
        }
    }

    /// Records a key and hands it to the store.
    fn record(&mut self, key: TxKey, record: TxRecord, fx: &mut Vec<WalletEffect>) {
        fx.push(WalletEffect::Remember(key.clone(), record.clone()));
        self.remember(key, record);
    }

    /// The record of a key: in memory, else as recalled from the store.
    fn lookup(&self, key: &TxKey, recalled: &Recalled) -> Option<TxRecord> {
        self.window.get(key).cloned().or_else(|| {
            recalled
                .iter()
                .find(|(k, _)| k == key)
                .and_then(|(_, r)| r.clone())
        })
    }

    /// Applies a command. `currency` is the command's (`None` for a command without an
    /// amount: a KYC status, which takes the wallet's own). `recalled` holds what the store
    /// has for the keys [`WalletState::missing`] named (empty when everything needed is in
    /// memory).
    ///
    /// Every command gets a [`WalletEffect::Answer`] except a conflicting repeat, which is
    /// returned as [`DomainError::TxConflict`] (the key's answer is taken, W-2). A refusal
    /// is an answer too: `Ok` with `repeat` false and the refusal in the effect; the
    /// returned `Err` is the refusal, for the caller's counters.
    pub fn apply(
        &mut self,
        meta: &WalletMeta,
        cmd: &WalletCommand,
        currency: Option<Currency>,
        rules: &WalletRules<'_>,
        recalled: &Recalled,
        fx: &mut Vec<WalletEffect>,
    ) -> Result<WalletReply, DomainError> {
        let currency = currency.unwrap_or(self.currency);
        self.lapse(meta.time, fx);
        let key = cmd.key();
        let tombstoned = match self.lookup(&key, recalled) {
            Some(TxRecord::Answered(first)) => {
                if first.op == cmd.op && first.currency == currency && first.round == cmd.round {
                    // W-2: a repeat: the first answer again, nothing changes.
                    if !self.window.contains_key(&key) {
                        self.remember(key.clone(), TxRecord::Answered(first.clone()));
                    }
                    let reply = match &first.answer {
                        Answer::Applied { balance, .. } => Ok(WalletReply {
                            balance: *balance,
                            repeat: true,
                        }),
                        Answer::Refused(e) => Err(e.clone()),
                    };
                    fx.push(WalletEffect::Answer {
                        key,
                        answered: first,
                        repeat: true,
                    });
                    return reply;
                }
                return Err(self.conflict(cmd));
            }
            // W-5: a tombstone waits for its bet; nothing else fits the key.
            Some(TxRecord::Tombstone) if !matches!(cmd.op, WalletOp::Bet(_)) => {
                return Err(self.conflict(cmd));
            }
            Some(TxRecord::Tombstone) => true,
            None => false,
        };
        let mut bet = None;
        let outcome = if tombstoned {
            Err(DomainError::BetRolledBack {
                tx: cmd.tx.to_string(),
                player: self.id.to_string(),
            })
        } else if currency != self.currency {
            // E-4: the wallet's currency is the network's.
            Err(DomainError::WrongCurrency {
                entity: Subject::Wallet(self.id.to_string()),
                expected: self.currency.to_string(),
                got: currency.to_string(),
            })
        } else {
            let before = self.bonus_balance();
            // A waiting acknowledgement a transfer request settles moves the bonus too; that
            // is not the request's change.
            let mut settled_bonus = 0;
            self.apply_new(
                meta,
                cmd,
                rules,
                recalled,
                (&mut bet, &mut settled_bonus),
                fx,
            )
            .map(|(delta, balance)| {
                let bonus_delta = self.bonus_balance() - before - settled_bonus;
                (delta, balance, bonus_delta)
            })
        };
        let bonus = match (&outcome, self.bonus.as_deref()) {
            (Ok((_, _, delta)), Some(b)) => Some(Box::new(BonusAnswer {
                delta: *delta,
                balance: b.balance,
            })),
            _ => None,
        };
        let outcome = outcome.map(|(delta, balance, _)| (delta, balance));
        let answer = match &outcome {
            Ok((delta, balance)) => Answer::Applied {
                delta: *delta,
                balance: *balance,
            },
            Err(e) => Answer::Refused(e.clone()),
        };
        let answered = Answered {
            op: cmd.op.clone(),
            currency,
            round: cmd.round.clone(),
            answer,
            cause: meta.event_id,
            bet,
            bonus,
        };
        self.record(key.clone(), TxRecord::Answered(answered.clone()), fx);
        fx.push(WalletEffect::Answer {
            key,
            answered,
            repeat: false,
        });
        outcome.map(|(_, balance)| WalletReply {
            balance,
            repeat: false,
        })
    }

    fn conflict(&self, cmd: &WalletCommand) -> DomainError {
        DomainError::TxConflict {
            provider: cmd.provider.to_string(),
            tx: cmd.tx.to_string(),
            player: self.id.to_string(),
        }
    }

    fn available(&self) -> i64 {
        self.balance + self.credit_line
    }

    fn ggr(
        &self,
        cause: EventId,
        hall: &HallId,
        window: Timestamp,
        bets: i64,
        wins: i64,
        promo: i64,
    ) -> WalletEffect {
        WalletEffect::Ggr(GgrDelta {
            source: SourceKey::Wallet(self.id.clone()),
            seq: self.ops,
            cause,
            hall: hall.clone(),
            window,
            bets,
            wins,
            games: 0,
            jackpots: 0,
            promo,
        })
    }

    fn changed(&self, tx: &TxId, kind: WalletOpKind, delta: i64) -> WalletEffect {
        WalletEffect::Changed {
            tx: tx.clone(),
            kind,
            level: 0,
            delta,
            balance: self.balance,
        }
    }

    /// A movement of the bonus account (RULES.md W-12): the ledger's level 1.
    fn bonus_changed(&self, tx: &TxId, kind: WalletOpKind, delta: i64) -> WalletEffect {
        WalletEffect::Changed {
            tx: tx.clone(),
            kind,
            level: 1,
            delta,
            balance: self.bonus_balance(),
        }
    }

    /// W-12: the player is unknown: the wallet applied no money operation and holds no KYC
    /// status other than unverified, no limit, transfer, loyalty point, patron cash or bonus
    /// (refused commands alone do not make a player known).
    pub fn unknown(&self) -> bool {
        self.ops == 0
            && self.kyc == KycStatus::Unverified
            && self.limits.is_none()
            && self.transfers.is_none()
            && self.loyalty.is_none()
            && self.cash.is_none()
            && self.bonus.is_none()
    }

    /// The bonus balance (W-12): 0 without a bonus account.
    pub fn bonus_balance(&self) -> i64 {
        self.bonus.as_ref().map_or(0, |b| b.balance)
    }

    /// The bonus held for restricted transfers to machines (W-12).
    pub fn restricted_held(&self) -> i64 {
        self.transfers.as_ref().map_or(0, |t| {
            t.holds
                .iter()
                .filter(|h| h.credit.is_restricted())
                .map(|h| h.amount)
                .sum()
        })
    }

    /// W-12: a bonus at or past its expiry at `t` is gone; else a bonus whose wagering is
    /// met becomes cash. Returns what it moved to the cash balance.
    fn bonus_rules(&mut self, t: Timestamp, tx: &TxId, fx: &mut Vec<WalletEffect>) -> i64 {
        let Some(b) = self.bonus.as_deref_mut() else {
            return 0;
        };
        if b.balance <= 0 {
            return 0;
        }
        let amount = b.balance;
        if b.expires <= t {
            b.expired = b.expired.saturating_add(amount);
            b.balance = 0;
            b.wagering_left = 0;
            fx.push(self.bonus_changed(tx, WalletOpKind::BonusExpire, -amount));
            return 0;
        }
        if b.wagering_left > 0 {
            return 0;
        }
        // A balance that would overflow keeps the bonus until it can take it.
        let Some(balance) = self.balance.checked_add(amount) else {
            return 0;
        };
        b.converted = b.converted.saturating_add(amount);
        b.balance = 0;
        self.balance = balance;
        fx.push(self.bonus_changed(tx, WalletOpKind::BonusConvert, -amount));
        fx.push(self.changed(tx, WalletOpKind::BonusConvert, amount));
        amount
    }

    /// Applies a command never answered before: its delta and the balance after, or why not.
    fn apply_new(
        &mut self,
        meta: &WalletMeta,
        cmd: &WalletCommand,
        rules: &WalletRules<'_>,
        recalled: &Recalled,
        (bet, settled_bonus): (&mut Option<BetBooking>, &mut i64),
        fx: &mut Vec<WalletEffect>,
    ) -> Result<(i64, i64), DomainError> {
        if matches!(cmd.op, WalletOp::BonusAward { .. }) && self.unknown() {
            // W-12: no bonus for a player nobody has told pitboss of.
            return Err(DomainError::PlayerUnknown {
                player: self.id.to_string(),
            });
        }
        self.check_kyc(&cmd.op, rules)?;
        let sums = self.check_limits(meta.time, &cmd.op, rules)?;
        let delta = match &cmd.op {
            WalletOp::Deposit(a) => {
                let balance = add(self.balance, a.minor(), Total::WalletBalance)?;
                let deposits = add(self.totals.deposits, a.minor(), Total::WalletDeposits)?;
                self.balance = balance;
                self.totals.deposits = deposits;
                if let Some(mut d) = sums {
                    limits::add_to(&mut d, a.minor());
                    self.deposited = d;
                }
                self.ops += 1;
                fx.push(self.changed(&cmd.tx, WalletOpKind::Deposit, a.minor()));
                self.count_cash(meta, None, a.minor(), CashDir::In, rules, fx);
                self.at_desk(cmd, a.minor(), CashDir::In, rules, fx);
                a.minor()
            }
            WalletOp::Withdraw(a) | WalletOp::Bet(a) => {
                let is_bet = matches!(cmd.op, WalletOp::Bet(_));
                let (what, available) = if is_bet {
                    // W-3: a bet may use the credit line, W-12: and the bonus ...
                    (WalletOpKind::Bet, self.available() + self.bonus_balance())
                } else {
                    // ... a withdrawal never does.
                    (WalletOpKind::Withdrawal, self.balance.max(0))
                };
                if a.minor() > available {
                    return Err(DomainError::InsufficientFunds {
                        what,
                        amount: a.minor(),
                        available,
                        player: self.id.to_string(),
                    });
                }
                let total = if is_bet {
                    &mut self.totals.bets
                } else {
                    &mut self.totals.withdrawals
                };
                *total = add(*total, a.minor(), Total::WalletTotals)?;
                // W-12: a bet draws on cash and bonus, a withdrawal on cash only.
                let (cash, from_bonus) = if is_bet {
                    bonus::split(
                        a.minor(),
                        self.balance,
                        self.bonus_balance(),
                        rules.bets_draw,
                    )
                } else {
                    (a.minor(), 0)
                };
                self.balance -= cash;
                self.ops += 1;
                if let (true, Some(mut lost)) = (is_bet, sums) {
                    limits::add_to(&mut lost, a.minor());
                    self.lost = lost;
                    self.play(meta.time, rules);
                }
                if is_bet {
                    let mut wagered = 0;
                    if let Some(b) = self.bonus.as_deref_mut() {
                        b.balance -= from_bonus;
                        b.staked += from_bonus;
                        wagered = a.minor().min(b.wagering_left.max(0));
                        b.wagering_left -= wagered;
                    }
                    let window = meta.time.window_start();
                    fx.push(self.ggr(meta.event_id, &meta.hall, window, a.minor(), 0, from_bonus));
                    *bet = Some(BetBooking {
                        status: BetStatus::Open,
                        hall: meta.hall.clone(),
                        window,
                        bonus: (from_bonus != 0 || wagered != 0).then(|| {
                            Box::new(BetBonus {
                                paid: from_bonus,
                                wagered,
                            })
                        }),
                    });
                }
                if cash != 0 || from_bonus == 0 {
                    fx.push(self.changed(&cmd.tx, what, -cash));
                }
                if from_bonus != 0 {
                    fx.push(self.bonus_changed(&cmd.tx, what, -from_bonus));
                }
                if !is_bet {
                    self.count_cash(meta, None, a.minor(), CashDir::Out, rules, fx);
                    self.at_desk(cmd, a.minor(), CashDir::Out, rules, fx);
                }
                -cash
            }
            WalletOp::Win { amount, bet_tx } => {
                // W-4: a win naming a bet settles it, if it stands.
                let settles = match cmd.bet_key() {
                    None => None,
                    Some(bkey) => Some(self.settleable(cmd, &bkey, bet_tx, recalled)?),
                };
                // W-12: split as the bet it settles was.
                let to_bonus = match settles.as_ref().map(|(_, first)| (&first.op, &first.bet)) {
                    Some((WalletOp::Bet(b), Some(booking))) => {
                        bonus::win_part(amount.minor(), b.minor(), booking.bonus().paid)
                    }
                    _ => 0,
                };
                let cash = amount.minor() - to_bonus;
                let balance = add(self.balance, cash, Total::WalletBalance)?;
                let wins = add(self.totals.wins, amount.minor(), Total::WalletWins)?;
                if to_bonus > 0 {
                    let b = self.bonus.get_or_insert_with(Box::default);
                    b.balance = add(b.balance, to_bonus, Total::WalletBalance)?;
                    b.won += to_bonus;
                }
                self.balance = balance;
                self.totals.wins = wins;
                self.ops += 1;
                self.count_loss(meta.time, -amount.minor(), rules);
                self.play(meta.time, rules);
                if let Some((bkey, mut first)) = settles {
                    if let Some(b) = &mut first.bet {
                        b.status = BetStatus::Settled;
                    }
                    self.record(bkey, TxRecord::Answered(first), fx);
                }
                fx.push(self.ggr(
                    meta.event_id,
                    &meta.hall,
                    meta.time.window_start(),
                    0,
                    amount.minor(),
                    0,
                ));
                if cash != 0 || to_bonus == 0 {
                    fx.push(self.changed(&cmd.tx, WalletOpKind::Win, cash));
                }
                if to_bonus != 0 {
                    fx.push(self.bonus_changed(&cmd.tx, WalletOpKind::Win, to_bonus));
                }
                cash
            }
            WalletOp::Rollback { bet_tx } => {
                let (refund, cash) = self.roll_back(meta.event_id, cmd, bet_tx, recalled, fx)?;
                self.count_loss(meta.time, -refund, rules);
                cash
            }
            WalletOp::Kyc(status) => {
                self.kyc = *status;
                0
            }
            WalletOp::Limit {
                kind,
                period,
                amount,
            } => {
                let limits = self.limits.get_or_insert_with(Box::default);
                let limit = amount.map(|a| a.minor());
                limits.set(*kind, *period, limit, meta.time, rules.cooling_off_ms);
                0
            }
            WalletOp::SessionLimit { minutes } => {
                let limits = self.limits.get_or_insert_with(Box::default);
                let limit = minutes.map(|m| i64::from(m) * 60_000);
                limits.set_session(limit, meta.time, rules.cooling_off_ms);
                0
            }
            WalletOp::SelfExclude { until } => {
                let limits = self.limits.get_or_insert_with(Box::default);
                if let Some(current) = limits.excluded_at(meta.time) {
                    if *until < current {
                        return Err(DomainError::SelfExclusionActive {
                            until: current.0,
                            asked: until.0,
                            player: self.id.to_string(),
                        });
                    }
                }
                limits.excluded_until = Some(*until);
                0
            }
            WalletOp::TransferRequest {
                machine,
                amount,
                credit,
            } => {
                let held = self.hold(meta, cmd, machine, amount.minor(), *credit, rules)?;
                let delta = match credit {
                    CreditType::Cashable => -held,
                    CreditType::Restricted => 0,
                };
                if held != 0 {
                    fx.push(match credit {
                        CreditType::Cashable => {
                            self.changed(&cmd.tx, WalletOpKind::TransferRequest, -held)
                        }
                        CreditType::Restricted => {
                            self.bonus_changed(&cmd.tx, WalletOpKind::TransferRequest, -held)
                        }
                    });
                }
                // The machine's acknowledgement came first: it settles against the hold now.
                // What it moves is the acknowledgement's, not the request's: the answer's
                // deltas are the hold's (W-10, W-12), its balances the ones after both.
                if let Some(w) = self
                    .transfers
                    .as_mut()
                    .and_then(|t| t.take_waiting(&cmd.tx))
                {
                    let bonus = self.bonus_balance();
                    self.settle(&w.fact, w.event, Some(meta.time), fx)?;
                    *settled_bonus = self.bonus_balance() - bonus;
                }
                delta
            }
            WalletOp::TransferCancel { transfer } => {
                let hold = self.transfers.as_mut().and_then(|t| t.take_hold(transfer));
                let Some(hold) = hold else {
                    let acknowledged = self
                        .transfers
                        .as_ref()
                        .is_some_and(|t| t.acknowledged(transfer));
                    return Err(DomainError::TransferNotHeld {
                        transfer: transfer.to_string(),
                        player: self.id.to_string(),
                        acknowledged,
                    });
                };
                self.ops += 1;
                self.tidy_transfers();
                self.give_back(&hold, &cmd.tx, WalletOpKind::TransferCancel, fx)
            }
            WalletOp::BonusAward {
                amount,
                wagering,
                expires,
            } => {
                let a = amount.minor();
                let wager = a
                    .checked_mul(i64::from(*wagering))
                    .ok_or(DomainError::Overflow(Total::WalletTotals))?;
                let restricted_held = self.restricted_held();
                let b = self.bonus.get_or_insert_with(Box::default);
                // A spent bonus leaves no requirement behind.
                let left = if b.balance == 0 && restricted_held == 0 {
                    0
                } else {
                    b.wagering_left
                };
                let balance = add(b.balance, a, Total::WalletBalance)?;
                let awarded = add(b.awarded, a, Total::WalletTotals)?;
                let wagering_left = add(left, wager, Total::WalletTotals)?;
                (b.balance, b.awarded, b.wagering_left) = (balance, awarded, wagering_left);
                b.expires = b.expires.max(*expires);
                self.ops += 1;
                fx.push(self.bonus_changed(&cmd.tx, WalletOpKind::BonusAward, a));
                0
            }
        };
        // W-12: a bonus whose wagering the command met becomes cash (or, past its expiry,
        // is gone).
        let converted = self.bonus_rules(meta.time, &cmd.tx, fx);
        Ok((delta + converted, self.balance))
    }

    /// W-10, W-12: a hold cancelled or lapsed goes back where it came from: the cash, or the
    /// bonus. The cash's change.
    fn give_back(
        &mut self,
        hold: &Hold,
        tx: &TxId,
        kind: WalletOpKind,
        fx: &mut Vec<WalletEffect>,
    ) -> i64 {
        match hold.credit {
            CreditType::Cashable => {
                self.balance += hold.amount;
                fx.push(self.changed(tx, kind, hold.amount));
                hold.amount
            }
            CreditType::Restricted => {
                let b = self.bonus.get_or_insert_with(Box::default);
                b.balance += hold.amount;
                fx.push(self.bonus_changed(tx, kind, hold.amount));
                0
            }
        }
    }

    /// W-10: holds a transfer's amount for its machine: the balance (never the credit line)
    /// pays it. A transfer whose acknowledgement is waiting for it is held (the caller
    /// settles the acknowledgement next); one settled already (its acknowledgement waited
    /// in vain) holds nothing: the money has moved.
    fn hold(
        &mut self,
        meta: &WalletMeta,
        cmd: &WalletCommand,
        machine: &MachineId,
        amount: i64,
        credit: CreditType,
        rules: &WalletRules<'_>,
    ) -> Result<i64, DomainError> {
        let bonus = self.bonus_balance();
        let t = self.transfers.get_or_insert_with(Box::default);
        if t.settled(&cmd.tx) {
            return Ok(0);
        }
        if t.holds.iter().any(|h| h.transfer == cmd.tx) {
            // Another sender's request under the same transfer id.
            return Err(self.conflict(cmd));
        }
        // W-12: cash pays a cashable transfer, the bonus a restricted one.
        let available = match credit {
            CreditType::Cashable => self.balance.max(0),
            CreditType::Restricted => bonus.max(0),
        };
        if amount > available {
            self.tidy_transfers();
            return Err(DomainError::InsufficientFunds {
                what: WalletOpKind::TransferRequest,
                amount,
                available,
                player: self.id.to_string(),
            });
        }
        let until = Timestamp(meta.time.0.saturating_add(rules.transfer_hold_ms.max(0)));
        t.holds.push(Hold {
            transfer: cmd.tx.clone(),
            machine: machine.clone(),
            amount,
            credit,
            until,
            cause: Some(meta.event_id),
        });
        match credit {
            CreditType::Cashable => self.balance -= amount,
            CreditType::Restricted => {
                if let Some(b) = self.bonus.as_deref_mut() {
                    b.balance -= amount;
                }
            }
        }
        self.ops += 1;
        Ok(amount)
    }

    /// The money held for transfers to machines (W-10).
    pub fn held(&self) -> i64 {
        self.transfers.as_ref().map_or(0, |t| t.held())
    }

    /// What machines took on acknowledgements still waiting for their request (W-10): in
    /// transit, not yet paid by the wallet nor unbacked.
    pub fn awaiting_request(&self) -> i64 {
        self.transfers
            .as_ref()
            .map_or(0, |t| t.waiting.iter().map(|w| w.fact.amount.minor()).sum())
    }

    /// W-10: the time the wallet's first hold lapses after (its `until`), if it holds any:
    /// a message at a later time releases it.
    pub fn next_lapse(&self) -> Option<Timestamp> {
        // W-12: a bonus expires at its time, so a message one after the instant before.
        let expiry = self
            .bonus
            .as_deref()
            .filter(|b| b.balance > 0)
            .map(|b| Timestamp(b.expires.0.saturating_sub(1)));
        let holds = self.transfers.as_ref().and_then(|t| {
            let holds = t.holds.iter().map(|h| h.until);
            holds.chain(t.waiting.iter().map(|w| w.until)).min()
        });
        match (holds, expiry) {
            (Some(h), Some(e)) => Some(h.min(e)),
            (h, e) => h.or(e),
        }
    }

    /// W-10, the sweep: the holds whose time is before `meta.time` lapse, as they would
    /// before any message at that time (nothing else changes). A lapse sent again changes
    /// nothing.
    pub fn apply_lapse(&mut self, meta: &WalletMeta, fx: &mut Vec<WalletEffect>) {
        self.lapse(meta.time, fx);
    }

    /// W-9: a player carded in at a machine at `meta.time`; a self-exclusion in force then
    /// raises `self_excluded_card_in`. Nothing changes: the card reader reported a fact, and
    /// the machine lets the player play (what the player stakes there is the machine's to
    /// count); the alert tells the hall to act.
    pub fn apply_card_in(
        &self,
        meta: &WalletMeta,
        machine: &MachineId,
        fx: &mut Vec<WalletEffect>,
    ) {
        if let Some(until) = self
            .limits
            .as_deref()
            .and_then(|l| l.excluded_at(meta.time))
        {
            fx.push(WalletEffect::Alert(Alert::SelfExcludedCardIn {
                machine: machine.clone(),
                player: self.id.clone(),
                until,
            }));
        }
    }

    /// M-12: a rated session at `machine` (its effect number `seq`) earned the player
    /// `points`. A session counted already from that machine is a duplicate.
    pub fn apply_points(&mut self, machine: &MachineId, seq: u64, points: i64) -> Applied {
        let l = self.loyalty.get_or_insert_with(Box::default);
        if l.seen.get(machine).is_some_and(|s| seq <= *s) {
            return Applied::Duplicate;
        }
        l.seen.insert(machine.clone(), seq);
        l.points = l.points.saturating_add(points);
        Applied::Done
    }

    /// W-11: a machine's cash fact for its carded-in player (`seq`: the machine's effect
    /// number): bills paid in, a handpay taken out. A fact counted already from that machine
    /// is a duplicate.
    #[allow(clippy::too_many_arguments)]
    pub fn apply_cash(
        &mut self,
        meta: &WalletMeta,
        machine: &MachineId,
        seq: u64,
        amount: i64,
        dir: CashDir,
        rules: &WalletRules<'_>,
        fx: &mut Vec<WalletEffect>,
    ) -> Applied {
        if !self.cash.as_deref().is_none_or(|c| c.fresh(machine, seq)) {
            return Applied::Duplicate;
        }
        self.count_cash(meta, Some(machine), amount, dir, rules, fx);
        if let Some(c) = self.cash.as_mut() {
            c.saw(machine, seq);
        }
        Applied::Done
    }

    /// W-11: counts a cash move in the player's local day; the cases it opens are effects.
    fn count_cash(
        &mut self,
        meta: &WalletMeta,
        machine: Option<&MachineId>,
        amount: i64,
        dir: CashDir,
        rules: &WalletRules<'_>,
        fx: &mut Vec<WalletEffect>,
    ) {
        let day = rules.calendar.periods(meta.time).0[0];
        let mv = CashMove {
            cause: meta.event_id,
            amount,
            at: meta.time,
            dir,
            machine: machine.cloned(),
        };
        let cash = self.cash.get_or_insert_with(Box::default);
        for case in cash.count(&self.id, self.currency, mv, day, &rules.aml) {
            fx.push(WalletEffect::Case(Box::new(case)));
        }
        // Counted in its day, or, a late one, in the day counted (W-11).
        let at = if cash.day > day { cash.day } else { meta.time };
        fx.push(WalletEffect::PatronCash { dir, amount, at });
    }

    /// The player's loyalty points (M-12).
    pub fn points(&self) -> i64 {
        self.loyalty.as_ref().map_or(0, |l| l.points)
    }

    /// What machines acknowledged beyond the wallet's funds (W-10).
    pub fn unbacked(&self) -> i64 {
        self.transfers.as_ref().map_or(0, |t| t.unbacked)
    }

    fn tidy_transfers(&mut self) {
        if self.transfers.as_ref().is_some_and(|t| t.is_empty()) {
            self.transfers = None;
        }
    }

    /// W-10: before anything at time `t`, the holds whose time has passed go back to the
    /// balance, each booked and alerted.
    fn lapse(&mut self, t: Timestamp, fx: &mut Vec<WalletEffect>) {
        self.lapse_transfers(t, fx);
        // W-12: then a bonus past its expiry is gone (or one whose wagering is met by
        // what came back, cash).
        if self.bonus_balance() > 0 {
            let tx = TxId::new("bonus").expect("a valid id");
            self.bonus_rules(t, &tx, fx);
        }
    }

    fn lapse_transfers(&mut self, t: Timestamp, fx: &mut Vec<WalletEffect>) {
        let Some(transfers) = self.transfers.as_mut() else {
            return;
        };
        let waited = transfers.waited(t);
        for hold in transfers.lapsed(t) {
            self.ops += 1;
            self.give_back(&hold, &hold.transfer, WalletOpKind::TransferRelease, fx);
            let alert = Alert::TransferHoldReleased {
                machine: hold.machine,
                player: self.id.clone(),
                transfer: hold.transfer,
                amount: hold.amount,
            };
            fx.push(match hold.cause {
                Some(cause) => WalletEffect::TransferAlert(cause, alert),
                None => WalletEffect::Alert(alert),
            });
        }
        // Acknowledgements whose request never came settle without a hold. One whose
        // totals would overflow (i64 minor units) keeps waiting rather than vanish.
        for w in waited {
            if self.settle(&w.fact, w.event, None, fx).is_err() {
                if let Some(t) = self.transfers.as_mut() {
                    t.waiting.push(w);
                }
            }
        }
        self.tidy_transfers();
    }

    /// Applies a machine's word on a transfer (W-10). The machine took or sent the money:
    /// it is never refused. To a machine: the hold pays it; what the machine took beyond
    /// the hold comes from the balance, what the balance cannot cover is `unbacked`; what it
    /// took below the hold goes back to the balance. From a machine: the wallet receives
    /// it. An acknowledgement applied already (the same transfer and event) is a
    /// [`Applied::Duplicate`].
    pub fn apply_transfer(
        &mut self,
        meta: &WalletMeta,
        fact: &TransferFact,
        rules: &WalletRules<'_>,
        fx: &mut Vec<WalletEffect>,
    ) -> Result<Applied, DomainError> {
        self.lapse(meta.time, fx);
        let t = self.transfers.get_or_insert_with(Box::default);
        if t.redelivered(fact)
            || t.done
                .iter()
                .any(|(x, cause)| x == &fact.transfer && *cause == meta.event_id)
            || t.waiting
                .iter()
                .any(|w| w.fact.transfer == fact.transfer && w.event == meta.event_id)
        {
            self.tidy_transfers();
            return Ok(Applied::Duplicate);
        }
        if fact.seq > 0 {
            t.seen.insert(fact.machine.clone(), fact.seq);
        }
        let first = !t.acknowledged(&fact.transfer);
        let held = t.holds.iter().any(|h| h.transfer == fact.transfer);
        if fact.direction == Direction::ToMachine && first && !held {
            // Before its request (the two reach the wallet by different partitions): it
            // waits for it, for the hold time at most (RULES.md W-10).
            t.waiting.push(Waiting {
                fact: fact.clone(),
                event: meta.event_id,
                until: Timestamp(meta.time.0.saturating_add(rules.transfer_hold_ms.max(0))),
            });
            return Ok(Applied::Done);
        }
        self.settle(fact, meta.event_id, Some(meta.time), fx)?;
        Ok(Applied::Done)
    }

    /// W-10: settles a machine's acknowledgement (applied now, or waiting until now for its
    /// request) acknowledged by `event`.
    /// W-12: settled at `now` (not at the end of a wait, whose lapse checks the bonus after
    /// every settlement), what the transfer gave back to the bonus may expire or convert at
    /// once, and the settlement reports the balance after that.
    fn settle(
        &mut self,
        fact: &TransferFact,
        event: EventId,
        now: Option<Timestamp>,
        fx: &mut Vec<WalletEffect>,
    ) -> Result<(), DomainError> {
        let t = self.transfers.get_or_insert_with(Box::default);
        let amount = fact.amount.minor();
        let twice = t.acknowledged(&fact.transfer);
        let (player, transfer, machine) =
            (self.id.clone(), fact.transfer.clone(), fact.machine.clone());
        // A second acknowledgement of the transfer, either way.
        let twice_alert = |machine, player, transfer| {
            WalletEffect::TransferAlert(
                event,
                Alert::TransferAcknowledgedTwice {
                    machine,
                    player,
                    transfer,
                    amount,
                    direction: fact.direction.name(),
                },
            )
        };
        // What the acknowledgement settled (RULES.md W-10), published once it is applied.
        let mut settled = TransferSettled {
            event,
            transfer: fact.transfer.clone(),
            machine: fact.machine.clone(),
            direction: fact.direction,
            amount,
            held: 0,
            delta: 0,
            unbacked: 0,
            repeated: twice,
            balance: 0,
            credit: fact.credit,
        };
        match fact.direction {
            Direction::FromMachine => {
                settled.delta = amount;
                let balance = add(self.balance, amount, Total::WalletBalance)?;
                let received = add(self.totals.from_machines, amount, Total::WalletTotals)?;
                self.balance = balance;
                self.totals.from_machines = received;
                self.ops += 1;
                fx.push(self.changed(&fact.transfer, WalletOpKind::TransferFromMachine, amount));
                if twice {
                    fx.push(twice_alert(machine, player, transfer));
                }
            }
            Direction::ToMachine if twice => {
                // The player asked once: the second take is the machine's, not the wallet's.
                t.unbacked = add(t.unbacked, amount, Total::WalletTotals)?;
                settled.unbacked = amount;
                fx.push(twice_alert(machine, player, transfer));
            }
            Direction::ToMachine => {
                // W-12: a hold pays only an acknowledgement of its own credit type.
                let hold = t.take_hold_of(&fact.transfer, fact.credit);
                let held = hold.as_ref().map_or(0, |h| h.amount);
                let restricted = fact.credit.is_restricted();
                // Beyond the hold, the balance (the bonus, for restricted credits) pays
                // what it can.
                let pot = if restricted {
                    self.bonus.as_ref().map_or(0, |b| b.balance)
                } else {
                    self.balance
                };
                let extra = (amount - held).max(0);
                let paid = extra.min(pot.max(0));
                let unbacked = extra - paid;
                let to_machines = add(
                    self.totals.to_machines,
                    amount - unbacked,
                    Total::WalletTotals,
                )?;
                t.unbacked = add(t.unbacked, unbacked, Total::WalletTotals)?;
                self.totals.to_machines = to_machines;
                // Below the hold, the rest goes back.
                let delta = (held - amount).max(0) - paid;
                if restricted && (delta != 0 || amount != unbacked) {
                    // (A wallet that never had a bonus pays none: all of it is unbacked, and
                    // it keeps no account.)
                    let b = self.bonus.get_or_insert_with(Box::default);
                    b.balance += delta;
                    b.to_machines += amount - unbacked;
                } else if !restricted {
                    self.balance += delta;
                }
                self.ops += 1;
                (settled.held, settled.delta, settled.unbacked) = (held, delta, unbacked);
                if delta != 0 {
                    fx.push(if restricted {
                        self.bonus_changed(&fact.transfer, WalletOpKind::TransferSettle, delta)
                    } else {
                        self.changed(&fact.transfer, WalletOpKind::TransferSettle, delta)
                    });
                }
                if hold.is_none() {
                    fx.push(WalletEffect::TransferAlert(
                        event,
                        Alert::TransferWithoutHold {
                            machine,
                            player,
                            transfer,
                            amount,
                            unbacked,
                        },
                    ));
                } else if held != amount {
                    fx.push(WalletEffect::TransferAlert(
                        event,
                        Alert::TransferAmountVariance {
                            machine,
                            player,
                            transfer,
                            held,
                            amount,
                            unbacked,
                        },
                    ));
                }
            }
        }
        if let Some(t) = self.transfers.as_mut() {
            t.acknowledge(fact.transfer.clone(), event);
        }
        if let Some(t) = now.filter(|_| self.bonus_balance() > 0) {
            self.bonus_rules(t, &fact.transfer, fx);
        }
        settled.balance = self.balance;
        fx.push(WalletEffect::Transfer(Box::new(settled)));
        Ok(())
    }

    /// W-9: an applied bet or win plays in the player's session.
    fn play(&mut self, t: Timestamp, rules: &WalletRules<'_>) {
        self.session = Some(Session::at(self.session, t, rules.session_break_ms));
    }

    /// W-9: a win or a refund lowers the loss of the period it is applied in.
    fn count_loss(&mut self, t: Timestamp, amount: i64, rules: &WalletRules<'_>) {
        if amount != 0 {
            let mut lost = limits::current(&self.lost, rules.calendar.periods(t));
            limits::add_to(&mut lost, amount);
            self.lost = lost;
        }
    }

    /// W-9: the pending limit changes whose cooling-off ended are taken in; a self-excluded
    /// player may not deposit or bet; a deposit may not take a period's deposits above its
    /// limit, nor a bet (were it lost) the period's loss. For a deposit or a bet, the period
    /// sums it adds to (to be kept if it applies).
    fn check_limits(
        &mut self,
        t: Timestamp,
        op: &WalletOp,
        rules: &WalletRules<'_>,
    ) -> Result<Option<PeriodSums>, DomainError> {
        if let Some(l) = &mut self.limits {
            l.settle(t);
        }
        let refusal = match (op, self.limits.as_deref()) {
            (
                WalletOp::Deposit(_)
                | WalletOp::Bet(_)
                | WalletOp::TransferRequest { .. }
                | WalletOp::BonusAward { .. },
                Some(l),
            ) => l.excluded_at(t).map(LimitRefusal::SelfExcluded),
            _ => None,
        };
        let (kind, sums, amount) = match op {
            WalletOp::Deposit(a) => (LimitKind::Deposit, &self.deposited, a.minor()),
            WalletOp::Bet(a) => (LimitKind::Loss, &self.lost, a.minor()),
            _ => return refusal.map_or(Ok(None), |r| Err(self.limit_error(op, r))),
        };
        let now = limits::current(sums, rules.calendar.periods(t));
        let refusal = refusal.or_else(|| {
            let l = self.limits.as_deref()?;
            limits::refusal(l, kind, &now, amount).or_else(|| match kind {
                LimitKind::Loss => {
                    l.session_refusal(Session::at(self.session, t, rules.session_break_ms), t)
                }
                LimitKind::Deposit => None,
            })
        });
        match refusal {
            None => Ok(Some(now)),
            Some(r) => Err(self.limit_error(op, r)),
        }
    }

    /// The refusal a limit gives `op`.
    fn limit_error(&self, op: &WalletOp, refusal: LimitRefusal) -> DomainError {
        let player = || self.id.to_string();
        let amount = match op {
            WalletOp::Deposit(a) | WalletOp::Bet(a) => a.minor(),
            _ => 0,
        };
        match refusal {
            LimitRefusal::SelfExcluded(until) => DomainError::SelfExcluded {
                what: op.kind(),
                until: until.0,
                player: player(),
            },
            LimitRefusal::Deposit(period, limit, used) => DomainError::LimitDeposit {
                period,
                limit,
                used,
                amount,
                player: player(),
            },
            LimitRefusal::Loss(period, limit, lost) => DomainError::LimitLoss {
                period,
                limit,
                lost,
                amount,
                player: player(),
            },
            LimitRefusal::Session(limit, started) => DomainError::LimitSession {
                minutes: limit / 60_000,
                started: started.0,
                amount,
                player: player(),
            },
        }
    }

    /// D-10: a deposit or withdrawal applied at a cash desk is cash in or out of its drawer:
    /// counted apart and handed to the desk. Within `deposits` and `withdrawals`, which
    /// were checked, the counts stay within the bounds.
    fn at_desk(
        &mut self,
        cmd: &WalletCommand,
        amount: i64,
        dir: CashDir,
        rules: &WalletRules<'_>,
        fx: &mut Vec<WalletEffect>,
    ) {
        if !rules.cash_desks.contains(&cmd.provider) {
            return;
        }
        let t = &mut self.totals;
        match dir {
            CashDir::In => t.desk_deposits = t.desk_deposits.saturating_add(amount),
            CashDir::Out => t.desk_withdrawals = t.desk_withdrawals.saturating_add(amount),
        }
        fx.push(WalletEffect::Desk(
            cmd.provider.clone(),
            DeskCash { dir, amount },
        ));
    }

    /// W-8: a blocked player may not deposit, withdraw or bet; a player who is not verified
    /// may not withdraw more than the configured amount. Wins and rollbacks settle what was
    /// already wagered and are never refused for KYC (refusing them would keep the player's
    /// money).
    fn check_kyc(&self, op: &WalletOp, rules: &WalletRules<'_>) -> Result<(), DomainError> {
        let (what, amount) = match op {
            WalletOp::Deposit(a) => (WalletOpKind::Deposit, a.minor()),
            WalletOp::Withdraw(a) => (WalletOpKind::Withdrawal, a.minor()),
            WalletOp::Bet(a) => (WalletOpKind::Bet, a.minor()),
            WalletOp::Win { .. }
            | WalletOp::Rollback { .. }
            | WalletOp::Kyc(_)
            | WalletOp::Limit { .. }
            | WalletOp::SessionLimit { .. }
            | WalletOp::SelfExclude { .. }
            | WalletOp::TransferCancel { .. } => return Ok(()),
            WalletOp::TransferRequest { amount, .. } => {
                (WalletOpKind::TransferRequest, amount.minor())
            }
            WalletOp::BonusAward { amount, .. } => (WalletOpKind::BonusAward, amount.minor()),
        };
        let player = || self.id.to_string();
        if self.kyc == KycStatus::Blocked {
            return Err(DomainError::PlayerBlocked {
                what,
                amount,
                player: player(),
            });
        }
        match rules.kyc_withdrawal_max {
            Some(max)
                if what == WalletOpKind::Withdrawal
                    && amount > max
                    && self.kyc != KycStatus::Verified =>
            {
                Err(DomainError::KycRequired {
                    amount,
                    max,
                    status: self.kyc,
                    player: player(),
                })
            }
            _ => Ok(()),
        }
    }

    /// The bet a win names, if it may be settled (W-4).
    fn settleable(
        &self,
        cmd: &WalletCommand,
        bkey: &TxKey,
        bet_tx: &Option<TxId>,
        recalled: &Recalled,
    ) -> Result<(TxKey, Answered), DomainError> {
        let bet_tx = bet_tx.as_ref().map(TxId::to_string).unwrap_or_default();
        let (player, tx) = (self.id.to_string(), cmd.tx.to_string());
        match self.lookup(bkey, recalled) {
            Some(TxRecord::Tombstone) => Err(DomainError::BetRolledBack { tx: bet_tx, player }),
            Some(TxRecord::Answered(first)) if matches!(first.op, WalletOp::Bet(_)) => {
                match (&first.answer, first.bet.as_ref().map(|b| b.status)) {
                    (Answer::Refused(_), _) | (_, None) => {
                        Err(DomainError::BetNotAccepted { tx, bet_tx, player })
                    }
                    (_, Some(BetStatus::RolledBack)) => {
                        Err(DomainError::BetRolledBack { tx: bet_tx, player })
                    }
                    (_, Some(_)) => Ok((bkey.clone(), first)),
                }
            }
            _ => Err(DomainError::BetUnknown { tx, bet_tx, player }),
        }
    }

    /// W-5: a rollback's refund (0 when there is nothing to refund), or why it is refused.
    fn roll_back(
        &mut self,
        cause: EventId,
        cmd: &WalletCommand,
        bet_tx: &TxId,
        recalled: &Recalled,
        fx: &mut Vec<WalletEffect>,
    ) -> Result<(i64, i64), DomainError> {
        let bkey = TxKey {
            provider: cmd.provider.clone(),
            tx: bet_tx.clone(),
        };
        match self.lookup(&bkey, recalled) {
            None => {
                // The bet has not arrived: a tombstone refuses it should it come.
                self.record(bkey, TxRecord::Tombstone, fx);
                Ok((0, 0))
            }
            Some(TxRecord::Tombstone) => Ok((0, 0)),
            Some(TxRecord::Answered(mut first)) if matches!(first.op, WalletOp::Bet(_)) => {
                let amount = match &first.op {
                    WalletOp::Bet(a) => a.minor(),
                    _ => 0,
                };
                let Some(booking) = first.bet.clone() else {
                    // A refused bet: nothing to refund.
                    return Ok((0, 0));
                };
                match booking.status {
                    BetStatus::RolledBack => Ok((0, 0)),
                    BetStatus::Settled => Err(DomainError::BetSettled {
                        tx: cmd.tx.to_string(),
                        bet_tx: bet_tx.to_string(),
                        player: self.id.to_string(),
                    }),
                    BetStatus::Open => {
                        // W-12: each part back where it came from, and the wagering it
                        // counted back to the requirement.
                        let part = booking.bonus();
                        let to_bonus = part.paid;
                        let cash = amount - to_bonus;
                        let balance = add(self.balance, cash, Total::WalletBalance)?;
                        let refunds = add(self.totals.refunds, amount, Total::WalletTotals)?;
                        if to_bonus != 0 || part.wagered != 0 {
                            let b = self.bonus.get_or_insert_with(Box::default);
                            b.balance = add(b.balance, to_bonus, Total::WalletBalance)?;
                            b.refunded += to_bonus;
                            b.wagering_left = b.wagering_left.saturating_add(part.wagered);
                        }
                        self.balance = balance;
                        self.totals.refunds = refunds;
                        self.ops += 1;
                        if let Some(b) = &mut first.bet {
                            b.status = BetStatus::RolledBack;
                        }
                        self.record(bkey, TxRecord::Answered(first), fx);
                        // Reversed in the bet's window, in the bet's hall.
                        fx.push(self.ggr(
                            cause,
                            &booking.hall,
                            booking.window,
                            -amount,
                            0,
                            -to_bonus,
                        ));
                        if cash != 0 || to_bonus == 0 {
                            fx.push(self.changed(&cmd.tx, WalletOpKind::Rollback, cash));
                        }
                        if to_bonus != 0 {
                            fx.push(self.bonus_changed(&cmd.tx, WalletOpKind::Rollback, to_bonus));
                        }
                        Ok((amount, cash))
                    }
                }
            }
            Some(TxRecord::Answered(_)) => Err(DomainError::RollbackOfNonBet {
                tx: cmd.tx.to_string(),
                bet_tx: bet_tx.to_string(),
                player: self.id.to_string(),
            }),
        }
    }

    /// Checks the wallet's invariants; panics on a broken one.
    pub fn assert_invariants(&self) {
        let t = &self.totals;
        // D-10: cash at desks is part of what was deposited and withdrawn.
        assert!((0..=t.deposits).contains(&t.desk_deposits));
        assert!((0..=t.withdrawals).contains(&t.desk_withdrawals));
        let b = self.bonus.as_deref().cloned().unwrap_or_default();
        let expected = t.deposits - t.withdrawals - t.bets + t.wins + t.refunds - t.to_machines
            + t.from_machines
            + b.awarded
            - b.expired;
        assert_eq!(
            self.balance + self.held() + b.balance,
            expected,
            "wallet {}: balance {} + held {} + bonus {} != deposits - withdrawals - bets + wins + refunds - to machines + from machines + awarded - expired = {}",
            self.id,
            self.balance,
            self.held(),
            b.balance,
            expected
        );
        // RULES.md W-12: the bonus account alone.
        assert_eq!(
            b.balance + self.restricted_held(),
            b.awarded - b.staked + b.won + b.refunded - b.converted - b.expired - b.to_machines,
            "wallet {}: bonus account {:?}, restricted held {}",
            self.id,
            b,
            self.restricted_held()
        );
        assert!(
            b.balance >= 0 && b.wagering_left >= 0,
            "wallet {}: {b:?}",
            self.id
        );
        if let Some(tr) = &self.transfers {
            assert!(!tr.is_empty(), "wallet {}: an empty transfers box", self.id);
            assert!(tr.holds.iter().all(|h| h.amount > 0) && tr.unbacked >= 0);
        }
        assert!(
            self.balance >= -self.credit_line,
            "wallet {}: balance {} below credit line {}",
            self.id,
            self.balance,
            self.credit_line
        );
        assert!(self.window_order.len() <= self.window_len);
        assert_eq!(self.window_order.len(), self.window.len());
    }
}
