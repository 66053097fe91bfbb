//! `pitboss run` against a real broker (Tansu): a simulated scenario produced with a plain
//! producer comes out of the output topics with exact totals; malformed input lands in the
//! rejected topic with its reason, bytes and position while processing continues; events
//! delivered twice change no total.

use crate::support;

use pitboss::run::RunReport;
use pitboss::sim::Simulator;
use pitboss::wire::{self, InputEnvelope, REASON_CODES};
use support::{Broker, Expected, Outputs, T0};

const EVENTS: i64 = 8_000;

/// Messages the rules of the wire refuse, with the reason code each must get.
fn bad_messages() -> Vec<((String, Vec<u8>), &'static str)> {
    let sample = wire::samples::inputs()
        .into_iter()
        .find(|e| e.source.machine.is_some())
        .expect("a machine sample");
    let mut v3: InputEnvelope = sample.clone();
    v3.schema_version = 3;
    v3.source.machine = Some("M-BAD-1".into());
    let missing_seq = serde_json::json!({
        "event_id": "6f1c3a52-6a43-4a8e-9c53-2f1a3b4c5d6e",
        "schema_version": 1,
        "source": {"hall": "H-001", "machine": "M-BAD-2"},
        "event_time": T0,
        "payload": {"bet": {"amount": 10, "currency": "EUR"}},
    });
    let bad_amount = serde_json::json!({
        "event_id": "6f1c3a52-6a43-4a8e-9c53-2f1a3b4c5d6f",
        "schema_version": 1,
        "source": {"hall": "H-001", "machine": "M-BAD-3"},
        "seq": 1,
        "event_time": T0,
        "payload": {"bet": {"amount": -5, "currency": "EUR"}},
    });
    let bad_currency = serde_json::json!({
        "event_id": "6f1c3a52-6a43-4a8e-9c53-2f1a3b4c5d70",
        "schema_version": 1,
        "source": {"hall": "H-001", "machine": "M-BAD-4"},
        "seq": 1,
        "event_time": T0,
        "payload": {"bet": {"amount": 5, "currency": "euro"}},
    });
    vec![
        (("M-BAD-0".into(), vec![0xc1, 0x00, 0xff]), "malformed"),
        (("M-BAD-1".into(), v3.to_bytes()), "unsupported_version"),
        (
            (
                "M-BAD-2".into(),
                rmp_serde::to_vec_named(&missing_seq).unwrap(),
            ),
            "missing_field",
        ),
        (
            (
                "M-BAD-3".into(),
                rmp_serde::to_vec_named(&bad_amount).unwrap(),
            ),
            "invalid_amount",
        ),
        (
            (
                "M-BAD-4".into(),
                rmp_serde::to_vec_named(&bad_currency).unwrap(),
            ),
            "invalid_currency",
        ),
        (("M-BAD-5".into(), vec![0x80; 100 * 1024]), "oversize"),
    ]
}

/// Produces `msgs` (each record stamped with its receive time, `support::produce`), runs one
/// processor on the in-memory store until it has completed everything, and reads back
/// every output.
async fn produce_and_run(
    cfg: &pitboss::config::Config,
    msgs: &[(String, Vec<u8>)],
) -> (RunReport, Outputs, Vec<(i32, i64)>) {
    support::produce_and_run(cfg, msgs, None, |_, bytes| support::record_time(bytes)).await
}

#[actix_rt::test]
async fn a_produced_scenario_comes_out_with_exact_totals_and_rejections() {
    let _serial = support::serial();
    let broker = Broker::start();
    let cfg = support::config(&broker, "scenario");
    let mut sim = Simulator::new(&cfg).unwrap();
    let mut msgs = support::keyed(
        &(0..EVENTS)
            .map(|i| sim.next(T0 + i * 20))
            .collect::<Vec<_>>(),
    );
    // The bad messages in the middle of the stream: what follows must still be processed.
    let bad = bad_messages();
    let at = msgs.len() / 2;
    for (i, (m, _)) in bad.iter().enumerate() {
        msgs.insert(at + i, m.clone());
    }
    let expected: Expected = support::expected(&cfg, &msgs).await;
    assert!(!expected.alert_ids.is_empty() && !expected.wallet_ids.is_empty());

    let (report, out, positions) = produce_and_run(&cfg, &msgs).await;

    // Money: every unit accounted for, and the same as the simulator sent.
    let r = report.recount.as_ref().expect("recounted");
    assert!(r.conservation_ok, "{r:#?}");
    assert!(
        sim.sent().matches(r),
        "simulator {:?} vs recount {r:#?}",
        sim.sent()
    );
    assert_eq!(report.input_messages, msgs.len() as u64);
    assert!(!report.durable_store, "the in-memory store is not durable");
    assert_eq!(
        report.commits, 0,
        "nothing is committed without a durable store"
    );

    // Outputs: GGR per hall, wallets, alerts, refusals.
    out.check(&expected);
    let halls = out.ggr_by_hall();
    assert_eq!(halls.values().map(|h| h.0).sum::<i64>(), sim.sent().bets);
    assert_eq!(halls.values().map(|h| h.1).sum::<i64>(), sim.sent().wins);
    let (hits, paid) = out.hits();
    assert!(hits > 0, "the scenario is meant to produce jackpot hits");
    assert_eq!((hits, paid), (r.jackpot_hits, r.jackpots_paid_by_pools));

    // Rejections: the simulator's garbage and each bad message, with reason, bytes and
    // position; nothing else.
    let rejections = out.rejections();
    assert_eq!(rejections.len(), expected.rejected);
    assert_eq!(
        rejections.len() as u64,
        sim.sent().malformed + bad.len() as u64
    );
    assert_eq!(report.rejected, rejections.len() as u64);
    for (reason, code, original, len, partition, offset) in rejections.values() {
        assert!(!reason.is_empty());
        assert!(REASON_CODES.contains(&code.as_str()), "{code}");
        let i = positions
            .iter()
            .position(|p| *p == (*partition, *offset))
            .unwrap_or_else(|| {
                panic!("rejection names {partition}@{offset}, where nothing was produced")
            });
        let sent = &msgs[i].1;
        assert_eq!(*len, sent.len() as u64);
        assert_eq!(
            original[..],
            sent[..sent.len().min(wire::REJECTED_ORIGINAL_BYTES_MAX)]
        );
    }
    for (i, ((_, bytes), code)) in bad.iter().enumerate() {
        let (p, o) = positions[at + i];
        let found = rejections
            .values()
            .find(|r| (r.4, r.5) == (p, o))
            .unwrap_or_else(|| panic!("bad message {code} at {p}@{o} not rejected"));
        assert_eq!(found.1, *code, "{}", found.0);
        assert_eq!(found.3, bytes.len() as u64);
    }
}

#[actix_rt::test]
async fn events_delivered_twice_change_no_total() {
    let _serial = support::serial();
    let broker = Broker::start();
    let mut cfg = support::config(&broker, "redelivery");
    cfg.sim.malformed_per_million = 0;
    let mut sim = Simulator::new(&cfg).unwrap();
    let once = support::keyed(
        &(0..4_000)
            .map(|i| sim.next(T0 + i * 20))
            .collect::<Vec<_>>(),
    );
    let expected = support::expected(&cfg, &once).await;
    // Everything, then the second half again (as a producer retrying after a timeout would).
    let mut twice = once.clone();
    twice.extend_from_slice(&once[2_000..]);

    let (report, out, _) = produce_and_run(&cfg, &twice).await;
    assert_eq!(report.input_messages, twice.len() as u64);
    let r = report.recount.as_ref().expect("recounted");
    assert!(r.conservation_ok, "{r:#?}");
    assert!(
        sim.sent().matches(r),
        "simulator {:?} vs recount {r:#?}",
        sim.sent()
    );
    out.check(&expected);
    let (hits, paid) = out.hits();
    assert_eq!((hits, paid), (r.jackpot_hits, r.jackpots_paid_by_pools));
}

/// RULES.md E-3 through Kafka: a machine event without `receive_time` is checked against its
/// record's timestamp. An EGM an hour fast (version 1, so no receive time of its own) has its
/// bet booked at the record time, in that minute's window, with a `clock_skew` alert; one
/// whose clock agrees is booked at its own time.
#[actix_rt::test]
async fn a_machine_clock_far_from_its_record_time_is_booked_at_the_record_time() {
    let _serial = support::serial();
    let broker = Broker::start();
    let cfg = support::config(&broker, "clock");
    let event = |id: &str, machine: &str, seq: u64, at: i64| {
        let e = serde_json::json!({
            "event_id": id,
            "schema_version": 1,
            "source": {"hall": "H-001", "machine": machine},
            "seq": seq,
            "event_time": at,
            "payload": {"bet": {"amount": 100, "currency": "EUR"}},
        });
        (machine.to_string(), rmp_serde::to_vec_named(&e).unwrap())
    };
    const HOUR: i64 = 3_600_000;
    // Both records are stamped T0 (the gateway received them then); M-FAST's clock says
    // an hour later, M-OK's agrees.
    let msgs = vec![
        event(
            "6f1c3a52-6a43-4a8e-9c53-2f1a3b4c5e01",
            "M-FAST",
            1,
            T0 + HOUR,
        ),
        event("6f1c3a52-6a43-4a8e-9c53-2f1a3b4c5e02", "M-OK", 1, T0),
    ];
    let (_, out, _) = support::produce_and_run(&cfg, &msgs, None, |_, _| Some(T0)).await;
    let mut skews = Vec::new();
    let mut windows = std::collections::BTreeSet::new();
    for r in &out.recs {
        match wire::decode_output(&r.payload).unwrap() {
            wire::OutputEvent::Alert(a) if a.payload.kind == "clock_skew" => skews.push((
                a.payload.machine.as_deref().unwrap_or_default().to_string(),
                a.payload.event_time,
                a.payload.receive_time,
            )),
            wire::OutputEvent::Ggr(g) => {
                windows.insert(g.payload.window_start);
            }
            _ => {}
        }
    }
    assert_eq!(
        skews,
        vec![("M-FAST".to_string(), Some(T0 + HOUR), Some(T0))],
        "one clock_skew alert, for the fast machine, naming both times"
    );
    let minute = T0 - T0.rem_euclid(60_000);
    assert_eq!(
        windows.into_iter().collect::<Vec<_>>(),
        vec![minute],
        "both bets are booked in the record time's window, none an hour ahead"
    );
}
