//! Ledger entries as stored in the embedded store's journal pages.

use pitboss_actors::domain::{EventId, Timestamp};
use pitboss_actors::shell::{LedgerEntry, Movement, StoreError};
use serde::{Deserialize, Serialize};

use crate::store::codec::fields::bad;

/// A ledger entry as stored in the embedded store's ledger pages.
#[derive(Serialize, Deserialize)]
struct EntryDto {
    n: u64,
    kind: String,
    level: u8,
    amount: i64,
    balance: i64,
    cause_hi: u64,
    cause_lo: u64,
    causes: u32,
    time: i64,
}

/// Encodes consecutive ledger entries of one entity (a page of the embedded ledger).
pub fn encode_entries(entries: &[LedgerEntry]) -> Result<Vec<u8>, StoreError> {
    let dto: Vec<EntryDto> = entries
        .iter()
        .map(|e| EntryDto {
            n: e.n,
            kind: e.kind.code().into(),
            level: e.level,
            amount: e.amount,
            balance: e.balance,
            cause_hi: (e.cause.0 >> 64) as u64,
            cause_lo: e.cause.0 as u64,
            causes: e.causes,
            time: e.time.0,
        })
        .collect();
    rmp_serde::to_vec_named(&dto)
        .map_err(|e| StoreError::permanent(format!("encoding ledger entries: {e}")))
}

/// Decodes a page of ledger entries.
pub fn decode_entries(bytes: &[u8]) -> Result<Vec<LedgerEntry>, StoreError> {
    let dto: Vec<EntryDto> = rmp_serde::from_slice(bytes).map_err(|e| bad("ledger page", e))?;
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
