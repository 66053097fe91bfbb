//! The consumer side of input events: bytes to a validated domain [`Input`].
//!
//! Decoding goes through private borrowed mirrors of the wire types: strings are slices of
//! the message, so decoding allocates nothing on success (the domain ids store up to 24 bytes
//! inline). Leaves are read leniently, as "an integer, a string, or the name of whatever came
//! instead", and checked in `validate`: that way every error names its field and value
//! (serde's own type errors do not say which field), and an amount beyond `i64` is reported
//! as an invalid amount rather than as a type error.

use std::borrow::Cow;
use std::fmt;

use pitboss_actors::domain::machine::{
    CashInKind, CashOutKind, EventMeta, MachineCommand, SignificantEvent,
};
use pitboss_actors::domain::wallet::{WalletCommand, WalletMeta, WalletOp};
use pitboss_actors::domain::{
    Amount, Currency, EventId, HallId, MachineId, PlayerId, PoolId, ServerId, Timestamp, TxId,
};
use pitboss_actors::shell::Input;
use serde::de::{self, Deserializer, IgnoredAny, Visitor};
use serde::Deserialize;

use super::input::{InputEnvelope, InputPayload};

mod fast;
use super::{scan, WireError, MESSAGE_BYTES_MAX, NESTING_DEPTH_MAX, SCHEMA_VERSION};

/// Decodes and validates one input message: the hot path of ingest.
///
/// Checks, in order: the size ([`MESSAGE_BYTES_MAX`]), that the bytes are one well-formed
/// MessagePack map, the shape of the event, `schema_version`, `event_id`, the source, then
/// every id, amount and currency of the payload. A message of another schema version is
/// reported as such even when the rest of it does not have the version 1 shape.
///
/// Never panics, whatever the bytes.
///
/// # Errors
///
/// A [`WireError`] naming the first problem found; [`WireError::code`] classifies it.
pub fn decode_input(bytes: &[u8]) -> Result<Input, WireError> {
    if bytes.len() > MESSAGE_BYTES_MAX {
        return Err(WireError::Oversize { len: bytes.len() });
    }
    match fast::read(bytes) {
        Some(raw) => validate(raw),
        None => decode_input_serde(bytes),
    }
}

/// [`decode_input`] without its fast path: the serde decoder alone. The fast path must give
/// the same answer for every message it accepts; tests compare the two.
#[doc(hidden)]
pub fn decode_input_serde(bytes: &[u8]) -> Result<Input, WireError> {
    if bytes.len() > MESSAGE_BYTES_MAX {
        return Err(WireError::Oversize { len: bytes.len() });
    }
    scan::check_one_map(bytes)?;
    let mut de = rmp_serde::Deserializer::from_read_ref(bytes);
    de.set_max_depth(NESTING_DEPTH_MAX);
    match RawEnvelope::deserialize(&mut de) {
        Ok(raw) => validate(raw),
        Err(e) => Err(version_first(bytes, WireError::from_rmp(e))),
    }
}

/// Whether the fast path accepts the bytes (tests).
#[doc(hidden)]
pub fn fast_path_accepts(bytes: &[u8]) -> bool {
    fast::read(bytes).is_some()
}

impl TryFrom<&InputEnvelope> for Input {
    type Error = WireError;

    /// Validates an envelope built in process, exactly as [`decode_input`] validates bytes.
    fn try_from(env: &InputEnvelope) -> Result<Self, WireError> {
        validate(RawEnvelope::borrow(env))
    }
}

/// When the bytes do not decode as a version 1 event, a `schema_version` other than 1 is the
/// better explanation: a later version may change any other field.
#[cold]
fn version_first(bytes: &[u8], err: WireError) -> WireError {
    #[derive(Deserialize)]
    struct VersionProbe {
        schema_version: Option<RawInt>,
    }
    let mut de = rmp_serde::Deserializer::from_read_ref(bytes);
    de.set_max_depth(NESTING_DEPTH_MAX);
    match VersionProbe::deserialize(&mut de) {
        Ok(VersionProbe {
            schema_version: Some(RawInt::Int(v)),
        }) if v != i128::from(SCHEMA_VERSION) => WireError::UnsupportedVersion(v),
        _ => err,
    }
}

/// A leaf that should be an integer: any MessagePack integer, signed or not, or the name of
/// what came instead (so the error can name the field).
#[derive(Clone, Copy, Debug)]
enum RawInt {
    Int(i128),
    Other(&'static str),
}

/// A leaf that should be a string, borrowed from the message, or the name of what came
/// instead.
#[derive(Clone, Debug)]
enum RawStr<'a> {
    Str(Cow<'a, str>),
    Other(&'static str),
}

/// Accepts any value and names it. Containers are skipped over; only strings and integers
/// are kept.
struct Leaf;

enum LeafValue<'de> {
    Int(i128),
    Str(Cow<'de, str>),
    Other(&'static str),
}

impl<'de> Visitor<'de> for Leaf {
    type Value = LeafValue<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an integer")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(LeafValue::Int(i128::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(LeafValue::Int(i128::from(v)))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(LeafValue::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(LeafValue::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(LeafValue::Other("a float"))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(LeafValue::Other("a boolean"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(LeafValue::Other("nil"))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(LeafValue::Other("nil"))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(Leaf)
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Self::Value, E> {
        // Also what the decoder hands over for a string that is not UTF-8.
        Ok(LeafValue::Other(
            "binary data (or a string that is not UTF-8)",
        ))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(LeafValue::Other("an array"))
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(LeafValue::Other("a map"))
    }
}

impl<'de> Deserialize<'de> for RawInt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match d.deserialize_any(Leaf)? {
            LeafValue::Int(v) => RawInt::Int(v),
            LeafValue::Str(_) => RawInt::Other("a string"),
            LeafValue::Other(what) => RawInt::Other(what),
        })
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RawStr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match d.deserialize_any(Leaf)? {
            LeafValue::Str(s) => RawStr::Str(s),
            LeafValue::Int(_) => RawStr::Other("an integer"),
            LeafValue::Other(what) => RawStr::Other(what),
        })
    }
}

impl<'a> From<&'a str> for RawStr<'a> {
    fn from(s: &'a str) -> Self {
        RawStr::Str(Cow::Borrowed(s))
    }
}

impl<'a> From<&'a String> for RawStr<'a> {
    fn from(s: &'a String) -> Self {
        RawStr::Str(Cow::Borrowed(s))
    }
}

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
const I64: &str = "-9223372036854775808..=9223372036854775807";

#[derive(Deserialize)]
struct RawEnvelope<'a> {
    #[serde(borrow)]
    event_id: RawStr<'a>,
    schema_version: RawInt,
    #[serde(borrow)]
    source: RawSource<'a>,
    seq: RawInt,
    event_time: RawInt,
    #[serde(borrow)]
    payload: RawPayload<'a>,
}

#[derive(Deserialize)]
struct RawSource<'a> {
    #[serde(borrow)]
    hall: RawStr<'a>,
    #[serde(borrow, default)]
    machine: Option<RawStr<'a>>,
    #[serde(borrow, default)]
    server: Option<RawStr<'a>>,
}

/// Amount and currency of a machine event.
#[derive(Deserialize)]
struct RawMoney<'a> {
    amount: RawInt,
    #[serde(borrow)]
    currency: RawStr<'a>,
}

/// Cash in or out: how, amount and currency.
#[derive(Deserialize)]
struct RawCash<'a> {
    #[serde(borrow)]
    kind: RawStr<'a>,
    amount: RawInt,
    #[serde(borrow)]
    currency: RawStr<'a>,
}

/// A wallet command's fields (`amount` is absent from a rollback, `bet_tx` optional on a win).
#[derive(Deserialize)]
struct RawWallet<'a> {
    #[serde(borrow)]
    player: RawStr<'a>,
    #[serde(borrow)]
    tx: RawStr<'a>,
    amount: RawInt,
    #[serde(borrow)]
    currency: RawStr<'a>,
    #[serde(borrow, default)]
    bet_tx: Option<RawStr<'a>>,
}

#[derive(Deserialize)]
struct RawRollback<'a> {
    #[serde(borrow)]
    player: RawStr<'a>,
    #[serde(borrow)]
    tx: RawStr<'a>,
    #[serde(borrow)]
    bet_tx: RawStr<'a>,
    #[serde(borrow)]
    currency: RawStr<'a>,
}

/// Fields of a kind that has none; any that are sent are ignored.
#[derive(Deserialize)]
struct Empty {}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum RawPayload<'a> {
    Bet(#[serde(borrow)] RawMoney<'a>),
    Win(#[serde(borrow)] RawMoney<'a>),
    GameEnd(Empty),
    CashIn(#[serde(borrow)] RawCash<'a>),
    CashOut(#[serde(borrow)] RawCash<'a>),
    CardIn {
        #[serde(borrow)]
        player: RawStr<'a>,
    },
    CardOut(Empty),
    JackpotHit {
        #[serde(borrow)]
        pool: RawStr<'a>,
        level: RawInt,
    },
    DoorOpen(Empty),
    DoorClose(Empty),
    Tilt {
        code: RawInt,
    },
    TiltClear(Empty),
    CommsLost(Empty),
    CommsRestored(Empty),
    Deposit(#[serde(borrow)] RawWallet<'a>),
    Withdraw(#[serde(borrow)] RawWallet<'a>),
    WalletBet(#[serde(borrow)] RawWallet<'a>),
    WalletWin(#[serde(borrow)] RawWallet<'a>),
    Rollback(#[serde(borrow)] RawRollback<'a>),
}

fn raw_int(v: impl Into<i128>) -> RawInt {
    RawInt::Int(v.into())
}

impl<'a> RawEnvelope<'a> {
    /// A view of an owned envelope, so both paths share one validation.
    fn borrow(env: &'a InputEnvelope) -> Self {
        use InputPayload as P;
        use RawPayload as R;
        let money = |amount: &i64, currency: &'a String| RawMoney {
            amount: raw_int(*amount),
            currency: currency.into(),
        };
        let cash = |kind: &'a String, amount: &i64, currency: &'a String| RawCash {
            kind: kind.into(),
            amount: raw_int(*amount),
            currency: currency.into(),
        };
        let wallet =
            |player: &'a String, tx: &'a String, amount: &i64, currency: &'a String| RawWallet {
                player: player.into(),
                tx: tx.into(),
                amount: raw_int(*amount),
                currency: currency.into(),
                bet_tx: None,
            };
        let payload = match &env.payload {
            P::Bet { amount, currency } => R::Bet(money(amount, currency)),
            P::Win { amount, currency } => R::Win(money(amount, currency)),
            P::GameEnd {} => R::GameEnd(Empty {}),
            P::CashIn {
                kind,
                amount,
                currency,
            } => R::CashIn(cash(kind, amount, currency)),
            P::CashOut {
                kind,
                amount,
                currency,
            } => R::CashOut(cash(kind, amount, currency)),
            P::CardIn { player } => R::CardIn {
                player: player.into(),
            },
            P::CardOut {} => R::CardOut(Empty {}),
            P::JackpotHit { pool, level } => R::JackpotHit {
                pool: pool.into(),
                level: raw_int(*level),
            },
            P::DoorOpen {} => R::DoorOpen(Empty {}),
            P::DoorClose {} => R::DoorClose(Empty {}),
            P::Tilt { code } => R::Tilt {
                code: raw_int(*code),
            },
            P::TiltClear {} => R::TiltClear(Empty {}),
            P::CommsLost {} => R::CommsLost(Empty {}),
            P::CommsRestored {} => R::CommsRestored(Empty {}),
            P::Deposit {
                player,
                tx,
                amount,
                currency,
            } => R::Deposit(wallet(player, tx, amount, currency)),
            P::Withdraw {
                player,
                tx,
                amount,
                currency,
            } => R::Withdraw(wallet(player, tx, amount, currency)),
            P::WalletBet {
                player,
                tx,
                amount,
                currency,
            } => R::WalletBet(wallet(player, tx, amount, currency)),
            P::WalletWin {
                player,
                tx,
                amount,
                currency,
                bet_tx,
            } => R::WalletWin(RawWallet {
                bet_tx: bet_tx.as_ref().map(RawStr::from),
                ..wallet(player, tx, amount, currency)
            }),
            P::Rollback {
                player,
                tx,
                bet_tx,
                currency,
            } => R::Rollback(RawRollback {
                player: player.into(),
                tx: tx.into(),
                bet_tx: bet_tx.into(),
                currency: currency.into(),
            }),
        };
        RawEnvelope {
            event_id: (&env.event_id).into(),
            schema_version: raw_int(env.schema_version),
            source: RawSource {
                hall: (&env.source.hall).into(),
                machine: env.source.machine.as_ref().map(RawStr::from),
                server: env.source.server.as_ref().map(RawStr::from),
            },
            seq: raw_int(env.seq),
            event_time: raw_int(env.event_time),
            payload,
        }
    }
}

impl RawPayload<'_> {
    fn kind(&self) -> &'static str {
        match self {
            RawPayload::Bet(_) => "bet",
            RawPayload::Win(_) => "win",
            RawPayload::GameEnd(_) => "game_end",
            RawPayload::CashIn(_) => "cash_in",
            RawPayload::CashOut(_) => "cash_out",
            RawPayload::CardIn { .. } => "card_in",
            RawPayload::CardOut(_) => "card_out",
            RawPayload::JackpotHit { .. } => "jackpot_hit",
            RawPayload::DoorOpen(_) => "door_open",
            RawPayload::DoorClose(_) => "door_close",
            RawPayload::Tilt { .. } => "tilt",
            RawPayload::TiltClear(_) => "tilt_clear",
            RawPayload::CommsLost(_) => "comms_lost",
            RawPayload::CommsRestored(_) => "comms_restored",
            RawPayload::Deposit(_) => "deposit",
            RawPayload::Withdraw(_) => "withdraw",
            RawPayload::WalletBet(_) => "wallet_bet",
            RawPayload::WalletWin(_) => "wallet_win",
            RawPayload::Rollback(_) => "rollback",
        }
    }

    fn is_wallet_command(&self) -> bool {
        matches!(
            self,
            RawPayload::Deposit(_)
                | RawPayload::Withdraw(_)
                | RawPayload::WalletBet(_)
                | RawPayload::WalletWin(_)
                | RawPayload::Rollback(_)
        )
    }
}

/// Validates a decoded envelope into a domain input.
fn validate(env: RawEnvelope<'_>) -> Result<Input, WireError> {
    let version = match env.schema_version {
        RawInt::Int(v) => v,
        RawInt::Other(what) => {
            return Err(WireError::Schema(format!(
                "`schema_version` must be an integer, got {what}"
            )));
        }
    };
    if version != i128::from(SCHEMA_VERSION) {
        return Err(WireError::UnsupportedVersion(version));
    }
    let event_id = parse_event_id(text("event_id", &env.event_id)?)?;
    let seq: u64 = int("seq", U64, env.seq)?;
    let time = Timestamp(int("event_time", I64, env.event_time)?);
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
        (Some(m), None) => {
            if env.payload.is_wallet_command() {
                return Err(WireError::InvalidSource(format!(
                    "a `{kind}` command must come from a game server (`source.server`), not from machine {m:?}"
                )));
            }
            let machine = MachineId::new(m)?;
            let (cmd, currency) = machine_command(env.payload)?;
            Ok(Input::Machine {
                machine,
                hall,
                meta: EventMeta {
                    event_id,
                    seq,
                    time,
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
            ServerId::new(s)?;
            let (player, cmd, currency) = wallet_command(env.payload)?;
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
        "ticket" => Ok(CashInKind::Ticket),
        "cashless" => Ok(CashInKind::Cashless),
        other => Err(WireError::Schema(format!(
            "unknown cash_in kind {:?} (expected bill, ticket or cashless)",
            truncate(other)
        ))),
    }
}

fn cash_out_kind(kind: &RawStr<'_>) -> Result<CashOutKind, WireError> {
    match text("kind", kind)? {
        "ticket" => Ok(CashOutKind::Ticket),
        "cashless" => Ok(CashOutKind::Cashless),
        "handpay" => Ok(CashOutKind::Handpay),
        other => Err(WireError::Schema(format!(
            "unknown cash_out kind {:?} (expected ticket, cashless or handpay)",
            truncate(other)
        ))),
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(32) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn machine_command(p: RawPayload<'_>) -> Result<(MachineCommand, Option<Currency>), WireError> {
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
            let kind = cash_in_kind(&c.kind)?;
            (
                C::CashIn(kind, amount(c.amount)?),
                Some(currency(&c.currency)?),
            )
        }
        RawPayload::CashOut(c) => {
            let kind = cash_out_kind(&c.kind)?;
            (
                C::CashOut(kind, amount(c.amount)?),
                Some(currency(&c.currency)?),
            )
        }
        RawPayload::CardIn { player } => {
            (C::CardIn(PlayerId::new(text("player", &player)?)?), None)
        }
        RawPayload::CardOut(_) => (C::CardOut, None),
        RawPayload::JackpotHit { pool, level } => (
            C::JackpotHit {
                pool: PoolId::new(text("pool", &pool)?)?,
                level: int("level", U8, level)?,
            },
            None,
        ),
        RawPayload::DoorOpen(_) => (C::Significant(S::DoorOpen), None),
        RawPayload::DoorClose(_) => (C::Significant(S::DoorClose), None),
        RawPayload::Tilt { code } => (C::Significant(S::Tilt(int("code", U32, code)?)), None),
        RawPayload::TiltClear(_) => (C::Significant(S::TiltClear), None),
        RawPayload::CommsLost(_) => (C::Significant(S::CommsLost), None),
        RawPayload::CommsRestored(_) => (C::Significant(S::CommsRestored), None),
        other => {
            // `validate` routes wallet commands elsewhere.
            return Err(WireError::InvalidSource(format!(
                "a `{}` command must come from a game server",
                other.kind()
            )));
        }
    })
}

fn wallet_command(p: RawPayload<'_>) -> Result<(PlayerId, WalletCommand, Currency), WireError> {
    let (player, tx, op, cur) = match p {
        RawPayload::Deposit(w) => (
            w.player,
            w.tx,
            WalletOp::Deposit(amount(w.amount)?),
            w.currency,
        ),
        RawPayload::Withdraw(w) => (
            w.player,
            w.tx,
            WalletOp::Withdraw(amount(w.amount)?),
            w.currency,
        ),
        RawPayload::WalletBet(w) => (w.player, w.tx, WalletOp::Bet(amount(w.amount)?), w.currency),
        RawPayload::WalletWin(w) => {
            let bet_tx = match &w.bet_tx {
                Some(b) => Some(TxId::new(text("bet_tx", b)?)?),
                None => None,
            };
            let op = WalletOp::Win {
                amount: amount(w.amount)?,
                bet_tx,
            };
            (w.player, w.tx, op, w.currency)
        }
        RawPayload::Rollback(r) => {
            let op = WalletOp::Rollback {
                bet_tx: TxId::new(text("bet_tx", &r.bet_tx)?)?,
            };
            (r.player, r.tx, op, r.currency)
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
    Ok((player, WalletCommand { tx, op }, currency))
}
