//! RULES.md V-6, the sweep: a voucher nobody touches again still has its hold released at
//! the hold's end and expires at its expiry. The census, which follows the open vouchers,
//! sends each its lapse when it is due; the voucher books it at its own time, exactly as its
//! next message would have.
//!
//! In process, through the functions `pitboss run` starts with (`app::start_runtime` on the
//! embedded store, `app::serve_http`) and the ingest path every message takes: a desk sells
//! a ticket dated 31 days ago (past its 30-day expiry) and another today that a second desk
//! asks to redeem and never commits (a 1 s hold). Nothing else is sent: the outputs must
//! show the hold released and the old ticket expired, the liability must fall to the second
//! ticket's amount, and the ledger must book the expiry.

use std::sync::Arc;
use std::time::{Duration, Instant};

use pitboss::app;
use pitboss::config::Config;
use pitboss::http::JackpotFeed;
use pitboss::readiness::Readiness;
use pitboss::store::StoreKind;
use pitboss::wire::InputPayload;
use pitboss_actors::domain::machine::Alert;
use pitboss_actors::domain::voucher::VoucherStatus;
use pitboss_actors::domain::{Timestamp, VoucherOpKind};
use pitboss_actors::shell::{MemorySink, Output, Snapshot};
use serde_json::Value;

const OLD: &str = "100000000000000001";
const HELD: &str = "100000000000000002";
const DAY_MS: i64 = 86_400_000;

#[actix_rt::test]
async fn the_sweep_expires_vouchers_and_releases_holds_nobody_touches_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = Config::load_with_env(None, Vec::new()).expect("defaults");
    cfg.store.kind = StoreKind::Embedded;
    cfg.store.data_dir = dir.path().to_path_buf();
    cfg.http.addr = "127.0.0.1:0".into();
    cfg.http.census_interval_ms = 100;
    cfg.http.audit_log = dir.path().join("audit.jsonl").display().to_string();
    cfg.vouchers.hold_secs = 1;
    let cur = cfg.network.currency.clone();

    let opened = app::open_store(&cfg, false).await.expect("open the store");
    let sink = Arc::new(MemorySink::default());
    let feed = JackpotFeed::new(&cfg.http);
    let rt = app::start_runtime(
        &cfg,
        cfg.runtime_config().expect("runtime config"),
        sink.clone(),
        opened.store.clone(),
        Some(&feed),
    );
    let readiness = Arc::new(Readiness::new());
    let http = app::serve_http(&rt, feed, &readiness, &cfg.http)
        .await
        .expect("serve HTTP");
    let base = format!("http://{}", http.addr);

    let now = pitboss::clock::now_ms();
    let sends = [
        (
            "DESK-1",
            now - 31 * DAY_MS,
            InputPayload::VoucherIssue {
                validation: OLD.into(),
                tx: "sale-1".into(),
                amount: 2_500,
                currency: cur.clone(),
            },
        ),
        (
            "DESK-1",
            now,
            InputPayload::VoucherIssue {
                validation: HELD.into(),
                tx: "sale-2".into(),
                amount: 4_000,
                currency: cur.clone(),
            },
        ),
        (
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
    crate::support::ingest_commands(&rt, "H-1", 0x5eed_0000, sends.into()).await;

    // The sweep books both lapses by itself.
    let lapsed = |sink: &MemorySink| {
        let outs = sink.outputs();
        let expired = outs.iter().any(|o| {
            matches!(o, Output::Voucher { validation, note, .. }
                if validation.as_str() == OLD && note.op == VoucherOpKind::Expire
                    && note.time.0 == now - DAY_MS)
        });
        let released = outs.iter().any(|o| {
            matches!(o, Output::Voucher { validation, note, .. }
                if validation.as_str() == HELD && note.op == VoucherOpKind::Release)
        });
        let alerted = outs.iter().any(|o| {
            matches!(o, Output::Alert { alert: Alert::VoucherHoldReleased { validation, amount, .. }, .. }
                if validation.as_str() == HELD && *amount == 4_000)
        });
        expired && released && alerted
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !lapsed(&sink) {
        assert!(
            Instant::now() < deadline,
            "the sweep did not book the lapses: {:?}",
            sink.outputs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Once each: the sweep's retries and later rounds book nothing more.
    let count = |op: VoucherOpKind| {
        sink.outputs()
            .iter()
            .filter(|o| matches!(o, Output::Voucher { note, .. } if note.op == op))
            .count()
    };
    // The liability falls to the held-then-released ticket once the census has seen both.
    let deadline = Instant::now() + Duration::from_secs(30);
    let liability = loop {
        let r = tokio::task::spawn_blocking({
            let url = format!("{base}/api/vouchers/liability");
            move || crate::support::get(&url, None)
        })
        .await
        .unwrap()
        .expect("the server answers");
        let v: Value = r.json();
        if v["liability_minor"] == 4_000 && v["open_vouchers"] == 1 {
            break v;
        }
        assert!(Instant::now() < deadline, "liability stayed {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(liability["halls"][0]["hall"], "H-1", "{liability}");
    assert_eq!(count(VoucherOpKind::Expire), 1);
    assert_eq!(count(VoucherOpKind::Release), 1);

    // Stored: the old ticket expired at its expiry time, the other open again; the ledger
    // agrees with the states (the audit sums every voucher's movements against its liability).
    assert!(
        pitboss::store::checkpoint(&rt).await.expect("checkpoint"),
        "the embedded store is durable"
    );
    let states = opened.store.all().await.expect("read the states");
    let status = |number: &str| {
        states.iter().find_map(|s| match s {
            Snapshot::Voucher(v) if v.number.as_str() == number => Some(v.status.clone()),
            _ => None,
        })
    };
    assert_eq!(
        status(OLD),
        Some(VoucherStatus::Expired {
            at: Timestamp(now - DAY_MS)
        })
    );
    assert_eq!(status(HELD), Some(VoucherStatus::Issued));
    let audit = opened.audit.as_deref().expect("the embedded store audits");
    let report = pitboss::store::audit::audit(audit).await.expect("audit");
    assert!(report.ok(), "audit: {:?}", report.differences);
    assert!(
        report.ledger_entries >= 3,
        "issues and the expiry: {report:?}"
    );

    http.stop().await;
    rt.stop();
}
