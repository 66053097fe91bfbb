//! Why the core refuses a command. Each message names the thing and the value.

use thiserror::Error;

/// A command the core refuses. The state is unchanged when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    /// An id is empty, too long or not printable.
    #[error("invalid {what} {value:?}")]
    InvalidId {
        /// Which id.
        what: &'static str,
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
        /// The entity, e.g. `machine M-17`.
        entity: String,
        /// The entity's currency.
        expected: String,
        /// The event's currency.
        got: String,
    },
    /// A bet or cash-out larger than the machine's credits.
    #[error("{what} {amount} exceeds credits {credits} on machine {machine}")]
    InsufficientCredits {
        /// `bet` or `cash out`.
        what: &'static str,
        /// Requested amount.
        amount: i64,
        /// Credits on the machine.
        credits: i64,
        /// The machine.
        machine: String,
    },
    /// A debit larger than a wallet's available balance.
    #[error("{what} {amount} exceeds available balance {available} in wallet {player}")]
    InsufficientFunds {
        /// `bet` or `withdrawal`.
        what: &'static str,
        /// Requested amount.
        amount: i64,
        /// Balance plus credit line.
        available: i64,
        /// The wallet's player.
        player: String,
    },
    /// A late bet whose id was already rolled back.
    #[error("bet {tx} in wallet {player} was rolled back before it arrived")]
    BetRolledBack {
        /// The bet's transaction id.
        tx: String,
        /// The wallet's player.
        player: String,
    },
    /// A transaction id reused for a different operation.
    #[error("transaction {tx} in wallet {player} was already used for a {first}")]
    TxIdReused {
        /// The transaction id.
        tx: String,
        /// The wallet's player.
        player: String,
        /// What it was first used for.
        first: &'static str,
    },
    /// A win refers to a bet the wallet does not know.
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
        /// The pool.
        pool: String,
        /// The level index.
        level: u8,
    },
    /// A machine claimed a hit on a mystery level, which only the controller decides.
    #[error("level {level} of pool {pool} is a mystery level; machines cannot claim its hits")]
    MysteryClaim {
        /// The pool.
        pool: String,
        /// The level index.
        level: u8,
    },
    /// A machine claimed a jackpot of a pool it does not play for.
    #[error("machine {machine} does not contribute to pool {pool}")]
    PoolNotLinked {
        /// The machine.
        machine: String,
        /// The pool.
        pool: String,
    },
    /// A win or game end with no bet before it.
    #[error("{what} on machine {machine} with no game in progress")]
    NoGameInProgress {
        /// `win`.
        what: &'static str,
        /// The machine.
        machine: String,
    },
    /// Card out with no player carded in, or card in while another player is.
    #[error("{0}")]
    Session(String),
    /// A pool configuration that cannot work.
    #[error("invalid pool configuration: {0}")]
    InvalidPoolConfig(String),
    /// A running total would overflow; the command is refused rather than wrapping.
    #[error("{0} would overflow")]
    Overflow(&'static str),
}
