//! Where days, weeks and months start in the jurisdiction's local time, for the wallets'
//! deposit limits (RULES.md W-9): the `[responsible-gaming]` section and a
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
    /// The jurisdiction's IANA time zone: deposit limits count per local day, week, month.
    #[serde(default = "utc")]
    pub time_zone: String,
    /// How long a raised or removed deposit limit waits before it takes effect, in hours.
    #[serde(default = "day_hours")]
    pub cooling_off_hours: u32,
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
        }
    }
}

/// Periods in a time zone.
#[derive(Debug, Clone)]
pub struct ZoneCalendar {
    zone: TimeZone,
}

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
        Ok(Self { zone })
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
        // jiff's instants end a day before 9999 does (E-1's bound): the last day counts in
        // the one before.
        let t = t.0.clamp(
            JiffTime::MIN.as_millisecond(),
            JiffTime::MAX.as_millisecond(),
        );
        let Ok(instant) = JiffTime::from_millisecond(t) else {
            return Periods([Timestamp(i64::MIN); 3]);
        };
        let date = instant.to_zoned(self.zone.clone()).date();
        let monday = date
            .checked_sub(jiff::Span::new().days(i64::from(date.weekday().to_monday_zero_offset())))
            .unwrap_or(date);
        let first = date.first_of_month();
        Periods([
            self.start_of(date),
            self.start_of(monday),
            self.start_of(first),
        ])
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
}
