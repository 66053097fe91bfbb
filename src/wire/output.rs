//! Output events: the wire form of what the core emits, their topics, keys and ids.
//!
//! Every output is a MessagePack map
//! `{output_id, schema_version: 1, kind, cause_event_id?, payload}`; `cause_event_id` is the
//! input event that caused it, absent for GGR windows, pool levels and rejections.
//!
//! # Output ids
//!
//! An output id is a UUID v5 under [`OUTPUT_ID_NAMESPACE`] whose name is the UTF-8 text of
//! the components below joined by single spaces (ids never contain a space, so the text is
//! unambiguous; event ids are lower-case hyphenated UUIDs):
//!
//! | kind | name |
//! | --- | --- |
//! | `alert` | `<cause> alert <index>` |
//! | `wallet` | `<cause> wallet` |
//! | `refused` | `<cause> refused` |
//! | `jackpot_hit` | `hit <pool> <level> <hit_number>` |
//! | `ggr` | `ggr <hall> <window_start_ms> <revision>` |
//! | `jackpot_levels` | `levels <pool>` then ` <amount> <hits>` for every level in order |
//! | `rejected` | `rejected <partition> <offset>` |
//!
//! A replay of the same input therefore yields the same ids, and consumers drop duplicates
//! by id. Pool levels are identified by their content: publishing an unchanged pool again
//! yields the same id.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use pitboss_actors::domain::machine::Alert;
use pitboss_actors::domain::time::WINDOW_MS;
use pitboss_actors::shell::Output;
use serde::de::{self, Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use uuid::Uuid;

use super::{scan, WireError, MESSAGE_BYTES_MAX, NESTING_DEPTH_MAX, SCHEMA_VERSION};

/// The namespace of every output id (UUID v5).
pub const OUTPUT_ID_NAMESPACE: Uuid = Uuid::from_u128(0xc7b9_2cd6_03ad_4093_b1cf_47bf_f804_994d);

/// At most this many bytes of a rejected message are copied into the rejection, so that a
/// rejection always fits in a Kafka message; `original_len` tells the full length.
pub const REJECTED_ORIGINAL_BYTES_MAX: usize = MESSAGE_BYTES_MAX;

/// An output topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    /// Hall GGR windows, keyed by hall id.
    Ggr,
    /// Jackpot levels and hits, keyed by pool id.
    Jackpots,
    /// Wallet balance changes, keyed by player id.
    WalletEvents,
    /// Operator alerts, keyed by machine id.
    Alerts,
    /// Refused and rejected input, keyed by the entity (or the original message's key).
    Rejected,
}

impl Topic {
    /// Every output topic.
    pub const ALL: [Topic; 5] = [
        Topic::Ggr,
        Topic::Jackpots,
        Topic::WalletEvents,
        Topic::Alerts,
        Topic::Rejected,
    ];

    /// The topic's name unless configured otherwise.
    pub fn default_name(self) -> &'static str {
        match self {
            Topic::Ggr => "pitboss.ggr",
            Topic::Jackpots => "pitboss.jackpots",
            Topic::WalletEvents => "pitboss.wallet-events",
            Topic::Alerts => "pitboss.alerts",
            Topic::Rejected => "pitboss.rejected",
        }
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.default_name())
    }
}

/// An output ready to produce: where it goes, its key, its id and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputRecord {
    /// The topic.
    pub topic: Topic,
    /// The Kafka key.
    pub key: String,
    /// The deterministic output id (also in the bytes).
    pub id: Uuid,
    /// The id of the input event that caused it, as text, if any.
    pub cause: Option<String>,
    /// The MessagePack bytes.
    pub bytes: Vec<u8>,
}

/// The envelope of every output event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputEnvelope<'a, P> {
    /// Deterministic id (UUID text), see the module documentation.
    #[serde(borrow)]
    pub output_id: Cow<'a, str>,
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `ggr`, `jackpot_levels`, `jackpot_hit`, `wallet`, `alert`, `refused` or `rejected`.
    #[serde(borrow)]
    pub kind: Cow<'a, str>,
    /// The input event that caused the output (UUID text), if there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause_event_id: Option<Cow<'a, str>>,
    /// The kind's fields.
    pub payload: P,
}

/// A hall's GGR for one window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GgrPayload<'a> {
    /// The hall.
    #[serde(borrow)]
    pub hall: Cow<'a, str>,
    /// Window start, ms since the Unix epoch (inclusive).
    pub window_start: i64,
    /// Window end, ms since the Unix epoch (exclusive).
    pub window_end: i64,
    /// Wagered, net of rolled-back bets.
    pub bets: i64,
    /// Won.
    pub wins: i64,
    /// bets - wins.
    pub ggr: i64,
    /// Games completed.
    pub games: i64,
    /// 0 for the first publication, then 1, 2, ... after late events.
    pub revision: u32,
    /// ISO 4217 code.
    #[serde(borrow)]
    pub currency: Cow<'a, str>,
}

/// One level of a pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelPayload<'a> {
    /// Level index.
    pub level: u8,
    /// Level name.
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    /// Current amount in minor units.
    pub amount: i64,
    /// Hits so far.
    pub hits: u64,
}

/// Current levels of a pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JackpotLevelsPayload<'a> {
    /// The pool.
    #[serde(borrow)]
    pub pool: Cow<'a, str>,
    /// ISO 4217 code.
    #[serde(borrow)]
    pub currency: Cow<'a, str>,
    /// The levels, in index order.
    #[serde(borrow)]
    pub levels: Vec<LevelPayload<'a>>,
}

/// A jackpot hit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JackpotHitPayload<'a> {
    /// The pool.
    #[serde(borrow)]
    pub pool: Cow<'a, str>,
    /// Level index.
    pub level: u8,
    /// Level name.
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    /// Amount paid in minor units.
    pub amount: i64,
    /// The machine awarded.
    #[serde(borrow)]
    pub machine: Cow<'a, str>,
    /// The level's hit number (1, 2, ...).
    pub hit_number: u64,
    /// ISO 4217 code.
    #[serde(borrow)]
    pub currency: Cow<'a, str>,
}

/// A wallet balance change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletPayload<'a> {
    /// The player.
    #[serde(borrow)]
    pub player: Cow<'a, str>,
    /// The transaction id.
    #[serde(borrow)]
    pub tx: Cow<'a, str>,
    /// `deposit`, `withdrawal`, `bet`, `win` or `rollback`.
    #[serde(borrow)]
    pub kind: Cow<'a, str>,
    /// Signed change in minor units.
    pub delta: i64,
    /// Balance after, in minor units.
    pub balance: i64,
    /// ISO 4217 code.
    #[serde(borrow)]
    pub currency: Cow<'a, str>,
}

/// An operator alert. Which detail fields are present depends on `kind`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertPayload<'a> {
    /// `sequence_gap`, `large_cash_in`, `door_open`, `tilt` or `comms_lost`.
    #[serde(borrow)]
    pub kind: Cow<'a, str>,
    /// The machine.
    #[serde(borrow)]
    pub machine: Cow<'a, str>,
    /// `sequence_gap`: the sequence number expected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<u64>,
    /// `sequence_gap`: the sequence number received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub got: Option<u64>,
    /// `large_cash_in`: the amount in minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    /// `tilt`: the machine's tilt code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u32>,
}

/// An input event the core refused (valid on the wire, refused by the rules).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedPayload<'a> {
    /// The machine or player the event addressed.
    #[serde(borrow)]
    pub entity: Cow<'a, str>,
    /// Why, in words.
    #[serde(borrow)]
    pub reason: Cow<'a, str>,
}

/// An input message that could not be decoded or validated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedPayload<'a> {
    /// Why, in words.
    #[serde(borrow)]
    pub reason: Cow<'a, str>,
    /// Why, one of [`super::REASON_CODES`].
    #[serde(borrow)]
    pub reason_code: Cow<'a, str>,
    /// The message's bytes (MessagePack bin), cut at [`REJECTED_ORIGINAL_BYTES_MAX`].
    #[serde(borrow)]
    pub original: Bin<'a>,
    /// The message's full length in bytes.
    pub original_len: u64,
    /// The message's Kafka key (bin), nil if it had none.
    #[serde(borrow)]
    pub original_key: Option<Bin<'a>>,
    /// Source partition.
    pub partition: i32,
    /// Source offset.
    pub offset: i64,
}

/// Raw bytes, written as MessagePack bin (serde's byte slices would be arrays of integers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bin<'a>(pub Cow<'a, [u8]>);

impl Serialize for Bin<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Bin<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Bin<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("binary data")
            }
            fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Bin<'de>, E> {
                Ok(Bin(Cow::Borrowed(v)))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Bin<'de>, E> {
                Ok(Bin(Cow::Owned(v.to_vec())))
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Bin<'de>, E> {
                Ok(Bin(Cow::Owned(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Bin<'de>, A::Error> {
                let mut out = Vec::new();
                while let Some(b) = seq.next_element::<u8>()? {
                    out.push(b);
                }
                Ok(Bin(Cow::Owned(out)))
            }
        }
        d.deserialize_bytes(V)
    }
}

/// An output event read back from bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutputEvent<'a> {
    /// `ggr`
    Ggr(OutputEnvelope<'a, GgrPayload<'a>>),
    /// `jackpot_levels`
    JackpotLevels(OutputEnvelope<'a, JackpotLevelsPayload<'a>>),
    /// `jackpot_hit`
    JackpotHit(OutputEnvelope<'a, JackpotHitPayload<'a>>),
    /// `wallet`
    Wallet(OutputEnvelope<'a, WalletPayload<'a>>),
    /// `alert`
    Alert(OutputEnvelope<'a, AlertPayload<'a>>),
    /// `refused`
    Refused(OutputEnvelope<'a, RefusedPayload<'a>>),
    /// `rejected`
    Rejected(OutputEnvelope<'a, RejectedPayload<'a>>),
}

impl OutputEvent<'_> {
    /// The output's `kind`, as written (`ggr`, `jackpot_levels`, `jackpot_hit`, `wallet`,
    /// `alert`, `refused`, `rejected`).
    pub fn kind(&self) -> &'static str {
        match self {
            OutputEvent::Ggr(_) => "ggr",
            OutputEvent::JackpotLevels(_) => "jackpot_levels",
            OutputEvent::JackpotHit(_) => "jackpot_hit",
            OutputEvent::Wallet(_) => "wallet",
            OutputEvent::Alert(_) => "alert",
            OutputEvent::Refused(_) => "refused",
            OutputEvent::Rejected(_) => "rejected",
        }
    }

    /// The output's id, as written.
    pub fn output_id(&self) -> &str {
        match self {
            OutputEvent::Ggr(e) => &e.output_id,
            OutputEvent::JackpotLevels(e) => &e.output_id,
            OutputEvent::JackpotHit(e) => &e.output_id,
            OutputEvent::Wallet(e) => &e.output_id,
            OutputEvent::Alert(e) => &e.output_id,
            OutputEvent::Refused(e) => &e.output_id,
            OutputEvent::Rejected(e) => &e.output_id,
        }
    }
}

const KIND_GGR: &str = "ggr";
const KIND_LEVELS: &str = "jackpot_levels";
const KIND_HIT: &str = "jackpot_hit";
const KIND_WALLET: &str = "wallet";
const KIND_ALERT: &str = "alert";
const KIND_REFUSED: &str = "refused";
const KIND_REJECTED: &str = "rejected";

/// Reads an output event (consumers, tests, the load-test reconciliation).
///
/// # Errors
///
/// [`WireError`] when the bytes are not one output event of schema version 1.
pub fn decode_output(bytes: &[u8]) -> Result<OutputEvent<'_>, WireError> {
    fn read<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, WireError> {
        let mut de = rmp_serde::Deserializer::from_read_ref(bytes);
        de.set_max_depth(NESTING_DEPTH_MAX);
        T::deserialize(&mut de).map_err(WireError::from_rmp)
    }
    scan::check_one_map(bytes)?;
    let head: OutputEnvelope<'_, IgnoredAny> = read(bytes)?;
    if head.schema_version != SCHEMA_VERSION {
        return Err(WireError::UnsupportedVersion(i128::from(
            head.schema_version,
        )));
    }
    Ok(match &*head.kind {
        KIND_GGR => OutputEvent::Ggr(read(bytes)?),
        KIND_LEVELS => OutputEvent::JackpotLevels(read(bytes)?),
        KIND_HIT => OutputEvent::JackpotHit(read(bytes)?),
        KIND_WALLET => OutputEvent::Wallet(read(bytes)?),
        KIND_ALERT => OutputEvent::Alert(read(bytes)?),
        KIND_REFUSED => OutputEvent::Refused(read(bytes)?),
        KIND_REJECTED => OutputEvent::Rejected(read(bytes)?),
        other => {
            return Err(WireError::Schema(format!(
                "unknown output kind {:?}",
                other.chars().take(32).collect::<String>()
            )))
        }
    })
}

/// Gives an output its topic, key, deterministic id and bytes.
pub fn encode_output(out: &Output) -> OutputRecord {
    let mut name = String::with_capacity(64);
    match out {
        Output::Ggr { window, currency } => {
            let hall = window.hall.as_str();
            let start = window.window.0;
            write_name(
                &mut name,
                format_args!("ggr {hall} {start} {}", window.revision),
            );
            let t = &window.totals;
            let payload = GgrPayload {
                hall: hall.into(),
                window_start: start,
                window_end: start.saturating_add(WINDOW_MS),
                bets: t.bets,
                wins: t.wins,
                ggr: t.bets.saturating_sub(t.wins),
                games: t.games,
                revision: window.revision,
                currency: currency.as_str().into(),
            };
            record(Topic::Ggr, hall, &name, KIND_GGR, None, payload)
        }
        Output::JackpotLevels {
            pool,
            currency,
            levels,
        } => {
            write_name(&mut name, format_args!("levels {pool}"));
            for l in levels {
                write_name(&mut name, format_args!(" {} {}", l.amount, l.hits));
            }
            let payload = JackpotLevelsPayload {
                pool: pool.as_str().into(),
                currency: currency.as_str().into(),
                levels: levels
                    .iter()
                    .map(|l| LevelPayload {
                        level: l.level,
                        name: l.name.as_str().into(),
                        amount: l.amount,
                        hits: l.hits,
                    })
                    .collect(),
            };
            record(
                Topic::Jackpots,
                pool.as_str(),
                &name,
                KIND_LEVELS,
                None,
                payload,
            )
        }
        Output::JackpotHit { hit, currency } => {
            write_name(
                &mut name,
                format_args!("hit {} {} {}", hit.pool, hit.level, hit.hit_number),
            );
            let payload = JackpotHitPayload {
                pool: hit.pool.as_str().into(),
                level: hit.level,
                name: hit.name.as_str().into(),
                amount: hit.amount.minor(),
                machine: hit.machine.as_str().into(),
                hit_number: hit.hit_number,
                currency: currency.as_str().into(),
            };
            let cause = hit.cause.to_string();
            record(
                Topic::Jackpots,
                hit.pool.as_str(),
                &name,
                KIND_HIT,
                Some(cause),
                payload,
            )
        }
        Output::Wallet {
            player,
            tx,
            kind,
            delta,
            balance,
            currency,
            cause,
        } => {
            let cause = cause.to_string();
            write_name(&mut name, format_args!("{cause} wallet"));
            let payload = WalletPayload {
                player: player.as_str().into(),
                tx: tx.as_str().into(),
                kind: kind.name().into(),
                delta: *delta,
                balance: *balance,
                currency: currency.as_str().into(),
            };
            record(
                Topic::WalletEvents,
                player.as_str(),
                &name,
                KIND_WALLET,
                Some(cause),
                payload,
            )
        }
        Output::Alert {
            alert,
            cause,
            index,
        } => {
            let cause = cause.to_string();
            write_name(&mut name, format_args!("{cause} alert {index}"));
            let payload = alert_payload(alert);
            let key = payload.machine.clone();
            record(Topic::Alerts, &key, &name, KIND_ALERT, Some(cause), payload)
        }
        Output::Refused {
            entity,
            reason,
            cause,
        } => {
            let cause = cause.to_string();
            write_name(&mut name, format_args!("{cause} refused"));
            let payload = RefusedPayload {
                entity: entity.as_str().into(),
                reason: reason.as_str().into(),
            };
            record(
                Topic::Rejected,
                entity,
                &name,
                KIND_REFUSED,
                Some(cause),
                payload,
            )
        }
        Output::Rejected {
            reason,
            code,
            original,
            key,
            partition,
            offset,
        } => rejection(reason, code, original, key.as_deref(), *partition, *offset),
    }
}

/// The rejection of an input message that could not be decoded or validated: topic
/// `pitboss.rejected`, keyed by the message's own key (lossy UTF-8; empty if it had none),
/// with id v5 of `rejected <partition> <offset>`.
///
/// The id is unique only if positions are: a source outside Kafka must pass distinct
/// positions (a message counter as `offset`, say).
pub fn encode_rejection(
    reason: &WireError,
    original: &[u8],
    key: Option<&[u8]>,
    partition: i32,
    offset: i64,
) -> OutputRecord {
    rejection(
        &reason.to_string(),
        reason.code(),
        original,
        key,
        partition,
        offset,
    )
}

fn rejection(
    reason: &str,
    code: &str,
    original: &[u8],
    key: Option<&[u8]>,
    partition: i32,
    offset: i64,
) -> OutputRecord {
    let name = format!("rejected {partition} {offset}");
    let kept = &original[..original.len().min(REJECTED_ORIGINAL_BYTES_MAX)];
    let payload = RejectedPayload {
        reason: reason.into(),
        reason_code: code.into(),
        original: Bin(Cow::Borrowed(kept)),
        original_len: original.len() as u64,
        original_key: key.map(|k| Bin(Cow::Borrowed(k))),
        partition,
        offset,
    };
    let key = key.map(String::from_utf8_lossy).unwrap_or_default();
    record(Topic::Rejected, &key, &name, KIND_REJECTED, None, payload)
}

fn alert_payload(alert: &Alert) -> AlertPayload<'_> {
    let (kind, machine, expected, got, amount, code) = match alert {
        Alert::SequenceGap {
            machine,
            expected,
            got,
        } => (
            "sequence_gap",
            machine,
            Some(*expected),
            Some(*got),
            None,
            None,
        ),
        Alert::LargeCashIn { machine, amount } => {
            ("large_cash_in", machine, None, None, Some(*amount), None)
        }
        Alert::DoorOpen { machine } => ("door_open", machine, None, None, None, None),
        Alert::Tilt { machine, code } => ("tilt", machine, None, None, None, Some(*code)),
        Alert::CommsLost { machine } => ("comms_lost", machine, None, None, None, None),
    };
    AlertPayload {
        kind: kind.into(),
        machine: machine.as_str().into(),
        expected,
        got,
        amount,
        code,
    }
}

fn write_name(name: &mut String, args: fmt::Arguments<'_>) {
    // Writing to a String cannot fail.
    let _ = name.write_fmt(args);
}

fn record<P: Serialize>(
    topic: Topic,
    key: &str,
    name: &str,
    kind: &str,
    cause: Option<String>,
    payload: P,
) -> OutputRecord {
    let id = Uuid::new_v5(&OUTPUT_ID_NAMESPACE, name.as_bytes());
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let envelope = OutputEnvelope {
        output_id: Cow::Borrowed(&*id.hyphenated().encode_lower(&mut text)),
        schema_version: SCHEMA_VERSION,
        kind: Cow::Borrowed(kind),
        cause_event_id: cause.as_deref().map(Cow::Borrowed),
        payload,
    };
    let mut bytes = Vec::with_capacity(256);
    // Strings, integers, bins and maps with string keys: writing into a Vec cannot fail.
    rmp_serde::encode::write_named(&mut bytes, &envelope).expect("an output always serializes");
    OutputRecord {
        topic,
        key: key.to_owned(),
        id,
        cause,
        bytes,
    }
}
