//! What several records share: decode errors, ids, currencies, 128-bit totals, and the
//! last sequence number per source that pools and halls keep.

use std::collections::BTreeMap;

use pitboss_actors::domain::{Currency, MachineId, PlayerId, SourceKey};
use pitboss_actors::shell::StoreError;
use serde::{Deserialize, Serialize};

/// An i128 as its high and low 64 bits (MessagePack has no 128-bit integers).
pub(super) fn split128(v: i128) -> (i64, u64) {
    ((v >> 64) as i64, v as u64)
}

/// The inverse of [`split128`].
pub(super) fn join128(hi: i64, lo: u64) -> i128 {
    ((hi as i128) << 64) | lo as i128
}

/// Encodes a stored form positionally: MessagePack arrays in field order, no field names
/// (module docs: a field is only ever added at the end of its DTO, with a default).
/// `capacity` is a typical encoded size, so that most values take one allocation.
pub(super) fn positional<T: Serialize>(
    value: &T,
    capacity: usize,
) -> Result<Vec<u8>, rmp_serde::encode::Error> {
    let mut buf = Vec::with_capacity(capacity);
    rmp_serde::encode::write(&mut buf, value)?;
    Ok(buf)
}

/// A stored value this build cannot read: retrying cannot help.
pub(super) fn bad(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::permanent(format!("stored {what} cannot be decoded: {e}"))
}

/// A stored name of a closed set this build does not know.
pub(super) fn unknown(what: &str, name: &str) -> StoreError {
    StoreError::permanent(format!(
        "stored {what} {name:?} is not one this build knows"
    ))
}

/// A stored currency code.
pub(super) fn currency(s: &str) -> Result<Currency, StoreError> {
    Currency::new(s).map_err(|e| bad("currency", e))
}

/// A stored id, validated as the domain validates it.
macro_rules! id {
    ($t:ty, $s:expr) => {
        <$t>::new(&$s).map_err(|e| $crate::store::codec::fields::bad("id", e))
    };
}
pub(crate) use id;

/// A [`SourceKey`] as stored.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum SourceDto {
    Machine(String),
    Wallet(String),
    Award(String),
}

impl From<&SourceKey> for SourceDto {
    fn from(s: &SourceKey) -> Self {
        match s {
            SourceKey::Machine(m) => SourceDto::Machine(m.to_string()),
            SourceKey::Wallet(p) => SourceDto::Wallet(p.to_string()),
            SourceKey::Award(m) => SourceDto::Award(m.to_string()),
        }
    }
}

impl TryFrom<SourceDto> for SourceKey {
    type Error = StoreError;

    fn try_from(d: SourceDto) -> Result<Self, StoreError> {
        Ok(match d {
            SourceDto::Machine(m) => SourceKey::Machine(id!(MachineId, m)?),
            SourceDto::Wallet(p) => SourceKey::Wallet(id!(PlayerId, p)?),
            SourceDto::Award(m) => SourceKey::Award(id!(MachineId, m)?),
        })
    }
}

/// Last sequence numbers per source, sorted by source.
pub(super) fn seqs_to_dto<'a>(
    it: impl Iterator<Item = (&'a SourceKey, &'a u64)>,
) -> Vec<(SourceDto, u64)> {
    // Sorted, so one state always encodes to the same bytes.
    let sorted: BTreeMap<&SourceKey, u64> = it.map(|(k, v)| (k, *v)).collect();
    sorted.into_iter().map(|(k, v)| (k.into(), v)).collect()
}

/// The inverse of [`seqs_to_dto`].
pub(super) fn seqs_from_dto<M: FromIterator<(SourceKey, u64)>>(
    v: Vec<(SourceDto, u64)>,
) -> Result<M, StoreError> {
    v.into_iter()
        .map(|(k, s)| Ok((SourceKey::try_from(k)?, s)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i128_splits_and_joins() {
        for v in [
            0i128,
            1,
            -1,
            i128::MAX,
            i128::MIN,
            123_456_789_000_000_000_000,
        ] {
            let (hi, lo) = split128(v);
            assert_eq!(join128(hi, lo), v);
        }
    }
}
