//! A cash desk's state as stored (RULES.md D): its open shift, the closed shifts it keeps,
//! its unshifted cash, the cash operations it booked and the answers it keeps.

use pitboss_actors::domain::desk::{
    Answered, CashDir, DeskCash, DeskOp, DeskState, ShiftFigures, ShiftNote, ShiftOp,
};
use pitboss_actors::domain::{Amount, DomainError, EventId, HallId, ServerId, Timestamp, TxId};
use pitboss_actors::shell::StoreError;
use serde::{Deserialize, Serialize};

use crate::store::codec::fields::{bad, currency, id, unknown};
use crate::store::codec::refusal::DomainErrorDto;

#[derive(Serialize, Deserialize)]
struct ShiftDto {
    number: u32,
    cashier: String,
    opened_at: i64,
    #[serde(default)]
    closed_at: Option<i64>,
    float: i64,
    cash_in: i64,
    cash_out: i64,
    fills: i64,
    credits: i64,
    #[serde(default)]
    counted: Option<i64>,
    operations: u32,
    revision: u32,
}

impl From<&ShiftFigures> for ShiftDto {
    fn from(s: &ShiftFigures) -> Self {
        Self {
            number: s.number,
            cashier: s.cashier.clone(),
            opened_at: s.opened_at.0,
            closed_at: s.closed_at.map(|t| t.0),
            float: s.float,
            cash_in: s.cash_in,
            cash_out: s.cash_out,
            fills: s.fills,
            credits: s.credits,
            counted: s.counted,
            operations: s.operations,
            revision: s.revision,
        }
    }
}

impl From<ShiftDto> for ShiftFigures {
    fn from(d: ShiftDto) -> Self {
        Self {
            number: d.number,
            cashier: d.cashier,
            opened_at: Timestamp(d.opened_at),
            closed_at: d.closed_at.map(Timestamp),
            float: d.float,
            cash_in: d.cash_in,
            cash_out: d.cash_out,
            fills: d.fills,
            credits: d.credits,
            counted: d.counted,
            operations: d.operations,
            revision: d.revision,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct NoteDto {
    op: String,
    tx: Option<String>,
    amount: i64,
    refused: Option<DomainErrorDto>,
    hall: String,
    shift: ShiftDto,
    cause: u128,
    time: i64,
}

#[derive(Serialize, Deserialize)]
struct AnsweredDto {
    tx: String,
    /// `open`, `fill`, `credit` or `close`, with its amount (and an open's cashier).
    op: String,
    amount: i64,
    #[serde(default)]
    cashier: Option<String>,
    currency: String,
    note: NoteDto,
}

#[derive(Serialize, Deserialize)]
pub(super) struct DeskDto {
    id: String,
    #[serde(default)]
    hall: Option<String>,
    currency: String,
    next: u32,
    #[serde(default)]
    open: Option<ShiftDto>,
    closed: Vec<ShiftDto>,
    unshifted_in: i64,
    unshifted_out: i64,
    cash_in: i64,
    cash_out: i64,
    /// Wallet cash at the desk (RULES.md D-10); absent from desks stored before it.
    #[serde(default)]
    wallet_in: i64,
    #[serde(default)]
    wallet_out: i64,
    booked: Vec<u128>,
    /// Unshifted operations a later shift may take (D-3): time, `in` or `out`, amount.
    #[serde(default)]
    unshifted_ops: Vec<(i64, String, i64)>,
    answered: Vec<AnsweredDto>,
}

fn note_to_dto(n: &ShiftNote) -> NoteDto {
    NoteDto {
        op: n.op.name().into(),
        tx: n.tx.as_ref().map(TxId::to_string),
        amount: n.amount,
        refused: n.refused.as_ref().map(DomainErrorDto::from),
        hall: n.hall.to_string(),
        shift: (&n.shift).into(),
        cause: n.cause.0,
        time: n.time.0,
    }
}

fn note_from_dto(d: NoteDto) -> Result<ShiftNote, StoreError> {
    Ok(ShiftNote {
        op: ShiftOp::from_name(&d.op).ok_or_else(|| unknown("shift op", &d.op))?,
        tx: d.tx.map(|t| id!(TxId, t)).transpose()?,
        amount: d.amount,
        refused: d.refused.map(DomainError::try_from).transpose()?,
        hall: id!(HallId, d.hall)?,
        shift: d.shift.into(),
        cause: EventId(d.cause),
        time: Timestamp(d.time),
    })
}

impl From<&DeskState> for DeskDto {
    fn from(s: &DeskState) -> Self {
        Self {
            id: s.id.to_string(),
            hall: s.hall.as_ref().map(HallId::to_string),
            currency: s.currency.to_string(),
            next: s.next,
            open: s.open.as_ref().map(ShiftDto::from),
            closed: s.closed.iter().map(ShiftDto::from).collect(),
            unshifted_in: s.unshifted_in,
            unshifted_out: s.unshifted_out,
            cash_in: s.cash_in,
            cash_out: s.cash_out,
            wallet_in: s.wallet_in,
            wallet_out: s.wallet_out,
            booked: s.booked.iter().map(|e| e.0).collect(),
            unshifted_ops: s
                .unshifted_ops
                .iter()
                .map(|(t, c)| (t.0, c.dir.name().to_owned(), c.amount))
                .collect(),
            answered: s
                .answered
                .iter()
                .map(|a| {
                    let cashier = match &a.op {
                        DeskOp::Open { cashier, .. } => Some(cashier.clone()),
                        _ => None,
                    };
                    AnsweredDto {
                        tx: a.tx.to_string(),
                        op: a.op.kind().name().into(),
                        amount: a.op.amount(),
                        cashier,
                        currency: a.currency.to_string(),
                        note: note_to_dto(&a.note),
                    }
                })
                .collect(),
        }
    }
}

impl TryFrom<DeskDto> for DeskState {
    type Error = StoreError;
    fn try_from(d: DeskDto) -> Result<Self, StoreError> {
        let answered = d
            .answered
            .into_iter()
            .map(|a| {
                let amount = || Amount::new(a.amount).map_err(|e| bad("desk amount", e));
                let op = match a.op.as_str() {
                    "open" => DeskOp::Open {
                        cashier: a.cashier.clone().unwrap_or_default(),
                        float: a.amount,
                    },
                    "fill" => DeskOp::Fill(amount()?),
                    "credit" => DeskOp::Credit(amount()?),
                    "close" => DeskOp::Close { counted: a.amount },
                    other => return Err(unknown("desk op", other)),
                };
                Ok(Answered {
                    tx: id!(TxId, a.tx)?,
                    op,
                    currency: currency(&a.currency)?,
                    note: note_from_dto(a.note)?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(DeskState {
            id: id!(ServerId, d.id)?,
            hall: d.hall.map(|h| id!(HallId, h)).transpose()?,
            currency: currency(&d.currency)?,
            next: d.next,
            open: d.open.map(ShiftFigures::from),
            closed: d.closed.into_iter().map(ShiftFigures::from).collect(),
            unshifted_in: d.unshifted_in,
            unshifted_out: d.unshifted_out,
            cash_in: d.cash_in,
            cash_out: d.cash_out,
            wallet_in: d.wallet_in,
            wallet_out: d.wallet_out,
            booked: d.booked.into_iter().map(EventId).collect(),
            unshifted_ops: d
                .unshifted_ops
                .into_iter()
                .map(|(t, dir, amount)| {
                    let dir = match dir.as_str() {
                        "in" => CashDir::In,
                        "out" => CashDir::Out,
                        other => return Err(unknown("desk cash direction", other)),
                    };
                    Ok((Timestamp(t), DeskCash { dir, amount }))
                })
                .collect::<Result<_, StoreError>>()?,
            answered,
        })
    }
}
