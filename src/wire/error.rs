//! Why an input message is rejected. Each variant's message names the field and the value;
//! [`WireError::code`] gives the short stable reason used as a metrics label and in the
//! rejected topic.

use pitboss_actors::domain::money::AMOUNT_MAX;
use pitboss_actors::domain::DomainError;
use thiserror::Error;

use super::MESSAGE_BYTES_MAX;

/// Every value [`WireError::code`] can return: a bounded label set for metrics.
pub const REASON_CODES: [&str; 8] = [
    "malformed",
    "unsupported_version",
    "missing_field",
    "invalid_amount",
    "invalid_currency",
    "invalid_id",
    "invalid_source",
    "oversize",
];

/// An input message that cannot become a domain [`Input`](pitboss_actors::shell::Input).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    /// The message is larger than [`MESSAGE_BYTES_MAX`].
    #[error("message of {len} bytes exceeds the maximum of {max} bytes", max = MESSAGE_BYTES_MAX)]
    Oversize {
        /// The message's length in bytes.
        len: usize,
    },
    /// The bytes are not one well-formed MessagePack value.
    #[error("malformed MessagePack: {0}")]
    Malformed(String),
    /// Well-formed MessagePack that does not have the shape of an event: a wrong type, an
    /// unknown payload kind, a payload with no or several kinds.
    #[error("event does not match its schema: {0}")]
    Schema(String),
    /// A `schema_version` this build does not read ([`super::INPUT_SCHEMA_VERSIONS`]).
    #[error("unsupported schema_version {0} (supported: 1, 2)")]
    UnsupportedVersion(i128),
    /// A required field is absent.
    #[error("missing field `{0}`")]
    MissingField(String),
    /// An amount outside the range of `i64` (so beyond any valid amount).
    #[error("amount {0} exceeds the maximum of {max} minor units", max = AMOUNT_MAX)]
    AmountOutOfRange(i128),
    /// `event_id` is not a UUID in its hyphenated text form.
    #[error("invalid event_id {0:?}: not a UUID (expected 8-4-4-4-12 hex digits)")]
    InvalidEventId(String),
    /// The source does not fit the payload: both or neither of `machine` and `server`, or a
    /// machine event from a server (or the reverse).
    #[error("invalid source: {0}")]
    InvalidSource(String),
    /// A value the domain refuses: an id, an amount, a currency.
    #[error(transparent)]
    Domain(#[from] DomainError),
}

impl WireError {
    /// A short stable reason, one of [`REASON_CODES`].
    pub fn code(&self) -> &'static str {
        match self {
            WireError::Oversize { .. } => "oversize",
            WireError::Malformed(_) | WireError::Schema(_) => "malformed",
            WireError::UnsupportedVersion(_) => "unsupported_version",
            WireError::MissingField(_) => "missing_field",
            WireError::AmountOutOfRange(_) => "invalid_amount",
            WireError::InvalidEventId(_) => "invalid_id",
            WireError::InvalidSource(_) => "invalid_source",
            WireError::Domain(e) => match e {
                DomainError::InvalidId { .. } => "invalid_id",
                DomainError::NonPositiveAmount(_) | DomainError::AmountTooLarge(_) => {
                    "invalid_amount"
                }
                DomainError::InvalidCurrency(_) => "invalid_currency",
                // The constructors the decoder calls return no other kind; should one appear,
                // it is still a bad value on the wire.
                _ => "malformed",
            },
        }
    }

    /// Classifies an error of the MessagePack decoder. The bytes were checked to be one
    /// well-formed value before decoding, so what is left is mostly a mismatch between the
    /// value and the event's shape.
    pub(crate) fn from_rmp(e: rmp_serde::decode::Error) -> Self {
        use rmp_serde::decode::Error as E;
        match e {
            E::Syntax(msg) => {
                // serde's messages for its derived types. The payload is the only enum the
                // decoder reads, so variant errors are about the payload.
                if let Some(field) = msg
                    .strip_prefix("missing field `")
                    .and_then(|rest| rest.strip_suffix('`'))
                {
                    WireError::MissingField(field.to_owned())
                } else if let Some(rest) = msg.strip_prefix("unknown variant ") {
                    WireError::Schema(format!("`payload` has an unknown event kind {rest}"))
                } else if msg.starts_with("invalid type: unit variant") {
                    WireError::Schema(
                        "`payload` must be a map with exactly one key (the event kind), got a string".to_owned(),
                    )
                } else {
                    WireError::Schema(msg)
                }
            }
            E::TypeMismatch(marker) => {
                WireError::Schema(format!("unexpected MessagePack type {marker:?}"))
            }
            E::LengthMismatch(n) => WireError::Schema(format!(
                "`payload` must be a map with exactly one key (the event kind), found {n}"
            )),
            E::OutOfRange => WireError::Schema("a number is out of range for its field".to_owned()),
            E::Utf8Error(err) => WireError::Malformed(format!("string is not UTF-8: {err}")),
            E::DepthLimitExceeded => WireError::Malformed(format!(
                "nested deeper than {} levels",
                super::NESTING_DEPTH_MAX
            )),
            other => WireError::Malformed(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_in_the_bounded_set() {
        let errors = [
            WireError::Oversize { len: 70_000 },
            WireError::Malformed("x".into()),
            WireError::Schema("x".into()),
            WireError::UnsupportedVersion(7),
            WireError::MissingField("seq".into()),
            WireError::AmountOutOfRange(1 << 64),
            WireError::InvalidEventId("x".into()),
            WireError::InvalidSource("x".into()),
            WireError::Domain(DomainError::NonPositiveAmount(-5)),
            WireError::Domain(DomainError::InvalidCurrency("eur".into())),
            WireError::Domain(DomainError::InvalidId {
                what: pitboss_actors::domain::IdKind::Machine,
                value: String::new(),
            }),
        ];
        for e in &errors {
            assert!(REASON_CODES.contains(&e.code()), "{e:?} -> {}", e.code());
        }
        let used: std::collections::BTreeSet<_> = errors.iter().map(WireError::code).collect();
        assert_eq!(used.len(), REASON_CODES.len(), "every code is reachable");
    }

    #[test]
    fn messages_name_the_value() {
        assert_eq!(
            WireError::UnsupportedVersion(7).to_string(),
            "unsupported schema_version 7 (supported: 1, 2)"
        );
        assert_eq!(
            WireError::MissingField("seq".into()).to_string(),
            "missing field `seq`"
        );
        assert_eq!(
            WireError::Domain(DomainError::NonPositiveAmount(-5)).to_string(),
            "amount -5 is not positive"
        );
        assert_eq!(
            WireError::Oversize { len: 70_000 }.to_string(),
            "message of 70000 bytes exceeds the maximum of 65536 bytes"
        );
    }
}
