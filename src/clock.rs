//! The wall clock, read in one place: the simulator stamps events with it, the census and
//! the audit log their entries (and its RFC 3339 form). The actor core never reads it (time comes in with events).

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch (0 if the clock is set before 1970).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// An instant (ms since the Unix epoch) as RFC 3339 UTC with milliseconds: the audit log's
/// and the backups' time stamps.
pub fn rfc3339(ms: i64) -> String {
    // The clock gives ms within a few centuries of the epoch, far inside the range of
    // `OffsetDateTime` (years -9999..=9999); the epoch stands in for anything beyond it.
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}
