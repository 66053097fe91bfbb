//! Typed identifiers. Ids are short strings on the wire (`M-17`, `H-1`, a player number) and
//! stay strings here, stored inline (no heap allocation up to 24 bytes) so cloning one on the
//! hot path is cheap.

use compact_str::CompactString;
use std::fmt;

use super::error::DomainError;
use super::kinds::IdKind;

/// Longest id accepted, in bytes. Bounded so a hostile producer cannot make keys unbounded.
pub const ID_LEN_MAX: usize = 64;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $what:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(CompactString);

        impl $name {
            /// Validates and wraps an id: 1 to [`ID_LEN_MAX`] bytes of printable ASCII without spaces.
            pub fn new(s: &str) -> Result<Self, DomainError> {
                validate_id($what, s)?;
                Ok(Self(CompactString::new(s)))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.0.as_str())
            }
        }
    };
}

fn validate_id(what: IdKind, s: &str) -> Result<(), DomainError> {
    if s.is_empty() || s.len() > ID_LEN_MAX || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(DomainError::InvalidId {
            what,
            value: s.chars().take(ID_LEN_MAX).collect(),
        });
    }
    Ok(())
}

string_id!(
    /// An electronic gaming machine (EGM).
    MachineId,
    IdKind::Machine
);
string_id!(
    /// A player (owner of a wallet).
    PlayerId,
    IdKind::Player
);
string_id!(
    /// A jackpot pool (a controller with one or more levels).
    PoolId,
    IdKind::Pool
);
string_id!(
    /// A gambling hall, or an online brand for game servers.
    HallId,
    IdKind::Hall
);
string_id!(
    /// A wallet transaction id, the idempotency key of a wallet command.
    TxId,
    IdKind::Tx
);
string_id!(
    /// An online game server.
    ServerId,
    IdKind::Server
);
string_id!(
    /// A game provider's round (game round) id on a wallet command (RULES.md E-2, W-2):
    /// part of the command's content, echoed in its answer.
    RoundId,
    IdKind::Round
);

string_id!(
    /// The attendant who paid a handpay and reset the machine (RULES.md M-10).
    AttendantId,
    IdKind::Attendant
);

/// A TITO voucher's validation number (RULES.md V-1): exactly 18 decimal digits, as
/// machines print them (leading zeros kept). Held as its digits, so it is `Copy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValidationNo([u8; ValidationNo::DIGITS]);

impl ValidationNo {
    /// Digits in a validation number.
    pub const DIGITS: usize = 18;

    /// Validates and wraps a validation number: exactly 18 ASCII digits.
    pub fn new(s: &str) -> Result<Self, DomainError> {
        if s.len() != Self::DIGITS || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::InvalidId {
                what: IdKind::Validation,
                value: s.chars().take(ID_LEN_MAX).collect(),
            });
        }
        let mut digits = [0u8; Self::DIGITS];
        digits.copy_from_slice(s.as_bytes());
        Ok(Self(digits))
    }

    /// The digits as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The number (below 10^18).
    pub fn get(self) -> u64 {
        self.as_str().parse().unwrap_or_default()
    }
}

impl fmt::Display for ValidationNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The id of an input event (a UUID), the idempotency key of everything it causes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(pub u128);

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0.to_be_bytes();
        for (i, byte) in b.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

/// The input events an aggregate output (a GGR window, a pool's levels) is the first to
/// include since its previous publication: the latest one, and how many. It names the
/// output's cause (a header) so the load harness can time it; no rule depends on it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Carried {
    /// The latest event included, if any.
    pub latest: Option<EventId>,
    /// How many were included.
    pub count: u32,
}

impl Carried {
    /// One more event included.
    pub fn note(&mut self, cause: EventId) {
        self.latest = Some(cause);
        self.count = self.count.saturating_add(1);
    }

    /// What the next publication carries; starts again from none.
    pub fn take(&mut self) -> Carried {
        std::mem::take(self)
    }
}

/// Which entity sent an effect downstream; downstream actors keep the last sequence they
/// applied per source so a replayed effect is applied once.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceKey {
    /// Effects of a machine, sequenced by the machine's own event sequence numbers.
    Machine(MachineId),
    /// Effects of a wallet, sequenced by the wallet's count of applied operations.
    Wallet(PlayerId),
    /// A machine's jackpot awards booked in its hall, sequenced by the machine's count of
    /// awards applied. Awards reach a machine on their own topic, so their interleaving with
    /// the machine's events differs from one run to a replay; numbering them apart keeps each
    /// sequence the same under replay (the hall deduplicates by it).
    Award(MachineId),
}

impl fmt::Display for SourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceKey::Machine(m) => write!(f, "machine {m}"),
            SourceKey::Wallet(p) => write!(f, "wallet {p}"),
            SourceKey::Award(m) => write!(f, "award {m}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_validate() {
        assert!(MachineId::new("M-17").is_ok());
        assert!(MachineId::new("").is_err());
        assert!(MachineId::new("has space").is_err());
        assert!(MachineId::new(&"x".repeat(65)).is_err());
        assert_eq!(MachineId::new("M-17").unwrap().to_string(), "M-17");
    }

    #[test]
    fn validation_numbers_are_eighteen_digits_and_keep_their_zeros() {
        let v = ValidationNo::new("000123456789012345").unwrap();
        assert_eq!(v.to_string(), "000123456789012345");
        assert_eq!(v.get(), 123_456_789_012_345);
        assert!(ValidationNo::new("999999999999999999").is_ok());
        for bad in [
            "",
            "12345678901234567",
            "1234567890123456789",
            "12345678901234567x",
            "+23456789012345678",
        ] {
            assert!(ValidationNo::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn event_id_displays_as_uuid() {
        let id = EventId(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        assert_eq!(id.to_string(), "01234567-89ab-cdef-0123-456789abcdef");
    }
}
