//! The consumer side of input events: bytes to a validated domain [`Input`].
//!
//! Three steps, a file each. `raw` holds borrowed mirrors of the wire types: strings are
//! slices of the message, so decoding allocates nothing on success (the domain ids store up
//! to 24 bytes inline). `fast` (a hand-written reader for the common shape) or serde
//! (everything else) fills them. `validate` turns them into the domain input. Leaves are
//! read leniently, as "an integer, a string, or the name of whatever came instead", and
//! checked in validation: that way every error names its field and value (serde's own type
//! errors do not say which field), and an amount beyond `i64` is reported as an invalid
//! amount rather than as a type error.

use pitboss_actors::shell::Input;
use serde::Deserialize;

use super::input::InputEnvelope;
use super::{input_version_supported, scan, WireError, MESSAGE_BYTES_MAX, NESTING_DEPTH_MAX};

mod fast;
mod raw;
mod validate;

use raw::{RawEnvelope, RawInt};
use validate::validate;

/// Decodes and validates one input message: the hot path of ingest.
///
/// Checks, in order: the size ([`MESSAGE_BYTES_MAX`]), that the bytes are one well-formed
/// MessagePack map, the shape of the event, `schema_version`, `event_id`, the source, then
/// every id, amount and currency of the payload. A message of another schema version is
/// reported as such even when the rest of it does not have the version 1 shape.
///
/// Never panics, whatever the bytes.
///
/// # Errors
///
/// A [`WireError`] naming the first problem found; [`WireError::code`] classifies it.
pub fn decode_input(bytes: &[u8]) -> Result<Input, WireError> {
    if bytes.len() > MESSAGE_BYTES_MAX {
        return Err(WireError::Oversize { len: bytes.len() });
    }
    match fast::read(bytes) {
        Some(raw) => validate(raw),
        None => decode_input_serde(bytes),
    }
}

/// [`decode_input`] without its fast path: the serde decoder alone. The fast path must give
/// the same answer for every message it accepts; tests compare the two.
#[doc(hidden)]
pub fn decode_input_serde(bytes: &[u8]) -> Result<Input, WireError> {
    if bytes.len() > MESSAGE_BYTES_MAX {
        return Err(WireError::Oversize { len: bytes.len() });
    }
    scan::check_one_map(bytes)?;
    let mut de = rmp_serde::Deserializer::from_read_ref(bytes);
    de.set_max_depth(NESTING_DEPTH_MAX);
    match RawEnvelope::deserialize(&mut de) {
        Ok(raw) => validate(raw),
        Err(e) => Err(version_first(bytes, WireError::from_rmp(e))),
    }
}

/// Whether the fast path accepts the bytes (tests).
#[doc(hidden)]
pub fn fast_path_accepts(bytes: &[u8]) -> bool {
    fast::read(bytes).is_some()
}

impl TryFrom<&InputEnvelope> for Input {
    type Error = WireError;

    /// Validates an envelope built in process, exactly as [`decode_input`] validates bytes.
    fn try_from(env: &InputEnvelope) -> Result<Self, WireError> {
        validate(RawEnvelope::borrow(env))
    }
}

/// When the bytes do not decode as a version 1 event, a `schema_version` other than 1 is the
/// better explanation: a later version may change any other field.
#[cold]
fn version_first(bytes: &[u8], err: WireError) -> WireError {
    #[derive(Deserialize)]
    struct VersionProbe {
        schema_version: Option<RawInt>,
    }
    let mut de = rmp_serde::Deserializer::from_read_ref(bytes);
    de.set_max_depth(NESTING_DEPTH_MAX);
    match VersionProbe::deserialize(&mut de) {
        Ok(VersionProbe {
            schema_version: Some(RawInt::Int(v)),
        }) if !input_version_supported(v) => WireError::UnsupportedVersion(v),
        _ => err,
    }
}
