//! RULES.md H-5: `pitboss run` publishes each hall's gaming day on the reports topic once the
//! hall has published a window of the next day, and again, under a new id and a higher
//! revision, when a late event revises it. The published days are checked against the GGR
//! windows published on the GGR topic (the latest revision of each), summed here over day
//! bounds computed here, not by the report's code.

use crate::support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pitboss::kafka::RunStats;
use pitboss::run::{run_with, shutdown_channel, RunOptions};
use pitboss::sim::Simulator;
use pitboss::wire::{InputEnvelope, InputPayload, OutputEvent, Source};
use support::{Broker, Outputs, T0};

const HOUR_MS: i64 = 3_600_000;
/// 2027-01-16T06:00:00Z: the end of gaming day 2027-01-15 (UTC, rolling over at 06:00).
const BOUNDARY: i64 = T0 + 22 * HOUR_MS;
const DAY: &str = "2027-01-15";

/// Per hall: handle, wins, jackpots, games, windows and promotional credits played (RULES.md
/// M-13) of the published GGR windows (the latest revision of each) that start in
/// `[from, to)`.
fn ggr_sums(out: &Outputs, from: i64, to: i64) -> BTreeMap<String, (i64, i64, i64, i64, u64, i64)> {
    // (hall, window start) -> (revision, bets, wins, jackpots, games, promo)
    type Window = (u32, i64, i64, i64, i64, i64);
    let mut latest: BTreeMap<(String, i64), Window> = BTreeMap::new();
    for r in &out.recs {
        if let Ok(OutputEvent::Ggr(g)) = pitboss::wire::decode_output(&r.payload) {
            let p = g.payload;
            if p.window_start < from || p.window_start >= to {
                continue;
            }
            let e = latest
                .entry((p.hall.to_string(), p.window_start))
                .or_insert((0, 0, 0, 0, 0, 0));
            if p.revision >= e.0 {
                *e = (p.revision, p.bets, p.wins, p.jackpots, p.games, p.promo);
            }
        }
    }
    let mut sums = BTreeMap::new();
    for ((hall, _), (_, bets, wins, jackpots, games, promo)) in latest {
        let s = sums.entry(hall).or_insert((0, 0, 0, 0, 0, 0));
        s.0 += bets;
        s.1 += wins;
        s.2 += jackpots;
        s.3 += games;
        s.4 += 1;
        s.5 += promo;
    }
    sums
}

/// The published gaming days: (hall, date) -> [(revision, handle, wins, jackpots, games,
/// windows, id, promo)] in publication order.
type Days = BTreeMap<(String, String), Vec<(u64, i64, i64, i64, i64, u64, String, i64)>>;

fn days(out: &Outputs) -> Days {
    let mut days: Days = BTreeMap::new();
    for r in &out.recs {
        if let Ok(OutputEvent::GamingDay(d)) = pitboss::wire::decode_output(&r.payload) {
            assert_eq!(
                r.key.as_deref(),
                Some(d.payload.hall.as_bytes()),
                "keyed by hall"
            );
            let p = &d.payload;
            assert_eq!(p.ggr, p.handle - p.wins);
            assert_eq!(p.net_win, p.ggr - p.jackpots - p.promo);
            assert_eq!(
                (&*p.time_zone, &*p.day_start, p.minutes, &*p.currency),
                ("UTC", "2027-01-15T06:00:00+00:00", 1440, "EUR"),
                "{p:?}"
            );
            days.entry((p.hall.to_string(), p.date.to_string()))
                .or_default()
                .push((
                    p.revision,
                    p.handle,
                    p.wins,
                    p.jackpots,
                    p.games,
                    p.windows,
                    d.output_id.to_string(),
                    p.promo,
                ));
        }
    }
    days
}

/// The machine rows and the network row published with the halls' days (RULES.md H-5), against
/// the halls' days as last published: every hall with machines is the sum of its machines'
/// last rows (coin in, GGR, jackpots, promotional credits played, games), and the network's last
/// row of `DAY` sums every hall, none open. Returns how many halls had machine rows.
fn rows_add_up(out: &Outputs) -> usize {
    /// A hall's day: handle, GGR, jackpots, promo, games, windows, revision.
    type HallDay = (i64, i64, i64, i64, i64, u64, u64);
    let halls: BTreeMap<String, HallDay> = out
        .recs
        .iter()
        .filter_map(|r| match pitboss::wire::decode_output(&r.payload) {
            Ok(OutputEvent::GamingDay(d)) if d.payload.date == DAY => {
                let p = d.payload;
                Some((
                    p.hall.to_string(),
                    (
                        p.handle, p.ggr, p.jackpots, p.promo, p.games, p.windows, p.revision,
                    ),
                ))
            }
            _ => None,
        })
        .collect();
    // machine -> (hall, coin in, GGR, jackpots, promo played, games), the last published.
    type MachineDay = (String, i64, i64, i64, i64, i64);
    let mut machines: BTreeMap<String, MachineDay> = BTreeMap::new();
    let mut network = None;
    for r in &out.recs {
        match pitboss::wire::decode_output(&r.payload) {
            Ok(OutputEvent::GamingDayMachine(m)) if m.payload.date == DAY => {
                let p = m.payload;
                assert_eq!(
                    r.key.as_deref(),
                    Some(p.machine.as_bytes()),
                    "keyed by machine"
                );
                assert_eq!(p.ggr, p.coin_in - p.coin_out - p.handpaid_wins, "{p:?}");
                assert_eq!(p.drop, p.bills_in + p.tickets_in, "{p:?}");
                machines.insert(
                    p.machine.to_string(),
                    (
                        p.hall.to_string(),
                        p.coin_in,
                        p.ggr,
                        p.jackpots,
                        p.promo_played,
                        p.games,
                    ),
                );
            }
            Ok(OutputEvent::GamingDayNetwork(n)) if n.payload.date == DAY => {
                assert_eq!(r.key.as_deref(), Some(&b"NETWORK"[..]), "keyed NETWORK");
                network = Some(n.payload.clone());
            }
            _ => {}
        }
    }
    let mut with_machines = 0;
    for (hall, (handle, ggr, jackpots, promo, games, ..)) in &halls {
        let mine: Vec<_> = machines.values().filter(|m| m.0 == *hall).collect();
        if mine.is_empty() {
            continue;
        }
        with_machines += 1;
        let sum = |f: fn(&&MachineDay) -> i64| mine.iter().map(f).sum::<i64>();
        assert_eq!(
            (
                sum(|m| m.1),
                sum(|m| m.2),
                sum(|m| m.3),
                sum(|m| m.4),
                sum(|m| m.5)
            ),
            (*handle, *ggr, *jackpots, *promo, *games),
            "{hall}: its machine rows against its day"
        );
    }
    let n = network.expect("a network row of the day");
    let total = |f: fn(&HallDay) -> i64| halls.values().map(f).sum::<i64>();
    assert_eq!(
        (n.halls_closed, n.halls_open),
        (halls.len() as u64, 0),
        "every hall closed the day: {n:?}"
    );
    assert_eq!(
        (n.handle, n.ggr, n.jackpots, n.promo, n.games),
        (
            total(|h| h.0),
            total(|h| h.1),
            total(|h| h.2),
            total(|h| h.3),
            total(|h| h.4)
        ),
        "the network row sums the halls' days"
    );
    assert_eq!(n.windows, halls.values().map(|h| h.5).sum::<u64>());
    assert_eq!(n.revision, halls.values().map(|h| h.6).sum::<u64>());
    with_machines
}

#[actix_rt::test]
async fn each_halls_day_is_published_at_its_close_and_revised_by_a_late_event() {
    let _serial = support::serial();
    let broker = Broker::start();
    let data = tempfile::tempdir().unwrap();
    let mut cfg = support::config(&broker, "reports");
    cfg.sim.malformed_per_million = 0;
    cfg.store.kind = pitboss::store::StoreKind::Embedded;
    cfg.store.data_dir = data.path().join("state");
    cfg.gaming_day.publish_interval_ms = 100;
    assert_eq!(
        (&*cfg.gaming_day.time_zone, &*cfg.gaming_day.start),
        ("UTC", "06:00")
    );

    // 20 minutes of play around the day's end, 600 ms apart.
    let mut sim = Simulator::new(&cfg).unwrap();
    let msgs = support::keyed(
        &(0..2_000)
            .map(|i| sim.next(BOUNDARY - 10 * 60_000 + i * 600))
            .collect::<Vec<_>>(),
    );
    let (_, out, _) =
        support::produce_and_run(&cfg, &msgs, None, |_, b| support::record_time(b)).await;
    let want = ggr_sums(&out, BOUNDARY - 24 * HOUR_MS, BOUNDARY);
    // Three halls of machines and the online brand.
    assert_eq!(
        want.len(),
        4,
        "every hall played before the day's end: {want:?}"
    );
    let published = days(&out);
    for (hall, (handle, wins, jackpots, games, windows, promo)) in &want {
        let got = published
            .get(&(hall.clone(), DAY.to_string()))
            .unwrap_or_else(|| panic!("{hall}: no gaming day published: {published:?}"));
        assert_eq!(got.len(), 1, "{hall}: published once: {got:?}");
        let (_, h, w, j, g, n, _, pr) = got[0].clone();
        assert_eq!(
            (h, w, j, g, n, pr),
            (*handle, *wins, *jackpots, *games, *windows, *promo),
            "{hall}: the published day against its published windows"
        );
    }
    // RULES.md M-13: the simulator's hosts put promotional credits on machines, and the
    // published windows and days carry what bets played of them.
    assert!(
        want.values().map(|s| s.5).sum::<i64>() > 0,
        "promotional credits played: {want:?}"
    );
    assert!(
        published.keys().all(|(_, date)| date == DAY),
        "only the closed day: {:?}",
        published.keys()
    );
    assert_eq!(
        rows_add_up(&out),
        3,
        "the three halls of machines have machine rows"
    );

    // A late bet of the closed day, from a machine of the first hall that was silent until
    // now, produced after the day was published: a second process (same group, same store)
    // applies it to the day's window, which is published again under its next revision,
    // and the day with it.
    let hall = want.keys().next().unwrap().clone();
    let late_at = BOUNDARY - 5 * 60_000 + 30_000;
    let late = InputEnvelope {
        event_id: uuid::Uuid::from_u128(0x5ead_0000_0000_4000_8000_0000_0000_0001).to_string(),
        schema_version: 1,
        source: Source {
            hall: hall.clone(),
            machine: Some("M-LATE-1".into()),
            server: None,
        },
        epoch: None,
        seq: 1,
        event_time: late_at,
        receive_time: None,
        payload: InputPayload::Bet {
            amount: 500,
            currency: "EUR".into(),
        },
    };
    let late = vec![("M-LATE-1".to_string(), late.to_bytes())];
    let (brokers, input) = (cfg.kafka.brokers.clone(), cfg.kafka.topics.input.clone());
    tokio::task::spawn_blocking(move || support::produce(&brokers, &input, &late))
        .await
        .unwrap();
    let stats = Arc::new(RunStats::default());
    let (button, shutdown) = shutdown_channel();
    let opts = RunOptions {
        stats: stats.clone(),
        ..Default::default()
    };
    let waiter = async {
        support::wait_for("the late bet completed", Duration::from_secs(90), || {
            stats.inputs() >= 1
        })
        .await;
        // Running until the revised day is on the reports topic.
        let (brokers, reports) = (cfg.kafka.brokers.clone(), cfg.kafka.topics.reports.clone());
        let want = (hall.clone(), DAY.to_string());
        tokio::task::spawn_blocking(move || {
            let mut reader = support::EndReader::new(&brokers, &[reports], true);
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                reader.poll_for(Duration::from_millis(100));
                let seen = days(&Outputs::new(reader.recs.clone()));
                if seen.get(&want).is_some_and(|v| v.len() >= 2) {
                    return;
                }
                assert!(Instant::now() < deadline, "no revision published: {seen:?}");
            }
        })
        .await
        .unwrap();
        button.send(true).unwrap();
    };
    let (report, ()) = tokio::join!(run_with(cfg.clone(), opts, shutdown), waiter);
    report.expect("the second pitboss run");
    let (brokers, topics) = (cfg.kafka.brokers.clone(), support::output_topics(&cfg));
    let out = Outputs::new(
        tokio::task::spawn_blocking(move || support::read_all(&brokers, &topics))
            .await
            .unwrap(),
    );
    let published = days(&out);
    let first = &published[&(hall.clone(), DAY.to_string())];
    assert_eq!(
        first.len(),
        2,
        "published at the close, then revised: {first:?}"
    );
    let (before, after) = (&first[0], &first[1]);
    assert!(after.0 > before.0, "a higher revision: {first:?}");
    assert_ne!(after.6, before.6, "a new id");
    assert_eq!(
        after.1,
        before.1 + 500,
        "the late bet is in the revised handle"
    );
    assert_eq!((after.2, after.3, after.4), (before.2, before.3, before.4));
    let want = ggr_sums(&out, BOUNDARY - 24 * HOUR_MS, BOUNDARY);
    let (handle, wins, jackpots, games, windows, promo) = want[&hall];
    assert_eq!(
        (after.1, after.2, after.3, after.4, after.5, after.7),
        (handle, wins, jackpots, games, windows, promo),
        "the revised day against the revised windows"
    );
    // The other halls' days were not revised.
    for ((h, _), v) in &published {
        if *h != hall {
            assert_eq!(v.len(), 1, "{h}: {v:?}");
        }
    }
    // The revised day's machine rows (the late machine's among them) and the network's day
    // were published again with it.
    assert_eq!(rows_add_up(&out), 3);
}
