// The serial guard is held for the whole test on purpose: the tests of this file share
// the machine with a broker each and must not overlap.
#![allow(clippy::await_holding_lock)]
//! The voucher sweep through `pitboss run` and the broker (RULES.md V-6): a desk's ticket
//! dated past its expiry and a redemption hold nobody commits are booked by the census's
//! sweep, whose lapse travels to the voucher's owner on the internal voucher-facts topic
//! like a machine's ticket fact; each lapse is published once on the vouchers topic.

use crate::support;

use pitboss::run::RunOptions;
use pitboss::wire::{decode_output, InputEnvelope, InputPayload, OutputEvent};
use support::Broker;

const OLD: &str = "200000000000000001";
const HELD: &str = "200000000000000002";
const DAY_MS: i64 = 86_400_000;

/// (validation, op, voucher status, time) of every voucher output, in publication order per key.
fn notes(cfg: &pitboss::config::Config) -> Vec<(String, String, String, i64)> {
    support::read_all(
        &cfg.kafka.brokers,
        std::slice::from_ref(&cfg.kafka.topics.vouchers),
    )
    .iter()
    .filter_map(|r| match decode_output(&r.payload).ok()? {
        OutputEvent::Voucher(e) => Some((
            e.payload.validation.to_string(),
            e.payload.op.to_string(),
            e.payload.voucher_status.to_string(),
            e.payload.time,
        )),
        _ => None,
    })
    .collect()
}

#[actix_rt::test]
async fn the_sweep_books_expiries_and_lapsed_holds_through_the_internal_topic() {
    let _serial = support::serial();
    let broker = Broker::start();
    let mut cfg = support::config(&broker, "sweep");
    assert!(
        cfg.kafka.internal_topics,
        "the lapse must cross the internal topic"
    );
    cfg.http.addr = "127.0.0.1:0".into();
    cfg.http.census_interval_ms = 200;
    cfg.vouchers.hold_secs = 1;
    pitboss::run::create_topics(&cfg)
        .await
        .expect("create topics");
    let now = pitboss::clock::now_ms();
    let cur = cfg.network.currency.clone();
    let command = |n: u128, desk: &str, time: i64, payload: InputPayload| {
        let env = InputEnvelope::wallet(
            uuid::Uuid::from_u128(0x5ee9_0000 + n),
            "H-1",
            desk,
            n as u64,
            time,
            payload,
        );
        (env.kafka_key().to_owned(), env.to_bytes())
    };
    let msgs = vec![
        command(
            1,
            "DESK-1",
            now - 31 * DAY_MS,
            InputPayload::VoucherIssue {
                validation: OLD.into(),
                tx: "sale-1".into(),
                amount: 2_500,
                currency: cur.clone(),
            },
        ),
        command(
            2,
            "DESK-1",
            now,
            InputPayload::VoucherIssue {
                validation: HELD.into(),
                tx: "sale-2".into(),
                amount: 4_000,
                currency: cur.clone(),
            },
        ),
        command(
            3,
            "DESK-2",
            now,
            InputPayload::VoucherRedeem {
                validation: HELD.into(),
                tx: "pay-2".into(),
                amount: 4_000,
                currency: cur.clone(),
            },
        ),
    ];
    let opts = RunOptions {
        http: true,
        ..Default::default()
    };
    let (report, got) = support::run_until(
        &cfg,
        opts,
        msgs,
        "the sweep's expiry and release on the vouchers topic",
        |c| {
            let got = notes(c);
            let has = |v: &str, op: &str| got.iter().any(|n| n.0 == v && n.1 == op);
            (has(OLD, "expire") && has(HELD, "release")).then_some(got)
        },
    )
    .await;
    report.expect("pitboss run stops cleanly");
    let expire: Vec<_> = got.iter().filter(|n| n.1 == "expire").collect();
    assert_eq!(expire.len(), 1, "{got:?}");
    assert_eq!(expire[0].0, OLD);
    assert_eq!(expire[0].2, "expired");
    assert_eq!(expire[0].3, now - DAY_MS, "booked at the expiry time");
    let release: Vec<_> = got.iter().filter(|n| n.1 == "release").collect();
    assert_eq!(release.len(), 1, "{got:?}");
    assert_eq!(
        (release[0].0.as_str(), release[0].2.as_str()),
        (HELD, "issued")
    );
    // Nothing more after the stop (a retry would republish under the same id, not book again).
    let got = notes(&cfg);
    assert_eq!(got.iter().filter(|n| n.1 == "expire").count(), 1, "{got:?}");
}
