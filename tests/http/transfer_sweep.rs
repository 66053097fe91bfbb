//! RULES.md W-10, the sweep: a wallet's hold for a cashless transfer that nobody touches
//! again (no machine's acknowledgement, no cancel, no other command of the player) still
//! goes back to the balance once its time has passed. The census sends the wallet a lapse;
//! the wallet releases, books and alerts it exactly as its next message would have, and
//! leaves a hold whose time has not come.
//!
//! In process, through the functions `pitboss run` starts with (`app::start_runtime` on the
//! embedded store, `app::serve_http`) and the ingest path every message takes: one player
//! deposits and asks for a transfer two minutes ago (its 60 s hold is over), another asks
//! for one now (its hold stands). Nothing else is sent.

use std::sync::Arc;
use std::time::{Duration, Instant};

use pitboss::app;
use pitboss::config::Config;
use pitboss::http::JackpotFeed;
use pitboss::readiness::Readiness;
use pitboss::store::StoreKind;
use pitboss::wire::InputPayload;
use pitboss_actors::domain::machine::Alert;
use pitboss_actors::shell::{MemorySink, Output, Snapshot};

#[actix_rt::test]
async fn the_sweep_releases_a_lapsed_transfer_hold_nobody_touches_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = Config::load_with_env(None, Vec::new()).expect("defaults");
    cfg.store.kind = StoreKind::Embedded;
    cfg.store.data_dir = dir.path().to_path_buf();
    cfg.http.addr = "127.0.0.1:0".into();
    cfg.http.census_interval_ms = 100;
    cfg.http.audit_log = dir.path().join("audit.jsonl").display().to_string();
    assert_eq!(
        cfg.runtime.wallet_transfer_hold_secs, 60,
        "the default hold"
    );
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

    let now = pitboss::clock::now_ms();
    let deposit = |player: &str| InputPayload::Deposit {
        player: player.into(),
        tx: format!("dep-{player}"),
        amount: 10_000,
        currency: cur.clone(),
        round: None,
    };
    let request = |player: &str, transfer: &str| InputPayload::TransferRequest {
        player: player.into(),
        tx: transfer.into(),
        machine: "M-1".into(),
        amount: 4_000,
        currency: cur.clone(),
        credit_type: None,
    };
    let sends = [
        ("PSP-1", now - 180_000, deposit("P-1")),
        ("AFT-1", now - 120_000, request("P-1", "XF-1")),
        ("PSP-1", now, deposit("P-2")),
        ("AFT-1", now, request("P-2", "XF-2")),
    ];
    crate::support::ingest_commands(&rt, "ONLINE-1", 0xaf7_0000, sends.into()).await;

    // The sweep releases the lapsed hold by itself, alerted once with its amount.
    let released = |sink: &MemorySink| {
        sink.outputs()
            .iter()
            .filter(|o| {
                matches!(o, Output::Alert { alert: Alert::TransferHoldReleased { player, transfer, amount, .. }, .. }
                    if player.as_str() == "P-1" && transfer.as_str() == "XF-1" && *amount == 4_000)
            })
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while released(&sink) == 0 {
        assert!(
            Instant::now() < deadline,
            "the sweep did not release the hold: {:?}",
            sink.outputs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The hold whose time has not come stays.
    let other = sink.outputs().iter().any(
        |o| matches!(o, Output::Alert { alert: Alert::TransferHoldReleased { player, .. }, .. } if player.as_str() == "P-2"),
    );
    assert!(!other, "a hold whose time has not come was released");

    // Stored: P-1's money back in its balance, P-2's still held; the ledger agrees with the
    // states (the audit checks every wallet's movements against its balance and holds).
    assert!(
        pitboss::store::checkpoint(&rt).await.expect("checkpoint"),
        "the embedded store is durable"
    );
    let states = opened.store.all().await.expect("read the states");
    let wallet = |player: &str| {
        states.iter().find_map(|s| match s {
            Snapshot::Wallet(w) if w.id.as_str() == player => Some((w.balance, w.held())),
            _ => None,
        })
    };
    assert_eq!(wallet("P-1"), Some((10_000, 0)));
    assert_eq!(wallet("P-2"), Some((6_000, 4_000)));
    let audit = opened.audit.as_deref().expect("the embedded store audits");
    let report = pitboss::store::audit::audit(audit).await.expect("audit");
    assert!(report.ok(), "audit: {:?}", report.differences);
    assert_eq!(
        released(&sink),
        1,
        "released once, whatever rounds followed"
    );

    http.stop().await;
    rt.stop();
}
