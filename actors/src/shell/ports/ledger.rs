//! The money ledger as entities record it: one [`LedgerEntry`] per money movement.

use crate::domain::{EventId, Timestamp, WalletOpKind};

/// What a ledger entry records: which balance or meter moved. Machines move their credits
/// (bets, wins, cash in and out) and pass jackpot awards through; wallets move their balance;
/// pools move a level's holdings (in micro-units).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Movement {
    /// A wager: machine credits or wallet balance down.
    Bet,
    /// A payout: machine credits or wallet balance up.
    Win,
    /// A banknote into a machine.
    BillIn,
    /// A ticket redeemed at a machine.
    TicketIn,
    /// A cashless transfer into a machine.
    CashlessIn,
    /// A ticket printed by a machine.
    TicketOut,
    /// A cashless transfer out of a machine.
    CashlessOut,
    /// A cash out paid by hand.
    Handpay,
    /// A jackpot award paid by hand for a hit on the machine (its credits do not change).
    JackpotPaid,
    /// Money into a wallet.
    Deposit,
    /// Money out of a wallet.
    Withdrawal,
    /// A rolled-back bet refunded to a wallet.
    Refund,
    /// The operator funds a pool level's seed (at creation and after each hit).
    Seed,
    /// Bet contributions into a pool level (aggregated, see [`LedgerEntry::causes`]).
    Contribution,
    /// A pool level paid out by a hit.
    Hit,
    /// A game win paid by hand at a jackpot handpay's reset (its credits do not change).
    HandpaidWin,
    /// A voucher issued: its liability up (RULES.md V-2).
    VoucherIssue,
    /// A voucher redeemed at a machine or a desk: its liability down (V-4, V-5).
    VoucherRedeem,
    /// A voucher expired unredeemed (V-6).
    VoucherExpire,
    /// A voucher voided by an operator (V-6).
    VoucherVoid,
    /// Money held in a wallet for a cashless transfer to a machine (RULES.md W-10).
    TransferHold,
    /// A transfer's hold given back to the wallet: cancelled or lapsed (W-10).
    TransferRelease,
    /// What the machine's acknowledgement moved beyond or below the hold (W-10).
    TransferSettle,
    /// A cashless transfer from a machine into a wallet (W-10).
    TransferIn,
    /// Restricted promotional credits put on a machine (RULES.md M-13).
    RestrictedIn,
    /// Non-restricted promotional credits put on a machine (M-13).
    NonRestrictedIn,
    /// Restricted promotional credits a bet played (M-13): part of the bet's entry, so the
    /// credits do not move again.
    PromoPlayed,
    /// Bonus money awarded to a wallet (RULES.md W-12, level 1).
    BonusAward,
    /// A bonus whose wagering was met moved to the cash balance (W-12: out of level 1,
    /// into level 0).
    BonusConvert,
    /// A bonus expired unconverted (W-12, level 1).
    BonusExpire,
    /// A shift's float counted into a desk's drawer (RULES.md D-1).
    ShiftFloat,
    /// Cash a desk took for a ticket it sold (D-3).
    DeskCashIn,
    /// Cash a desk paid for a ticket (D-3).
    DeskCashOut,
    /// Cash from the vault into a desk's drawer (D-2).
    DeskFill,
    /// Cash from a desk's drawer to the vault (D-2).
    DeskCredit,
    /// A closed shift's drawer back to the vault (D-4, D-5).
    ShiftClose,
    /// A patron's cash in a wallet counted (RULES.md W-11: a deposit, a bill at a machine the
    /// player is carded in at), level 2, at the time of the day it counted in. Not a movement
    /// of the wallet's money (its deposit is one of its own): a record for the patron-cash
    /// report; the balance does not move.
    PatronCashIn,
    /// A patron's cash out counted (W-11: a withdrawal, a handpay while carded in), level 2.
    PatronCashOut,
    /// Games a machine ended (RULES.md H-4): a count, not money. `amount` is the number of
    /// game ends folded into the entry (its `causes`), all booked in one minute; the credits
    /// do not move.
    Games,
}

impl Movement {
    /// Every movement, for lookups.
    pub const ALL: [Movement; 39] = [
        Movement::Bet,
        Movement::Win,
        Movement::BillIn,
        Movement::TicketIn,
        Movement::CashlessIn,
        Movement::TicketOut,
        Movement::CashlessOut,
        Movement::Handpay,
        Movement::JackpotPaid,
        Movement::Deposit,
        Movement::Withdrawal,
        Movement::Refund,
        Movement::Seed,
        Movement::Contribution,
        Movement::Hit,
        Movement::HandpaidWin,
        Movement::VoucherIssue,
        Movement::VoucherRedeem,
        Movement::VoucherExpire,
        Movement::VoucherVoid,
        Movement::TransferHold,
        Movement::TransferRelease,
        Movement::TransferSettle,
        Movement::TransferIn,
        Movement::RestrictedIn,
        Movement::NonRestrictedIn,
        Movement::PromoPlayed,
        Movement::BonusAward,
        Movement::BonusConvert,
        Movement::BonusExpire,
        Movement::ShiftFloat,
        Movement::DeskCashIn,
        Movement::DeskCashOut,
        Movement::DeskFill,
        Movement::DeskCredit,
        Movement::ShiftClose,
        Movement::Games,
        Movement::PatronCashIn,
        Movement::PatronCashOut,
    ];

    /// A short stable name (stored in the ledger).
    pub fn code(self) -> &'static str {
        match self {
            Movement::Bet => "bet",
            Movement::Win => "win",
            Movement::BillIn => "bill_in",
            Movement::TicketIn => "ticket_in",
            Movement::CashlessIn => "cashless_in",
            Movement::TicketOut => "ticket_out",
            Movement::CashlessOut => "cashless_out",
            Movement::Handpay => "handpay",
            Movement::JackpotPaid => "jackpot_paid",
            Movement::Deposit => "deposit",
            Movement::Withdrawal => "withdrawal",
            Movement::Refund => "refund",
            Movement::Seed => "seed",
            Movement::Contribution => "contribution",
            Movement::Hit => "hit",
            Movement::HandpaidWin => "handpaid_win",
            Movement::VoucherIssue => "voucher_issue",
            Movement::VoucherRedeem => "voucher_redeem",
            Movement::VoucherExpire => "voucher_expire",
            Movement::VoucherVoid => "voucher_void",
            Movement::TransferHold => "transfer_hold",
            Movement::TransferRelease => "transfer_release",
            Movement::TransferSettle => "transfer_settle",
            Movement::TransferIn => "transfer_in",
            Movement::RestrictedIn => "restricted_in",
            Movement::NonRestrictedIn => "nonrestricted_in",
            Movement::PromoPlayed => "promo_played",
            Movement::BonusAward => "bonus_award",
            Movement::BonusConvert => "bonus_convert",
            Movement::BonusExpire => "bonus_expire",
            Movement::ShiftFloat => "shift_float",
            Movement::DeskCashIn => "desk_cash_in",
            Movement::DeskCashOut => "desk_cash_out",
            Movement::DeskFill => "desk_fill",
            Movement::DeskCredit => "desk_credit",
            Movement::ShiftClose => "shift_close",
            Movement::Games => "games",
            Movement::PatronCashIn => "patron_cash_in",
            Movement::PatronCashOut => "patron_cash_out",
        }
    }

    /// The movement with this [`Movement::code`].
    pub fn from_code(code: &str) -> Option<Movement> {
        Movement::ALL.into_iter().find(|m| m.code() == code)
    }
}

/// One money movement of one entity, with its cause: the money ledger. Entities number their
/// movements 1, 2, ... without gaps, and the number is stored with their state, so a movement
/// replayed after a crash gets the same number and its write is an idempotent upsert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LedgerEntry {
    /// The entity's movement number (1, 2, ...).
    pub n: u64,
    /// What moved.
    pub kind: Movement,
    /// The pool level (0 for machines and wallets).
    pub level: u8,
    /// Signed change: minor units for machines and wallets, micro-units for pools; for
    /// [`Movement::Games`], the number of games.
    pub amount: i64,
    /// Balance after: machine credits, wallet balance, or the pool level's holdings
    /// (level, reserve and remainder) in micro-units.
    pub balance: i64,
    /// The input event that caused it; for an aggregate, the last one folded in.
    pub cause: EventId,
    /// Input events folded into this entry: 1, except for pool contributions, which are
    /// summed per level between two checkpoints (or until the level's next hit), and 0 for
    /// the seed funded when a pool is created.
    pub causes: u32,
    /// When it is booked. A machine's movements carry the booked time its hall's GGR window
    /// counts them at (RULES.md E-3, H-4): the event's booked time, a jackpot handpay's
    /// lock-up time, a linked jackpot award's hit time. Wallets and vouchers record event
    /// time; pools processing time (a pool command carries no event time).
    pub time: Timestamp,
}

impl Movement {
    /// The movement a wallet operation books; `None` for a KYC status, which moves no money
    /// (the core never reports a balance change for it).
    pub fn of_wallet(op: WalletOpKind) -> Option<Movement> {
        match op {
            WalletOpKind::Deposit => Some(Movement::Deposit),
            WalletOpKind::Withdrawal => Some(Movement::Withdrawal),
            WalletOpKind::Bet => Some(Movement::Bet),
            WalletOpKind::Win => Some(Movement::Win),
            WalletOpKind::Rollback => Some(Movement::Refund),
            WalletOpKind::TransferRequest => Some(Movement::TransferHold),
            WalletOpKind::TransferCancel | WalletOpKind::TransferRelease => {
                Some(Movement::TransferRelease)
            }
            WalletOpKind::TransferSettle => Some(Movement::TransferSettle),
            WalletOpKind::TransferFromMachine => Some(Movement::TransferIn),
            WalletOpKind::BonusAward => Some(Movement::BonusAward),
            WalletOpKind::BonusConvert => Some(Movement::BonusConvert),
            WalletOpKind::BonusExpire => Some(Movement::BonusExpire),
            WalletOpKind::KycStatus
            | WalletOpKind::DepositLimit
            | WalletOpKind::LossLimit
            | WalletOpKind::SessionLimit
            | WalletOpKind::SelfExclusion => None,
        }
    }
}
