//! The wire form of every output kind: serde types that borrow from the bytes when read
//! back, so consumers and tests can decode without copying.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// The envelope of every output event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputEnvelope<'a, P> {
    /// Deterministic id (UUID text), see [`crate::wire::output`].
    #[serde(borrow)]
    pub output_id: Cow<'a, str>,
    /// Always [`SCHEMA_VERSION`](crate::wire::SCHEMA_VERSION).
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
    pub hits: u64,
}

/// Current levels of a pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JackpotLevelsPayload<'a> {
    #[serde(borrow)]
    pub pool: Cow<'a, str>,
    /// ISO 4217 code.
    #[serde(borrow)]
    pub currency: Cow<'a, str>,
    /// The levels, in index order.
    #[serde(borrow)]
    pub levels: Vec<LevelPayload<'a>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JackpotHitPayload<'a> {
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

/// The answer to a wallet command (RULES.md W-6): `applied` with `delta` and `balance`, or
/// `refused` with `code` and `reason`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletPayload<'a> {
    #[serde(borrow)]
    pub player: Cow<'a, str>,
    /// The sender (`source.server`): with `tx`, the command's idempotency key.
    #[serde(borrow)]
    pub provider: Cow<'a, str>,
    /// The transaction id.
    #[serde(borrow)]
    pub tx: Cow<'a, str>,
    /// `deposit`, `withdrawal`, `bet`, `win` or `rollback`.
    #[serde(borrow)]
    pub kind: Cow<'a, str>,
    /// `applied` or `refused`.
    #[serde(borrow)]
    pub status: Cow<'a, str>,
    /// Applied: signed change in minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta: Option<i64>,
    /// Applied: balance after, in minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance: Option<i64>,
    /// Refused: the stable code (RULES.md).
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub code: Option<Cow<'a, str>>,
    /// Refused: why, in words.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Cow<'a, str>>,
    /// ISO 4217 code of the command.
    #[serde(borrow)]
    pub currency: Cow<'a, str>,
}

/// An operator alert. Which detail fields are present depends on `kind`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertPayload<'a> {
    /// `sequence_gap`, `large_cash_in`, `door_open`, `tilt` or `comms_lost`.
    #[serde(borrow)]
    pub kind: Cow<'a, str>,
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
    /// Why, as a stable code (RULES.md).
    #[serde(borrow)]
    pub code: Cow<'a, str>,
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
    /// Why, one of [`REASON_CODES`](crate::wire::REASON_CODES).
    #[serde(borrow)]
    pub reason_code: Cow<'a, str>,
    /// The message's bytes (MessagePack bin), cut at [`REJECTED_ORIGINAL_BYTES_MAX`](super::REJECTED_ORIGINAL_BYTES_MAX).
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
