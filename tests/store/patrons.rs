//! The patron-cash report (RULES.md W-11) agrees exactly with the wallets: for every patron,
//! the report of the local day the wallet counts in (read from the stored ledger) has the
//! cash in and out the wallet's state holds for that day, and the thresholds reached follow
//! the totals. Run over two days of simulated play (the sim's players deposit and withdraw,
//! some at the cage, and carded players put bills in machines), against the embedded store
//! and the CQL adapter.

use std::collections::BTreeSet;

use crate::support::{small_network, Harness};
use pitboss::report::patrons::read_patrons;
use pitboss::report::ReportError;
use pitboss_actors::shell::Snapshot;

/// 2027-01-15T08:00:00Z.
const T0: i64 = 1_800_000_000_000;
/// Event time advances 30 s per message: 6 000 messages are 50 hours.
const STEP_MS: i64 = 30_000;
const ZONE: &str = "Europe/Vienna";

fn local_date(ms: i64) -> String {
    let zone = jiff::tz::TimeZone::get(ZONE).unwrap();
    jiff::Timestamp::from_millisecond(ms)
        .unwrap()
        .to_zoned(zone)
        .date()
        .to_string()
}

async fn the_report_holds_what_the_wallets_counted(mut h: Harness) {
    let mut cfg = small_network();
    cfg.responsible_gaming.time_zone = ZONE.into();
    // Thresholds the simulated patrons reach.
    cfg.aml.log_threshold_minor = 2_000;
    cfg.aml.report_threshold_minor = 6_000;
    cfg.aml.structuring_floor_minor = 5_000;
    let aml = cfg.aml.rules().unwrap();
    h.run_simulated(&cfg, 6_000, T0, STEP_MS).await;
    let source = h.audit_source();
    let states = source.entities().await.unwrap();
    let (mut checked, mut dates, mut levels) = (0, BTreeSet::new(), BTreeSet::new());
    for s in &states {
        let Snapshot::Wallet(w) = &s.snapshot else {
            continue;
        };
        let Some(cash) = w.cash.as_deref() else {
            continue;
        };
        if cash.cash_in == 0 && cash.cash_out == 0 {
            continue;
        }
        let date = local_date(cash.day.0);
        let player = w.id.as_str();
        let r = read_patrons(source.as_ref(), ZONE, &aml, &date, Some(player), "EUR")
            .await
            .unwrap();
        assert_eq!(r.patrons.len(), 1, "{r:?}");
        let row = &r.patrons[0];
        assert_eq!(
            (row.player.as_str(), row.cash_in_minor, row.cash_out_minor),
            (player, cash.cash_in, cash.cash_out),
            "{date}"
        );
        // Each way: the highest threshold the total reached.
        for (total, level) in [
            (row.cash_in_minor, row.threshold_in),
            (row.cash_out_minor, row.threshold_out),
        ] {
            let want = if total >= 6_000 {
                "report"
            } else if total >= 2_000 {
                "log"
            } else {
                ""
            };
            assert_eq!(level, want, "{row:?}");
            levels.insert(level);
        }
        assert_eq!(
            (r.day.cash_in_minor, r.day.cash_out_minor),
            (row.cash_in_minor, row.cash_out_minor)
        );
        dates.insert(date);
        checked += 1;
    }
    assert!(checked >= 20, "{checked} patrons checked");
    assert!(
        levels.contains("log") && levels.contains("report"),
        "{levels:?}"
    );
    // Every patron of a day: the day's total is the sum of its rows, in the CSV as well.
    let date = dates.last().unwrap().clone();
    let r = read_patrons(source.as_ref(), ZONE, &aml, &date, None, "EUR")
        .await
        .unwrap();
    assert!(r.patrons.len() >= 2, "{r:?}");
    assert_eq!(
        r.day.cash_in_minor,
        r.patrons.iter().map(|p| p.cash_in_minor).sum::<i64>()
    );
    assert_eq!(
        r.day.cash_outs,
        r.patrons.iter().map(|p| p.cash_outs).sum::<u64>()
    );
    let csv = pitboss::report::patrons::csv(&r);
    assert_eq!(csv.lines().count(), r.patrons.len() + 2, "{csv}");
    assert!(csv.lines().last().unwrap().contains(",DAY,"), "{csv}");

    // A day without patron cash, a bad date and a bad player id are errors.
    let none = read_patrons(source.as_ref(), ZONE, &aml, "2001-01-01", None, "EUR").await;
    assert!(matches!(none, Err(ReportError::NoData(_))), "{none:?}");
    let bad = read_patrons(source.as_ref(), ZONE, &aml, "15.01.2027", None, "EUR").await;
    assert!(matches!(bad, Err(ReportError::BadRequest(_))), "{bad:?}");
    let bad = read_patrons(source.as_ref(), ZONE, &aml, &date, Some("no spaces"), "EUR").await;
    assert!(matches!(bad, Err(ReportError::BadRequest(_))), "{bad:?}");
}

#[actix_rt::test]
async fn embedded_patron_report_holds_what_the_wallets_counted() {
    the_report_holds_what_the_wallets_counted(Harness::embedded()).await;
}

#[actix_rt::test]
async fn cql_patron_report_holds_what_the_wallets_counted() {
    the_report_holds_what_the_wallets_counted(Harness::kassandra().await).await;
}
