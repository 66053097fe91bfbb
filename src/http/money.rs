//! Money for display. Amounts travel as integer minor units everywhere; the APIs and the
//! feed add a formatted text next to them, computed here with integer arithmetic (never a
//! float) and the currency's ISO 4217 number of digits.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Digits after the decimal point of a currency's major unit (ISO 4217): most have 2.
pub fn minor_digits(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// Minor units as major units, exact (integer arithmetic): `123456` EUR -> `"1234.56"`.
pub fn format_minor(minor: i64, currency: &str) -> String {
    let digits = minor_digits(currency);
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    if digits == 0 {
        return format!("{sign}{m}");
    }
    let unit = 10u64.pow(digits);
    format!(
        "{sign}{}.{:0width$}",
        m / unit,
        m % unit,
        width = digits as usize
    )
}

/// An amount: minor units, and formatted.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Money {
    pub minor: i64,
    /// Major units as text, for display.
    pub display: String,
}

/// An amount of `currency`, as the APIs show it.
pub fn money(minor: i64, currency: &str) -> Money {
    Money {
        minor,
        display: format_minor(minor, currency),
    }
}

/// A level's contribution rate as a percent string (`2500` ppm -> `"0.25"`).
pub fn percent_of_ppm(ppm: i64) -> String {
    Decimal::new(ppm, 4).normalize().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_formats_exactly() {
        assert_eq!(format_minor(123456, "EUR"), "1234.56");
        assert_eq!(format_minor(-5, "EUR"), "-0.05");
        assert_eq!(format_minor(0, "USD"), "0.00");
        assert_eq!(format_minor(1500, "JPY"), "1500");
        assert_eq!(format_minor(1234, "KWD"), "1.234");
        assert_eq!(format_minor(i64::MIN, "EUR"), "-92233720368547758.08");
    }

    #[test]
    fn percent_from_ppm() {
        assert_eq!(percent_of_ppm(2500), "0.25");
        assert_eq!(percent_of_ppm(10_000), "1");
        assert_eq!(percent_of_ppm(1), "0.0001");
        assert_eq!(percent_of_ppm(1_000_000), "100");
    }
}
