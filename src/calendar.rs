//! Where days, weeks and months start in the jurisdiction's local time, for the wallets'
//! deposit and loss limits (RULES.md W-9): the `[responsible-gaming]` section and a
//! [`Calendar`](pitboss_actors::domain::limits::Calendar) over jiff's bundled time-zone
//! database. A day starts at local midnight, a week at Monday's, a month at the first's; a
//! midnight a daylight-saving change skips starts the day at the first instant after the gap.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::Timestamp as JiffTime;
use pitboss_actors::domain::limits::{Calendar, Periods};
use pitboss_actors::domain::Timestamp;
use serde::{Deserialize, Serialize};

/// The `[responsible-gaming]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ResponsibleGamingSection {
    /// The jurisdiction's IANA time zone: deposit and loss limits count per local day, week,
    /// month.
    #[serde(default = "utc")]
    pub time_zone: String,
    /// How long a raised or removed deposit limit waits before it takes effect, in hours.
    #[serde(default = "day_hours")]
    pub cooling_off_hours: u32,
    /// The longest break between a player's bets and wins that keeps a playing session
    /// going, in minutes (session limits, RULES.md W-9).
    #[serde(default = "half_hour")]
    pub session_break_minutes: u32,
}

fn half_hour() -> u32 {
    30
}

fn utc() -> String {
    "UTC".to_owned()
}

fn day_hours() -> u32 {
    24
}

impl Default for ResponsibleGamingSection {
    fn default() -> Self {
        Self {
            time_zone: utc(),
            cooling_off_hours: day_hours(),
            session_break_minutes: half_hour(),
        }
    }
}

/// Periods in a time zone.
#[derive(Debug, Clone)]
pub struct ZoneCalendar {
    zone: TimeZone,
    /// Tells this calendar's entry in the per-thread cache from another's (a clone shares
    /// it: same zone, same periods).
    id: u64,
}

/// Where the last instant asked for fell, per thread: (calendar, the start of its local day,
/// the start of the next, its periods). Every deposit and bet asks (RULES.md W-9), and most
/// fall in the day of the one before: they are answered without converting time zones.
type LastDay = Option<(u64, i64, i64, Periods)>;

thread_local! {
    static LAST_DAY: std::cell::Cell<LastDay> = const { std::cell::Cell::new(None) };
}

static CALENDARS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl ZoneCalendar {
    /// The calendar of an IANA zone name.
    ///
    /// # Errors
    ///
    /// A message naming the zone when the bundled database does not know it.
    pub fn new(zone: &str) -> Result<Self, String> {
        let zone = TimeZone::get(zone).map_err(|e| {
            format!("responsible-gaming.time-zone {zone:?} is not an IANA time zone: {e}")
        })?;
        let id = CALENDARS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(Self { zone, id })
    }

    fn start_of(&self, date: Date) -> Timestamp {
        // Event times are bounded to 1970..9999 (RULES.md E-1): every such date converts.
        date.to_datetime(Time::midnight())
            .to_zoned(self.zone.clone())
            .map(|z| Timestamp(z.timestamp().as_millisecond()))
            .unwrap_or(Timestamp(i64::MIN))
    }
}

impl Calendar for ZoneCalendar {
    fn periods(&self, t: Timestamp) -> Periods {
        if let Some((id, from, to, periods)) = LAST_DAY.get() {
            if id == self.id && from <= t.0 && t.0 < to {
                return periods;
            }
        }
        let (periods, next_day) = self.compute(t);
        if let Some(next) = next_day {
            LAST_DAY.set(Some((self.id, periods.0[0].0, next.0, periods)));
        }
        periods
    }
}

impl ZoneCalendar {
    /// The periods `t` falls in, and the start of the next local day when it is known (not
    /// at the ends of jiff's range).
    fn compute(&self, t: Timestamp) -> (Periods, Option<Timestamp>) {
        // jiff's instants end a day before 9999 does (E-1's bound): the last day counts in
        // the one before.
        let t = t.0.clamp(
            JiffTime::MIN.as_millisecond(),
            JiffTime::MAX.as_millisecond(),
        );
        let Ok(instant) = JiffTime::from_millisecond(t) else {
            return (Periods([Timestamp(i64::MIN); 3]), None);
        };
        let date = instant.to_zoned(self.zone.clone()).date();
        let monday = date
            .checked_sub(jiff::Span::new().days(i64::from(date.weekday().to_monday_zero_offset())))
            .unwrap_or(date);
        let first = date.first_of_month();
        let periods = Periods([
            self.start_of(date),
            self.start_of(monday),
            self.start_of(first),
        ]);
        let next_day = date
            .tomorrow()
            .ok()
            .map(|d| self.start_of(d))
            .filter(|next| t < next.0 && periods.0[0].0 <= t);
        (periods, next_day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        s.parse::<JiffTime>().expect("an instant").as_millisecond()
    }

    #[test]
    fn periods_follow_local_midnight_across_daylight_saving() {
        let c = ZoneCalendar::new("Europe/Vienna").expect("a zone");
        // Sunday 2026-03-29, the spring-forward day, 12:00 local (10:00Z).
        let p = c.periods(Timestamp(ms("2026-03-29T10:00:00Z")));
        assert_eq!(p.0[0].0, ms("2026-03-28T23:00:00Z"));
        // The week began on Monday the 23rd, in winter time.
        assert_eq!(p.0[1].0, ms("2026-03-22T23:00:00Z"));
        assert_eq!(p.0[2].0, ms("2026-02-28T23:00:00Z"));
        // Monday the 30th, 00:30 local (summer time, 22:30Z the day before): a new week.
        let p = c.periods(Timestamp(ms("2026-03-29T22:30:00Z")));
        assert_eq!(p.0[0].0, ms("2026-03-29T22:00:00Z"));
        assert_eq!(p.0[1].0, ms("2026-03-29T22:00:00Z"));
        // UTC agrees with the core's own UTC calendar.
        let utc = ZoneCalendar::new("UTC").expect("UTC");
        for t in [0, 1_772_636_400_000, 253_402_300_799_999 - 2 * 86_400_000] {
            assert_eq!(
                utc.periods(Timestamp(t)),
                pitboss_actors::domain::limits::UtcCalendar.periods(Timestamp(t))
            );
        }
        assert!(ZoneCalendar::new("Mars/Olympus").is_err());
    }

    #[test]
    fn the_per_thread_cache_answers_as_the_conversion_does() {
        // Two calendars taking turns, instants hopping back and forth over the spring and
        // autumn changes, a month's end and a week's: every answer is the conversion's.
        let vienna = ZoneCalendar::new("Europe/Vienna").expect("a zone");
        let samoa = ZoneCalendar::new("Pacific/Apia").expect("a zone");
        let starts = [
            ms("2026-03-28T22:59:59.999Z"),
            ms("2026-03-29T00:00:00Z"),
            ms("2026-10-24T21:00:00Z"),
            ms("2026-10-25T22:59:59Z"),
            ms("2026-05-31T21:59:59Z"),
            ms("2011-12-29T09:00:00Z"), // Samoa skipped 2011-12-30
        ];
        let mut n = 0u64;
        for start in starts {
            for step in 0..200i64 {
                n += 1;
                // Forward in 7-minute steps, now and then back a day.
                let t = start + step * 420_000 - if n.is_multiple_of(13) { 86_400_000 } else { 0 };
                for c in [&vienna, &samoa] {
                    let got = c.periods(Timestamp(t));
                    assert_eq!(got, c.compute(Timestamp(t)).0, "{t}");
                    assert!(got.0[0].0 <= t, "{t}");
                }
            }
        }
    }
}
