//! Entity keys as stored: kind and id as text (CQL), one kind byte and the id (the
//! embedded store); and the UTC day that partitions the CQL ledger and GGR tables.

use pitboss_actors::domain::{
    DomainError, EntityKind, HallId, MachineId, PlayerId, PoolId, ServerId, Timestamp, ValidationNo,
};
use pitboss_actors::shell::{EntityKey, StoreError};

/// The key of an entity from its stored kind and id.
pub fn entity_key(kind: &str, id: &str) -> Result<EntityKey, StoreError> {
    let bad = |e: DomainError| StoreError::permanent(format!("stored {kind} id {id:?}: {e}"));
    let Some(k) = EntityKind::from_name(kind) else {
        return Err(StoreError::permanent(format!(
            "unknown stored entity kind {kind:?}"
        )));
    };
    Ok(match k {
        EntityKind::Machine => EntityKey::Machine(MachineId::new(id).map_err(bad)?),
        EntityKind::Wallet => EntityKey::Wallet(PlayerId::new(id).map_err(bad)?),
        EntityKind::Pool => EntityKey::Pool(PoolId::new(id).map_err(bad)?),
        EntityKind::Hall => EntityKey::Hall(HallId::new(id).map_err(bad)?),
        EntityKind::Voucher => EntityKey::Voucher(ValidationNo::new(id).map_err(bad)?),
        EntityKind::Desk => EntityKey::Desk(ServerId::new(id).map_err(bad)?),
    })
}

/// The kind byte of the embedded store's keys.
fn tag(kind: EntityKind) -> u8 {
    match kind {
        EntityKind::Machine => b'm',
        EntityKind::Wallet => b'w',
        EntityKind::Pool => b'p',
        EntityKind::Hall => b'h',
        EntityKind::Voucher => b'v',
        EntityKind::Desk => b'd',
    }
}

/// The key's bytes in the embedded store: one kind byte, then the id (printable ASCII, so a
/// 0x00 after it sorts before any longer id with the same prefix).
pub fn key_bytes(key: &EntityKey) -> Vec<u8> {
    let id = key.id_str().as_bytes();
    let mut out = Vec::with_capacity(1 + id.len());
    out.push(tag(key.kind()));
    out.extend_from_slice(id);
    out
}

/// The embedded store's keys of every entity of one kind: `[lo, hi)`.
pub fn kind_key_range(kind: EntityKind) -> ([u8; 1], [u8; 1]) {
    let t = tag(kind);
    ([t], [t + 1])
}

/// The inverse of [`key_bytes`].
pub fn key_from_bytes(b: &[u8]) -> Result<EntityKey, StoreError> {
    let (t, id) = b
        .split_first()
        .ok_or_else(|| StoreError::permanent("empty stored entity key"))?;
    let id = std::str::from_utf8(id)
        .map_err(|_| StoreError::permanent(format!("stored entity key {b:?} is not text")))?;
    let Some(kind) = EntityKind::ALL.iter().find(|k| tag(**k) == *t) else {
        return Err(StoreError::permanent(format!(
            "unknown stored entity tag {t}"
        )));
    };
    entity_key(kind.name(), id)
}

/// The UTC day (`YYYY-MM-DD`) of an instant: the ledger's partition by day. An instant
/// beyond the years the calendar handles (±9999; no real event) counts in the nearest
/// day it does.
pub fn day_of(t: Timestamp) -> String {
    let date = time::OffsetDateTime::from_unix_timestamp(t.0.div_euclid(1000))
        .map(|d| d.date())
        .unwrap_or(if t.0 < 0 {
            time::Date::MIN
        } else {
            time::Date::MAX
        });
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_utc_dates() {
        assert_eq!(day_of(Timestamp(0)), "1970-01-01");
        assert_eq!(day_of(Timestamp(86_400_000 - 1)), "1970-01-01");
        assert_eq!(day_of(Timestamp(951_782_400_000)), "2000-02-29");
        assert_eq!(day_of(Timestamp(1_800_000_000_000)), "2027-01-15");
        assert_eq!(day_of(Timestamp(-1)), "1969-12-31");
    }

    #[test]
    fn keys_round_trip() {
        for k in [
            EntityKey::Machine(MachineId::new("M-1").unwrap()),
            EntityKey::Wallet(PlayerId::new("P-9").unwrap()),
            EntityKey::Pool(PoolId::new("WAP-1").unwrap()),
            EntityKey::Hall(HallId::new("H-001").unwrap()),
        ] {
            assert_eq!(key_from_bytes(&key_bytes(&k)).unwrap(), k);
            assert_eq!(entity_key(k.kind().name(), k.id_str()).unwrap(), k);
        }
    }
}
