//! Time as data. The core never reads a clock: event time comes in the envelope and
//! processing time is passed in by the shell.

/// Milliseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

/// Length of a GGR window, in milliseconds (one minute).
pub const WINDOW_MS: i64 = 60_000;

impl Timestamp {
    /// The start of the one-minute window this instant falls in.
    pub fn window_start(self) -> Timestamp {
        Timestamp(self.0.div_euclid(WINDOW_MS) * WINDOW_MS)
    }
}
