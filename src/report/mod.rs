//! The gaming-day report (issue 13, RULES.md H-4): per hall and for the network, what each
//! hall's gaming day booked, summed from the hall's stored one-minute GGR windows (RULES.md
//! H-1, H-2) whose start falls in the day's bounds. A window is a whole minute of booked time
//! and every zone's offset is a whole number of minutes, so each window falls in exactly one
//! gaming day of its hall: the report is exact, and the hall rows sum to the network row.
//!
//! What the windows hold is what the hall rows can say: handle (bets, net of rolled-back
//! bets), wins, jackpots paid, GGR, net win and games. The machine rows ([`machines`], asked
//! for with `--machines` / `level=machines`) add per machine what only its ledger says: drop,
//! tickets, cashless, handpays and theoretical win.

mod error;
pub mod machines;
pub mod patrons;
pub mod publish;
pub mod shifts;

pub use error::ReportError;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::gaming_day::{DayBounds, GamingDays};
use crate::store::codec::GgrRow;
use crate::store::AuditSource;
use pitboss_actors::domain::Timestamp;

/// What the HTTP side reports from: the store's durable side and the gaming-day rules.
pub struct Reports {
    /// The stored GGR windows (and the rest of the store, read only).
    pub source: std::sync::Arc<dyn AuditSource>,
    pub days: GamingDays,
    /// The network's currency.
    pub currency: String,
    /// The theoretical holds the machine rows apply.
    pub holds: machines::Holds,
    /// The jurisdiction's time zone and the AML thresholds the patron-cash report applies
    /// (RULES.md W-11).
    pub patron_time_zone: String,
    pub aml: pitboss_actors::domain::aml::AmlRules,
}

/// One row: a hall's gaming day, or the network's sum of them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DayRow {
    /// The hall, or `NETWORK` for the sum.
    pub hall: String,
    /// The hall's time zone (empty for the network row).
    pub time_zone: String,
    /// The day's first instant, local time with its offset (empty for the network row).
    pub day_start: String,
    /// The next day's first instant (exclusive).
    pub day_end: String,
    /// Minutes in the day: 1440, or 1380 / 1500 across a daylight-saving change.
    pub minutes: i64,
    /// Wagered (coin in and wallet bets, net of rolled-back bets), minor units.
    pub handle_minor: i64,
    /// Won, minor units.
    pub wins_minor: i64,
    /// Jackpot awards paid, minor units.
    pub jackpots_minor: i64,
    /// Restricted promotional credits played (part of handle, not revenue: RULES.md M-13).
    pub promo_minor: i64,
    /// Handle - wins.
    pub ggr_minor: i64,
    /// GGR - jackpots - promo.
    pub net_win_minor: i64,
    pub games: i64,
    /// One-minute windows that booked something.
    pub windows: u64,
    /// The sum of those windows' revisions: it grows with each late correction of a
    /// window of the day (the revision of the published report, RULES.md H-5).
    #[serde(skip)]
    pub revisions: u64,
}

/// The report of one gaming day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GamingDayReport {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// ISO 4217 code of every amount.
    pub currency: String,
    /// One row per hall that booked something that day, by hall id.
    pub halls: Vec<DayRow>,
    /// Their sum.
    pub network: DayRow,
    /// Per machine, by hall then machine, when asked for (see [`machines`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub machines: Option<Vec<machines::MachineDayRow>>,
}

/// The range of window starts `date`'s gaming days can hold: two days either side of the
/// date in UTC (a zone is at most 14 hours from UTC and a rollover falls within its local
/// day).
fn around(date: &str) -> Result<(Timestamp, Timestamp), ReportError> {
    const DAY_MS: i64 = 86_400_000;
    let d = crate::gaming_day::parse_date(date).map_err(ReportError::BadRequest)?;
    let midnight = d
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_err(|e| ReportError::BadRequest(format!("date {date}: {e}")))?
        .timestamp()
        .as_millisecond();
    Ok((
        Timestamp(midnight - 2 * DAY_MS),
        Timestamp(midnight + 3 * DAY_MS),
    ))
}

/// The stored windows of [`around`] `date`, of `hall` or of every hall.
async fn read_rows(
    source: &dyn AuditSource,
    date: &str,
    hall: Option<&str>,
) -> Result<Vec<GgrRow>, ReportError> {
    let (from, to) = around(date)?;
    let hall = hall
        .map(pitboss_actors::domain::HallId::new)
        .transpose()
        .map_err(|e| ReportError::BadRequest(format!("bad hall id: {e}")))?;
    source
        .ggr_rows_between(from, to, hall)
        .await
        .map_err(|e| ReportError::Store(format!("reading the stored GGR windows: {e}")))?
        .ok_or_else(|| ReportError::Store("this store keeps no GGR windows".into()))
}

/// Reads the windows `date`'s gaming days can hold from `source` (not the whole history)
/// and makes the report.
pub async fn read_gaming_day(
    source: &dyn AuditSource,
    days: &GamingDays,
    date: &str,
    hall: Option<&str>,
    currency: &str,
) -> Result<GamingDayReport, ReportError> {
    let rows = read_rows(source, date, hall).await?;
    gaming_day(&rows, days, date, hall, currency)
}

/// One hall's row of `date`'s report, with the start of the hall's newest stored window in
/// the read (up to three days after the date): what the publisher needs to tell a closed
/// day (RULES.md H-5).
pub(crate) async fn read_hall_day(
    source: &dyn AuditSource,
    days: &GamingDays,
    date: &str,
    hall: &str,
    currency: &str,
) -> Result<(DayRow, i64), ReportError> {
    let rows = read_rows(source, date, Some(hall)).await?;
    let newest = rows.iter().map(|r| r.window.0).max().unwrap_or(i64::MIN);
    // One hall asked for: its row, or NoData.
    let mut report = gaming_day(&rows, days, date, Some(hall), currency)?;
    Ok((report.halls.swap_remove(0), newest))
}

/// The network row: the sum of `halls`.
fn network_of<'a>(halls: impl Iterator<Item = &'a DayRow>) -> DayRow {
    let mut network = DayRow {
        hall: "NETWORK".into(),
        ..DayRow::default()
    };
    for h in halls {
        network.handle_minor += h.handle_minor;
        network.wins_minor += h.wins_minor;
        network.jackpots_minor += h.jackpots_minor;
        network.promo_minor += h.promo_minor;
        network.ggr_minor += h.ggr_minor;
        network.net_win_minor += h.net_win_minor;
        network.games += h.games;
        network.windows += h.windows;
        network.revisions += h.revisions;
        network.minutes = network.minutes.max(h.minutes);
    }
    network
}

/// The network's day of `date` so far, as the publisher tells it (RULES.md H-5): the sum of
/// the halls whose day the store shows closed (a window stored at or after the day's end
/// plus `grace_ms`), how many those are, and how many halls booked something that day
/// without having closed it yet. `None` when no hall booked anything that day.
pub(crate) async fn read_network_day(
    source: &dyn AuditSource,
    days: &GamingDays,
    date: &str,
    currency: &str,
    grace_ms: i64,
) -> Result<Option<(DayRow, u64, u64)>, ReportError> {
    let rows = read_rows(source, date, None).await?;
    let report = match gaming_day(&rows, days, date, None, currency) {
        Ok(r) => r,
        Err(ReportError::NoData(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let d = crate::gaming_day::parse_date(date).map_err(ReportError::BadRequest)?;
    let mut newest: BTreeMap<&str, i64> = BTreeMap::new();
    for r in &rows {
        let n = newest.entry(r.hall.as_str()).or_insert(i64::MIN);
        *n = (*n).max(r.window.0);
    }
    let mut closed = Vec::new();
    let mut open = 0;
    for h in &report.halls {
        let end = days
            .rule(&h.hall)
            .bounds(d)
            .map_err(ReportError::BadRequest)?
            .end_ms;
        if newest
            .get(h.hall.as_str())
            .is_some_and(|n| *n >= end + grace_ms)
        {
            closed.push(h);
        } else {
            open += 1;
        }
    }
    let n = closed.len() as u64;
    Ok(Some((network_of(closed.into_iter()), n, open)))
}

/// The report of `date` (`YYYY-MM-DD`), of one hall or of every hall, from the stored GGR
/// windows.
pub fn gaming_day(
    rows: &[GgrRow],
    days: &GamingDays,
    date: &str,
    hall: Option<&str>,
    currency: &str,
) -> Result<GamingDayReport, ReportError> {
    let d = crate::gaming_day::parse_date(date).map_err(ReportError::BadRequest)?;
    if let Some(h) = hall {
        pitboss_actors::domain::HallId::new(h)
            .map_err(|e| ReportError::BadRequest(format!("bad hall id: {e}")))?;
        if !rows.iter().any(|r| r.hall.as_str() == h) {
            return Err(ReportError::NoData(format!(
                "hall {h} has no GGR recorded at all: check the hall id"
            )));
        }
    }
    let mut bounds: BTreeMap<&str, DayBounds> = BTreeMap::new();
    let mut halls: BTreeMap<String, DayRow> = BTreeMap::new();
    for r in rows {
        let id = r.hall.as_str();
        if hall.is_some_and(|h| h != id) {
            continue;
        }
        let b = match bounds.get(id) {
            Some(b) => *b,
            None => {
                let b = days.rule(id).bounds(d).map_err(ReportError::BadRequest)?;
                bounds.insert(id, b);
                b
            }
        };
        if r.window.0 < b.start_ms || r.window.0 >= b.end_ms {
            continue;
        }
        let row = halls.entry(id.to_string()).or_insert_with(|| {
            let rule = days.rule(id);
            DayRow {
                hall: id.to_string(),
                time_zone: rule.zone_name.clone(),
                day_start: rule.local(b.start_ms),
                day_end: rule.local(b.end_ms),
                minutes: b.minutes(),
                ..DayRow::default()
            }
        });
        let t = &r.totals;
        row.handle_minor += t.bets;
        row.wins_minor += t.wins;
        row.jackpots_minor += t.jackpots;
        row.promo_minor += t.promo;
        row.ggr_minor += t.ggr();
        row.net_win_minor += t.net_win();
        row.games += t.games;
        row.windows += 1;
        row.revisions += u64::from(r.revision);
    }
    if halls.is_empty() {
        return Err(ReportError::NoData(format!(
            "no GGR recorded for gaming day {date}{}",
            hall.map(|h| format!(" in hall {h}")).unwrap_or_default()
        )));
    }
    let network = network_of(halls.values());
    Ok(GamingDayReport {
        date: d.to_string(),
        currency: currency.to_string(),
        halls: halls.into_values().collect(),
        network,
        machines: None,
    })
}

impl GamingDayReport {
    /// As CSV: a header, one line per hall, then the network's; amounts in minor units.
    pub fn csv(&self) -> String {
        let mut out = String::from(
            "date,hall,time_zone,day_start,day_end,minutes,currency,handle_minor,wins_minor,\
             jackpots_minor,promo_minor,ggr_minor,net_win_minor,games,windows\n",
        );
        for r in self.halls.iter().chain(std::iter::once(&self.network)) {
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                self.date,
                r.hall,
                r.time_zone,
                r.day_start,
                r.day_end,
                r.minutes,
                self.currency,
                r.handle_minor,
                r.wins_minor,
                r.jackpots_minor,
                r.promo_minor,
                r.ggr_minor,
                r.net_win_minor,
                r.games,
                r.windows
            ));
        }
        out
    }
}

impl GamingDayReport {
    /// Adds the machine rows of the report's date (and hall, when one was asked for).
    pub async fn add_machines(
        &mut self,
        source: &dyn AuditSource,
        days: &GamingDays,
        hall: Option<&str>,
        holds: &machines::Holds,
    ) -> Result<(), ReportError> {
        let rows = machines::read_machine_rows(source, days, &self.date, hall, holds).await?;
        self.machines = Some(rows);
        Ok(())
    }

    /// The machine rows as CSV: a header, then one line per machine (none unless added).
    pub fn machines_csv(&self) -> String {
        machines::csv(
            &self.date,
            &self.currency,
            self.machines.as_deref().unwrap_or_default(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gaming_day::{GamingDaySection, HallGamingDay};
    use pitboss_actors::domain::ggr::GgrTotals;
    use pitboss_actors::domain::{HallId, Timestamp};

    fn ms(rfc3339: &str) -> i64 {
        rfc3339.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    fn row(hall: &str, at: &str, bets: i64, wins: i64, jackpots: i64) -> GgrRow {
        GgrRow {
            hall: HallId::new(hall).unwrap(),
            window: Timestamp(ms(at)),
            totals: GgrTotals {
                bets,
                wins,
                games: 1,
                jackpots,
                promo: 0,
            },
            revision: 1,
        }
    }

    fn days() -> GamingDays {
        let mut s = GamingDaySection {
            time_zone: "Europe/Vienna".into(),
            start: "06:00".into(),
            ..GamingDaySection::default()
        };
        s.halls.insert(
            "H-LV".into(),
            HallGamingDay {
                time_zone: Some("America/Los_Angeles".into()),
                start: Some("04:00".into()),
            },
        );
        GamingDays::new(&s).unwrap()
    }

    /// Each hall's windows count in its own gaming day (its zone, its rollover); the
    /// fall-back day is 25 hours; the hall rows sum exactly to the network row; the CSV says
    /// the same.
    #[test]
    fn each_hall_counts_its_own_day_and_the_halls_sum_to_the_network() {
        let rows = vec![
            // Vienna, 24 October 2026 (06:00 CEST = 04:00Z) to 25 October 06:00 CET (05:00Z).
            row("H-1", "2026-10-24T03:59:00Z", 999, 0, 0), // 23 October's day
            row("H-1", "2026-10-24T04:00:00Z", 1_000, 400, 0),
            // The 25th hour; 20 of its bets played restricted promotional credits (M-13).
            GgrRow {
                totals: GgrTotals {
                    promo: 20,
                    ..row("H-1", "2026-10-25T04:30:00Z", 500, 100, 50).totals
                },
                ..row("H-1", "2026-10-25T04:30:00Z", 500, 100, 50)
            },
            row("H-1", "2026-10-25T05:00:00Z", 777, 0, 0), // 25 October's day
            row("H-2", "2026-10-24T12:00:00Z", 300, 0, 0),
            // Los Angeles, 04:00 PDT = 11:00Z.
            row("H-LV", "2026-10-24T10:59:00Z", 888, 0, 0), // 23 October's day
            row("H-LV", "2026-10-24T11:00:00Z", 2_000, 1_500, 0),
        ];
        let r = gaming_day(&rows, &days(), "2026-10-24", None, "EUR").unwrap();
        let got: Vec<(&str, i64, i64, i64, i64)> = r
            .halls
            .iter()
            .map(|h| {
                (
                    h.hall.as_str(),
                    h.minutes,
                    h.handle_minor,
                    h.net_win_minor,
                    h.windows as i64,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("H-1", 1500, 1_500, 930, 2),
                ("H-2", 1500, 300, 300, 1),
                ("H-LV", 1440, 2_000, 500, 1)
            ]
        );
        assert_eq!(r.halls[0].day_start, "2026-10-24T06:00:00+02:00");
        assert_eq!(r.halls[0].day_end, "2026-10-25T06:00:00+01:00");
        let n = &r.network;
        assert_eq!(
            (
                n.handle_minor,
                n.wins_minor,
                n.jackpots_minor,
                n.promo_minor,
                n.ggr_minor,
                n.net_win_minor,
                n.games
            ),
            (3_800, 2_000, 50, 20, 1_800, 1_730, 4)
        );
        let csv = r.csv();
        assert_eq!(csv.lines().count(), 5, "{csv}");
        assert!(
            csv.contains("\n2026-10-24,NETWORK,,,,1500,EUR,3800,2000,50,20,1800,1730,4,4\n"),
            "{csv}"
        );
        // One hall.
        let one = gaming_day(&rows, &days(), "2026-10-24", Some("H-LV"), "EUR").unwrap();
        assert_eq!(one.halls.len(), 1);
        assert_eq!(one.network.handle_minor, 2_000);
    }

    #[test]
    fn a_day_without_data_a_bad_date_and_an_unknown_hall_are_errors() {
        let rows = vec![row("H-1", "2026-10-24T12:00:00Z", 1, 0, 0)];
        let e = gaming_day(&rows, &days(), "2026-10-20", None, "EUR").unwrap_err();
        assert_eq!(
            e,
            ReportError::NoData("no GGR recorded for gaming day 2026-10-20".into())
        );
        let e = gaming_day(&rows, &days(), "24.10.2026", None, "EUR").unwrap_err();
        assert!(
            matches!(e, ReportError::BadRequest(ref m) if m.contains("is not a date YYYY-MM-DD")),
            "{e}"
        );
        let e = gaming_day(&rows, &days(), "2026-10-24", Some("H-9"), "EUR").unwrap_err();
        assert_eq!(
            e,
            ReportError::NoData("hall H-9 has no GGR recorded at all: check the hall id".into())
        );
        let e = gaming_day(&rows, &days(), "2026-10-24", Some("bad hall"), "EUR").unwrap_err();
        assert!(matches!(e, ReportError::BadRequest(_)), "{e}");
    }
}
