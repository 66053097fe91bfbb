//! The shift report (RULES.md D-8): per gaming day of each desk's hall, by the time a shift
//! opened, one row per closed shift, and its totals per cashier, per desk and for the day,
//! read from the stored desks. Each total is the exact sum of its rows.

use std::collections::BTreeMap;

use pitboss_actors::domain::desk::{DeskState, ShiftFigures};
use serde::Serialize;

use super::ReportError;
use crate::gaming_day::{parse_date, GamingDays};
use crate::store::AuditSource;

/// One closed shift.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ShiftRow {
    pub desk: String,
    pub hall: String,
    pub cashier: String,
    /// The desk's shift number.
    pub shift: u32,
    /// When it opened and closed, local time of the hall with its offset.
    pub opened_at: String,
    pub closed_at: String,
    pub float_minor: i64,
    /// Cash taken for tickets sold.
    pub cash_in_minor: i64,
    /// Cash paid for tickets.
    pub cash_out_minor: i64,
    pub fills_minor: i64,
    pub credits_minor: i64,
    pub expected_minor: i64,
    pub counted_minor: i64,
    /// Counted - expected (negative: short).
    pub variance_minor: i64,
    pub operations: u32,
    /// Revisions after the close (RULES.md D-5).
    pub revision: u32,
}

/// The sum of some shifts: a cashier's, a desk's or the day's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ShiftTotal {
    /// The cashier or the desk; `DAY` for the day's total.
    pub key: String,
    pub shifts: u64,
    pub float_minor: i64,
    pub cash_in_minor: i64,
    pub cash_out_minor: i64,
    pub fills_minor: i64,
    pub credits_minor: i64,
    pub expected_minor: i64,
    pub counted_minor: i64,
    pub variance_minor: i64,
}

impl ShiftTotal {
    fn add(&mut self, r: &ShiftRow) {
        self.shifts += 1;
        self.float_minor += r.float_minor;
        self.cash_in_minor += r.cash_in_minor;
        self.cash_out_minor += r.cash_out_minor;
        self.fills_minor += r.fills_minor;
        self.credits_minor += r.credits_minor;
        self.expected_minor += r.expected_minor;
        self.counted_minor += r.counted_minor;
        self.variance_minor += r.variance_minor;
    }
}

/// The shifts of one gaming day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ShiftReport {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// ISO 4217 code of every amount.
    pub currency: String,
    /// Every closed shift that opened that day, by hall, desk and number.
    pub shifts: Vec<ShiftRow>,
    /// Per cashier, by cashier.
    pub cashiers: Vec<ShiftTotal>,
    /// Per desk, by desk.
    pub desks: Vec<ShiftTotal>,
    /// All of them.
    pub day: ShiftTotal,
}

/// Reads the stored desks and makes `date`'s report (of `hall`, or of every hall).
pub async fn read_shifts(
    source: &dyn AuditSource,
    days: &GamingDays,
    date: &str,
    hall: Option<&str>,
    currency: &str,
) -> Result<ShiftReport, ReportError> {
    let desks = source
        .desks()
        .await
        .map_err(|e| ReportError::Store(format!("reading the stored desks: {e}")))?;
    shift_report(&desks, days, date, hall, currency)
}

/// `date`'s report from the desks' states.
pub fn shift_report(
    desks: &[DeskState],
    days: &GamingDays,
    date: &str,
    hall: Option<&str>,
    currency: &str,
) -> Result<ShiftReport, ReportError> {
    let day = parse_date(date).map_err(ReportError::BadRequest)?;
    if let Some(h) = hall {
        pitboss_actors::domain::HallId::new(h)
            .map_err(|e| ReportError::BadRequest(format!("bad hall id: {e}")))?;
    }
    let mut shifts = Vec::new();
    for d in desks {
        let Some(desk_hall) = d.hall.as_ref() else {
            continue;
        };
        if hall.is_some_and(|h| h != desk_hall.as_str()) {
            continue;
        }
        let rule = days.rule(desk_hall.as_str());
        let b = rule.bounds(day).map_err(ReportError::BadRequest)?;
        for s in &d.closed {
            if (b.start_ms..b.end_ms).contains(&s.opened_at.0) {
                shifts.push(row(d, desk_hall.as_str(), s, |ms| rule.local(ms)));
            }
        }
    }
    if shifts.is_empty() {
        return Err(ReportError::NoData(match hall {
            Some(h) => format!("no shift of hall {h} that opened on {date} is closed and stored"),
            None => format!("no shift that opened on {date} is closed and stored"),
        }));
    }
    shifts.sort_by(|a, b| (&a.hall, &a.desk, a.shift).cmp(&(&b.hall, &b.desk, b.shift)));
    let mut cashiers: BTreeMap<&str, ShiftTotal> = BTreeMap::new();
    let mut desks: BTreeMap<&str, ShiftTotal> = BTreeMap::new();
    let mut total = ShiftTotal {
        key: "DAY".into(),
        ..ShiftTotal::default()
    };
    for r in &shifts {
        for (map, key) in [(&mut cashiers, &r.cashier), (&mut desks, &r.desk)] {
            map.entry(key)
                .or_insert_with(|| ShiftTotal {
                    key: key.clone(),
                    ..ShiftTotal::default()
                })
                .add(r);
        }
        total.add(r);
    }
    Ok(ShiftReport {
        date: date.to_owned(),
        currency: currency.to_owned(),
        cashiers: cashiers.into_values().collect(),
        desks: desks.into_values().collect(),
        day: total,
        shifts,
    })
}

fn row(d: &DeskState, hall: &str, s: &ShiftFigures, local: impl Fn(i64) -> String) -> ShiftRow {
    ShiftRow {
        desk: d.id.to_string(),
        hall: hall.to_owned(),
        cashier: s.cashier.clone(),
        shift: s.number,
        opened_at: local(s.opened_at.0),
        closed_at: s.closed_at.map(|t| local(t.0)).unwrap_or_default(),
        float_minor: s.float,
        cash_in_minor: s.cash_in,
        cash_out_minor: s.cash_out,
        fills_minor: s.fills,
        credits_minor: s.credits,
        expected_minor: s.expected(),
        counted_minor: s.counted.unwrap_or_default(),
        variance_minor: s.variance().unwrap_or_default(),
        operations: s.operations,
        revision: s.revision,
    }
}

/// A CSV field: quoted when it holds a comma, a quote, a line break or edge spaces (a
/// cashier's name may).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) || s.trim() != s {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

impl ShiftReport {
    /// The report as CSV: one line per shift (`row` = `shift`), then the totals per cashier
    /// (`cashier`), per desk (`desk`) and the day's (`day`), each naming its key in its own
    /// column.
    pub fn csv(&self) -> String {
        let mut out = String::from(
            "date,row,hall,desk,cashier,shift,opened_at,closed_at,currency,shifts,float_minor,\
             cash_in_minor,cash_out_minor,fills_minor,credits_minor,expected_minor,\
             counted_minor,variance_minor,operations,revision\n",
        );
        for r in &self.shifts {
            out.push_str(&format!(
                "{},shift,{},{},{},{},{},{},{},1,{},{},{},{},{},{},{},{},{},{}\n",
                self.date,
                field(&r.hall),
                field(&r.desk),
                field(&r.cashier),
                r.shift,
                r.opened_at,
                r.closed_at,
                self.currency,
                r.float_minor,
                r.cash_in_minor,
                r.cash_out_minor,
                r.fills_minor,
                r.credits_minor,
                r.expected_minor,
                r.counted_minor,
                r.variance_minor,
                r.operations,
                r.revision
            ));
        }
        let totals = self
            .cashiers
            .iter()
            .map(|t| ("cashier", "", t.key.as_str(), t))
            .chain(self.desks.iter().map(|t| ("desk", t.key.as_str(), "", t)))
            .chain(std::iter::once(("day", "", "", &self.day)));
        for (kind, desk, cashier, t) in totals {
            out.push_str(&format!(
                "{},{kind},,{},{},,,,{},{},{},{},{},{},{},{},{},{},,\n",
                self.date,
                field(desk),
                field(cashier),
                self.currency,
                t.shifts,
                t.float_minor,
                t.cash_in_minor,
                t.cash_out_minor,
                t.fills_minor,
                t.credits_minor,
                t.expected_minor,
                t.counted_minor,
                t.variance_minor
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gaming_day::GamingDaySection;
    use pitboss_actors::domain::{Currency, HallId, ServerId, Timestamp};

    fn ms(rfc3339: &str) -> i64 {
        rfc3339.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    fn shift(number: u32, cashier: &str, open: &str, close: &str, counted: i64) -> ShiftFigures {
        ShiftFigures {
            number,
            cashier: cashier.into(),
            opened_at: Timestamp(ms(open)),
            closed_at: Some(Timestamp(ms(close))),
            float: 1_000,
            cash_in: 500,
            cash_out: 200,
            fills: 100,
            credits: 50,
            counted: Some(counted),
            operations: 3,
            revision: 0,
        }
    }

    fn desk(id: &str, hall: &str, closed: Vec<ShiftFigures>) -> DeskState {
        let mut d = DeskState::new(ServerId::new(id).unwrap(), Currency::new("EUR").unwrap());
        d.hall = Some(HallId::new(hall).unwrap());
        d.next = closed.len() as u32;
        d.closed = closed.into();
        d
    }

    fn days() -> GamingDays {
        GamingDays::new(&GamingDaySection {
            time_zone: "Europe/Vienna".into(),
            start: "06:00".into(),
            ..GamingDaySection::default()
        })
        .unwrap()
    }

    /// RULES.md D-8: a shift belongs to the gaming day it opened in (06:00 Vienna); the
    /// totals per cashier and desk and the day's are the sums of the rows.
    #[test]
    fn shifts_fall_in_the_day_they_opened_and_totals_sum_their_rows() {
        let desks = vec![
            desk(
                "CAGE-1",
                "H-1",
                vec![
                    // 05:30 local: the day before.
                    shift(
                        1,
                        "ANNA",
                        "2026-07-01T03:30:00Z",
                        "2026-07-01T06:00:00Z",
                        1_350,
                    ),
                    shift(
                        2,
                        "ANNA",
                        "2026-07-01T06:00:00Z",
                        "2026-07-01T14:00:00Z",
                        1_340,
                    ),
                    // Opened before the next rollover, closed after it: this day.
                    shift(
                        3,
                        "BEN, JR",
                        "2026-07-02T03:00:00Z",
                        "2026-07-02T06:00:00Z",
                        1_350,
                    ),
                ],
            ),
            desk(
                "CAGE-2",
                "H-2",
                vec![shift(
                    1,
                    "ANNA",
                    "2026-07-01T08:00:00Z",
                    "2026-07-01T09:00:00Z",
                    1_360,
                )],
            ),
        ];
        let r = shift_report(&desks, &days(), "2026-07-01", None, "EUR").unwrap();
        let keys: Vec<_> = r
            .shifts
            .iter()
            .map(|s| (s.desk.as_str(), s.shift))
            .collect();
        assert_eq!(keys, [("CAGE-1", 2), ("CAGE-1", 3), ("CAGE-2", 1)]);
        assert_eq!(r.shifts[0].expected_minor, 1_000 + 500 - 200 + 100 - 50);
        assert_eq!(r.shifts[0].variance_minor, -10);
        assert_eq!(r.shifts[0].opened_at, "2026-07-01T08:00:00+02:00");
        let v: Vec<_> = r
            .cashiers
            .iter()
            .map(|t| (t.key.as_str(), t.shifts, t.variance_minor))
            .collect();
        assert_eq!(v, [("ANNA", 2, 0), ("BEN, JR", 1, 0)]);
        let v: Vec<_> = r
            .desks
            .iter()
            .map(|t| (t.key.as_str(), t.shifts, t.variance_minor))
            .collect();
        assert_eq!(v, [("CAGE-1", 2, -10), ("CAGE-2", 1, 10)]);
        assert_eq!(
            (r.day.shifts, r.day.variance_minor, r.day.expected_minor),
            (3, 0, 4_050)
        );
        let sum = |f: fn(&ShiftTotal) -> i64, ts: &[ShiftTotal]| ts.iter().map(f).sum::<i64>();
        for f in [
            (|t: &ShiftTotal| t.expected_minor) as fn(&ShiftTotal) -> i64,
            |t| t.counted_minor,
            |t| t.cash_in_minor,
            |t| t.float_minor,
        ] {
            assert_eq!(sum(f, &r.cashiers), f(&r.day));
            assert_eq!(sum(f, &r.desks), f(&r.day));
        }
        let csv = r.csv();
        assert_eq!(csv.lines().count(), 1 + 3 + 2 + 2 + 1);
        assert!(csv.contains(",\"BEN, JR\","), "{csv}");
        // One hall; a day without shifts; a bad date.
        let one = shift_report(&desks, &days(), "2026-07-01", Some("H-2"), "EUR").unwrap();
        assert_eq!(one.shifts.len(), 1);
        assert!(matches!(
            shift_report(&desks, &days(), "2026-08-01", None, "EUR"),
            Err(ReportError::NoData(_))
        ));
        assert!(matches!(
            shift_report(&desks, &days(), "2026-13-01", None, "EUR"),
            Err(ReportError::BadRequest(_))
        ));
    }
}
