//! A wallet's state as stored, with the answers it keeps in memory, and one answered
//! command (a row of the wallet transaction table, RULES.md W-1).

use std::collections::VecDeque;

use pitboss_actors::domain::aml::{CashDir, CashMove, PatronCash};
use pitboss_actors::domain::bonus::Bonus;
use pitboss_actors::domain::limits::{DepositPeriod, LimitKind, Limits, Session};
use pitboss_actors::domain::transfer::{
    CreditType, Direction, Hold, TransferFact, Transfers, Waiting,
};
use pitboss_actors::domain::wallet::{
    Answer, Answered, BetBonus, BetBooking, BetStatus, BonusAnswer, Loyalty, TxKey, TxRecord,
    WalletOp, WalletState, WalletTotals,
};
use pitboss_actors::domain::{
    Amount, DomainError, EventId, HallId, KycStatus, MachineId, PlayerId, RoundId, ServerId,
    Timestamp, TxId, WalletOpKind,
};
use pitboss_actors::shell::StoreError;
use serde::{Deserialize, Serialize};

use crate::store::codec::fields::{self, bad, currency, id, unknown};
use crate::store::codec::refusal::DomainErrorDto;

/// The format of a stored wallet transaction ([`encode_tx`]). Version 2: positional (arrays,
/// no field names; the same fields); version 1, written with named fields, still reads.
pub const TX_RECORD_VERSION: u32 = 2;

/// About the size of a wallet transaction row.
const TX_CAPACITY: usize = 128;

#[derive(Serialize, Deserialize)]
struct BetDto {
    /// `open`, `settled` or `rolled_back`.
    status: String,
    hall: String,
    window: i64,
    /// What the bonus paid of it and took off the wagering (RULES.md W-12).
    #[serde(default)]
    bonus: i64,
    #[serde(default)]
    wagered: i64,
}

// A transient encoding form, one at a time: the size of the rare tombstone does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum TxDto {
    Answered {
        /// `deposit`, `withdrawal`, `bet`, `win` or `rollback`.
        op: String,
        /// The amount (0 for a rollback).
        amount: i64,
        /// The bet a win or rollback names.
        bet_tx: Option<String>,
        currency: String,
        /// The command's round (RULES.md E-2, W-2). Absent from records written before it
        /// existed, which read as a command without one.
        #[serde(default)]
        round: Option<String>,
        /// `Ok((delta, balance))` or the refusal.
        answer: Result<(i64, i64), DomainErrorDto>,
        cause: u128,
        bet: Option<BetDto>,
        /// A KYC status command's status (RULES.md W-8).
        #[serde(default)]
        kyc: Option<String>,
        /// A deposit limit's period (RULES.md W-9); its amount is `limit`.
        #[serde(default)]
        period: Option<String>,
        /// A deposit limit's amount (absent: the limit removed).
        #[serde(default)]
        limit: Option<i64>,
        /// A self-exclusion's end (RULES.md W-9).
        #[serde(default)]
        until: Option<i64>,
        /// A transfer request's machine (RULES.md W-10).
        #[serde(default)]
        machine: Option<String>,
        /// The transfer a cancel names (W-10).
        #[serde(default)]
        transfer: Option<String>,
        /// A restricted transfer request's credit type (W-12).
        #[serde(default)]
        credit: Option<String>,
        /// A bonus award's wagering multiple (W-12).
        #[serde(default)]
        wagering: Option<u32>,
        /// The bonus account in the answer: its change and balance after (W-12).
        #[serde(default)]
        bonus: Option<(i64, i64)>,
    },
    Tombstone,
}

#[derive(Serialize, Deserialize)]
struct KeyedTxDto {
    provider: String,
    tx: String,
    record: TxDto,
}

/// A stored wallet transaction: format version and record.
#[derive(Serialize, Deserialize)]
struct TxRow {
    v: u32,
    record: TxDto,
}

#[derive(Serialize, Deserialize)]
pub(super) struct WalletDto {
    id: String,
    currency: String,
    balance: i64,
    credit_line: i64,
    deposits: i64,
    withdrawals: i64,
    bets: i64,
    wins: i64,
    refunds: i64,
    ops: u64,
    window_len: usize,
    /// The answers kept in memory, oldest first. (Records of format 1 kept a `window` of
    /// transaction ids without their provider; it is not read: those answers are not
    /// found again.)
    #[serde(default)]
    txs: Vec<KeyedTxDto>,
    /// Records that left memory (then a key not in memory is looked up in the store).
    #[serde(default)]
    forgotten: u64,
    /// The player's KYC status (RULES.md W-8); absent: unverified (and states written
    /// before W-8 existed).
    #[serde(default)]
    kyc: Option<String>,
    /// Deposits in the current day, week and month: (period start, sum) (RULES.md W-9).
    #[serde(default)]
    deposited: [(i64, i64); 3],
    /// Net loss in the current day, week and month: (period start, sum) (RULES.md W-9).
    /// Absent from wallets stored before loss limits existed, which read as nothing lost.
    #[serde(default)]
    lost: [(i64, i64); 3],
    /// The playing session: (first, latest) bet or win (RULES.md W-9).
    #[serde(default)]
    session: Option<(i64, i64)>,
    /// The responsible-gaming limits, once any was set (RULES.md W-9).
    #[serde(default)]
    limits: Option<LimitsDto>,
    /// Paid to and received from machines by cashless transfers (RULES.md W-10).
    #[serde(default)]
    to_machines: i64,
    #[serde(default)]
    from_machines: i64,
    /// Deposited and withdrawn in cash at cash desks (RULES.md D-10); absent from wallets
    /// stored before desks booked wallet cash.
    #[serde(default)]
    desk_deposits: i64,
    #[serde(default)]
    desk_withdrawals: i64,
    /// Transfers held and acknowledged (W-10).
    #[serde(default)]
    transfers: Option<TransfersDto>,
    /// Loyalty points and, per machine, the newest rated session counted (RULES.md M-12).
    #[serde(default)]
    loyalty: Option<(i64, Vec<(String, u64)>)>,
    /// The patron's cash of the current local day (RULES.md W-11).
    #[serde(default)]
    cash: Option<CashDto>,
    /// The bonus account, once a bonus was awarded (RULES.md W-12).
    #[serde(default)]
    bonus: Option<BonusDto>,
}

/// A cash move: (cause, amount, time, `true` for in, machine).
type MoveDto = (u128, i64, i64, bool, Option<String>);

#[derive(Serialize, Deserialize)]
struct CashDto {
    day: i64,
    cash_in: i64,
    cash_out: i64,
    opened: u8,
    moves: Vec<MoveDto>,
    left_out: (u32, u32),
    near: Vec<MoveDto>,
    seen: Vec<(String, u64)>,
}

fn move_dto(m: &CashMove) -> MoveDto {
    (
        m.cause.0,
        m.amount,
        m.at.0,
        m.dir == CashDir::In,
        m.machine.as_ref().map(ToString::to_string),
    )
}

fn move_of(d: MoveDto) -> Result<CashMove, StoreError> {
    let (cause, amount, at, inward, machine) = d;
    Ok(CashMove {
        cause: EventId(cause),
        amount,
        at: Timestamp(at),
        dir: if inward { CashDir::In } else { CashDir::Out },
        machine: machine.map(|m| id!(MachineId, m)).transpose()?,
    })
}

#[derive(Serialize, Deserialize)]
struct TransfersDto {
    /// (transfer, machine, amount, until).
    holds: Vec<(String, String, i64, i64)>,
    /// (transfer, acknowledging event), oldest first.
    done: Vec<(String, u128)>,
    unbacked: i64,
    /// (machine, effect number of the newest fact applied from it). Absent from wallets
    /// stored before it existed, which read as none applied.
    #[serde(default)]
    seen: Vec<(String, u64)>,
    /// Acknowledgements waiting for their request: (transfer, machine, direction, amount,
    /// effect number, acknowledging event, until). Absent from wallets stored before it
    /// existed.
    #[serde(default)]
    waiting: Vec<(String, String, String, i64, u64, u128, i64)>,
    /// Each hold's request event, in the order of `holds` (absent from wallets stored
    /// before it was kept: none).
    #[serde(default)]
    hold_causes: Vec<Option<u128>>,
    /// Which holds and waiting acknowledgements are of restricted credits (RULES.md W-12),
    /// in the order of `holds` and `waiting`; empty when none is (and in wallets stored
    /// before W-12: all cashable).
    #[serde(default)]
    hold_restricted: Vec<bool>,
    #[serde(default)]
    waiting_restricted: Vec<bool>,
}

/// A wallet's bonus account (RULES.md W-12).
#[derive(Serialize, Deserialize)]
struct BonusDto {
    balance: i64,
    wagering_left: i64,
    expires: i64,
    awarded: i64,
    staked: i64,
    won: i64,
    refunded: i64,
    converted: i64,
    expired: i64,
    to_machines: i64,
}

/// Flags in order, or none when every one is false.
fn flags(v: impl Iterator<Item = bool>) -> Vec<bool> {
    let v: Vec<bool> = v.collect();
    if v.iter().any(|r| *r) {
        v
    } else {
        Vec::new()
    }
}

fn credit_of(restricted: bool) -> CreditType {
    if restricted {
        CreditType::Restricted
    } else {
        CreditType::Cashable
    }
}

#[derive(Serialize, Deserialize)]
struct LimitsDto {
    /// Day, week, month.
    deposit: [Option<i64>; 3],
    /// (period, limit, effective at): raised deposit limits waiting.
    pending: Vec<(String, Option<i64>, i64)>,
    excluded_until: Option<i64>,
    /// Day, week, month (absent from limits stored before loss limits existed).
    #[serde(default)]
    loss: [Option<i64>; 3],
    /// (period, limit, effective at): raised loss limits waiting.
    #[serde(default)]
    loss_pending: Vec<(String, Option<i64>, i64)>,
    /// The session limit in ms.
    #[serde(default)]
    session: Option<i64>,
    /// (limit, effective at): a raised session limit waiting.
    #[serde(default)]
    session_pending: Option<(Option<i64>, i64)>,
}

/// The pending changes of one kind, as the store keeps them.
fn pending_of(l: &Limits, kind: LimitKind) -> Vec<(String, Option<i64>, i64)> {
    l.pending
        .iter()
        .filter(|(k, ..)| *k == kind)
        .map(|(_, p, a, t)| (p.name().to_owned(), *a, t.0))
        .collect()
}

fn status_name(s: BetStatus) -> &'static str {
    match s {
        BetStatus::Open => "open",
        BetStatus::Settled => "settled",
        BetStatus::RolledBack => "rolled_back",
    }
}

/// A wallet operation as plain fields: how the store's transaction rows and the internal
/// wallet topic's items carry it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpFields {
    /// The operation's kind name (`WalletOpKind::name`).
    pub op: String,
    /// The amount (0 for the operations without one).
    pub amount: i64,
    /// The bet a win or rollback names.
    pub bet_tx: Option<String>,
    /// A KYC status command's status (RULES.md W-8).
    pub kyc: Option<String>,
    /// A deposit limit's period and amount (W-9; no amount: the limit removed).
    pub period: Option<String>,
    pub limit: Option<i64>,
    /// A self-exclusion's end (W-9).
    pub until: Option<i64>,
    /// A transfer request's machine and a cancel's transfer (W-10).
    pub machine: Option<String>,
    pub transfer: Option<String>,
    /// A transfer request's credit type when it is not cashable (W-12).
    pub credit: Option<String>,
    /// A bonus award's wagering multiple (W-12; its expiry is `until`).
    pub wagering: Option<u32>,
}

impl OpFields {
    /// The fields of an operation.
    pub fn of(op: &WalletOp) -> Self {
        let (amount, bet_tx) = match op {
            WalletOp::Deposit(x) | WalletOp::Withdraw(x) | WalletOp::Bet(x) => (x.minor(), None),
            WalletOp::Win { amount, bet_tx } => {
                (amount.minor(), bet_tx.as_ref().map(TxId::to_string))
            }
            WalletOp::Rollback { bet_tx } => (0, Some(bet_tx.to_string())),
            WalletOp::TransferRequest { amount, .. } | WalletOp::BonusAward { amount, .. } => {
                (amount.minor(), None)
            }
            WalletOp::Kyc(_)
            | WalletOp::Limit { .. }
            | WalletOp::SessionLimit { .. }
            | WalletOp::SelfExclude { .. }
            | WalletOp::TransferCancel { .. } => (0, None),
        };
        let (machine, transfer) = match op {
            WalletOp::TransferRequest { machine, .. } => (Some(machine.to_string()), None),
            WalletOp::TransferCancel { transfer } => (None, Some(transfer.to_string())),
            _ => (None, None),
        };
        let kyc = match op {
            WalletOp::Kyc(s) => Some(s.name().to_owned()),
            _ => None,
        };
        let (period, limit, until) = match op {
            WalletOp::Limit { period, amount, .. } => (
                Some(period.name().to_owned()),
                amount.map(|a| a.minor()),
                None,
            ),
            WalletOp::SessionLimit { minutes } => (None, minutes.map(i64::from), None),
            WalletOp::SelfExclude { until } => (None, None, Some(until.0)),
            WalletOp::BonusAward { expires, .. } => (None, None, Some(expires.0)),
            _ => (None, None, None),
        };
        let credit = match op {
            WalletOp::TransferRequest {
                credit: c @ CreditType::Restricted,
                ..
            } => Some(c.name().to_owned()),
            _ => None,
        };
        let wagering = match op {
            WalletOp::BonusAward { wagering, .. } => Some(*wagering),
            _ => None,
        };
        OpFields {
            op: op.kind().name().into(),
            amount,
            bet_tx,
            kyc,
            period,
            limit,
            until,
            machine,
            transfer,
            credit,
            wagering,
        }
    }

    /// The operation, validated.
    ///
    /// # Errors
    ///
    /// An unknown kind, or a field the kind needs missing or invalid.
    pub fn to_op(self) -> Result<WalletOp, StoreError> {
        let OpFields {
            op,
            amount,
            bet_tx,
            kyc,
            period,
            limit,
            until,
            machine,
            transfer,
            credit,
            wagering,
        } = self;
        let amt = || Amount::new(amount).map_err(|e| bad("wallet transaction amount", e));
        let bet_tx = bet_tx.map(|b| id!(TxId, b)).transpose()?;
        Ok(match WalletOpKind::from_name(&op) {
            Some(WalletOpKind::Deposit) => WalletOp::Deposit(amt()?),
            Some(WalletOpKind::Withdrawal) => WalletOp::Withdraw(amt()?),
            Some(WalletOpKind::Bet) => WalletOp::Bet(amt()?),
            Some(WalletOpKind::Win) => WalletOp::Win {
                amount: amt()?,
                bet_tx,
            },
            Some(WalletOpKind::Rollback) => WalletOp::Rollback {
                bet_tx: bet_tx.ok_or_else(|| bad("wallet rollback", "no bet named"))?,
            },
            Some(WalletOpKind::KycStatus) => {
                let s = kyc.ok_or_else(|| bad("wallet KYC status", "no status"))?;
                WalletOp::Kyc(KycStatus::from_name(&s).ok_or_else(|| unknown("KYC status", &s))?)
            }
            Some(k @ (WalletOpKind::DepositLimit | WalletOpKind::LossLimit)) => {
                let p = period.ok_or_else(|| bad("wallet limit", "no period"))?;
                WalletOp::Limit {
                    kind: if k == WalletOpKind::LossLimit {
                        LimitKind::Loss
                    } else {
                        LimitKind::Deposit
                    },
                    period: DepositPeriod::from_name(&p)
                        .ok_or_else(|| unknown("limit period", &p))?,
                    amount: limit
                        .map(|l| Amount::new(l).map_err(|e| bad("limit", e)))
                        .transpose()?,
                }
            }
            Some(WalletOpKind::SessionLimit) => WalletOp::SessionLimit {
                minutes: limit
                    .map(|m| u32::try_from(m).map_err(|e| bad("session limit", e)))
                    .transpose()?,
            },
            Some(WalletOpKind::SelfExclusion) => WalletOp::SelfExclude {
                until: Timestamp(until.ok_or_else(|| bad("wallet self-exclusion", "no end"))?),
            },
            Some(WalletOpKind::TransferRequest) => WalletOp::TransferRequest {
                machine: id!(
                    MachineId,
                    machine.ok_or_else(|| bad("wallet transfer request", "no machine"))?
                )?,
                amount: amt()?,
                credit: match credit {
                    None => CreditType::Cashable,
                    Some(c) => {
                        CreditType::from_name(&c).ok_or_else(|| unknown("credit type", &c))?
                    }
                },
            },
            Some(WalletOpKind::BonusAward) => WalletOp::BonusAward {
                amount: amt()?,
                wagering: wagering.ok_or_else(|| bad("bonus award", "no wagering"))?,
                expires: Timestamp(until.ok_or_else(|| bad("bonus award", "no expiry"))?),
            },
            Some(WalletOpKind::TransferCancel) => WalletOp::TransferCancel {
                transfer: id!(
                    TxId,
                    transfer.ok_or_else(|| bad("wallet transfer cancel", "no transfer"))?
                )?,
            },
            Some(
                WalletOpKind::TransferRelease
                | WalletOpKind::TransferSettle
                | WalletOpKind::TransferFromMachine
                | WalletOpKind::BonusConvert
                | WalletOpKind::BonusExpire,
            )
            | None => return Err(unknown("wallet operation", &op)),
        })
    }
}

fn tx_to_dto(r: &TxRecord) -> TxDto {
    match r {
        TxRecord::Tombstone => TxDto::Tombstone,
        TxRecord::Answered(a) => {
            let OpFields {
                op,
                amount,
                bet_tx,
                kyc,
                period,
                limit,
                until,
                machine,
                transfer,
                credit,
                wagering,
            } = OpFields::of(&a.op);
            TxDto::Answered {
                op,
                amount,
                bet_tx,
                currency: a.currency.to_string(),
                round: a.round.as_ref().map(RoundId::to_string),
                answer: match &a.answer {
                    Answer::Applied { delta, balance } => Ok((*delta, *balance)),
                    Answer::Refused(e) => Err(e.into()),
                },
                cause: a.cause.0,
                bet: a.bet.as_ref().map(|b| BetDto {
                    status: status_name(b.status).into(),
                    hall: b.hall.to_string(),
                    window: b.window.0,
                    bonus: b.bonus().paid,
                    wagered: b.bonus().wagered,
                }),
                kyc,
                period,
                limit,
                until,
                machine,
                transfer,
                credit,
                wagering,
                bonus: a.bonus.as_deref().map(|b| (b.delta, b.balance)),
            }
        }
    }
}

fn tx_from_dto(d: TxDto) -> Result<TxRecord, StoreError> {
    let TxDto::Answered {
        op,
        amount,
        bet_tx,
        currency: cur,
        round,
        answer,
        cause,
        bet,
        kyc,
        period,
        limit,
        until,
        machine,
        transfer,
        credit,
        wagering,
        bonus,
    } = d
    else {
        return Ok(TxRecord::Tombstone);
    };
    let round = round.map(|r| id!(RoundId, r)).transpose()?;
    let op = OpFields {
        op,
        amount,
        bet_tx,
        kyc,
        period,
        limit,
        until,
        machine,
        transfer,
        credit,
        wagering,
    }
    .to_op()?;
    let bet = match bet {
        None => None,
        Some(b) => Some(BetBooking {
            status: match b.status.as_str() {
                "open" => BetStatus::Open,
                "settled" => BetStatus::Settled,
                "rolled_back" => BetStatus::RolledBack,
                other => return Err(unknown("bet status", other)),
            },
            hall: id!(HallId, b.hall)?,
            window: Timestamp(b.window),
            bonus: (b.bonus != 0 || b.wagered != 0).then(|| {
                Box::new(BetBonus {
                    paid: b.bonus,
                    wagered: b.wagered,
                })
            }),
        }),
    };
    Ok(TxRecord::Answered(Answered {
        op,
        currency: currency(&cur)?,
        round,
        answer: match answer {
            Ok((delta, balance)) => Answer::Applied { delta, balance },
            Err(e) => Answer::Refused(DomainError::try_from(e)?),
        },
        cause: EventId(cause),
        bet,
        bonus: bonus.map(|(delta, balance)| Box::new(BonusAnswer { delta, balance })),
    }))
}

/// Encodes one wallet transaction record (a row of the wallet transaction table).
pub fn encode_tx(r: &TxRecord) -> Result<Vec<u8>, StoreError> {
    let row = TxRow {
        v: TX_RECORD_VERSION,
        record: tx_to_dto(r),
    };
    fields::positional(&row, TX_CAPACITY)
        .map_err(|e| StoreError::permanent(format!("encoding a wallet transaction: {e}")))
}

/// Decodes one wallet transaction record.
pub fn decode_tx(bytes: &[u8]) -> Result<TxRecord, StoreError> {
    let row: TxRow = rmp_serde::from_slice(bytes).map_err(|e| bad("wallet transaction", e))?;
    if row.v > TX_RECORD_VERSION {
        return Err(StoreError::permanent(format!(
            "stored wallet transaction version {} is newer than this build reads ({TX_RECORD_VERSION})",
            row.v
        )));
    }
    tx_from_dto(row.record)
}

impl TryFrom<&WalletState> for WalletDto {
    type Error = StoreError;

    fn try_from(w: &WalletState) -> Result<Self, StoreError> {
        let txs = w
            .window_order
            .iter()
            .map(|key| {
                let rec = w.window.get(key).ok_or_else(|| {
                    StoreError::permanent(format!(
                        "wallet {}: transaction {} {} is in the window order but not in the window",
                        w.id, key.provider, key.tx
                    ))
                })?;
                Ok(KeyedTxDto {
                    provider: key.provider.to_string(),
                    tx: key.tx.to_string(),
                    record: tx_to_dto(rec),
                })
            })
            .collect::<Result<_, StoreError>>()?;
        if w.window.len() != w.window_order.len() {
            return Err(StoreError::permanent(format!(
                "wallet {}: window holds {} transactions but its order {}",
                w.id,
                w.window.len(),
                w.window_order.len()
            )));
        }
        let t = &w.totals;
        Ok(Self {
            id: w.id.to_string(),
            currency: w.currency.to_string(),
            balance: w.balance,
            credit_line: w.credit_line,
            deposits: t.deposits,
            withdrawals: t.withdrawals,
            bets: t.bets,
            wins: t.wins,
            refunds: t.refunds,
            ops: w.ops,
            window_len: w.window_len,
            txs,
            forgotten: w.forgotten,
            kyc: (w.kyc != KycStatus::Unverified).then(|| w.kyc.name().to_owned()),
            deposited: w.deposited.map(|(t, s)| (t.0, s)),
            lost: w.lost.map(|(t, s)| (t.0, s)),
            session: w.session.map(|s| (s.start.0, s.last.0)),
            limits: w.limits.as_deref().map(|l| LimitsDto {
                deposit: l.deposit,
                pending: pending_of(l, LimitKind::Deposit),
                excluded_until: l.excluded_until.map(|t| t.0),
                loss: l.loss,
                loss_pending: pending_of(l, LimitKind::Loss),
                session: l.session,
                session_pending: l.session_pending.map(|(a, t)| (a, t.0)),
            }),
            to_machines: t.to_machines,
            from_machines: t.from_machines,
            desk_deposits: t.desk_deposits,
            desk_withdrawals: t.desk_withdrawals,
            transfers: w.transfers.as_deref().map(|t| TransfersDto {
                holds: t
                    .holds
                    .iter()
                    .map(|h| {
                        (
                            h.transfer.to_string(),
                            h.machine.to_string(),
                            h.amount,
                            h.until.0,
                        )
                    })
                    .collect(),
                done: t.done.iter().map(|(x, c)| (x.to_string(), c.0)).collect(),
                unbacked: t.unbacked,
                seen: t.seen.iter().map(|(m, s)| (m.to_string(), *s)).collect(),
                hold_causes: if t.holds.iter().all(|h| h.cause.is_none()) {
                    Vec::new()
                } else {
                    t.holds.iter().map(|h| h.cause.map(|c| c.0)).collect()
                },
                waiting: t
                    .waiting
                    .iter()
                    .map(|w| {
                        (
                            w.fact.transfer.to_string(),
                            w.fact.machine.to_string(),
                            w.fact.direction.name().to_string(),
                            w.fact.amount.minor(),
                            w.fact.seq,
                            w.event.0,
                            w.until.0,
                        )
                    })
                    .collect(),
                hold_restricted: flags(t.holds.iter().map(|h| h.credit.is_restricted())),
                waiting_restricted: flags(t.waiting.iter().map(|w| w.fact.credit.is_restricted())),
            }),
            bonus: w.bonus.as_deref().map(|b| BonusDto {
                balance: b.balance,
                wagering_left: b.wagering_left,
                expires: b.expires.0,
                awarded: b.awarded,
                staked: b.staked,
                won: b.won,
                refunded: b.refunded,
                converted: b.converted,
                expired: b.expired,
                to_machines: b.to_machines,
            }),
            loyalty: w.loyalty.as_deref().map(|l| {
                let seen = l.seen.iter().map(|(m, s)| (m.to_string(), *s)).collect();
                (l.points, seen)
            }),
            cash: w.cash.as_deref().map(|c| CashDto {
                day: c.day.0,
                cash_in: c.cash_in,
                cash_out: c.cash_out,
                opened: c.opened,
                moves: c.moves.iter().map(move_dto).collect(),
                left_out: c.left_out,
                near: c.near.iter().map(move_dto).collect(),
                seen: c.seen.iter().map(|(m, s)| (m.to_string(), *s)).collect(),
            }),
        })
    }
}

impl TryFrom<WalletDto> for WalletState {
    type Error = StoreError;

    fn try_from(d: WalletDto) -> Result<Self, StoreError> {
        let mut order = VecDeque::with_capacity(d.txs.len());
        let mut window = pitboss_actors::domain::FastMap::default();
        for t in d.txs {
            let key = TxKey {
                provider: id!(ServerId, t.provider)?,
                tx: id!(TxId, t.tx)?,
            };
            let rec = tx_from_dto(t.record)?;
            if window.insert(key.clone(), rec).is_some() {
                return Err(StoreError::permanent(format!(
                    "wallet {}: transaction {} {} appears twice in the stored window",
                    d.id, key.provider, key.tx
                )));
            }
            order.push_back(key);
        }
        Ok(WalletState {
            id: id!(PlayerId, d.id)?,
            currency: currency(&d.currency)?,
            balance: d.balance,
            credit_line: d.credit_line,
            totals: WalletTotals {
                deposits: d.deposits,
                withdrawals: d.withdrawals,
                bets: d.bets,
                wins: d.wins,
                refunds: d.refunds,
                to_machines: d.to_machines,
                from_machines: d.from_machines,
                desk_deposits: d.desk_deposits,
                desk_withdrawals: d.desk_withdrawals,
            },
            ops: d.ops,
            window_len: d.window_len,
            window_order: order,
            window,
            forgotten: d.forgotten,
            kyc: match d.kyc {
                None => KycStatus::Unverified,
                Some(s) => KycStatus::from_name(&s).ok_or_else(|| unknown("KYC status", &s))?,
            },
            deposited: d.deposited.map(|(t, s)| (Timestamp(t), s)),
            lost: d.lost.map(|(t, s)| (Timestamp(t), s)),
            session: d.session.map(|(start, last)| Session {
                start: Timestamp(start),
                last: Timestamp(last),
            }),
            limits: match d.limits {
                None => None,
                Some(l) => Some(Box::new(Limits {
                    deposit: l.deposit,
                    loss: l.loss,
                    pending: l
                        .pending
                        .into_iter()
                        .map(|p| (LimitKind::Deposit, p))
                        .chain(l.loss_pending.into_iter().map(|p| (LimitKind::Loss, p)))
                        .map(|(k, (p, a, t))| {
                            DepositPeriod::from_name(&p)
                                .map(|p| (k, p, a, Timestamp(t)))
                                .ok_or_else(|| unknown("limit period", &p))
                        })
                        .collect::<Result<_, _>>()?,
                    excluded_until: l.excluded_until.map(Timestamp),
                    session: l.session,
                    session_pending: l.session_pending.map(|(a, t)| (a, Timestamp(t))),
                })),
            },
            transfers: match d.transfers {
                None => None,
                Some(t) => Some(Box::new(Transfers {
                    holds: t
                        .holds
                        .into_iter()
                        .enumerate()
                        .map(|(i, (x, m, amount, until))| {
                            Ok(Hold {
                                transfer: id!(TxId, x)?,
                                machine: id!(MachineId, m)?,
                                amount,
                                credit: credit_of(
                                    t.hold_restricted.get(i).copied().unwrap_or(false),
                                ),
                                until: Timestamp(until),
                                cause: t.hold_causes.get(i).copied().flatten().map(EventId),
                            })
                        })
                        .collect::<Result<_, StoreError>>()?,
                    done: t
                        .done
                        .into_iter()
                        .map(|(x, c)| Ok((id!(TxId, x)?, EventId(c))))
                        .collect::<Result<_, StoreError>>()?,
                    unbacked: t.unbacked,
                    seen: t
                        .seen
                        .into_iter()
                        .map(|(m, s)| Ok((id!(MachineId, m)?, s)))
                        .collect::<Result<_, StoreError>>()?,
                    waiting: t
                        .waiting
                        .into_iter()
                        .enumerate()
                        .map(|(i, (x, m, direction, amount, seq, event, until))| {
                            Ok(Waiting {
                                fact: TransferFact {
                                    transfer: id!(TxId, x)?,
                                    machine: id!(MachineId, m)?,
                                    direction: Direction::from_name(&direction)
                                        .ok_or_else(|| unknown("transfer direction", &direction))?,
                                    amount: Amount::new(amount)
                                        .map_err(|e| bad("waiting transfer amount", e))?,
                                    credit: credit_of(
                                        t.waiting_restricted.get(i).copied().unwrap_or(false),
                                    ),
                                    seq,
                                },
                                event: EventId(event),
                                until: Timestamp(until),
                            })
                        })
                        .collect::<Result<_, StoreError>>()?,
                })),
            },
            bonus: d.bonus.map(|b| {
                Box::new(Bonus {
                    balance: b.balance,
                    wagering_left: b.wagering_left,
                    expires: Timestamp(b.expires),
                    awarded: b.awarded,
                    staked: b.staked,
                    won: b.won,
                    refunded: b.refunded,
                    converted: b.converted,
                    expired: b.expired,
                    to_machines: b.to_machines,
                })
            }),
            cash: match d.cash {
                None => None,
                Some(c) => Some(Box::new(PatronCash {
                    day: Timestamp(c.day),
                    cash_in: c.cash_in,
                    cash_out: c.cash_out,
                    opened: c.opened,
                    moves: c.moves.into_iter().map(move_of).collect::<Result<_, _>>()?,
                    left_out: c.left_out,
                    near: c.near.into_iter().map(move_of).collect::<Result<_, _>>()?,
                    seen: c
                        .seen
                        .into_iter()
                        .map(|(m, s)| Ok((id!(MachineId, m)?, s)))
                        .collect::<Result<_, StoreError>>()?,
                })),
            },
            loyalty: match d.loyalty {
                None => None,
                Some((points, seen)) => Some(Box::new(Loyalty {
                    points,
                    seen: seen
                        .into_iter()
                        .map(|(m, s)| Ok((id!(MachineId, m)?, s)))
                        .collect::<Result<_, StoreError>>()?,
                })),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pitboss_actors::domain::Currency;

    fn bet(round: Option<&str>) -> TxRecord {
        TxRecord::Answered(Answered {
            op: WalletOp::Bet(Amount::new(300).unwrap()),
            currency: Currency::new("EUR").unwrap(),
            round: round.map(|r| RoundId::new(r).unwrap()),
            answer: Answer::Applied {
                delta: -300,
                balance: 700,
            },
            cause: EventId(42),
            bet: Some(BetBooking {
                status: BetStatus::Open,
                hall: HallId::new("H-1").unwrap(),
                window: Timestamp(1_700_000_000_000),
                bonus: None,
            }),
            bonus: None,
        })
    }

    #[test]
    fn a_transaction_keeps_its_round() {
        let r = bet(Some("R-77"));
        assert_eq!(decode_tx(&encode_tx(&r).unwrap()).unwrap(), r);
        let none = bet(None);
        let bytes = encode_tx(&none).unwrap();
        assert_eq!(decode_tx(&bytes).unwrap(), none);
        assert!(
            !bytes.windows(8).any(|w| w == b"currency"),
            "a row is positional: no field names"
        );
    }

    #[test]
    fn a_transaction_stored_before_rounds_reads_without_one() {
        // The row exactly as the build before RULES.md E-2's `round` wrote it.
        #[derive(Serialize)]
        #[serde(rename_all = "snake_case")]
        enum OldTx {
            Answered {
                op: String,
                amount: i64,
                bet_tx: Option<String>,
                currency: String,
                answer: Result<(i64, i64), ()>,
                cause: u128,
                bet: Option<BetDto>,
            },
        }
        #[derive(Serialize)]
        struct OldRow {
            v: u32,
            record: OldTx,
        }
        let old = OldRow {
            v: 1,
            record: OldTx::Answered {
                op: "bet".into(),
                amount: 300,
                bet_tx: None,
                currency: "EUR".into(),
                answer: Ok((-300, 700)),
                cause: 42,
                // (A bet without a bonus part writes no more than this.)
                bet: Some(BetDto {
                    status: "open".into(),
                    hall: "H-1".into(),
                    window: 1_700_000_000_000,
                    bonus: 0,
                    wagered: 0,
                }),
            },
        };
        let bytes = rmp_serde::to_vec_named(&old).unwrap();
        assert_eq!(decode_tx(&bytes).unwrap(), bet(None));
        // And the wallet snapshot's window, which holds the same records.
        #[derive(Serialize)]
        struct OldKeyed {
            provider: String,
            tx: String,
            record: OldTx,
        }
        let keyed = rmp_serde::to_vec_named(&OldKeyed {
            provider: "GS-1".into(),
            tx: "B-1".into(),
            record: old.record,
        })
        .unwrap();
        let k: KeyedTxDto = rmp_serde::from_slice(&keyed).unwrap();
        let TxRecord::Answered(a) = tx_from_dto(k.record).unwrap() else {
            panic!("an answered record")
        };
        assert_eq!(a.round, None);
    }
}
