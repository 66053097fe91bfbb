//! Money: integer minor units with an explicit currency. Never floating point.

use std::fmt;

use super::error::DomainError;
use super::kinds::Total;

/// Largest amount one event may carry, in minor units (10^12: ten billion of a currency with
/// two decimals). Bounds every sum the core keeps far below `i64::MAX`, and turns an absurd
/// amount into a clear rejection instead of an overflow deep in the core.
pub const AMOUNT_MAX: i64 = 1_000_000_000_000;

/// A strictly positive amount of money in minor units, at most [`AMOUNT_MAX`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(i64);

impl Amount {
    /// Validates a raw amount from the wire.
    pub fn new(minor: i64) -> Result<Self, DomainError> {
        if minor <= 0 {
            return Err(DomainError::NonPositiveAmount(minor));
        }
        if minor > AMOUNT_MAX {
            return Err(DomainError::AmountTooLarge(minor));
        }
        Ok(Self(minor))
    }

    /// The amount in minor units.
    pub fn minor(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An ISO 4217 currency code (three upper-case ASCII letters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    /// Validates a currency code.
    pub fn new(code: &str) -> Result<Self, DomainError> {
        let b = code.as_bytes();
        if b.len() != 3 || !b.iter().all(|c| c.is_ascii_uppercase()) {
            return Err(DomainError::InvalidCurrency(code.chars().take(8).collect()));
        }
        Ok(Self([b[0], b[1], b[2]]))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        // The constructor admits only ASCII upper-case letters.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Adds to a running total, naming the total in the error if it would overflow.
pub fn add(total: i64, delta: i64, what: Total) -> Result<i64, DomainError> {
    total.checked_add(delta).ok_or(DomainError::Overflow(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_positive_and_bounded() {
        assert!(Amount::new(1).is_ok());
        assert!(Amount::new(0).is_err());
        assert!(Amount::new(-5).is_err());
        assert!(Amount::new(AMOUNT_MAX).is_ok());
        assert!(Amount::new(AMOUNT_MAX + 1).is_err());
    }

    #[test]
    fn currencies_are_iso_codes() {
        assert_eq!(Currency::new("EUR").unwrap().as_str(), "EUR");
        assert!(Currency::new("eur").is_err());
        assert!(Currency::new("EURO").is_err());
    }
}
