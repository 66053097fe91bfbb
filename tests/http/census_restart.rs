//! Finding 17 of issue 11: after a restart the census must still know every machine and hall
//! in the store, not only those that received an event since.
//!
//! In process, through the same functions `pitboss run` and `pitboss demo` start with
//! (`app::open_store` on the embedded store, `app::start_runtime`, `app::serve_http`), and
//! the ingest path every message takes: 20 machines in 4 halls play, then some tilt, open a
//! door or lose communication; a checkpoint; the runtime stops and the store is closed. A
//! new runtime and HTTP side start on the same store, ONE machine gets one event, and the
//! HTTP side must list every hall, every machine with its stored status, and the per-hall
//! gauges.
//!
//! Before the restart nothing serves HTTP, so no census runs: a gauge seen on `/metrics`
//! afterwards was set by the restarted census.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pitboss::app;
use pitboss::config::Config;
use pitboss::http::JackpotFeed;
use pitboss::pipeline::{Inflight, Ingest, SourcePos};
use pitboss::readiness::Readiness;
use pitboss::store::StoreKind;
use pitboss::wire::{InputEnvelope, InputPayload};
use pitboss_actors::shell::{NullSink, Runtime, StateStore};
use serde_json::Value;

const HALLS: [&str; 4] = ["H-A", "H-B", "H-C", "H-D"];
const PER_HALL: usize = 5;

/// The status each machine is left in: by its index in the hall.
fn final_status(i: usize) -> &'static str {
    match i {
        0 => "tilt",
        1 => "door_open",
        2 => "offline",
        _ => "online",
    }
}

fn machine_id(hall: &str, i: usize) -> String {
    format!("M-{}-{}", &hall[2..], i + 1)
}

fn config(dir: &std::path::Path) -> Config {
    let mut cfg = Config::load_with_env(None, Vec::new()).expect("defaults");
    cfg.store.kind = StoreKind::Embedded;
    cfg.store.data_dir = dir.to_path_buf();
    cfg.http.addr = "127.0.0.1:0".into();
    cfg.http.census_interval_ms = 100;
    cfg.http.audit_log = dir.join("audit.jsonl").display().to_string();
    cfg
}

struct Feeder {
    ingest: Ingest,
    inflight: Inflight,
    sent: i64,
    next_id: u128,
    seqs: BTreeMap<String, u64>,
    t0: i64,
}

impl Feeder {
    fn new(rt: Arc<Runtime>) -> Self {
        Self {
            ingest: Ingest::new(rt),
            inflight: Inflight::new(256),
            sent: 0,
            next_id: 0,
            seqs: BTreeMap::new(),
            t0: pitboss::clock::now_ms(),
        }
    }

    async fn send(&mut self, hall: &str, machine: &str, payload: InputPayload) {
        let seq = self.seqs.entry(machine.to_string()).or_insert(0);
        *seq += 1;
        self.next_id += 1;
        let ev = InputEnvelope::machine(
            uuid::Uuid::from_u128((0x17u128 << 96) | self.next_id),
            hall,
            machine,
            *seq,
            self.t0 + self.sent,
            payload,
        );
        let ack = self
            .inflight
            .begin(1, |ok| assert!(ok, "an input failed"))
            .await;
        let pos = SourcePos {
            partition: 0,
            offset: self.sent,
        };
        self.sent += 1;
        self.ingest
            .process(&ev.to_bytes(), Some(machine.as_bytes()), pos, &ack)
            .await;
    }

    async fn drained(&self) {
        self.inflight.drained().await;
        self.ingest.runtime().quiesce().await;
    }
}

async fn get(url: String) -> crate::support::Reply {
    tokio::task::spawn_blocking(move || crate::support::get(&url, None))
        .await
        .expect("the request thread")
        .expect("the server answers")
}

async fn get_json(url: String) -> Value {
    let r = get(url).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

#[actix_rt::test]
async fn after_a_restart_the_census_lists_every_stored_hall_and_machine() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path());
    let cur = cfg.network.currency.clone();

    // Before the restart: every machine plays, then some leave the online state.
    let seqs = {
        let opened = app::open_store(&cfg, false).await.expect("open the store");
        let store: Arc<dyn StateStore> = opened.store.clone();
        let rt = app::start_runtime(
            &cfg,
            cfg.runtime_config().expect("runtime config"),
            Arc::new(NullSink::default()),
            store.clone(),
            None,
        );
        let mut f = Feeder::new(rt.clone());
        for hall in HALLS {
            for i in 0..PER_HALL {
                let m = machine_id(hall, i);
                f.send(
                    hall,
                    &m,
                    InputPayload::CashIn {
                        kind: "bill".into(),
                        amount: 5_000,
                        currency: cur.clone(),
                        validation: None,
                        credit_type: None,
                    },
                )
                .await;
                f.send(
                    hall,
                    &m,
                    InputPayload::Bet {
                        amount: 100,
                        currency: cur.clone(),
                    },
                )
                .await;
                f.send(hall, &m, InputPayload::GameEnd {}).await;
                let last = match final_status(i) {
                    "tilt" => Some(InputPayload::Tilt { code: 17 }),
                    "door_open" => Some(InputPayload::DoorOpen {}),
                    "offline" => Some(InputPayload::CommsLost {}),
                    _ => None,
                };
                if let Some(p) = last {
                    f.send(hall, &m, p).await;
                }
            }
        }
        f.drained().await;
        assert!(
            pitboss::store::checkpoint(&rt).await.expect("checkpoint"),
            "the embedded store is durable"
        );
        let seqs = f.seqs.clone();
        rt.stop();
        drop(f);
        drop(rt);
        drop(store);
        drop(opened);
        seqs
    };

    // The restart: the same store, opened again once the stopped runtime has let go of it
    // (the file can be open only once).
    pitboss::telemetry::install();
    let deadline = Instant::now() + Duration::from_secs(20);
    let opened = loop {
        match app::open_store(&cfg, false).await {
            Ok(o) => break o,
            Err(e) => {
                assert!(Instant::now() < deadline, "reopening the store: {e}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    let feed = JackpotFeed::new(&cfg.http);
    let rt = app::start_runtime(
        &cfg,
        cfg.runtime_config().expect("runtime config"),
        Arc::new(NullSink::default()),
        opened.store.clone(),
        Some(&feed),
    );
    let readiness = Arc::new(Readiness::new());
    let http = app::serve_http(&rt, feed, &readiness, &cfg.http)
        .await
        .expect("serve HTTP");
    let base = format!("http://{}", http.addr);

    // One event, to one online machine of the first hall.
    let (hall, touched) = (HALLS[0], machine_id(HALLS[0], PER_HALL - 1));
    let mut f = Feeder::new(rt.clone());
    f.seqs = seqs;
    f.send(
        hall,
        &touched,
        InputPayload::CashIn {
            kind: "bill".into(),
            amount: 700,
            currency: cur.clone(),
            validation: None,
            credit_type: None,
        },
    )
    .await;
    f.drained().await;

    // Wait until the census has seen that event (the machine is live with its new credits).
    let deadline = Instant::now() + Duration::from_secs(20);
    let machines = loop {
        let list = get_json(format!("{base}/api/machines?limit=1000")).await;
        let seen = list["machines"].as_array().unwrap().iter().any(|m| {
            m["id"] == touched.as_str() && m["live"] == true && m["credits_minor"] == 5_600
        });
        if seen {
            break list;
        }
        assert!(
            Instant::now() < deadline,
            "the census never showed the event: {list}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    // Every machine, with the status it was stored with.
    let got: BTreeMap<String, (String, String)> = machines["machines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["id"].as_str().unwrap().to_string(),
                (
                    m["hall"].as_str().unwrap().to_string(),
                    m["status"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect();
    let want: BTreeMap<String, (String, String)> = HALLS
        .iter()
        .flat_map(|h| {
            (0..PER_HALL).map(move |i| {
                (
                    machine_id(h, i),
                    (h.to_string(), final_status(i).to_string()),
                )
            })
        })
        .collect();
    assert_eq!(got, want, "/api/machines after the restart");
    assert_eq!(machines["total"], 20);
    assert_eq!(machines["truncated"], false);
    let tilted = get_json(format!("{base}/api/machines?status=tilt")).await;
    assert_eq!(tilted["total"], 4, "{tilted}");

    // Every hall, with its stored totals and its machines by status.
    let halls = get_json(format!("{base}/api/halls")).await;
    let listed: Vec<&str> = halls["halls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, HALLS, "/api/halls after the restart: {halls}");
    for h in halls["halls"].as_array().unwrap() {
        assert_eq!(h["bets_minor"], 500, "{h}");
        assert_eq!(h["games"], 5, "{h}");
        let c = &h["machines"];
        assert_eq!(
            (
                &c["online"],
                &c["tilt"],
                &c["door_open"],
                &c["offline"],
                &c["total"]
            ),
            (&2.into(), &1.into(), &1.into(), &1.into(), &5.into()),
            "{h}"
        );
    }

    // The gauges, for every hall.
    let metrics = get(format!("{base}/metrics")).await;
    assert_eq!(metrics.status, 200);
    let gauge = |name: &str, labels: &[&str]| -> Option<f64> {
        metrics
            .body
            .lines()
            .filter(|l| l.starts_with(&format!("{name}{{")))
            .find(|l| labels.iter().all(|x| l.contains(x)))
            .and_then(|l| l.rsplit(' ').next()?.parse().ok())
    };
    for hall in HALLS {
        let h = format!("hall=\"{hall}\"");
        for (status, n) in [
            ("online", 2.0),
            ("tilt", 1.0),
            ("door_open", 1.0),
            ("offline", 1.0),
        ] {
            let s = format!("status=\"{status}\"");
            assert_eq!(
                gauge("pitboss_machines", &[&h, &s]),
                Some(n),
                "pitboss_machines{{{h},{s}}} after the restart"
            );
        }
        assert_eq!(
            gauge("pitboss_hall_bets_minor", &[&h]),
            Some(500.0),
            "pitboss_hall_bets_minor{{{h}}}"
        );
    }

    // The open alerts (issue 12): each machine left offline, tilted or with its door open
    // is listed with its alert, stored before the restart; an online machine is not.
    let alerts = get_json(format!("{base}/api/alerts?limit=1000")).await;
    let open: BTreeMap<String, String> = alerts["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["machine"].as_str().unwrap().to_string(),
                a["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: BTreeMap<String, String> = HALLS
        .iter()
        .flat_map(|h| (0..3).map(move |i| (machine_id(h, i), i)))
        .map(|(m, i)| {
            let code = match final_status(i) {
                "offline" => "machine_offline",
                other => other,
            };
            (m, code.to_string())
        })
        .collect();
    assert_eq!(open, want, "/api/alerts after the restart: {alerts}");
    assert_eq!(alerts["total"], 12, "{alerts}");
    assert_eq!(alerts["by_code"]["tilt"], 4, "{alerts}");
    let tilt = alerts["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == "tilt")
        .unwrap();
    assert_eq!(tilt["detail"], "tilt code 17", "{tilt}");
    assert_eq!(tilt["cleared_by"], "tilt_clear", "{tilt}");
    let one_hall = get_json(format!("{base}/api/alerts?hall={hall}")).await;
    assert_eq!(one_hall["total"], 3, "{one_hall}");

    // A tilt cleared leaves the list at the census's next round.
    let tilted = machine_id(hall, 0);
    f.send(hall, &tilted, InputPayload::TiltClear {}).await;
    f.drained().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let a = get_json(format!("{base}/api/alerts?hall={hall}")).await;
        let listed = a["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["machine"] == tilted.as_str());
        if !listed {
            assert_eq!(a["total"], 2, "{a}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the cleared tilt stayed open: {a}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    http.stop().await;
    rt.stop();
}
