//! The gaming-day report's machine rows (RULES.md H-4) agree exactly with its hall rows: each
//! machine's ledger is booked at the times its hall's GGR windows count, so for every day and
//! every hall the machines' coin in, wins and jackpots sum to the hall's handle, wins and
//! jackpots. Run over two and a half days of simulated play with halls in three time zones
//! (one across its own rollover), against the embedded store and the CQL adapter.

use std::collections::BTreeSet;

use crate::support::{small_network, Harness};
use pitboss::gaming_day::HallGamingDay;
use pitboss::report::read_gaming_day;
use pitboss_actors::domain::Timestamp;

/// 2027-01-15T08:00:00Z.
const T0: i64 = 1_800_000_000_000;
/// Event time advances 30 s per message: 6 000 messages are 50 hours.
const STEP_MS: i64 = 30_000;

async fn machine_rows_sum_to_the_hall_rows(mut h: Harness) {
    let mut cfg = small_network();
    cfg.gaming_day.time_zone = "Europe/Vienna".into();
    cfg.gaming_day.start = "06:00".into();
    cfg.gaming_day.halls.insert(
        "H-002".into(),
        HallGamingDay {
            time_zone: Some("America/Los_Angeles".into()),
            start: Some("04:00".into()),
        },
    );
    cfg.gaming_day.halls.insert(
        "H-003".into(),
        HallGamingDay {
            time_zone: Some("Asia/Tokyo".into()),
            start: None,
        },
    );
    // RULES.md M-12: a hall and a machine of their own theoretical hold.
    cfg.runtime
        .theoretical_hold_percent_halls
        .insert("H-002".into(), rust_decimal::Decimal::new(525, 2));
    cfg.runtime
        .theoretical_hold_percent_machines
        .insert("M-002-00001".into(), rust_decimal::Decimal::new(1, 0));
    let days = cfg.gaming_days().unwrap();
    let holds = pitboss::report::machines::Holds::of_config(&cfg.runtime_config().unwrap());
    h.run_simulated(&cfg, 6_000, T0, STEP_MS).await;
    let source = h.audit_source();
    // A store's read of a range (by hall and UTC day with CQL, by key range in the embedded
    // store) holds exactly the stored windows of the range.
    let all = source.ggr_rows().await.unwrap().unwrap();
    let key = |r: &pitboss::store::codec::GgrRow| (r.hall.to_string(), r.window.0);
    for (from, to) in [
        (T0 - 3_600_000, T0 + 26 * 3_600_000),
        (T0 + 17 * 3_600_000 + 59_999, T0 + 40 * 3_600_000 + 60_000),
    ] {
        let mut want: Vec<_> = all
            .iter()
            .filter(|r| r.window.0 >= from && r.window.0 < to)
            .cloned()
            .collect();
        let (from, to) = (Timestamp(from), Timestamp(to));
        let mut got = source
            .ggr_rows_between(from, to, None)
            .await
            .unwrap()
            .unwrap();
        want.sort_by_key(key);
        got.sort_by_key(key);
        assert!(!want.is_empty());
        let first_difference = got.iter().zip(&want).find(|(g, w)| g != w);
        assert!(
            got == want,
            "the windows of [{from:?}, {to:?}): {} read, {} stored, first difference {first_difference:?}",
            got.len(),
            want.len()
        );
        // One hall's range (the gaming-day publisher's read, RULES.md H-5).
        let hall = want[0].hall.clone();
        let mut one = source
            .ggr_rows_between(from, to, Some(hall.clone()))
            .await
            .unwrap()
            .unwrap();
        one.sort_by_key(key);
        let want_one: Vec<_> = want.iter().filter(|r| r.hall == hall).cloned().collect();
        assert!(!want_one.is_empty() && want_one.len() < want.len());
        assert!(one == want_one, "{hall}'s windows of [{from:?}, {to:?})");
    }

    let mut dates = BTreeSet::new();
    for hall in ["H-001", "H-002", "H-003"] {
        let rule = days.rule(hall);
        for t in [T0, T0 + 6_000 * STEP_MS] {
            dates.insert(rule.day_of(t).unwrap());
        }
    }
    let (mut halls_checked, mut machines_checked) = (0, 0);
    let (mut promo_played, mut promo_in, mut games) = (0, 0, 0);
    let mut holds_seen = BTreeSet::new();
    for date in dates {
        let date = date.to_string();
        let mut report = read_gaming_day(source.as_ref(), &days, &date, None, "EUR")
            .await
            .unwrap();
        report
            .add_machines(source.as_ref(), &days, None, &holds)
            .await
            .unwrap();
        let machines = report.machines.clone().unwrap();
        for hall in &report.halls {
            if hall.hall == cfg.sim.online_hall {
                continue;
            }
            let rows: Vec<_> = machines.iter().filter(|m| m.hall == hall.hall).collect();
            assert!(!rows.is_empty(), "{date} {}: no machine rows", hall.hall);
            let sum = |f: fn(&pitboss::report::machines::MachineDayRow) -> i64| -> i64 {
                rows.iter().map(|r| f(r)).sum()
            };
            let ctx = format!("{date} {}", hall.hall);
            assert_eq!(
                sum(|r| r.coin_in_minor),
                hall.handle_minor,
                "{ctx}: coin in"
            );
            assert_eq!(
                sum(|r| r.coin_out_minor + r.handpaid_wins_minor),
                hall.wins_minor,
                "{ctx}: wins"
            );
            assert_eq!(
                sum(|r| r.jackpots_minor),
                hall.jackpots_minor,
                "{ctx}: jackpots"
            );
            assert_eq!(
                sum(|r| r.promo_played_minor),
                hall.promo_minor,
                "{ctx}: promotional credits played (RULES.md M-13)"
            );
            promo_played += hall.promo_minor;
            assert_eq!(sum(|r| r.games), hall.games, "{ctx}: games");
            games += hall.games;
            assert_eq!(sum(|r| r.ggr_minor), hall.ggr_minor, "{ctx}: GGR");
            assert_eq!(
                sum(|r| r.net_win_minor),
                hall.net_win_minor,
                "{ctx}: net win"
            );
            assert!(hall.handle_minor > 0, "{ctx}: the day saw play");
            halls_checked += 1;
        }
        for r in &machines {
            assert_eq!(r.drop_minor, r.bills_in_minor + r.tickets_in_minor);
            promo_in += r.restricted_in_minor + r.nonrestricted_in_minor;
            assert_eq!(
                r.net_win_minor,
                r.ggr_minor - r.jackpots_minor - r.promo_played_minor,
                "{r:?}"
            );
            // Each machine's theoretical win at its own hold, else its hall's, else the
            // network's 8 %, rounded down.
            let (percent, ppm) = match (r.hall.as_str(), r.machine.as_str()) {
                (_, "M-002-00001") => ("1.00", 10_000),
                ("H-002", _) => ("5.25", 52_500),
                _ => ("8.00", 80_000),
            };
            holds_seen.insert(percent);
            assert_eq!(r.theoretical_hold_percent, percent, "{r:?}");
            assert_eq!(
                r.theoretical_win_minor,
                r.coin_in_minor * ppm / 1_000_000,
                "{r:?}"
            );
            assert!(r.coin_in_minor >= 0 && r.movements > 0, "{r:?}");
            machines_checked += 1;
        }
        // One hall's machine rows are that hall's rows of the whole report.
        let one = &report.halls[0].hall;
        let mut only = read_gaming_day(source.as_ref(), &days, &date, Some(one), "EUR")
            .await
            .unwrap();
        only.add_machines(source.as_ref(), &days, Some(one), &holds)
            .await
            .unwrap();
        let want: Vec<_> = machines
            .iter()
            .filter(|m| &m.hall == one)
            .cloned()
            .collect();
        assert_eq!(only.machines.unwrap(), want, "{date} {one}");
        let csv = report.machines_csv();
        assert_eq!(csv.lines().count(), machines.len() + 1, "{csv}");
    }
    // The simulator's hosts put promotional credits on machines, and bets played them.
    assert!(
        promo_in > 0 && promo_played > 0,
        "{promo_in} {promo_played}"
    );
    assert!(games > 0, "the machines ended games");
    // Three halls over two or three gaming days each.
    assert!(halls_checked >= 6, "{halls_checked} hall days checked");
    assert!(machines_checked > 60, "{machines_checked} machine rows");
    assert_eq!(
        holds_seen,
        BTreeSet::from(["1.00", "5.25", "8.00"]),
        "a machine's own hold, a hall's and the network's"
    );
}

#[actix_rt::test]
async fn embedded_machine_rows_sum_to_the_hall_rows() {
    machine_rows_sum_to_the_hall_rows(Harness::embedded()).await;
}

#[actix_rt::test]
async fn cql_machine_rows_sum_to_the_hall_rows() {
    machine_rows_sum_to_the_hall_rows(Harness::kassandra().await).await;
}
