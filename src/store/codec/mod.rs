//! The stored form of entity states and ledger entries: storage records (DTOs) that derive
//! serde, converted to and from the domain states (which do not).
//!
//! Entity records, wallet transaction rows and ledger pages are MessagePack written
//! **positionally** (`rmp_serde::encode::write`: each DTO an array of its fields in
//! declaration order, no field names): naming every field was a third of a checkpoint's
//! encoding work (BENCHMARKS.md). serde reads a DTO from an array or from a map, so what
//! older builds wrote with named fields still reads. The rules that keep positions
//! meaningful: a field is only ever added **at the end** of its DTO, with
//! `#[serde(default)]` (a newer reader defaults it in older records, which end before it);
//! no field of these DTOs is skipped when written (`skip_serializing_if` would shift every
//! field after it; `record::tests::every_state_reads_back_from_positional_and_named_records`
//! fails if one is). An older build refuses a newer record rather than guess: its version
//! is newer, or its arrays are longer than the DTOs it knows. GGR rows and machines' log
//! entries keep named fields (few per checkpoint).
//!
//! A record carries its format version: a reader refuses a version newer than it knows
//! instead of guessing. Whatever cannot be decoded is a permanent store failure: reading it
//! again gives the same bytes.
//!
//! - [`keys`]: entity keys as stored, and the ledger's day;
//! - [`record`]: an entity's record, over one DTO set per entity ([`machine`], [`wallet`]
//!   with the refusals of its idempotency window in [`refusal`], [`pool`], [`hall`],
//!   [`voucher`]);
//! - [`ledger`]: pages of ledger entries; [`ggr`]: GGR rows; [`log`]: machines' event log
//!   entries;
//! - [`fields`]: what several DTOs share.

pub mod desk;
pub mod fields;
pub mod ggr;
pub mod hall;
pub mod keys;
pub mod ledger;
pub mod log;
pub mod machine;
pub mod pool;
pub mod record;
pub mod refusal;
pub mod voucher;
pub mod wallet;

pub use ggr::{decode_ggr, encode_ggr, GgrRow};
pub use keys::{day_of, entity_key, key_bytes, key_from_bytes, kind_key_range};
pub use ledger::{decode_entries, encode_entries};
pub use log::{decode_log, encode_log, LOG_RECORD_VERSION};
pub use record::{decode_record, encode_record, RECORD_VERSION};
pub use wallet::{decode_tx, encode_tx, TX_RECORD_VERSION};
