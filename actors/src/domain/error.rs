//! Why the core refuses a command. Each message names the thing and the value.

use std::fmt;

use thiserror::Error;

use super::kinds::{IdKind, KycStatus, MachineOp, Total, VoucherRefusal, WalletOpKind};
use super::limits::DepositPeriod;

/// A command the core refuses. The state is unchanged when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    /// An id is empty, too long or not printable.
    #[error("invalid {what} {value:?}")]
    InvalidId {
        /// Which id.
        what: IdKind,
        /// The offending value (truncated).
        value: String,
    },
    /// An amount is zero or negative.
    #[error("amount {0} is not positive")]
    NonPositiveAmount(i64),
    /// An amount exceeds [`crate::domain::money::AMOUNT_MAX`].
    #[error("amount {0} exceeds the maximum of 1000000000000 minor units")]
    AmountTooLarge(i64),
    /// A currency code is not three upper-case letters.
    #[error("invalid currency code {0:?}")]
    InvalidCurrency(String),
    /// An event's currency differs from the entity's.
    #[error("currency {got} does not match {entity}'s currency {expected}")]
    WrongCurrency {
        /// The machine or wallet.
        entity: Subject,
        /// The entity's currency.
        expected: String,
        /// The event's currency.
        got: String,
    },
    /// A bet or cash-out larger than the machine's credits.
    #[error("{what} {amount} exceeds credits {credits} on machine {machine}")]
    InsufficientCredits {
        /// [`MachineOp::Bet`] or [`MachineOp::CashOut`].
        what: MachineOp,
        /// Requested amount.
        amount: i64,
        /// Credits on the machine.
        credits: i64,
        machine: String,
    },
    /// A debit larger than a wallet's available balance.
    #[error("{what} {amount} exceeds available balance {available} in wallet {player}")]
    InsufficientFunds {
        /// [`WalletOpKind::Bet`] or [`WalletOpKind::Withdrawal`].
        what: WalletOpKind,
        /// Requested amount.
        amount: i64,
        /// Balance plus credit line.
        available: i64,
        /// The wallet's player.
        player: String,
    },
    /// A withdrawal above the configured amount by a player whose identity is not verified
    /// (RULES.md W-8).
    #[error("withdrawal {amount} from wallet {player} is above {max}, and the player is {status}: identity verification is required")]
    KycRequired {
        /// Requested amount.
        amount: i64,
        /// The largest withdrawal an unverified player may make.
        max: i64,
        /// The player's KYC status (not verified).
        status: KycStatus,
        /// The wallet's player.
        player: String,
    },
    /// A deposit, withdrawal or bet by a player the KYC provider blocked (RULES.md W-8).
    #[error("{what} {amount} refused: player {player} is blocked")]
    PlayerBlocked {
        /// What was refused.
        what: WalletOpKind,
        /// Requested amount.
        amount: i64,
        /// The wallet's player.
        player: String,
    },
    /// A deposit or bet by a self-excluded player (RULES.md W-9).
    #[error("{what} refused: player {player} is self-excluded until {until} ms")]
    SelfExcluded {
        /// What was refused.
        what: WalletOpKind,
        /// The end of the exclusion, ms since the Unix epoch.
        until: i64,
        /// The wallet's player.
        player: String,
    },
    /// A deposit that would take a period's deposits above the player's limit (RULES.md W-9).
    #[error("deposit {amount} refused: player {player} deposited {used} this {period} of a limit of {limit}", period = period.name())]
    LimitDeposit {
        /// The period whose limit it breaks.
        period: DepositPeriod,
        /// The limit.
        limit: i64,
        /// Deposited in the period so far.
        used: i64,
        /// The deposit asked for.
        amount: i64,
        /// The wallet's player.
        player: String,
    },
    /// A bet that, were it lost, would take a period's net loss above the player's limit
    /// (RULES.md W-9).
    #[error("bet {amount} refused: player {player} lost {lost} this {period} of a limit of {limit}", period = period.name())]
    LimitLoss {
        /// The period whose limit it breaks.
        period: DepositPeriod,
        /// The limit.
        limit: i64,
        /// Lost in the period so far (bets less wins and refunds).
        lost: i64,
        /// The bet asked for.
        amount: i64,
        /// The wallet's player.
        player: String,
    },
    /// A bet in a playing session that has lasted the player's session limit (RULES.md W-9).
    #[error("bet {amount} refused: player {player}'s session, from {started}, has lasted its limit of {minutes} minutes")]
    LimitSession {
        /// The limit, in minutes.
        minutes: i64,
        /// When the session began, ms since the Unix epoch.
        started: i64,
        /// The bet asked for.
        amount: i64,
        /// The wallet's player.
        player: String,
    },
    /// A cancel of a transfer the wallet holds nothing for (RULES.md W-10).
    #[error("transfer {transfer} of wallet {player} is not held{}", if *acknowledged { ": its machine acknowledged it" } else { ": never requested, cancelled or lapsed" })]
    TransferNotHeld {
        transfer: String,
        player: String,
        /// True when a machine took it.
        acknowledged: bool,
    },
    /// A self-exclusion shorter than the one in force (RULES.md W-9): it cannot be cut short.
    #[error("player {player} is self-excluded until {until} ms; an exclusion until {asked} ms cannot shorten it")]
    SelfExclusionActive {
        /// The exclusion in force, ms since the Unix epoch.
        until: i64,
        /// The end asked for.
        asked: i64,
        /// The wallet's player.
        player: String,
    },
    /// A bet that was rolled back (before it arrived, or a win naming it after, W-4, W-5).
    #[error("bet {tx} in wallet {player} was rolled back")]
    BetRolledBack {
        /// The bet's transaction id.
        tx: String,
        /// The wallet's player.
        player: String,
    },
    /// A wallet command whose key (player, provider, tx) was answered before for other
    /// content (RULES.md W-2): the first answer stands.
    #[error("transaction {tx} of provider {provider} in wallet {player} was already answered for other content")]
    TxConflict {
        /// The sender.
        provider: String,
        /// The transaction id.
        tx: String,
        /// The wallet's player.
        player: String,
    },
    /// A win names a bet that was never seen (W-4).
    #[error("win {tx} names bet {bet_tx}, which wallet {player} has not seen")]
    BetUnknown {
        /// The win's transaction id.
        tx: String,
        /// The bet named.
        bet_tx: String,
        /// The wallet's player.
        player: String,
    },
    /// A win names a bet that was refused (W-4).
    #[error("win {tx} names bet {bet_tx}, which wallet {player} refused")]
    BetNotAccepted {
        /// The win's transaction id.
        tx: String,
        /// The bet named.
        bet_tx: String,
        /// The wallet's player.
        player: String,
    },
    /// A rollback names a bet a win already settled (W-5).
    #[error("rollback {tx} names bet {bet_tx}, which a win already settled in wallet {player}")]
    BetSettled {
        /// The rollback's transaction id.
        tx: String,
        /// The bet named.
        bet_tx: String,
        /// The wallet's player.
        player: String,
    },
    /// A rollback refers to a transaction that is not a bet.
    #[error("rollback {tx} refers to {bet_tx}, which is not a bet in wallet {player}")]
    RollbackOfNonBet {
        /// The rollback's transaction id.
        tx: String,
        /// The referenced transaction.
        bet_tx: String,
        /// The wallet's player.
        player: String,
    },
    /// A jackpot level index that the pool does not have.
    #[error("pool {pool} has no level {level}")]
    UnknownLevel {
        pool: String,
        /// The level index.
        level: u8,
    },
    /// A machine claimed a hit on a mystery level, which only the controller decides.
    #[error("level {level} of pool {pool} is a mystery level; machines cannot claim its hits")]
    MysteryClaim {
        pool: String,
        /// The level index.
        level: u8,
    },
    /// A progressive claim from a machine that may not win (RULES.md P-3): no game in
    /// progress, the game's bet below the level's minimum, offline or in tilt.
    #[error("machine {machine} may not win level {level} of pool {pool}: {why}")]
    JackpotNotEligible {
        machine: String,
        pool: String,
        /// The level index.
        level: u8,
        /// Why not.
        why: String,
    },
    /// A machine claimed a jackpot of a pool it does not play for.
    #[error("machine {machine} does not contribute to pool {pool}")]
    PoolNotLinked { machine: String, pool: String },
    /// A win or game end with no bet before it.
    #[error("{what} on machine {machine} with no game in progress")]
    NoGameInProgress {
        /// [`MachineOp::Win`] or [`MachineOp::GameEnd`].
        what: MachineOp,
        machine: String,
    },
    /// Card out with no player carded in, or card in while another player is.
    #[error("{0}")]
    Session(SessionError),
    /// An event names another hall than the one the machine was first seen in: a machine
    /// does not move between halls (its profile and pools come from its hall).
    #[error("machine {machine} belongs to hall {hall}, but the event names hall {named}")]
    WrongHall {
        machine: String,
        /// The machine's hall.
        hall: String,
        /// The hall the event names.
        named: String,
    },
    /// A pool configuration that cannot work.
    #[error("invalid pool configuration: {0}")]
    InvalidPoolConfig(String),
    /// A running total would overflow; the command is refused rather than wrapping.
    #[error("{0} would overflow")]
    Overflow(Total),
    /// A machine event of an epoch older than those kept, or in a forgotten hole: it cannot
    /// be told from a repeat, so it is not applied (RULES.md M-1).
    #[error("event {epoch}/{seq} of machine {machine} is too old to be told from a repeat")]
    SequenceStale {
        machine: String,
        /// The event's epoch.
        epoch: u64,
        /// The event's sequence number.
        seq: u64,
    },
    /// A voucher command whose key (voucher, sender, tx) was answered before for other
    /// content (RULES.md V-7): the first answer stands.
    #[error("transaction {tx} of {party} on voucher {validation} was already answered for other content")]
    VoucherTxConflict {
        /// The sender.
        party: String,
        /// The transaction id.
        tx: String,
        /// The validation number.
        validation: String,
    },
    /// A voucher command refused (RULES.md V-2..V-6): the code says why, the detail what.
    #[error("voucher {validation}: {detail}")]
    Voucher {
        /// Why, as a stable code.
        refusal: VoucherRefusal,
        /// The validation number.
        validation: String,
        /// What was found, in words.
        detail: String,
    },
    /// A desk command refused (RULES.md D-1, D-2, D-4).
    #[error("desk {desk}: {detail}")]
    Desk {
        /// Why, as a stable code.
        refusal: super::kinds::DeskRefusal,
        desk: String,
        /// What was found, in words.
        detail: String,
    },
    /// A desk command whose key (desk, tx) was answered before for other content (D-6).
    #[error("transaction {tx} of desk {desk} was already answered for other content")]
    DeskTxConflict { desk: String, tx: String },
    /// A bonus for a player pitboss knows nothing of (RULES.md W-12).
    #[error("bonus refused: player {player} is unknown (no money operation, KYC status, limit, transfer, loyalty point, patron cash or bonus yet)")]
    PlayerUnknown { player: String },
}

impl DomainError {
    /// The stable code of the refusal (RULES.md): what outputs, metrics and integrators
    /// match on. The message may be reworded; a code never changes meaning.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::InvalidId { .. } => "invalid_id",
            DomainError::NonPositiveAmount(_) | DomainError::AmountTooLarge(_) => "invalid_amount",
            DomainError::InvalidCurrency(_) => "invalid_currency",
            DomainError::WrongCurrency { .. } => "wrong_currency",
            DomainError::InsufficientCredits { .. } => "insufficient_credits",
            DomainError::InsufficientFunds { .. } => "insufficient_funds",
            DomainError::KycRequired { .. } => "kyc_required",
            DomainError::PlayerBlocked { .. } => "player_blocked",
            DomainError::PlayerUnknown { .. } => "player_unknown",
            DomainError::SelfExcluded { .. } => "self_excluded",
            DomainError::LimitDeposit { .. } => "limit_deposit",
            DomainError::LimitLoss { .. } => "limit_loss",
            DomainError::LimitSession { .. } => "limit_session",
            DomainError::SelfExclusionActive { .. } => "self_exclusion_active",
            DomainError::TransferNotHeld { .. } => "transfer_not_held",
            DomainError::BetRolledBack { .. } => "bet_rolled_back",
            DomainError::TxConflict { .. } => "tx_conflict",
            DomainError::BetUnknown { .. } => "bet_unknown",
            DomainError::BetNotAccepted { .. } => "bet_not_accepted",
            DomainError::BetSettled { .. } => "bet_settled",
            DomainError::RollbackOfNonBet { .. } => "rollback_of_non_bet",
            DomainError::UnknownLevel { .. } => "unknown_level",
            DomainError::MysteryClaim { .. } => "mystery_claim",
            DomainError::PoolNotLinked { .. } => "pool_not_linked",
            DomainError::NoGameInProgress { .. } => "no_game_in_progress",
            DomainError::Session(_) => "session",
            DomainError::WrongHall { .. } => "wrong_hall",
            DomainError::InvalidPoolConfig(_) => "invalid_pool_config",
            DomainError::Overflow(_) => "overflow",
            DomainError::SequenceStale { .. } => "sequence_stale",
            DomainError::JackpotNotEligible { .. } => "jackpot_not_eligible",
            DomainError::Voucher { refusal, .. } => refusal.name(),
            DomainError::VoucherTxConflict { .. } => "tx_conflict",
            DomainError::Desk { refusal, .. } => refusal.name(),
            DomainError::DeskTxConflict { .. } => "tx_conflict",
        }
    }
}

/// The entity a currency refusal is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A machine, by id.
    Machine(String),
    /// A wallet, by player id.
    Wallet(String),
    /// A voucher, by validation number.
    Voucher(String),
    /// A cash desk, by server id.
    Desk(String),
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Machine(id) => write!(f, "machine {id}"),
            Subject::Wallet(id) => write!(f, "wallet {id}"),
            Subject::Voucher(id) => write!(f, "voucher {id}"),
            Subject::Desk(id) => write!(f, "desk {id}"),
        }
    }
}

/// A card in or card out that does not fit the machine's play session.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SessionError {
    /// A card in while another player is carded in.
    #[error("card in of player {player} on machine {machine} while player {current} is carded in")]
    CardInWhileCarded {
        machine: String,
        /// The player carding in.
        player: String,
        /// The player carded in.
        current: String,
    },
    /// A card out with nobody carded in.
    #[error("card out on machine {machine} with no player carded in")]
    CardOutWithNoPlayer { machine: String },
}
