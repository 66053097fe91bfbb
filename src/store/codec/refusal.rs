//! Refusals as stored: a wallet remembers the first answer to each transaction, refusals
//! included, so every [`DomainError`] has a stored form.

use pitboss_actors::domain::desk::DeskRefusal;
use pitboss_actors::domain::limits::DepositPeriod;
use pitboss_actors::domain::{
    DomainError, IdKind, KycStatus, MachineOp, SessionError, Subject, Total, VoucherRefusal,
    WalletOpKind,
};
use pitboss_actors::shell::StoreError;
use serde::{Deserialize, Serialize};

use crate::store::codec::fields::unknown;

/// Every [`DomainError`], as stored in a wallet's idempotency window (a repeated transaction
/// gets its first answer, refusals included).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum DomainErrorDto {
    InvalidId {
        what: String,
        value: String,
    },
    NonPositiveAmount(i64),
    AmountTooLarge(i64),
    InvalidCurrency(String),
    WrongCurrency {
        entity: String,
        expected: String,
        got: String,
    },
    InsufficientCredits {
        what: String,
        amount: i64,
        credits: i64,
        machine: String,
    },
    InsufficientFunds {
        what: String,
        amount: i64,
        available: i64,
        player: String,
    },
    KycRequired {
        amount: i64,
        max: i64,
        status: String,
        player: String,
    },
    PlayerBlocked {
        what: String,
        amount: i64,
        player: String,
    },
    SelfExcluded {
        what: String,
        until: i64,
        player: String,
    },
    LimitDeposit {
        period: String,
        limit: i64,
        used: i64,
        amount: i64,
        player: String,
    },
    LimitLoss {
        period: String,
        limit: i64,
        lost: i64,
        amount: i64,
        player: String,
    },
    LimitSession {
        minutes: i64,
        started: i64,
        amount: i64,
        player: String,
    },
    SelfExclusionActive {
        until: i64,
        asked: i64,
        player: String,
    },
    TransferNotHeld {
        transfer: String,
        player: String,
        acknowledged: bool,
    },
    BetRolledBack {
        tx: String,
        player: String,
    },
    TxConflict {
        provider: String,
        tx: String,
        player: String,
    },
    BetUnknown {
        tx: String,
        bet_tx: String,
        player: String,
    },
    BetNotAccepted {
        tx: String,
        bet_tx: String,
        player: String,
    },
    BetSettled {
        tx: String,
        bet_tx: String,
        player: String,
    },
    RollbackOfNonBet {
        tx: String,
        bet_tx: String,
        player: String,
    },
    UnknownLevel {
        pool: String,
        level: u8,
    },
    MysteryClaim {
        pool: String,
        level: u8,
    },
    PoolNotLinked {
        machine: String,
        pool: String,
    },
    NoGameInProgress {
        what: String,
        machine: String,
    },
    Session(String),
    InvalidPoolConfig(String),
    Overflow(String),
    SequenceStale {
        machine: String,
        epoch: u64,
        seq: u64,
    },
    JackpotNotEligible {
        machine: String,
        pool: String,
        level: u8,
        why: String,
    },
    Voucher {
        refusal: String,
        validation: String,
        detail: String,
    },
    VoucherTxConflict {
        party: String,
        tx: String,
        validation: String,
    },
    Desk {
        refusal: String,
        desk: String,
        detail: String,
    },
    DeskTxConflict {
        desk: String,
        tx: String,
    },
    PlayerUnknown {
        player: String,
    },
}

impl From<&DomainError> for DomainErrorDto {
    fn from(e: &DomainError) -> Self {
        use DomainError as E;
        use DomainErrorDto as D;
        match e.clone() {
            E::InvalidId { what, value } => D::InvalidId {
                what: what.name().into(),
                value,
            },
            E::NonPositiveAmount(a) => D::NonPositiveAmount(a),
            E::AmountTooLarge(a) => D::AmountTooLarge(a),
            E::InvalidCurrency(c) => D::InvalidCurrency(c),
            E::WrongCurrency {
                entity,
                expected,
                got,
            } => D::WrongCurrency {
                entity: entity.to_string(),
                expected,
                got,
            },
            E::InsufficientCredits {
                what,
                amount,
                credits,
                machine,
            } => D::InsufficientCredits {
                what: what.name().into(),
                amount,
                credits,
                machine,
            },
            E::InsufficientFunds {
                what,
                amount,
                available,
                player,
            } => D::InsufficientFunds {
                what: what.name().into(),
                amount,
                available,
                player,
            },
            E::KycRequired {
                amount,
                max,
                status,
                player,
            } => D::KycRequired {
                amount,
                max,
                status: status.name().into(),
                player,
            },
            E::PlayerBlocked {
                what,
                amount,
                player,
            } => D::PlayerBlocked {
                what: what.name().into(),
                amount,
                player,
            },
            E::SelfExcluded {
                what,
                until,
                player,
            } => D::SelfExcluded {
                what: what.name().into(),
                until,
                player,
            },
            E::LimitDeposit {
                period,
                limit,
                used,
                amount,
                player,
            } => D::LimitDeposit {
                period: period.name().into(),
                limit,
                used,
                amount,
                player,
            },
            E::LimitSession {
                minutes,
                started,
                amount,
                player,
            } => D::LimitSession {
                minutes,
                started,
                amount,
                player,
            },
            E::LimitLoss {
                period,
                limit,
                lost,
                amount,
                player,
            } => D::LimitLoss {
                period: period.name().into(),
                limit,
                lost,
                amount,
                player,
            },
            E::SelfExclusionActive {
                until,
                asked,
                player,
            } => D::SelfExclusionActive {
                until,
                asked,
                player,
            },
            E::TransferNotHeld {
                transfer,
                player,
                acknowledged,
            } => D::TransferNotHeld {
                transfer,
                player,
                acknowledged,
            },
            E::BetRolledBack { tx, player } => D::BetRolledBack { tx, player },
            E::TxConflict {
                provider,
                tx,
                player,
            } => D::TxConflict {
                provider,
                tx,
                player,
            },
            E::BetUnknown { tx, bet_tx, player } => D::BetUnknown { tx, bet_tx, player },
            E::BetNotAccepted { tx, bet_tx, player } => D::BetNotAccepted { tx, bet_tx, player },
            E::BetSettled { tx, bet_tx, player } => D::BetSettled { tx, bet_tx, player },
            E::RollbackOfNonBet { tx, bet_tx, player } => {
                D::RollbackOfNonBet { tx, bet_tx, player }
            }
            E::UnknownLevel { pool, level } => D::UnknownLevel { pool, level },
            E::MysteryClaim { pool, level } => D::MysteryClaim { pool, level },
            E::PoolNotLinked { machine, pool } => D::PoolNotLinked { machine, pool },
            E::NoGameInProgress { what, machine } => D::NoGameInProgress {
                what: what.name().into(),
                machine,
            },
            // Session and hall refusals are stored as their text (the format predates their
            // types); the text names every field, so it reads back exactly.
            e @ (E::Session(_) | E::WrongHall { .. }) => D::Session(e.to_string()),
            E::InvalidPoolConfig(s) => D::InvalidPoolConfig(s),
            E::Overflow(w) => D::Overflow(w.name().into()),
            E::SequenceStale {
                machine,
                epoch,
                seq,
            } => D::SequenceStale {
                machine,
                epoch,
                seq,
            },
            E::JackpotNotEligible {
                machine,
                pool,
                level,
                why,
            } => D::JackpotNotEligible {
                machine,
                pool,
                level,
                why,
            },
            E::Voucher {
                refusal,
                validation,
                detail,
            } => D::Voucher {
                refusal: refusal.name().into(),
                validation,
                detail,
            },
            E::VoucherTxConflict {
                party,
                tx,
                validation,
            } => D::VoucherTxConflict {
                party,
                tx,
                validation,
            },
            E::Desk {
                refusal,
                desk,
                detail,
            } => D::Desk {
                refusal: refusal.name().into(),
                desk,
                detail,
            },
            E::DeskTxConflict { desk, tx } => D::DeskTxConflict { desk, tx },
            E::PlayerUnknown { player } => D::PlayerUnknown { player },
        }
    }
}

impl TryFrom<DomainErrorDto> for DomainError {
    type Error = StoreError;

    fn try_from(d: DomainErrorDto) -> Result<Self, StoreError> {
        use DomainError as E;
        use DomainErrorDto as D;
        Ok(match d {
            D::InvalidId { what, value } => E::InvalidId {
                what: IdKind::from_name(&what).ok_or_else(|| unknown("id kind", &what))?,
                value,
            },
            D::NonPositiveAmount(a) => E::NonPositiveAmount(a),
            D::AmountTooLarge(a) => E::AmountTooLarge(a),
            D::InvalidCurrency(c) => E::InvalidCurrency(c),
            D::WrongCurrency {
                entity,
                expected,
                got,
            } => E::WrongCurrency {
                entity: subject(&entity)?,
                expected,
                got,
            },
            D::InsufficientCredits {
                what,
                amount,
                credits,
                machine,
            } => E::InsufficientCredits {
                what: MachineOp::from_name(&what)
                    .ok_or_else(|| unknown("machine operation", &what))?,
                amount,
                credits,
                machine,
            },
            D::InsufficientFunds {
                what,
                amount,
                available,
                player,
            } => E::InsufficientFunds {
                what: WalletOpKind::from_name(&what)
                    .ok_or_else(|| unknown("wallet operation", &what))?,
                amount,
                available,
                player,
            },
            D::KycRequired {
                amount,
                max,
                status,
                player,
            } => E::KycRequired {
                amount,
                max,
                status: KycStatus::from_name(&status)
                    .ok_or_else(|| unknown("KYC status", &status))?,
                player,
            },
            D::PlayerBlocked {
                what,
                amount,
                player,
            } => E::PlayerBlocked {
                what: WalletOpKind::from_name(&what)
                    .ok_or_else(|| unknown("wallet operation", &what))?,
                amount,
                player,
            },
            D::SelfExcluded {
                what,
                until,
                player,
            } => E::SelfExcluded {
                what: WalletOpKind::from_name(&what)
                    .ok_or_else(|| unknown("wallet operation", &what))?,
                until,
                player,
            },
            D::LimitDeposit {
                period,
                limit,
                used,
                amount,
                player,
            } => E::LimitDeposit {
                period: DepositPeriod::from_name(&period)
                    .ok_or_else(|| unknown("deposit period", &period))?,
                limit,
                used,
                amount,
                player,
            },
            D::LimitSession {
                minutes,
                started,
                amount,
                player,
            } => E::LimitSession {
                minutes,
                started,
                amount,
                player,
            },
            D::LimitLoss {
                period,
                limit,
                lost,
                amount,
                player,
            } => E::LimitLoss {
                period: DepositPeriod::from_name(&period)
                    .ok_or_else(|| unknown("loss period", &period))?,
                limit,
                lost,
                amount,
                player,
            },
            D::SelfExclusionActive {
                until,
                asked,
                player,
            } => E::SelfExclusionActive {
                until,
                asked,
                player,
            },
            D::TransferNotHeld {
                transfer,
                player,
                acknowledged,
            } => E::TransferNotHeld {
                transfer,
                player,
                acknowledged,
            },
            D::BetRolledBack { tx, player } => E::BetRolledBack { tx, player },
            D::TxConflict {
                provider,
                tx,
                player,
            } => E::TxConflict {
                provider,
                tx,
                player,
            },
            D::BetUnknown { tx, bet_tx, player } => E::BetUnknown { tx, bet_tx, player },
            D::BetNotAccepted { tx, bet_tx, player } => E::BetNotAccepted { tx, bet_tx, player },
            D::BetSettled { tx, bet_tx, player } => E::BetSettled { tx, bet_tx, player },
            D::RollbackOfNonBet { tx, bet_tx, player } => {
                E::RollbackOfNonBet { tx, bet_tx, player }
            }
            D::UnknownLevel { pool, level } => E::UnknownLevel { pool, level },
            D::MysteryClaim { pool, level } => E::MysteryClaim { pool, level },
            D::PoolNotLinked { machine, pool } => E::PoolNotLinked { machine, pool },
            D::NoGameInProgress { what, machine } => E::NoGameInProgress {
                what: MachineOp::from_name(&what)
                    .ok_or_else(|| unknown("machine operation", &what))?,
                machine,
            },
            D::Session(s) => session_refusal(&s)?,
            D::InvalidPoolConfig(s) => E::InvalidPoolConfig(s),
            D::Overflow(w) => {
                E::Overflow(Total::from_name(&w).ok_or_else(|| unknown("total", &w))?)
            }
            D::SequenceStale {
                machine,
                epoch,
                seq,
            } => E::SequenceStale {
                machine,
                epoch,
                seq,
            },
            D::JackpotNotEligible {
                machine,
                pool,
                level,
                why,
            } => E::JackpotNotEligible {
                machine,
                pool,
                level,
                why,
            },
            D::Voucher {
                refusal,
                validation,
                detail,
            } => E::Voucher {
                refusal: VoucherRefusal::from_name(&refusal)
                    .ok_or_else(|| unknown("voucher refusal", &refusal))?,
                validation,
                detail,
            },
            D::VoucherTxConflict {
                party,
                tx,
                validation,
            } => E::VoucherTxConflict {
                party,
                tx,
                validation,
            },
            D::Desk {
                refusal,
                desk,
                detail,
            } => E::Desk {
                refusal: DeskRefusal::from_name(&refusal)
                    .ok_or_else(|| unknown("desk refusal", &refusal))?,
                desk,
                detail,
            },
            D::DeskTxConflict { desk, tx } => E::DeskTxConflict { desk, tx },
            D::PlayerUnknown { player } => E::PlayerUnknown { player },
        })
    }
}

/// The entity of a currency refusal, from its text (`machine M-17`, `wallet P-1`).
fn subject(text: &str) -> Result<Subject, StoreError> {
    match text.split_once(' ') {
        Some(("machine", id)) => Ok(Subject::Machine(id.into())),
        Some(("wallet", id)) => Ok(Subject::Wallet(id.into())),
        Some(("voucher", id)) => Ok(Subject::Voucher(id.into())),
        Some(("desk", id)) => Ok(Subject::Desk(id.into())),
        _ => Err(unknown("refusal subject", text)),
    }
}

/// A session or hall refusal from its text. Ids hold no spaces, so the words between the
/// fixed ones are the ids.
fn session_refusal(text: &str) -> Result<DomainError, StoreError> {
    let w: Vec<&str> = text.split(' ').collect();
    let s = |x: &str| x.to_string();
    Ok(match w.as_slice() {
        ["card", "in", "of", "player", player, "on", "machine", machine, "while", "player", current, "is", "carded", "in"] => {
            DomainError::Session(SessionError::CardInWhileCarded {
                machine: s(machine),
                player: s(player),
                current: s(current),
            })
        }
        ["card", "out", "on", "machine", machine, "with", "no", "player", "carded", "in"] => {
            DomainError::Session(SessionError::CardOutWithNoPlayer {
                machine: s(machine),
            })
        }
        ["machine", machine, "belongs", "to", "hall", hall, "but", "the", "event", "names", "hall", named]
            if hall.ends_with(',') =>
        {
            DomainError::WrongHall {
                machine: s(machine),
                hall: s(&hall[..hall.len() - 1]),
                named: s(named),
            }
        }
        _ => return Err(unknown("session refusal", text)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_texts_read_back_as_their_refusals() {
        let refusals = [
            DomainError::Session(SessionError::CardInWhileCarded {
                machine: "M-1".into(),
                player: "P-2".into(),
                current: "P-3".into(),
            }),
            DomainError::Session(SessionError::CardOutWithNoPlayer {
                machine: "M,1".into(),
            }),
            DomainError::WrongHall {
                machine: "M-1".into(),
                hall: "H-1,".into(),
                named: "H-2".into(),
            },
        ];
        for e in refusals {
            let DomainErrorDto::Session(text) = DomainErrorDto::from(&e) else {
                panic!("{e:?} is stored as text");
            };
            assert_eq!(text, e.to_string());
            assert_eq!(session_refusal(&text).unwrap(), e);
        }
        assert!(!session_refusal("card out").unwrap_err().is_transient());
        assert_eq!(
            subject("wallet P-1").unwrap(),
            Subject::Wallet("P-1".into())
        );
    }
}
