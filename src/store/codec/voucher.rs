//! A voucher's state as stored (RULES.md V): how it was issued, where it stands, its
//! variances, the machine facts it applied and the answers it keeps.

use std::collections::VecDeque;

use pitboss_actors::domain::voucher::{
    Answered, EarlyCredit, Issue, Party, VoucherNote, VoucherOp, VoucherState, VoucherStatus,
};
use pitboss_actors::domain::{
    Amount, DomainError, EventId, HallId, MachineId, ServerId, Timestamp, TxId, ValidationNo,
    VoucherOpKind,
};
use pitboss_actors::shell::StoreError;
use serde::{Deserialize, Serialize};

use crate::store::codec::fields::{bad, currency, id, unknown};
use crate::store::codec::refusal::DomainErrorDto;

/// A party as stored: `machine` or `desk`, and its id.
#[derive(Serialize, Deserialize)]
struct PartyDto(String, String);

impl From<&Party> for PartyDto {
    fn from(p: &Party) -> Self {
        match p {
            Party::Machine(m) => PartyDto("machine".into(), m.to_string()),
            Party::Desk(d) => PartyDto("desk".into(), d.to_string()),
        }
    }
}

impl TryFrom<PartyDto> for Party {
    type Error = StoreError;
    fn try_from(PartyDto(kind, id): PartyDto) -> Result<Self, StoreError> {
        match kind.as_str() {
            "machine" => Ok(Party::Machine(id!(MachineId, id)?)),
            "desk" => Ok(Party::Desk(id!(ServerId, id)?)),
            other => Err(unknown("voucher party", other)),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct IssueDto {
    amount: i64,
    hall: String,
    by: PartyDto,
    at: i64,
    expires: Option<i64>,
    cause: u128,
}

/// Where the voucher stands: its name, and the party, time and reason that go with it.
#[derive(Serialize, Deserialize)]
struct StatusDto {
    /// `unissued`, `issued`, `held`, `redeemed`, `expired` or `voided`.
    name: String,
    #[serde(default)]
    by: Option<PartyDto>,
    /// The hold's end, or when it was redeemed, expired or voided.
    #[serde(default)]
    at: Option<i64>,
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct NoteDto {
    op: String,
    party: PartyDto,
    tx: Option<String>,
    amount: i64,
    refused: Option<DomainErrorDto>,
    status: String,
    voucher: Option<(i64, String)>,
    cause: u128,
    time: i64,
}

#[derive(Serialize, Deserialize)]
struct AnsweredDto {
    party: PartyDto,
    tx: String,
    /// The operation, with its amount or reason.
    op: String,
    #[serde(default)]
    amount: Option<i64>,
    #[serde(default)]
    reason: Option<String>,
    currency: String,
    note: NoteDto,
}

#[derive(Serialize, Deserialize)]
struct EarlyDto {
    machine: String,
    amount: i64,
    at: i64,
}

#[derive(Serialize, Deserialize)]
pub(super) struct VoucherDto {
    number: String,
    currency: String,
    issue: Option<IssueDto>,
    status: StatusDto,
    unbacked: i64,
    reprinted: i64,
    /// A credit waiting for its print (V-5); absent in states stored before it existed.
    #[serde(default)]
    early: Option<Box<EarlyDto>>,
    facts: Vec<u128>,
    answered: Vec<AnsweredDto>,
}

/// The stored name of a voucher status (the same as its wire name).
fn status_of(name: &str) -> Result<&'static str, StoreError> {
    [
        "unissued", "issued", "held", "redeemed", "expired", "voided",
    ]
    .into_iter()
    .find(|n| *n == name)
    .ok_or_else(|| unknown("voucher status", name))
}

fn note_to_dto(n: &VoucherNote) -> NoteDto {
    NoteDto {
        op: n.op.name().into(),
        party: (&n.party).into(),
        tx: n.tx.as_ref().map(TxId::to_string),
        amount: n.amount,
        refused: n.refused.as_ref().map(DomainErrorDto::from),
        status: n.status.into(),
        voucher: n.voucher.as_ref().map(|(a, h)| (*a, h.to_string())),
        cause: n.cause.0,
        time: n.time.0,
    }
}

fn note_from_dto(d: NoteDto) -> Result<VoucherNote, StoreError> {
    Ok(VoucherNote {
        op: VoucherOpKind::from_name(&d.op).ok_or_else(|| unknown("voucher op", &d.op))?,
        party: d.party.try_into()?,
        tx: d.tx.map(|t| id!(TxId, t)).transpose()?,
        amount: d.amount,
        refused: d.refused.map(DomainError::try_from).transpose()?,
        status: status_of(&d.status)?,
        voucher: d
            .voucher
            .map(|(a, h)| Ok::<_, StoreError>((a, id!(HallId, h)?)))
            .transpose()?,
        cause: EventId(d.cause),
        time: Timestamp(d.time),
    })
}

impl From<&VoucherState> for VoucherDto {
    fn from(v: &VoucherState) -> Self {
        let status = match &v.status {
            VoucherStatus::Unissued | VoucherStatus::Issued => StatusDto {
                name: v.status.name().into(),
                by: None,
                at: None,
                reason: None,
            },
            VoucherStatus::Held { by, until: at } | VoucherStatus::Redeemed { by, at } => {
                StatusDto {
                    name: v.status.name().into(),
                    by: Some(by.into()),
                    at: Some(at.0),
                    reason: None,
                }
            }
            VoucherStatus::Expired { at } => StatusDto {
                name: v.status.name().into(),
                by: None,
                at: Some(at.0),
                reason: None,
            },
            VoucherStatus::Voided { at, reason } => StatusDto {
                name: v.status.name().into(),
                by: None,
                at: Some(at.0),
                reason: Some(reason.clone()),
            },
        };
        VoucherDto {
            number: v.number.to_string(),
            currency: v.currency.to_string(),
            issue: v.issue.as_ref().map(|i| IssueDto {
                amount: i.amount,
                hall: i.hall.to_string(),
                by: (&i.by).into(),
                at: i.at.0,
                expires: i.expires.map(|t| t.0),
                cause: i.cause.0,
            }),
            status,
            unbacked: v.unbacked,
            reprinted: v.reprinted,
            early: v.early.as_ref().map(|e| {
                Box::new(EarlyDto {
                    machine: e.machine.to_string(),
                    amount: e.amount,
                    at: e.at.0,
                })
            }),
            facts: v.facts.iter().map(|e| e.0).collect(),
            answered: v
                .answered
                .iter()
                .map(|a| {
                    let (amount, reason) = match &a.op {
                        VoucherOp::Issue(x) | VoucherOp::Redeem(x) => (Some(x.minor()), None),
                        VoucherOp::Void(r) => (None, Some(r.clone())),
                        VoucherOp::Commit | VoucherOp::Cancel => (None, None),
                    };
                    AnsweredDto {
                        party: (&a.party).into(),
                        tx: a.tx.to_string(),
                        op: a.op.kind().name().into(),
                        amount,
                        reason,
                        currency: a.currency.to_string(),
                        note: note_to_dto(&a.note),
                    }
                })
                .collect(),
        }
    }
}

impl TryFrom<VoucherDto> for VoucherState {
    type Error = StoreError;

    fn try_from(d: VoucherDto) -> Result<Self, StoreError> {
        let number = ValidationNo::new(&d.number).map_err(|e| bad("validation number", e))?;
        let at = |t: Option<i64>| {
            t.map(Timestamp)
                .ok_or_else(|| bad("voucher status", "no time"))
        };
        let by = |p: Option<PartyDto>| -> Result<Party, StoreError> {
            p.ok_or_else(|| bad("voucher status", "no party"))?
                .try_into()
        };
        let s = d.status;
        let status = match status_of(&s.name)? {
            "unissued" => VoucherStatus::Unissued,
            "issued" => VoucherStatus::Issued,
            "held" => VoucherStatus::Held {
                by: by(s.by)?,
                until: at(s.at)?,
            },
            "redeemed" => VoucherStatus::Redeemed {
                by: by(s.by)?,
                at: at(s.at)?,
            },
            "expired" => VoucherStatus::Expired { at: at(s.at)? },
            _ => VoucherStatus::Voided {
                at: at(s.at)?,
                reason: s.reason.unwrap_or_default(),
            },
        };
        let issue = d
            .issue
            .map(|i| -> Result<Issue, StoreError> {
                Ok(Issue {
                    amount: i.amount,
                    hall: id!(HallId, i.hall)?,
                    by: i.by.try_into()?,
                    at: Timestamp(i.at),
                    expires: i.expires.map(Timestamp),
                    cause: EventId(i.cause),
                })
            })
            .transpose()?;
        let answered = d
            .answered
            .into_iter()
            .map(|a| -> Result<Answered, StoreError> {
                let amt = || {
                    Amount::new(a.amount.unwrap_or_default())
                        .map_err(|e| bad("voucher command amount", e))
                };
                let op = match VoucherOpKind::from_name(&a.op) {
                    Some(VoucherOpKind::Issue) => VoucherOp::Issue(amt()?),
                    Some(VoucherOpKind::Redeem) => VoucherOp::Redeem(amt()?),
                    Some(VoucherOpKind::Commit) => VoucherOp::Commit,
                    Some(VoucherOpKind::Cancel) => VoucherOp::Cancel,
                    Some(VoucherOpKind::Void) => VoucherOp::Void(a.reason.unwrap_or_default()),
                    _ => return Err(unknown("voucher command", &a.op)),
                };
                Ok(Answered {
                    party: a.party.try_into()?,
                    tx: id!(TxId, a.tx)?,
                    op,
                    currency: currency(&a.currency)?,
                    note: note_from_dto(a.note)?,
                })
            })
            .collect::<Result<VecDeque<_>, _>>()?;
        Ok(VoucherState {
            number,
            currency: currency(&d.currency)?,
            issue,
            status,
            unbacked: d.unbacked,
            reprinted: d.reprinted,
            early: d
                .early
                .map(|e| {
                    Ok::<_, StoreError>(EarlyCredit {
                        machine: id!(MachineId, e.machine)?,
                        amount: e.amount,
                        at: Timestamp(e.at),
                    })
                })
                .transpose()?,
            facts: d.facts.into_iter().map(EventId).collect(),
            answered,
        })
    }
}
