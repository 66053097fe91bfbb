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

/// How far an event's time may stray from the time it was received (RULES.md E-3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SkewLimits {
    /// An event time more than this after its receive time is not believed.
    pub ahead_max_ms: i64,
    /// An event time more than this before its receive time is not believed.
    pub behind_max_ms: i64,
}

impl Default for SkewLimits {
    /// 5 minutes ahead, 7 days behind.
    fn default() -> Self {
        Self {
            ahead_max_ms: 5 * 60 * 1000,
            behind_max_ms: 7 * 24 * 60 * 60 * 1000,
        }
    }
}

/// The time an event is booked at (RULES.md E-3): its event time, unless that is beyond the
/// limits around its receive time; then the receive time. The flag tells whether the event
/// time was replaced (a `clock_skew`). Without a receive time the event time stands.
pub fn booked_time(
    limits: SkewLimits,
    event: Timestamp,
    receive: Option<Timestamp>,
) -> (Timestamp, bool) {
    let Some(r) = receive else {
        return (event, false);
    };
    let ahead = event.0.saturating_sub(r.0);
    let behind = r.0.saturating_sub(event.0);
    if ahead > limits.ahead_max_ms || behind > limits.behind_max_ms {
        (r, true)
    } else {
        (event, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_skew_books_at_receive_time_beyond_the_limits() {
        let l = SkewLimits {
            ahead_max_ms: 10,
            behind_max_ms: 100,
        };
        let r = Some(Timestamp(1_000));
        assert_eq!(
            booked_time(l, Timestamp(1_010), r),
            (Timestamp(1_010), false)
        );
        assert_eq!(
            booked_time(l, Timestamp(1_011), r),
            (Timestamp(1_000), true)
        );
        assert_eq!(booked_time(l, Timestamp(900), r), (Timestamp(900), false));
        assert_eq!(booked_time(l, Timestamp(899), r), (Timestamp(1_000), true));
        assert_eq!(
            booked_time(l, Timestamp(i64::MIN), r),
            (Timestamp(1_000), true)
        );
        assert_eq!(booked_time(l, Timestamp(5), None), (Timestamp(5), false));
    }
}
