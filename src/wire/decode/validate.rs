//! Validation: a decoded [`RawEnvelope`] to a domain [`Input`], the same code whichever
//! decoder (or an [`InputEnvelope`](crate::wire::InputEnvelope) built in process) filled it.
//! Every error names the field and the value.

use pitboss_actors::domain::bonus::WAGERING_MAX;
use pitboss_actors::domain::desk::{DeskCommand, DeskMeta, DeskOp, CASHIER_MAX};
use pitboss_actors::domain::limits::{DepositPeriod, LimitKind};
use pitboss_actors::domain::machine::{
    CashInKind, CashOutKind, EventMeta, MachineCommand, MachineTransfer, MeterReport, PromoCredit,
    SignificantEvent,
};
use pitboss_actors::domain::transfer::{CreditType, Direction};
use pitboss_actors::domain::voucher::{Party, VoucherCommand, VoucherMeta, VoucherOp};
use pitboss_actors::domain::wallet::{WalletCommand, WalletMeta, WalletOp};
use pitboss_actors::domain::{
    Amount, AttendantId, Currency, EventId, HallId, HandpayKind, KycStatus, MachineId, PlayerId,
    PoolId, ReportedMeter, RoundId, ServerId, SnapshotReason, Timestamp, TxId, ValidationNo,
};
use pitboss_actors::shell::Input;

use super::raw::{
    RawDesk, RawEnvelope, RawInt, RawMeters, RawMoney, RawPayload, RawStr, RawVoucher,
};
use crate::wire::{input_version_supported, WireError};

/// The text of a string field, or an error naming the field and what came instead.
fn text<'s>(field: &'static str, v: &'s RawStr<'_>) -> Result<&'s str, WireError> {
    match v {
        RawStr::Str(s) => Ok(s),
        RawStr::Other(what) => Err(WireError::Schema(format!(
            "`{field}` must be a string, got {what}"
        ))),
    }
}

/// The value of an integer field, or an error naming the field, its range and the value.
fn int<T: TryFrom<i128>>(
    field: &'static str,
    range: &'static str,
    v: RawInt,
) -> Result<T, WireError> {
    match v {
        RawInt::Int(i) => T::try_from(i).map_err(|_| {
            WireError::Schema(format!("`{field}` must be an integer in {range}, got {i}"))
        }),
        RawInt::Other(what) => Err(WireError::Schema(format!(
            "`{field}` must be an integer in {range}, got {what}"
        ))),
    }
}

const U8: &str = "0..=255";
const U32: &str = "0..=4294967295";
const U64: &str = "0..=18446744073709551615";
const SESSION_MINUTES: &str = "1..=1440 (a minute to a day)";
/// The latest time an event may carry: 9999-12-31T23:59:59.999Z, in ms since the epoch
/// (RULES.md E-1). Times before the epoch are refused too: no machine or server plays
/// before 1970, and a bound keeps the time arithmetic (windows, days, expiries) in range.
pub const TIME_MS_MAX: i64 = 253_402_300_799_999;
const TIME: &str = "0..=253402300799999 (1970 to 9999, ms since the Unix epoch)";

/// A time field: ms since the Unix epoch, within [`TIME_MS_MAX`].
/// The range of a bonus award's wagering multiple (RULES.md W-12).
const WAGERING: &str = "0..=100";

fn time_ms(field: &'static str, v: RawInt) -> Result<Timestamp, WireError> {
    let t: i64 = int(field, TIME, v)?;
    if !(0..=TIME_MS_MAX).contains(&t) {
        return Err(WireError::Schema(format!(
            "`{field}` must be an integer in {TIME}, got {t}"
        )));
    }
    Ok(Timestamp(t))
}

/// Validates a decoded envelope into a domain input.
pub(super) fn validate(env: RawEnvelope<'_>) -> Result<Input, WireError> {
    let version = match env.schema_version {
        RawInt::Int(v) => v,
        RawInt::Other(what) => {
            return Err(WireError::Schema(format!(
                "`schema_version` must be an integer, got {what}"
            )));
        }
    };
    if !input_version_supported(version) {
        return Err(WireError::UnsupportedVersion(version));
    }
    let event_id = parse_event_id(text("event_id", &env.event_id)?)?;
    let seq: u64 = int("seq", U64, env.seq)?;
    let time = time_ms("event_time", env.event_time)?;
    let epoch: u64 = env
        .epoch
        .map(|e| int("epoch", U64, e))
        .transpose()?
        .unwrap_or(0);
    let receive_time = env
        .receive_time
        .map(|t| time_ms("receive_time", t))
        .transpose()?;
    // RULES.md E-2: a version 1 event keeps the meaning of its fields; what version 2 added
    // (validated above like any field) means nothing in it.
    let v2 = version >= 2;
    let (epoch, receive_time) = if v2 { (epoch, receive_time) } else { (0, None) };
    let hall = HallId::new(text("source.hall", &env.source.hall)?)?;
    let kind = env.payload.kind();
    let machine = env
        .source
        .machine
        .as_ref()
        .map(|m| text("source.machine", m))
        .transpose()?;
    let server = env
        .source
        .server
        .as_ref()
        .map(|s| text("source.server", s))
        .transpose()?;
    match (machine, server) {
        (Some(m), Some(s)) => Err(WireError::InvalidSource(format!(
            "source names both machine {m:?} and server {s:?}; exactly one is allowed"
        ))),
        (None, None) => Err(WireError::InvalidSource(
            "source names neither `machine` nor `server`".to_owned(),
        )),
        (Some(m), None) if env.payload.is_voucher_command() => {
            if !matches!(
                env.payload,
                RawPayload::VoucherRedeem(_) | RawPayload::VoucherCancel(_)
            ) {
                return Err(WireError::InvalidSource(format!(
                    "a `{kind}` command must come from a cash desk or back office (`source.server`), not from machine {m:?}"
                )));
            }
            let party = Party::Machine(MachineId::new(m)?);
            voucher_command(party, event_id, time, hall, env.payload)
        }
        (None, Some(s)) if env.payload.is_voucher_command() => {
            let party = Party::Desk(ServerId::new(s)?);
            voucher_command(party, event_id, time, hall, env.payload)
        }
        (Some(m), None) if env.payload.is_desk_command() => Err(WireError::InvalidSource(format!(
            "a `{kind}` command must come from a cash desk (`source.server`), not from machine {m:?}"
        ))),
        (None, Some(s)) if env.payload.is_desk_command() => {
            let desk = ServerId::new(s)?;
            desk_command(desk, event_id, time, hall, env.payload)
        }
        (Some(m), None) => {
            if env.payload.is_wallet_command() {
                return Err(WireError::InvalidSource(format!(
                    "a `{kind}` command must come from a game server (`source.server`), not from machine {m:?}"
                )));
            }
            let machine = MachineId::new(m)?;
            let (cmd, currency) = machine_command(v2, env.payload)?;
            Ok(Input::Machine {
                machine,
                hall,
                meta: EventMeta {
                    event_id,
                    epoch,
                    seq,
                    time,
                    receive_time,
                },
                cmd,
                currency,
            })
        }
        (None, Some(s)) => {
            if !env.payload.is_wallet_command() {
                return Err(WireError::InvalidSource(format!(
                    "a `{kind}` event must come from a machine (`source.machine`), not from server {s:?}"
                )));
            }
            let provider = ServerId::new(s)?;
            let (player, cmd, currency) = wallet_command(provider, version, time, env.payload)?;
            Ok(Input::Wallet {
                player,
                meta: WalletMeta {
                    event_id,
                    time,
                    hall,
                },
                cmd,
                currency,
            })
        }
    }
}

fn parse_event_id(s: &str) -> Result<EventId, WireError> {
    // Only the hyphenated form (the one length-36 form `try_parse` knows), so that one
    // event has one text.
    match uuid::Uuid::try_parse(s) {
        Ok(id) if s.len() == uuid::fmt::Hyphenated::LENGTH => Ok(EventId(id.as_u128())),
        _ => Err(WireError::InvalidEventId(s.chars().take(64).collect())),
    }
}

fn amount(raw: RawInt) -> Result<Amount, WireError> {
    match raw {
        RawInt::Int(v) => {
            let minor = i64::try_from(v).map_err(|_| WireError::AmountOutOfRange(v))?;
            Ok(Amount::new(minor)?)
        }
        RawInt::Other(what) => Err(WireError::Schema(format!(
            "`amount` must be an integer number of minor units, got {what}"
        ))),
    }
}

fn currency(raw: &RawStr<'_>) -> Result<Currency, WireError> {
    Ok(Currency::new(text("currency", raw)?)?)
}

fn money(m: &RawMoney<'_>) -> Result<(Amount, Option<Currency>), WireError> {
    Ok((amount(m.amount)?, Some(currency(&m.currency)?)))
}

fn cash_in_kind(kind: &RawStr<'_>) -> Result<CashInKind, WireError> {
    match text("kind", kind)? {
        "bill" => Ok(CashInKind::Bill),
        "ticket" => Ok(CashInKind::Ticket(None)),
        "cashless" => Ok(CashInKind::Cashless),
        other => Err(WireError::Schema(format!(
            "unknown cash_in kind {:?} (expected bill, ticket or cashless)",
            truncate(other)
        ))),
    }
}

fn cash_out_kind(kind: &RawStr<'_>) -> Result<CashOutKind, WireError> {
    match text("kind", kind)? {
        "ticket" => Ok(CashOutKind::Ticket(None)),
        "cashless" => Ok(CashOutKind::Cashless),
        "handpay" => Ok(CashOutKind::Handpay),
        other => Err(WireError::Schema(format!(
            "unknown cash_out kind {:?} (expected ticket, cashless or handpay)",
            truncate(other)
        ))),
    }
}

/// A ticket's validation number, if the cash movement carries one (RULES.md V-1).
fn ticket(raw: &Option<RawStr<'_>>) -> Result<Option<ValidationNo>, WireError> {
    raw.as_ref()
        .map(|v| Ok(ValidationNo::new(text("validation", v)?)?))
        .transpose()
}

/// A credit type on a cash-in that is not cashless (RULES.md M-13; on other kinds, like any
/// field a kind does not have, it is ignored).
fn credit_type_off_cashless() -> WireError {
    WireError::Schema("`credit_type` is only for a cash_in of kind cashless (RULES.md M-13)".into())
}

/// A validation number on a cash movement that is not a ticket (RULES.md V-1).
fn validation_off_ticket(kind: &str) -> WireError {
    WireError::Domain(pitboss_actors::domain::DomainError::InvalidId {
        what: pitboss_actors::domain::IdKind::Validation,
        value: format!("a validation number on a {kind} that is not a ticket"),
    })
}

/// A voucher command (RULES.md V-2..V-6) from `party`.
fn voucher_command(
    party: Party,
    event_id: EventId,
    time: Timestamp,
    hall: HallId,
    p: RawPayload<'_>,
) -> Result<Input, WireError> {
    let priced = |v: &RawVoucher<'_>| -> Result<(Amount, Currency), WireError> {
        let a = v
            .amount
            .ok_or_else(|| WireError::MissingField("amount".into()))?;
        let c = v
            .currency
            .as_ref()
            .ok_or_else(|| WireError::MissingField("currency".into()))?;
        Ok((amount(a)?, currency(c)?))
    };
    let (v, op, cur) = match p {
        RawPayload::VoucherIssue(v) => {
            let (a, c) = priced(&v)?;
            (v, VoucherOp::Issue(a), Some(c))
        }
        RawPayload::VoucherRedeem(v) => {
            let (a, c) = priced(&v)?;
            (v, VoucherOp::Redeem(a), Some(c))
        }
        RawPayload::VoucherCommit(v) => (v, VoucherOp::Commit, None),
        RawPayload::VoucherCancel(v) => (v, VoucherOp::Cancel, None),
        RawPayload::VoucherVoid(v) => {
            let reason = v
                .reason
                .as_ref()
                .ok_or_else(|| WireError::MissingField("reason".into()))?;
            let reason = text("reason", reason)?;
            if reason.trim().is_empty() || reason.len() > VOID_REASON_LEN_MAX {
                return Err(WireError::Schema(format!(
                    "`reason` must be 1 to {VOID_REASON_LEN_MAX} bytes of text, got {} bytes",
                    reason.len()
                )));
            }
            let op = VoucherOp::Void(reason.to_owned());
            (v, op, None)
        }
        other => {
            return Err(WireError::InvalidSource(format!(
                "a `{}` event is not a voucher command",
                other.kind()
            )))
        }
    };
    let validation = ValidationNo::new(text("validation", &v.validation)?)?;
    let tx = TxId::new(text("tx", &v.tx)?)?;
    Ok(Input::Voucher {
        validation,
        meta: VoucherMeta {
            event_id,
            time,
            hall,
        },
        cmd: VoucherCommand { party, tx, op },
        currency: cur,
    })
}

/// A cash count (a float, counted cash): minor units, 0 to the bounds of an amount.
fn cash_count(field: &'static str, raw: Option<RawInt>) -> Result<i64, WireError> {
    match raw.ok_or_else(|| WireError::MissingField(field.into()))? {
        RawInt::Int(0) => Ok(0),
        RawInt::Int(v) => {
            let minor = i64::try_from(v).map_err(|_| WireError::AmountOutOfRange(v))?;
            Ok(Amount::new(minor)?.minor())
        }
        RawInt::Other(what) => Err(WireError::Schema(format!(
            "`{field}` must be an integer number of minor units, got {what}"
        ))),
    }
}

/// A desk's shift command (RULES.md D-1, D-2, D-4).
fn desk_command(
    desk: ServerId,
    event_id: EventId,
    time: Timestamp,
    hall: HallId,
    p: RawPayload<'_>,
) -> Result<Input, WireError> {
    let priced = |d: &RawDesk<'_>| {
        amount(
            d.amount
                .ok_or_else(|| WireError::MissingField("amount".into()))?,
        )
    };
    let (d, op) = match p {
        RawPayload::ShiftOpen(d) => {
            let cashier = d
                .cashier
                .as_ref()
                .ok_or_else(|| WireError::MissingField("cashier".into()))?;
            let cashier = text("cashier", cashier)?;
            if cashier.trim().is_empty() || cashier.len() > CASHIER_MAX {
                return Err(WireError::Schema(format!(
                    "`cashier` must be 1 to {CASHIER_MAX} bytes of text, got {} bytes",
                    cashier.len()
                )));
            }
            let op = DeskOp::Open {
                cashier: cashier.to_owned(),
                float: cash_count("float", d.float)?,
            };
            (d, op)
        }
        RawPayload::DeskFill(d) => {
            let a = priced(&d)?;
            (d, DeskOp::Fill(a))
        }
        RawPayload::DeskCredit(d) => {
            let a = priced(&d)?;
            (d, DeskOp::Credit(a))
        }
        RawPayload::ShiftClose(d) => {
            let counted = cash_count("counted", d.counted)?;
            (d, DeskOp::Close { counted })
        }
        other => {
            return Err(WireError::InvalidSource(format!(
                "a `{}` event is not a desk command",
                other.kind()
            )))
        }
    };
    let tx = TxId::new(text("tx", &d.tx)?)?;
    Ok(Input::Desk {
        desk,
        meta: DeskMeta {
            event_id,
            time,
            hall,
        },
        cmd: DeskCommand { tx, op },
        currency: currency(&d.currency)?,
    })
}

/// The longest reason a void may give, in bytes.
pub const VOID_REASON_LEN_MAX: usize = 256;

fn snapshot_reason(reason: &RawStr<'_>) -> Result<SnapshotReason, WireError> {
    let text = text("reason", reason)?;
    SnapshotReason::from_name(text).ok_or_else(|| {
        WireError::Schema(format!(
            "unknown meter_snapshot reason {:?} (expected periodic, door_close, day_end or request)",
            truncate(text)
        ))
    })
}

/// A snapshot's meters (RULES.md M-8): each an integer from 0 to 2^63-1.
fn meters(raw: &RawMeters) -> Result<MeterReport, WireError> {
    let mut report = MeterReport::default();
    for (meter, v) in ReportedMeter::ALL.iter().zip(raw.values()) {
        let value = match v {
            RawInt::Int(i) if i >= 0 && i <= i128::from(i64::MAX) => i as i64,
            RawInt::Int(i) => {
                return Err(WireError::Schema(format!(
                    "`meters.{meter}` must be an integer in 0..={}, got {i}",
                    i64::MAX
                )))
            }
            RawInt::Other(what) => {
                return Err(WireError::Schema(format!(
                    "`meters.{meter}` must be an integer in 0..={}, got {what}",
                    i64::MAX
                )))
            }
        };
        report.set(*meter, value);
    }
    Ok(report)
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(32) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn machine_command(
    v2: bool,
    p: RawPayload<'_>,
) -> Result<(MachineCommand, Option<Currency>), WireError> {
    use MachineCommand as C;
    use SignificantEvent as S;
    Ok(match p {
        RawPayload::Bet(m) => {
            let (a, c) = money(&m)?;
            (C::Bet(a), c)
        }
        RawPayload::Win(m) => {
            let (a, c) = money(&m)?;
            (C::Win(a), c)
        }
        RawPayload::GameEnd(_) => (C::GameEnd, None),
        RawPayload::CashIn(c) => {
            let kind = match (cash_in_kind(&c.kind)?, ticket(&c.validation)?) {
                (CashInKind::Ticket(_), v) => CashInKind::Ticket(v),
                (k, None) => k,
                (_, Some(_)) => return Err(validation_off_ticket("cash_in")),
            };
            // RULES.md E-2: version 1 has no credit type (every transfer is cashable).
            let kind = match (kind, c.credit_type.as_ref().filter(|_| v2)) {
                (k, None) => k,
                (CashInKind::Cashless, Some(t)) => match text("credit_type", t)? {
                    "cashable" => CashInKind::Cashless,
                    "restricted" => CashInKind::Promo(PromoCredit::Restricted),
                    "nonrestricted" => CashInKind::Promo(PromoCredit::NonRestricted),
                    other => {
                        return Err(WireError::Schema(format!(
                            "unknown credit_type {:?} (expected cashable, restricted or \
                             nonrestricted)",
                            truncate(other)
                        )))
                    }
                },
                (_, Some(_)) => return Err(credit_type_off_cashless()),
            };
            (
                C::CashIn(kind, amount(c.amount)?),
                Some(currency(&c.currency)?),
            )
        }
        RawPayload::CashOut(c) => {
            let kind = match (cash_out_kind(&c.kind)?, ticket(&c.validation)?) {
                (CashOutKind::Ticket(_), v) => CashOutKind::Ticket(v),
                (k, None) => k,
                (_, Some(_)) => return Err(validation_off_ticket("cash_out")),
            };

            (
                C::CashOut(kind, amount(c.amount)?),
                Some(currency(&c.currency)?),
            )
        }
        RawPayload::CardIn { player } => {
            (C::CardIn(PlayerId::new(text("player", &player)?)?), None)
        }
        RawPayload::CardOut(_) => (C::CardOut, None),
        RawPayload::JackpotHit {
            pool,
            level,
            amount: paid,
            currency: cur,
        } => {
            let pool = PoolId::new(text("pool", &pool)?)?;
            let level = int("level", U8, level)?;
            // Version 1 has no amount on a hit: the level's amount is paid (P-3).
            let (paid, cur) = if v2 { (paid, cur) } else { (None, None) };
            match (paid, cur) {
                (None, None) => (
                    C::JackpotHit {
                        pool,
                        level,
                        amount: None,
                    },
                    None,
                ),
                (Some(a), Some(c)) => (
                    C::JackpotHit {
                        pool,
                        level,
                        amount: Some(amount(a)?),
                    },
                    Some(currency(&c)?),
                ),
                (Some(_), None) => return Err(WireError::MissingField("currency".into())),
                (None, Some(_)) => return Err(WireError::MissingField("amount".into())),
            }
        }
        RawPayload::DoorOpen(_) => (C::Significant(S::DoorOpen), None),
        RawPayload::DoorClose(_) => (C::Significant(S::DoorClose), None),
        RawPayload::Tilt { code } => (C::Significant(S::Tilt(int("code", U32, code)?)), None),
        RawPayload::TiltClear(_) => (C::Significant(S::TiltClear), None),
        RawPayload::CommsLost(_) => (C::Significant(S::CommsLost), None),
        RawPayload::CommsRestored(_) => (C::Significant(S::CommsRestored), None),
        RawPayload::PowerOff(_) => (C::Significant(S::PowerOff), None),
        RawPayload::PowerOn(_) => (C::Significant(S::PowerOn), None),
        RawPayload::HandpayPending(c) => {
            let kind = match text("kind", &c.kind)? {
                "cancelled_credits" => HandpayKind::CancelledCredits,
                "jackpot" => HandpayKind::Jackpot,
                other => {
                    return Err(WireError::Schema(format!(
                        "unknown handpay_pending kind {:?} (expected cancelled_credits or jackpot)",
                        truncate(other)
                    )))
                }
            };
            (
                C::HandpayPending {
                    kind,
                    amount: amount(c.amount)?,
                },
                Some(currency(&c.currency)?),
            )
        }
        RawPayload::HandpayReset { attendant } => (
            C::HandpayReset {
                attendant: AttendantId::new(text("attendant", &attendant)?)?,
            },
            None,
        ),
        RawPayload::MeterSnapshot {
            reason,
            currency: cur,
            meters: m,
        } => (
            C::MeterSnapshot {
                reason: snapshot_reason(&reason)?,
                meters: Box::new(meters(&m)?),
            },
            Some(currency(&cur)?),
        ),
        RawPayload::CashlessTransfer(t) => {
            let name = text("direction", &t.direction)?;
            let direction = Direction::from_name(name).ok_or_else(|| {
                WireError::Schema(format!(
                    "unknown cashless_transfer direction {:?} (expected to_machine or from_machine)",
                    truncate(name)
                ))
            })?;
            let credit = transfer_credit(
                v2,
                t.credit_type.as_ref(),
                direction == Direction::ToMachine,
            )?;
            (
                C::Transfer(Box::new(MachineTransfer {
                    direction,
                    transfer: TxId::new(text("transfer", &t.transfer)?)?,
                    player: PlayerId::new(text("player", &t.player)?)?,
                    amount: amount(t.amount)?,
                    credit,
                })),
                Some(currency(&t.currency)?),
            )
        }
        other => {
            // `validate` routes wallet commands elsewhere.
            return Err(WireError::InvalidSource(format!(
                "a `{}` command must come from a game server",
                other.kind()
            )));
        }
    })
}

/// A wallet command's `round` (RULES.md E-2): in version 2 an id like the others; version 1
/// has no such field, so there it means nothing (as `epoch` means 0 and `receive_time`
/// nothing): it is not validated as an id and not carried. Either way it must be a string if
/// it is there, like every field the envelope's owned form types.
fn round(version: i128, raw: Option<&RawStr<'_>>) -> Result<Option<RoundId>, WireError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let s = text("round", raw)?;
    if version < 2 {
        return Ok(None);
    }
    Ok(Some(RoundId::new(s)?))
}

fn kyc_status(status: &RawStr<'_>) -> Result<KycStatus, WireError> {
    let text = text("status", status)?;
    KycStatus::from_name(text).ok_or_else(|| {
        WireError::Schema(format!(
            "unknown kyc_status status {:?} (expected unverified, verified or blocked)",
            truncate(text)
        ))
    })
}

/// A transfer's `credit_type` (RULES.md W-12): version 2 only (version 1 transfers are
/// cashable, E-2); `restricted` only to a machine.
fn transfer_credit(
    v2: bool,
    raw: Option<&RawStr<'_>>,
    to_machine: bool,
) -> Result<CreditType, WireError> {
    let Some(raw) = raw.filter(|_| v2) else {
        return Ok(CreditType::Cashable);
    };
    let name = text("credit_type", raw)?;
    match CreditType::from_name(name) {
        Some(CreditType::Restricted) if !to_machine => Err(WireError::Schema(
            "a `from_machine` transfer is `cashable`: restricted credits never leave a machine \
             (RULES.md M-13, W-12)"
                .into(),
        )),
        Some(c) => Ok(c),
        None => Err(WireError::Schema(format!(
            "unknown transfer credit_type {:?} (expected cashable or restricted: a wallet \
             holds cash and bonus, RULES.md W-12)",
            truncate(name)
        ))),
    }
}

fn wallet_command(
    provider: ServerId,
    version: i128,
    time: Timestamp,
    p: RawPayload<'_>,
) -> Result<(PlayerId, WalletCommand, Option<Currency>), WireError> {
    let (kind, name) = match p {
        RawPayload::LossLimit(_) => (LimitKind::Loss, "loss_limit"),
        _ => (LimitKind::Deposit, "deposit_limit"),
    };
    let (player, tx, op, cur, round_raw) = match p {
        RawPayload::Deposit(w) => (
            w.player,
            w.tx,
            WalletOp::Deposit(amount(w.amount)?),
            w.currency,
            w.round,
        ),
        RawPayload::Withdraw(w) => (
            w.player,
            w.tx,
            WalletOp::Withdraw(amount(w.amount)?),
            w.currency,
            w.round,
        ),
        RawPayload::WalletBet(w) => (
            w.player,
            w.tx,
            WalletOp::Bet(amount(w.amount)?),
            w.currency,
            w.round,
        ),
        RawPayload::WalletWin(w) => {
            let bet_tx = match &w.bet_tx {
                Some(b) => Some(TxId::new(text("bet_tx", b)?)?),
                None => None,
            };
            let op = WalletOp::Win {
                amount: amount(w.amount)?,
                bet_tx,
            };
            (w.player, w.tx, op, w.currency, w.round)
        }
        RawPayload::Rollback(r) => {
            let op = WalletOp::Rollback {
                bet_tx: TxId::new(text("bet_tx", &r.bet_tx)?)?,
            };
            (r.player, r.tx, op, r.currency, r.round)
        }
        RawPayload::KycStatus(k) => {
            // No amount, no currency, no round: the wallet's own currency (W-8).
            let player = PlayerId::new(text("player", &k.player)?)?;
            let tx = TxId::new(text("tx", &k.tx)?)?;
            let op = WalletOp::Kyc(kyc_status(&k.status)?);
            let cmd = WalletCommand {
                provider,
                tx,
                op,
                round: None,
            };
            return Ok((player, cmd, None));
        }
        RawPayload::DepositLimit(l) | RawPayload::LossLimit(l) => {
            let player = PlayerId::new(text("player", &l.player)?)?;
            let tx = TxId::new(text("tx", &l.tx)?)?;
            let period_text = text("period", &l.period)?;
            let period = DepositPeriod::from_name(period_text).ok_or_else(|| {
                WireError::Schema(format!(
                    "unknown {name} period {:?} (expected day, week or month)",
                    truncate(period_text)
                ))
            })?;
            // W-9: an amount needs its currency; no amount removes the limit.
            let (amount, cur) = match (l.amount, &l.currency) {
                (None, _) => (None, None),
                (Some(_), None) => return Err(WireError::MissingField("currency".into())),
                (Some(a), Some(c)) => (Some(amount(a)?), Some(currency(c)?)),
            };
            let op = WalletOp::Limit {
                kind,
                period,
                amount,
            };
            let cmd = WalletCommand {
                provider,
                tx,
                op,
                round: None,
            };
            return Ok((player, cmd, cur));
        }
        RawPayload::SessionLimit(x) => {
            let player = PlayerId::new(text("player", &x.player)?)?;
            let tx = TxId::new(text("tx", &x.tx)?)?;
            // W-9: 1 minute to a day; no `minutes` removes the limit.
            let minutes = x
                .minutes
                .map(|m| {
                    int::<u32>("minutes", SESSION_MINUTES, m)
                        .ok()
                        .filter(|m| (1..=1_440).contains(m))
                        .ok_or_else(|| {
                            WireError::Schema(format!(
                                "`minutes` must be an integer in {SESSION_MINUTES}"
                            ))
                        })
                })
                .transpose()?;
            let cmd = WalletCommand {
                provider,
                tx,
                op: WalletOp::SessionLimit { minutes },
                round: None,
            };
            return Ok((player, cmd, None));
        }
        RawPayload::SelfExclusion(x) => {
            let player = PlayerId::new(text("player", &x.player)?)?;
            let tx = TxId::new(text("tx", &x.tx)?)?;
            let until = time_ms("until", x.until)?;
            let cmd = WalletCommand {
                provider,
                tx,
                op: WalletOp::SelfExclude { until },
                round: None,
            };
            return Ok((player, cmd, None));
        }
        RawPayload::TransferRequest(t) => {
            let player = PlayerId::new(text("player", &t.player)?)?;
            let tx = TxId::new(text("tx", &t.tx)?)?;
            let op = WalletOp::TransferRequest {
                machine: MachineId::new(text("machine", &t.machine)?)?,
                amount: amount(t.amount)?,
                credit: transfer_credit(version >= 2, t.credit_type.as_ref(), true)?,
            };
            let cur = currency(&t.currency)?;
            let cmd = WalletCommand {
                provider,
                tx,
                op,
                round: None,
            };
            return Ok((player, cmd, Some(cur)));
        }
        RawPayload::BonusAward(b) => {
            let player = PlayerId::new(text("player", &b.player)?)?;
            let tx = TxId::new(text("tx", &b.tx)?)?;
            let wagering = int::<u32>("wagering", WAGERING, b.wagering)
                .ok()
                .filter(|w| *w <= WAGERING_MAX)
                .ok_or_else(|| {
                    WireError::Schema(format!("`wagering` must be an integer in {WAGERING}"))
                })?;
            let expires = time_ms("expires_at", b.expires_at)?;
            if expires <= time {
                return Err(WireError::Schema(format!(
                    "`expires_at` ({}) must be after the event's time ({}): the bonus would \
                     expire as it is awarded (RULES.md W-12)",
                    expires.0, time.0
                )));
            }
            let op = WalletOp::BonusAward {
                amount: amount(b.amount)?,
                wagering,
                expires,
            };
            let cur = currency(&b.currency)?;
            let cmd = WalletCommand {
                provider,
                tx,
                op,
                round: None,
            };
            return Ok((player, cmd, Some(cur)));
        }
        RawPayload::TransferCancel(t) => {
            let player = PlayerId::new(text("player", &t.player)?)?;
            let tx = TxId::new(text("tx", &t.tx)?)?;
            let op = WalletOp::TransferCancel {
                transfer: TxId::new(text("transfer", &t.transfer)?)?,
            };
            let cmd = WalletCommand {
                provider,
                tx,
                op,
                round: None,
            };
            return Ok((player, cmd, None));
        }
        other => {
            // `validate` routes machine events elsewhere.
            return Err(WireError::InvalidSource(format!(
                "a `{}` event must come from a machine",
                other.kind()
            )));
        }
    };
    let player = PlayerId::new(text("player", &player)?)?;
    let tx = TxId::new(text("tx", &tx)?)?;
    let currency = currency(&cur)?;
    let round = round(version, round_raw.as_ref())?;
    Ok((
        player,
        WalletCommand {
            provider,
            tx,
            op,
            round,
        },
        Some(currency),
    ))
}
