//! A real Prometheus (the Debian package) scrapes a running `pitboss demo` and its query API
//! returns pitboss metrics. Fails (never skips) when prometheus is not installed.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::{free_port, get, require_binary, wait_for, ChildGuard, Demo};

fn query(prom: &str, q: &str) -> Option<Vec<serde_json::Value>> {
    let url = format!(
        "{prom}/api/v1/query?query={}",
        q.replace('{', "%7B")
            .replace('}', "%7D")
            .replace('"', "%22")
            .replace(' ', "%20")
            .replace('=', "%3D")
    );
    let r = get(&url, None).ok()?;
    if r.status != 200 {
        return None;
    }
    let v = r.json();
    (v["status"] == "success").then(|| v["data"]["result"].as_array().cloned())?
}

fn value(sample: &serde_json::Value) -> f64 {
    sample["value"][1]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN)
}

#[test]
fn prometheus_scrapes_the_demo() {
    let prometheus = require_binary("prometheus", "prometheus");
    let demo = Demo::start(1500, &[]);
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("prometheus.yml");
    std::fs::write(
        &cfg,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: pitboss\n    static_configs:\n      - targets: [\"127.0.0.1:{}\"]\n",
            demo.port()
        ),
    )
    .unwrap();
    let port = free_port();
    let child = Command::new(prometheus)
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus starts");
    let _prom = ChildGuard(child);
    let prom = format!("http://127.0.0.1:{port}");

    // The target is up, and pitboss's own metrics arrive.
    let up = wait_for("up{job=pitboss} == 1", Duration::from_secs(90), || {
        query(&prom, "up{job=\"pitboss\"}")?
            .first()
            .map(value)
            .filter(|v| *v == 1.0)
    });
    assert_eq!(up, 1.0);
    let bets = wait_for(
        "bets counted by Prometheus",
        Duration::from_secs(60),
        || {
            query(&prom, "pitboss_events_in_total{kind=\"bet\"}")?
                .first()
                .map(value)
                .filter(|v| *v > 0.0)
        },
    );
    assert!(bets > 0.0);
    let actors = wait_for("live machines", Duration::from_secs(60), || {
        query(&prom, "pitboss_actors_active{kind=\"machine\"}")?
            .first()
            .map(value)
            .filter(|v| *v > 0.0)
    });
    assert!(actors >= 1.0);
    let level = wait_for("a jackpot level", Duration::from_secs(60), || {
        query(
            &prom,
            "pitboss_jackpot_level_minor{pool=\"FAST\",level=\"major\"}",
        )?
        .first()
        .map(value)
        .filter(|v| *v >= 50_000.0)
    });
    assert!(level >= 50_000.0, "the major level starts at its seed");
    let machines = wait_for("machines by hall", Duration::from_secs(60), || {
        let r = query(&prom, "sum(pitboss_machines)")?;
        r.first().map(value).filter(|v| *v >= 50.0)
    });
    assert_eq!(machines, 50.0, "2 halls x 25 machines, each counted once");
    // The latency histogram is exported as a Prometheus histogram.
    let buckets = wait_for("latency buckets", Duration::from_secs(60), || {
        let r = query(&prom, "pitboss_processing_latency_seconds_bucket")?;
        (!r.is_empty()).then_some(r.len())
    });
    assert!(buckets > 5);
}
