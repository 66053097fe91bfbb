//! Gaming days (issue 13, RULES.md H-4): each hall's business day, in its own time zone,
//! starting at its rollover time (e.g. 06:00 local). A day runs from its date's rollover to
//! the next date's, so across a daylight-saving change it is 23 or 25 hours long; a rollover
//! time that a change skips (02:30 on a spring-forward night) is taken as the first instant
//! after the gap, one repeated by a fall-back as its first occurrence (jiff's "compatible"
//! rule, as most calendars do).
//!
//! The time-zone database is bundled with the binary (jiff's `tzdb-bundle-always`), so every
//! host computes the same days whatever its own `/usr/share/zoneinfo`.

use std::collections::BTreeMap;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// The `[gaming-day]` section: the network's time zone and rollover, and halls that differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GamingDaySection {
    /// IANA time zone name (`Europe/Vienna`, `America/Los_Angeles`, `UTC`).
    pub time_zone: String,
    /// Local time the gaming day starts at, `HH:MM`.
    pub start: String,
    /// Halls with their own time zone or rollover (hall id -> settings).
    #[serde(default)]
    pub halls: BTreeMap<String, HallGamingDay>,
    /// How often `pitboss run` publishes the hall days that closed or were revised since
    /// its last look, on the reports topic (RULES.md H-5), ms.
    #[serde(default = "default_publish_interval_ms")]
    pub publish_interval_ms: u64,
}

fn default_publish_interval_ms() -> u64 {
    5_000
}

impl Default for GamingDaySection {
    /// UTC, rolling over at 06:00 (deploy/pitboss.toml).
    fn default() -> Self {
        Self {
            time_zone: "UTC".into(),
            start: "06:00".into(),
            halls: BTreeMap::new(),
            publish_interval_ms: default_publish_interval_ms(),
        }
    }
}

/// A hall's own time zone or rollover; what it leaves out is the network's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HallGamingDay {
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub start: Option<String>,
}

/// One hall's gaming-day rule.
#[derive(Debug, Clone)]
pub struct DayRule {
    /// The IANA name it was configured with.
    pub zone_name: String,
    zone: TimeZone,
    start: Time,
}

/// Where a gaming day begins and ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayBounds {
    /// First instant of the day, ms since the Unix epoch.
    pub start_ms: i64,
    /// First instant of the next day (exclusive end).
    pub end_ms: i64,
}

impl DayBounds {
    /// Its length in minutes (1440; 1380 or 1500 across a daylight-saving change).
    pub fn minutes(&self) -> i64 {
        (self.end_ms - self.start_ms) / 60_000
    }
}

impl DayRule {
    /// A rule from a time-zone name and a `HH:MM` rollover; the error names what is wrong.
    pub fn new(zone_name: &str, start: &str) -> Result<Self, String> {
        let zone = TimeZone::get(zone_name).map_err(|e| {
            format!("unknown time zone {zone_name:?} (an IANA name such as Europe/Vienna): {e}")
        })?;
        Ok(Self {
            zone_name: zone_name.to_owned(),
            zone,
            start: parse_start(start)?,
        })
    }

    /// The first instant of `date`'s gaming day, ms since the epoch.
    fn start_of(&self, date: Date) -> Result<i64, String> {
        let zoned = date
            .to_datetime(self.start)
            .to_zoned(self.zone.clone())
            .map_err(|e| format!("the start of gaming day {date}: {e}"))?;
        Ok(zoned.timestamp().as_millisecond())
    }

    /// The bounds of `date`'s gaming day.
    pub fn bounds(&self, date: Date) -> Result<DayBounds, String> {
        let next = date
            .tomorrow()
            .map_err(|e| format!("the day after {date}: {e}"))?;
        Ok(DayBounds {
            start_ms: self.start_of(date)?,
            end_ms: self.start_of(next)?,
        })
    }

    /// The gaming day an instant (ms since the epoch) belongs to.
    pub fn day_of(&self, ms: i64) -> Result<Date, String> {
        let ts = jiff::Timestamp::from_millisecond(ms).map_err(|e| format!("instant {ms}: {e}"))?;
        let mut date = ts.to_zoned(self.zone.clone()).date();
        let step = |r: Result<Date, jiff::Error>| r.map_err(|e| format!("instant {ms}: {e}"));
        while ms < self.start_of(date)? {
            date = step(date.yesterday())?;
        }
        while ms >= self.start_of(step(date.tomorrow())?)? {
            date = step(date.tomorrow())?;
        }
        Ok(date)
    }

    /// An instant as local time with its offset (RFC 3339), for reports.
    pub fn local(&self, ms: i64) -> String {
        jiff::Timestamp::from_millisecond(ms)
            .map(|t| {
                t.to_zoned(self.zone.clone())
                    .strftime("%Y-%m-%dT%H:%M:%S%:z")
                    .to_string()
            })
            .unwrap_or_else(|_| ms.to_string())
    }
}

fn parse_start(s: &str) -> Result<Time, String> {
    let bad = || format!("gaming-day start {s:?} is not a time HH:MM (00:00 to 23:59)");
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (i8, i8) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    Time::new(h, m, 0, 0).map_err(|_| bad())
}

/// Every hall's rule: the network's, and the halls that differ.
#[derive(Debug, Clone)]
pub struct GamingDays {
    network: DayRule,
    halls: BTreeMap<String, DayRule>,
}

impl GamingDays {
    /// The rules of a `[gaming-day]` section; the error names the setting that is wrong.
    pub fn new(s: &GamingDaySection) -> Result<Self, String> {
        let network =
            DayRule::new(&s.time_zone, &s.start).map_err(|e| format!("gaming-day: {e}"))?;
        let mut halls = BTreeMap::new();
        for (hall, h) in &s.halls {
            pitboss_actors::domain::HallId::new(hall)
                .map_err(|e| format!("gaming-day.halls: {e}"))?;
            let rule = DayRule::new(
                h.time_zone.as_deref().unwrap_or(&s.time_zone),
                h.start.as_deref().unwrap_or(&s.start),
            )
            .map_err(|e| format!("gaming-day.halls.{hall}: {e}"))?;
            halls.insert(hall.clone(), rule);
        }
        Ok(Self { network, halls })
    }

    /// A hall's rule.
    pub fn rule(&self, hall: &str) -> &DayRule {
        self.halls.get(hall).unwrap_or(&self.network)
    }
}

/// Parses a report's date, `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<Date, String> {
    s.parse::<Date>()
        .map_err(|e| format!("date {s:?} is not a date YYYY-MM-DD: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(rfc3339: &str) -> i64 {
        rfc3339.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    fn date(s: &str) -> Date {
        parse_date(s).unwrap()
    }

    /// A day runs from its rollover to the next one, in local time: 24 h, 23 h on the
    /// spring-forward day and 25 h on the fall-back day (Vienna, 2026: 29 March, 25 October).
    #[test]
    fn a_gaming_day_is_23_or_25_hours_across_daylight_saving_changes() {
        let r = DayRule::new("Europe/Vienna", "06:00").unwrap();
        let b = r.bounds(date("2026-03-28")).unwrap();
        assert_eq!(b.start_ms, ms("2026-03-28T05:00:00Z"), "06:00 CET");
        assert_eq!(b.minutes(), 23 * 60);
        let b = r.bounds(date("2026-03-29")).unwrap();
        assert_eq!(b.start_ms, ms("2026-03-29T04:00:00Z"), "06:00 CEST");
        assert_eq!(b.minutes(), 24 * 60);
        let b = r.bounds(date("2026-10-24")).unwrap();
        assert_eq!(b.minutes(), 25 * 60);
        assert_eq!(b.end_ms, ms("2026-10-25T05:00:00Z"));
        assert_eq!(r.bounds(date("2026-07-01")).unwrap().minutes(), 24 * 60);
        // Consecutive days tile time: no gap, no overlap.
        let (a, b) = (
            r.bounds(date("2026-10-24")).unwrap(),
            r.bounds(date("2026-10-25")).unwrap(),
        );
        assert_eq!(a.end_ms, b.start_ms);
    }

    /// An instant belongs to the day whose rollover came last before it.
    #[test]
    fn an_instant_belongs_to_the_day_its_last_rollover_began() {
        let r = DayRule::new("Europe/Vienna", "06:00").unwrap();
        // 05:59 local on 1 July is still 30 June's gaming day; 06:00 is 1 July's.
        assert_eq!(
            r.day_of(ms("2026-07-01T03:59:59.999Z")).unwrap(),
            date("2026-06-30")
        );
        assert_eq!(
            r.day_of(ms("2026-07-01T04:00:00Z")).unwrap(),
            date("2026-07-01")
        );
        // The hour repeated on 25 October (02:00-03:00 twice) is all 24 October's day.
        assert_eq!(
            r.day_of(ms("2026-10-25T00:30:00Z")).unwrap(),
            date("2026-10-24")
        );
        assert_eq!(
            r.day_of(ms("2026-10-25T01:30:00Z")).unwrap(),
            date("2026-10-24")
        );
        // Half-hour zones and the date line.
        let k = DayRule::new("Asia/Kolkata", "06:00").unwrap();
        assert_eq!(
            k.bounds(date("2026-01-10")).unwrap().start_ms,
            ms("2026-01-10T00:30:00Z")
        );
        let a = DayRule::new("Pacific/Auckland", "00:00").unwrap();
        assert_eq!(
            a.day_of(ms("2026-01-09T12:00:00Z")).unwrap(),
            date("2026-01-10")
        );
        for t in [
            0,
            1_700_000_000_000,
            ms("2026-03-29T00:59:00Z"),
            ms("2026-03-29T01:00:00Z"),
        ] {
            let d = r.day_of(t).unwrap();
            let b = r.bounds(d).unwrap();
            assert!(b.start_ms <= t && t < b.end_ms, "{t} in {d}: {b:?}");
        }
    }

    /// A rollover inside the skipped hour starts the day at the first instant after the gap.
    #[test]
    fn a_rollover_the_clock_skips_starts_the_day_after_the_gap() {
        let r = DayRule::new("America/New_York", "02:30").unwrap();
        // 8 March 2026: 02:00 EST jumps to 03:00 EDT; 02:30 does not exist that night.
        let b = r.bounds(date("2026-03-08")).unwrap();
        assert_eq!(
            b.start_ms,
            ms("2026-03-08T07:30:00Z"),
            "03:30 EDT, compatible rule"
        );
        assert_eq!(r.bounds(date("2026-03-07")).unwrap().end_ms, b.start_ms);
    }

    #[test]
    fn bad_settings_are_named() {
        let e = DayRule::new("Mars/Olympus", "06:00").unwrap_err();
        assert!(e.contains("unknown time zone \"Mars/Olympus\""), "{e}");
        for bad in ["6:00", "24:00", "06:60", "0600", "six"] {
            let e = DayRule::new("UTC", bad).unwrap_err();
            assert!(e.contains("is not a time HH:MM"), "{bad}: {e}");
        }
        let mut s = GamingDaySection::default();
        s.halls.insert(
            "H-1".into(),
            HallGamingDay {
                time_zone: Some("Nowhere".into()),
                start: None,
            },
        );
        let e = GamingDays::new(&s).unwrap_err();
        assert!(
            e.starts_with("gaming-day.halls.H-1: unknown time zone"),
            "{e}"
        );
        assert!(parse_date("2026-02-30").is_err());
    }
}
