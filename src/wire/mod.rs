//! The wire format: MessagePack bytes in and out of Kafka, and their conversion to and from
//! the domain types of `pitboss-actors`.
//!
//! The contract these types implement is written down in `schemas/` (one JSON Schema per
//! event and output kind, and `schemas/asyncapi.yaml` for the topics and their keys);
//! `tests/inproc/schemas_conform.rs` checks that what this module writes conforms to those files and
//! `tests/inproc/wire_golden.rs` pins the bytes.
//!
//! # Input
//!
//! An input event is a MessagePack map (written with `rmp_serde::to_vec_named`, so field
//! names travel with the values and a reader ignores fields it does not know):
//!
//! ```text
//! { event_id: "<uuid>", schema_version: 1, source: { hall, machine | server },
//!   seq: u64, event_time: i64 ms, payload: { <kind>: { ...fields } } }
//! ```
//!
//! [`InputEnvelope`] is the owned form producers (the simulator, the load generator, tests)
//! build and encode. It is deliberately loose (strings for ids, kinds and currencies, `i64`
//! amounts) so a producer can also write the invalid messages the tests need.
//! [`decode_input`] is the consumer side and the hot path. It checks the size, walks the
//! bytes once (no recursion, no allocation) to make sure they are one well-formed map with
//! nothing after it, lets serde read them into private borrowed types (strings are slices of
//! the message; a valid event whose ids fit inline in the domain's ids allocates nothing),
//! and validates those into a [`pitboss_actors::shell::Input`]. Validation is the same code
//! for bytes and for an [`InputEnvelope`] built in process (`Input::try_from(&envelope)`).
//! Every failure is a [`WireError`] whose message names the field and the value and whose
//! [`WireError::code`] is one of the bounded [`REASON_CODES`].
//!
//! # Output
//!
//! [`encode_output`] turns a [`pitboss_actors::shell::Output`] into an [`OutputRecord`]:
//! topic, key, id and bytes. Every output id is a UUID v5 under [`OUTPUT_ID_NAMESPACE`] of
//! the things that make the output unique (see [`output`]), so a replay produces the same
//! ids and consumers can drop duplicates. [`decode_output`] reads them back (consumers,
//! tests, the load-test reconciliation).
//!
//! [`samples`] holds one event of every kind, the fixtures of the contract tests.

mod decode;
mod error;
mod input;
pub mod output;
pub mod samples;
mod scan;

pub use decode::{decode_input, decode_input_serde, fast_path_accepts};
pub use error::{WireError, REASON_CODES};
pub use input::{InputEnvelope, InputPayload, SnapshotMeters, Source};
pub use output::{
    decode_output, encode_case_closed, encode_gaming_day, encode_gaming_day_machine,
    encode_gaming_day_network, encode_output, encode_rejection, AlertPayload, AmlCaseClosedPayload,
    AmlCasePayload, Bin, GamingDayMachinePayload, GamingDayNetworkPayload, GamingDayPayload,
    GgrPayload, JackpotHitPayload, JackpotLevelsPayload, LevelPayload, OutputEnvelope, OutputEvent,
    OutputRecord, RefusedPayload, RejectedPayload, Topic, TransferPayload, WalletPayload,
    OUTPUT_ID_NAMESPACE, REJECTED_ORIGINAL_BYTES_MAX,
};

/// The schema version of every output this build writes. Version 2 added codes to refusals
/// and alerts, net win to GGR windows, and the answer of every wallet command (RULES.md).
pub const SCHEMA_VERSION: u32 = 2;

/// The input schema versions this build reads. Version 2 adds the sequence epoch and the
/// receive time to the envelope, the paid amount to a progressive hit and the round to wallet
/// commands; a version 1 event keeps the meaning of its fields (RULES.md, E-2).
pub const INPUT_SCHEMA_VERSIONS: [u32; 2] = [1, 2];

/// Whether this build reads input schema version `v`.
pub fn input_version_supported(v: i128) -> bool {
    INPUT_SCHEMA_VERSIONS.iter().any(|s| i128::from(*s) == v)
}

/// Largest input message accepted, in bytes. A real event is a few hundred bytes; the bound
/// keeps a hostile or broken producer from making the decoder walk megabytes.
pub const MESSAGE_BYTES_MAX: usize = 64 * 1024;

/// Deepest nesting of maps and arrays accepted in an input message. An event needs 3 levels
/// (envelope, payload, fields); the bound leaves room for added fields and keeps the
/// recursive decoder far from the end of a thread's stack.
pub const NESTING_DEPTH_MAX: usize = 32;

/// Default name of the input topic (key: machine id, or player id for wallet commands).
pub const GAME_EVENTS_TOPIC: &str = "pitboss.game-events";
