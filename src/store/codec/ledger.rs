//! Ledger entries as stored in the embedded store's journal pages.

use pitboss_actors::domain::{EventId, Timestamp};
use pitboss_actors::shell::{LedgerEntry, Movement, StoreError};
use serde::{Deserialize, Serialize};

use crate::store::codec::fields::{self, bad};

/// A ledger entry as stored in the embedded store's ledger pages: written with the kind's
/// code borrowed (`K = &'static str`), read with it owned (`K = String`). Pages are written
/// positionally (arrays in this field order); pages written with named fields by older
/// builds still read.
#[derive(Serialize, Deserialize)]
struct EntryDto<K> {
    n: u64,
    kind: K,
    level: u8,
    amount: i64,
    balance: i64,
    cause_hi: u64,
    cause_lo: u64,
    causes: u32,
    time: i64,
}

impl EntryDto<&'static str> {
    fn of(e: &LedgerEntry) -> Self {
        EntryDto {
            n: e.n,
            kind: e.kind.code(),
            level: e.level,
            amount: e.amount,
            balance: e.balance,
            cause_hi: (e.cause.0 >> 64) as u64,
            cause_lo: e.cause.0 as u64,
            causes: e.causes,
            time: e.time.0,
        }
    }
}

/// A page's entries, serialized one by one (no vector of them built first).
struct Page<'a>(&'a [LedgerEntry]);

impl Serialize for Page<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(EntryDto::of))
    }
}

/// About the size of an entry written positionally.
const ENTRY_BYTES: usize = 48;

/// Encodes consecutive ledger entries of one entity (a page of the embedded ledger).
pub fn encode_entries(entries: &[LedgerEntry]) -> Result<Vec<u8>, StoreError> {
    fields::positional(&Page(entries), 8 + entries.len() * ENTRY_BYTES)
        .map_err(|e| StoreError::permanent(format!("encoding ledger entries: {e}")))
}

/// Decodes a page of ledger entries.
pub fn decode_entries(bytes: &[u8]) -> Result<Vec<LedgerEntry>, StoreError> {
    let dto: Vec<EntryDto<String>> =
        rmp_serde::from_slice(bytes).map_err(|e| bad("ledger page", e))?;
    dto.into_iter()
        .map(|d| {
            Ok(LedgerEntry {
                n: d.n,
                kind: Movement::from_code(&d.kind).ok_or_else(|| {
                    StoreError::permanent(format!("unknown ledger movement {:?}", d.kind))
                })?,
                level: d.level,
                amount: d.amount,
                balance: d.balance,
                cause: EventId(((d.cause_hi as u128) << 64) | d.cause_lo as u128),
                causes: d.causes,
                time: Timestamp(d.time),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Vec<LedgerEntry> {
        Movement::ALL
            .iter()
            .enumerate()
            .map(|(i, kind)| LedgerEntry {
                n: 1_000 + i as u64,
                kind: *kind,
                level: (i % 3) as u8,
                amount: -50 + 7 * i as i64,
                balance: 10_000 - i as i64,
                cause: EventId(u128::MAX - i as u128),
                causes: 1 + i as u32,
                time: Timestamp(1_800_000_000_000 + i as i64),
            })
            .collect()
    }

    #[test]
    fn a_page_reads_back_written_positionally_or_named() {
        let entries = page();
        let positional = encode_entries(&entries).unwrap();
        assert_eq!(decode_entries(&positional).unwrap(), entries);
        // As builds before positional pages wrote it: the same entries, named.
        let named: Vec<_> = entries.iter().map(EntryDto::of).collect();
        let named = rmp_serde::to_vec_named(&named).unwrap();
        assert_eq!(decode_entries(&named).unwrap(), entries);
        assert!(positional.len() < named.len());
    }
}
