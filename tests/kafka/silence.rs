// The serial guard is held for the whole test on purpose: the tests of this file share
// the machine with a broker each and must not overlap.
#![allow(clippy::await_holding_lock)]
//! pitboss's own silence detection through `pitboss run` (RULES.md M-11): machines that stop
//! sending are found silent by the census, their hall offline once all are, and the next
//! event clears both; the alerts are published on the alerts topic like every other.

use crate::support;

use std::sync::Arc;
use std::time::Duration;

use pitboss::kafka::RunStats;
use pitboss::run::{run_with, shutdown_channel, RunOptions};
use pitboss::wire::{decode_output, InputEnvelope, InputPayload, OutputEvent};
use support::Broker;

/// Alert kinds on the alerts topic, with their machine, in publication order per key.
fn alerts(cfg: &pitboss::config::Config) -> Vec<(String, String)> {
    support::read_all(
        &cfg.kafka.brokers,
        std::slice::from_ref(&cfg.kafka.topics.alerts),
    )
    .iter()
    .filter_map(|r| match decode_output(&r.payload).ok()? {
        OutputEvent::Alert(e) => Some((
            e.payload.kind.to_string(),
            e.payload.machine.as_deref().unwrap_or_default().to_string(),
        )),
        _ => None,
    })
    .collect()
}

#[actix_rt::test]
async fn machines_that_stop_sending_are_silent_their_hall_offline_and_the_next_event_clears_both() {
    let _serial = support::serial();
    let broker = Broker::start();
    let mut cfg = support::config(&broker, "silence");
    cfg.http.addr = "127.0.0.1:0".into();
    cfg.http.census_interval_ms = 200;
    cfg.http.machine_silence_secs = 2;
    pitboss::run::create_topics(&cfg)
        .await
        .expect("create topics");
    let now = pitboss::clock::now_ms();
    let event = |machine: &str, seq: u64, n: u128| {
        let env = InputEnvelope::machine(
            uuid::Uuid::from_u128(0x5110_0000 + n),
            "H-SILENT",
            machine,
            seq,
            now + n as i64,
            InputPayload::CashIn {
                kind: "bill".into(),
                amount: 1_000,
                currency: cfg.network.currency.clone(),
                validation: None,
                credit_type: None,
            },
        );
        (machine.to_owned(), env.to_bytes())
    };
    let stats = Arc::new(RunStats::default());
    let (button, shutdown) = shutdown_channel();
    let opts = RunOptions {
        stats: stats.clone(),
        http: true,
        ..Default::default()
    };
    let rest = async {
        let first = vec![event("M-S1", 1, 1), event("M-S2", 1, 2)];
        let (brokers, topic) = (cfg.kafka.brokers.clone(), cfg.kafka.topics.input.clone());
        let m = first.clone();
        tokio::task::spawn_blocking(move || support::produce(&brokers, &topic, &m))
            .await
            .unwrap();
        let c = cfg.clone();
        let found = |want: &'static [&'static str]| {
            let c = c.clone();
            move || {
                let got = alerts(&c);
                want.iter()
                    .all(|w| got.iter().any(|(k, _)| k == w))
                    .then_some(got)
            }
        };
        let f = found(&["machine_silent", "location_offline"]);
        let got = tokio::task::spawn_blocking(move || {
            testkit::wait::wait_for(
                "both machines silent and their hall offline",
                Duration::from_secs(60),
                f,
            )
        })
        .await
        .unwrap();
        let silent: Vec<&str> = got
            .iter()
            .filter(|(k, _)| k == "machine_silent")
            .map(|(_, m)| m.as_str())
            .collect();
        assert_eq!(silent.len(), 2, "each machine once: {got:?}");
        assert!(
            silent.contains(&"M-S1") && silent.contains(&"M-S2"),
            "{got:?}"
        );
        assert_eq!(
            got.iter().filter(|(k, _)| k == "location_offline").count(),
            1,
            "{got:?}"
        );
        // M-S1 speaks again.
        let again = vec![event("M-S1", 2, 3)];
        let (brokers, topic) = (cfg.kafka.brokers.clone(), cfg.kafka.topics.input.clone());
        tokio::task::spawn_blocking(move || support::produce(&brokers, &topic, &again))
            .await
            .unwrap();
        let f = found(&["machine_silence_cleared", "location_online"]);
        let got = tokio::task::spawn_blocking(move || {
            testkit::wait::wait_for(
                "M-S1 heard again and its hall online",
                Duration::from_secs(60),
                f,
            )
        })
        .await
        .unwrap();
        let cleared: Vec<&(String, String)> = got
            .iter()
            .filter(|(k, _)| k == "machine_silence_cleared" || k == "location_online")
            .collect();
        assert!(cleared.iter().all(|(_, m)| m == "M-S1"), "{got:?}");
        button.send(true).unwrap();
    };
    let (report, ()) = tokio::join!(run_with(cfg.clone(), opts, shutdown), rest);
    report.expect("pitboss run stops cleanly");
}
