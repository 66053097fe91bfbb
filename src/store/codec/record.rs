//! An entity's stored record: format version, movement count, and the state as the DTO of
//! its kind.

use pitboss_actors::shell::{Snapshot, StoreError};
use serde::{Deserialize, Serialize};

use crate::store::codec::desk::DeskDto;
use crate::store::codec::fields::{self, bad};
use crate::store::codec::hall::HallDto;
use crate::store::codec::machine::MachineDto;
use crate::store::codec::pool::PoolDto;
use crate::store::codec::voucher::VoucherDto;
use crate::store::codec::wallet::WalletDto;

/// The record format this build writes (and the newest it reads). Version 2: a machine keeps
/// sequence marks per epoch and an effect number (version 1 machines still read). Version 3:
/// a machine keeps its meter snapshot baseline and unexplained variance (RULES.md M-8;
/// older machines read without them), so a build that would drop them refuses the record.
/// Version 4: positional (arrays, no field names; the same fields), a third of the encoding
/// work; versions 1 to 3, written with named fields, still read.
pub const RECORD_VERSION: u32 = 4;

/// About the size of a machine's record, so that most records take one allocation.
const RECORD_CAPACITY: usize = 512;

/// A stored entity record: format version, movement count, state.
#[derive(Serialize, Deserialize)]
struct Record {
    v: u32,
    movements: u64,
    state: StateDto,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum StateDto {
    /// Boxed: a machine's and a wallet's records are the largest.
    Machine(Box<MachineDto>),
    Wallet(Box<WalletDto>),
    Pool(PoolDto),
    Hall(HallDto),
    Voucher(VoucherDto),
    Desk(Box<DeskDto>),
}

/// Encodes an entity's state and movement count as a stored record.
pub fn encode_record(snapshot: &Snapshot, movements: u64) -> Result<Vec<u8>, StoreError> {
    fields::positional(&record_of(snapshot, movements)?, RECORD_CAPACITY).map_err(|e| {
        StoreError::permanent(format!("encoding the state of {:?}: {e}", snapshot.key()))
    })
}

/// The stored form of an entity's state and movement count.
fn record_of(snapshot: &Snapshot, movements: u64) -> Result<Record, StoreError> {
    let state = match snapshot {
        Snapshot::Machine(m) => StateDto::Machine(Box::new(m.into())),
        Snapshot::Wallet(w) => StateDto::Wallet(Box::new(w.try_into()?)),
        Snapshot::Pool(p) => StateDto::Pool(p.into()),
        Snapshot::Hall(h) => StateDto::Hall(h.into()),
        Snapshot::Voucher(v) => StateDto::Voucher(v.into()),
        Snapshot::Desk(d) => StateDto::Desk(Box::new(d.into())),
    };
    Ok(Record {
        v: RECORD_VERSION,
        movements,
        state,
    })
}

/// Decodes a stored record: the state and its movement count.
pub fn decode_record(bytes: &[u8]) -> Result<(Snapshot, u64), StoreError> {
    let rec: Record = rmp_serde::from_slice(bytes).map_err(|e| bad("record", e))?;
    if rec.v > RECORD_VERSION {
        return Err(StoreError::permanent(format!(
            "stored record version {} is newer than this build reads ({RECORD_VERSION})",
            rec.v
        )));
    }
    let snapshot = match rec.state {
        StateDto::Machine(m) => Snapshot::Machine((*m).try_into()?),
        StateDto::Wallet(w) => Snapshot::Wallet((*w).try_into()?),
        StateDto::Pool(p) => Snapshot::Pool(p.try_into()?),
        StateDto::Hall(h) => Snapshot::Hall(h.try_into()?),
        StateDto::Voucher(v) => Snapshot::Voucher(v.try_into()?),
        StateDto::Desk(d) => Snapshot::Desk((*d).try_into()?),
    };
    Ok((snapshot, rec.movements))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pitboss_actors::domain::ggr::HallState;
    use pitboss_actors::domain::HallId;

    /// Every kind of state the model's generator leads to (machines, wallets with answers,
    /// pools, halls, vouchers, desks) reads back from its record as written now
    /// (positional), and as versions 1 to 3 wrote it (named fields; what a store made by an
    /// older build holds).
    #[test]
    fn every_state_reads_back_from_positional_and_named_records() {
        use crate::direct::Direct;
        use crate::model::gen::{generate, model_config, GenConfig};
        use crate::model_check::{core_config, SECRET};
        let g = generate(&GenConfig::default());
        let rc = core_config(&model_config()).runtime_config().unwrap();
        let mut direct = Direct::new(rc, SECRET);
        for item in &g.items {
            if let Ok(input) = crate::wire::decode_input(&item.bytes) {
                direct.apply(input);
            }
        }
        let states = direct.snapshots();
        let mut kinds = std::collections::HashSet::new();
        for (i, s) in states.iter().enumerate() {
            kinds.insert(std::mem::discriminant(s));
            let movements = i as u64;
            let positional = encode_record(s, movements).unwrap();
            assert_eq!(decode_record(&positional).unwrap(), (s.clone(), movements));
            let mut named = record_of(s, movements).unwrap();
            named.v = 3;
            let named = rmp_serde::to_vec_named(&named).unwrap();
            assert_eq!(decode_record(&named).unwrap(), (s.clone(), movements));
            assert!(
                positional.len() < named.len(),
                "{:?}: positional {} bytes, named {}",
                s.key(),
                positional.len(),
                named.len()
            );
        }
        assert_eq!(kinds.len(), 6, "every kind of entity: {}", states.len());
    }

    #[test]
    fn newer_records_are_refused() {
        let rec = Record {
            v: RECORD_VERSION + 1,
            movements: 0,
            state: StateDto::Hall(HallDto::from(&HallState::new(HallId::new("H").unwrap()))),
        };
        let bytes = rmp_serde::to_vec_named(&rec).unwrap();
        let e = decode_record(&bytes).unwrap_err();
        let newer = format!("version {}", RECORD_VERSION + 1);
        assert!(e.to_string().contains(&newer), "{e}");
        assert!(!e.is_transient(), "a newer record cannot heal: {e}");
    }

    #[test]
    fn a_version_1_machine_record_reads_as_epoch_0_with_its_effects_numbered_on() {
        use pitboss_actors::domain::machine::{MachineProfile, MachineState};
        use pitboss_actors::domain::{Currency, MachineId};
        let profile = MachineProfile {
            hall: HallId::new("H-1").unwrap(),
            currency: Currency::new("EUR").unwrap(),
            pools: vec![],
            large_cash_in_alert_minor: 0,
            handpay_threshold_minor: 0,
        };
        let m = MachineState::new(MachineId::new("M-1").unwrap(), profile);
        let rec = Record {
            v: 1,
            movements: 3,
            state: StateDto::Machine(Box::new(MachineDto::version_1(&m, 41))),
        };
        let bytes = rmp_serde::to_vec_named(&rec).unwrap();
        let (snapshot, movements) = decode_record(&bytes).unwrap();
        let Snapshot::Machine(read) = snapshot else {
            panic!("a machine")
        };
        assert_eq!(movements, 3);
        assert_eq!(read.last_seq(), Some(41));
        assert_eq!(read.marks[0].epoch, 0);
        assert!(read.marks[0].holes.is_empty());
        // Halls and pools saw its effects numbered by sequence number: go on from there.
        assert_eq!(read.effect_seq, 41);
    }
}
