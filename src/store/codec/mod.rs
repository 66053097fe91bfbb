//! The stored form of entity states and ledger entries: storage records (DTOs) that derive
//! serde, converted to and from the domain states (which do not). MessagePack with named
//! fields (`rmp_serde::to_vec_named`), like the wire format, so a field added later is
//! skipped by an older reader and defaulted by a newer one.
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
