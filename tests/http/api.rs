//! The HTTP side of a running `pitboss demo`, through a plain HTTP client: health, the read
//! APIs, the jackpot feed (Server-Sent Events) and the admin API with its audit log.

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use crate::support::{get, send, wait_for, Demo, KEYS};

const VIEWER: &str = KEYS[0].0;
const OPERATOR: &str = KEYS[1].0;
const ADMIN: &str = KEYS[2].0;

#[test]
fn health_read_apis_and_errors() {
    let demo = Demo::start(1500, &[]);
    assert_eq!(get(&demo.url("/healthz"), None).unwrap().status, 200);
    let ready = get(&demo.url("/readyz"), None).unwrap();
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(ready.json()["ready"], true);

    // The census finds the simulated halls and machines.
    let halls = wait_for("halls in the census", Duration::from_secs(30), || {
        let h = get(&demo.url("/api/halls"), None).ok()?.json();
        let machines: u64 = h["halls"]
            .as_array()?
            .iter()
            .map(|x| x["machines"]["total"].as_u64().unwrap_or(0))
            .sum();
        (machines >= 40).then_some(h)
    });
    let h1 = halls["halls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == "H-001")
        .expect("hall H-001 listed")
        .clone();
    assert_eq!(h1["currency"], "EUR");
    let ggr = h1["ggr_minor"].as_i64().unwrap();
    assert_eq!(
        ggr,
        h1["bets_minor"].as_i64().unwrap() - h1["wins_minor"].as_i64().unwrap()
    );
    // H-1: net win deducts the jackpots the hall's machines were paid.
    assert_eq!(
        h1["net_win_minor"].as_i64().unwrap(),
        ggr - h1["jackpots_minor"].as_i64().unwrap(),
        "{h1}"
    );

    // A machine from the census, read by id.
    let list = get(&demo.url("/api/machines?hall=H-001&limit=3"), None)
        .unwrap()
        .json();
    assert_eq!(list["machines"].as_array().unwrap().len(), 3);
    assert_eq!(list["truncated"], true);
    let id = list["machines"][0]["id"].as_str().unwrap().to_string();
    let m = get(&demo.url(&format!("/api/machines/{id}")), None).unwrap();
    assert_eq!(m.status, 200, "{}", m.body);
    let m = m.json();
    assert_eq!(m["id"], id.as_str());
    assert_eq!(m["hall"], "H-001");
    assert!(m["credits"]["minor"].is_i64());
    assert!(m["meters"]["coin_in_minor"].as_i64().unwrap() >= 0);

    // Unknown ids: 404 with a message; bad ids: 400.
    let r = get(&demo.url("/api/machines/NO-SUCH-MACHINE"), None).unwrap();
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"], "machine NO-SUCH-MACHINE not found");
    let r = get(&demo.url("/api/machines/has%20space"), None).unwrap();
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.json()["error"].as_str().unwrap().contains("machine id"));
    assert_eq!(
        get(&demo.url("/api/wallets/P-nobody"), None)
            .unwrap()
            .status,
        404
    );
    assert_eq!(get(&demo.url("/api/pools/NOPE"), None).unwrap().status, 404);
    assert_eq!(
        get(&demo.url("/api/halls/H-999/ggr"), None).unwrap().status,
        404
    );
    assert_eq!(
        get(&demo.url("/api/no/such/route"), None).unwrap().status,
        404
    );
    let r = get(&demo.url("/api/machines?status=sleeping"), None).unwrap();
    assert_eq!(r.status, 400, "{}", r.body);

    // A wallet the simulator funds (players are P-000001 ...), once it has been used.
    let w = wait_for("a funded wallet", Duration::from_secs(30), || {
        let r = get(&demo.url("/api/wallets/P-0000001"), None).ok()?;
        (r.status == 200).then(|| r.json())
    });
    assert_eq!(w["currency"], "EUR");
    assert!(w["balance"]["display"].as_str().unwrap().contains('.'));

    // Hall GGR by window: from/to select window starts; from > to is refused.
    let all = get(&demo.url("/api/halls/H-001/ggr"), None).unwrap().json();
    let windows = all["windows"].as_array().unwrap();
    assert!(!windows.is_empty(), "{all}");
    let first = windows[0]["start_ms"].as_i64().unwrap();
    // One snapshot of the hall: its windows add up to its all-time totals (none dropped yet).
    let sum: i64 = windows
        .iter()
        .map(|w| w["ggr_minor"].as_i64().unwrap())
        .sum();
    assert_eq!(sum, all["totals"]["ggr_minor"].as_i64().unwrap(), "{all}");
    let none = get(
        &demo.url(&format!("/api/halls/H-001/ggr?from={}", first + 3_600_000)),
        None,
    )
    .unwrap()
    .json();
    assert_eq!(none["windows"].as_array().unwrap().len(), 0);
    let r = get(&demo.url("/api/halls/H-001/ggr?from=10&to=5"), None).unwrap();
    assert_eq!(r.status, 400);
    let r = get(&demo.url("/api/halls/H-001/ggr?from=yesterday"), None).unwrap();
    assert_eq!(r.status, 400);

    // Pools: configured levels, never the mystery hit point.
    let p = get(&demo.url("/api/pools/FAST"), None).unwrap();
    assert_eq!(p.status, 200);
    assert!(!p.body.contains("hit_point"), "{}", p.body);
    let p = p.json();
    assert_eq!(p["levels"][1]["config"]["name"], "mini");
    assert_eq!(p["levels"][1]["config"]["contribution_percent"], "2");

    // The page and its assets are served, with no external resource.
    let page = get(&demo.url("/"), None).unwrap();
    assert_eq!(page.status, 200);
    assert!(page.body.contains("/static/display.js"));
    assert!(!page.body.contains("http://") && !page.body.contains("https://"));
    for asset in ["display.js", "operator.js", "style.css"] {
        let a = get(&demo.url(&format!("/static/{asset}")), None).unwrap();
        assert_eq!(a.status, 200, "{asset}");
        assert!(
            !a.body.contains("https://"),
            "{asset} loads nothing from outside"
        );
    }
    assert_eq!(get(&demo.url("/operator"), None).unwrap().status, 200);
    let _ = VIEWER;
}

/// One Server-Sent Event.
#[derive(Debug)]
struct Sse {
    event: String,
    id: Option<u64>,
    data: serde_json::Value,
}

#[test]
fn jackpot_feed_streams_levels_and_hits() {
    let demo = Demo::start(2000, &[]);
    let resp = ureq::AgentBuilder::new()
        .timeout_read(Duration::from_secs(5))
        .build()
        .get(&demo.url("/api/jackpots/stream"))
        .call()
        .expect("feed answers");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.header("content-type"), Some("text/event-stream"));
    let mut lines = BufReader::new(resp.into_reader()).lines();
    let mut events = Vec::new();
    let (mut event, mut id, mut data) = (String::new(), None, String::new());
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut hits = 0;
    let mut levels_of_fast = Vec::new();
    let started = Instant::now();
    while Instant::now() < deadline && (hits < 1 || levels_of_fast.len() < 5) {
        let line = lines
            .next()
            .expect("the stream stays open")
            .expect("read a line");
        if line.is_empty() {
            if !data.is_empty() {
                let ev = Sse {
                    event: std::mem::take(&mut event),
                    id: id.take(),
                    data: serde_json::from_str(&data).expect("data is JSON"),
                };
                if ev.event == "hit" {
                    hits += 1;
                }
                if ev.event == "levels" && ev.data["pool"] == "FAST" {
                    levels_of_fast.push(ev.data["levels"][0]["amount_minor"].as_i64().unwrap());
                }
                events.push(ev);
            }
            data.clear();
            continue;
        }
        if let Some(v) = line.strip_prefix("event: ") {
            event = v.to_string();
        } else if let Some(v) = line.strip_prefix("id: ") {
            id = Some(v.parse().expect("numeric id"));
        } else if let Some(v) = line.strip_prefix("data: ") {
            data.push_str(v);
        }
    }
    assert!(hits >= 1, "no hit within the deadline: {events:?}");
    assert!(levels_of_fast.len() >= 5, "few level updates: {events:?}");
    // Ids increase along the stream (the snapshot at connect may repeat older ones first).
    let ids: Vec<u64> = events.iter().filter_map(|e| e.id).collect();
    let after_snapshot = &ids[1.min(ids.len())..];
    assert!(after_snapshot.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    // The major level only grows between hits: levels count up.
    let grew = levels_of_fast.windows(2).any(|w| w[1] > w[0]);
    assert!(grew, "the level never grew: {levels_of_fast:?}");
    let hit = events.iter().find(|e| e.event == "hit").unwrap();
    assert_eq!(hit.data["pool"], "FAST");
    assert_eq!(hit.data["currency"], "EUR");
    let minor = hit.data["amount_minor"].as_i64().unwrap();
    assert!(minor > 0);
    assert_eq!(
        hit.data["amount"],
        format!("{}.{:02}", minor / 100, minor % 100),
        "display amount is the exact minor amount"
    );
    assert!(hit.data["machine"].as_str().unwrap().starts_with("M-"));
    // Throttled per pool: at most one update of FAST per 100 ms (plus the snapshot).
    let max = started.elapsed().as_millis() as usize / 100 + 2;
    assert!(
        levels_of_fast.len() <= max,
        "{} updates, at most {max}",
        levels_of_fast.len()
    );
}

#[test]
fn admin_api_authenticates_authorizes_validates_and_audits() {
    let demo = Demo::start(1500, &[]);
    let change = demo.url("/api/admin/pools/FAST/levels/mini");
    let create = demo.url("/api/admin/pools");

    // 401: no key, unknown key.
    let r = send("PATCH", &change, None, r#"{"seed_minor": 150}"#);
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.json()["error"].as_str().unwrap().contains("API key"));
    assert_eq!(
        send("PATCH", &change, Some("wrong"), r#"{"seed_minor": 150}"#).status,
        401
    );
    assert_eq!(
        get(&demo.url("/api/admin/audit"), None).unwrap().status,
        401
    );

    // 403: a viewer may not change a level, an operator may not create a pool or read the log.
    let r = send("PATCH", &change, Some(VIEWER), r#"{"seed_minor": 150}"#);
    assert_eq!(r.status, 403, "{}", r.body);
    let pool = r#"{"id":"NEW-1","levels":[{"name":"mini","seed_minor":500,"contribution_percent":"1","ceiling_minor":2000,"mystery":true}]}"#;
    assert_eq!(send("POST", &create, Some(OPERATOR), pool).status, 403);
    assert_eq!(
        get(&demo.url("/api/admin/audit"), Some(OPERATOR))
            .unwrap()
            .status,
        403
    );

    // 400 with a clear message.
    let r = send("PATCH", &change, Some(OPERATOR), r#"{"ceiling_minor": 50}"#);
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(
        r.json()["error"],
        "invalid pool configuration: level mini: ceiling 50 must be above the seed 100"
    );
    let r = send(
        "PATCH",
        &change,
        Some(OPERATOR),
        r#"{"contribution_percent": "0.00001"}"#,
    );
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("steps of 0.0001"),
        "{}",
        r.body
    );
    assert_eq!(
        send("PATCH", &change, Some(OPERATOR), r#"{"seed": 1}"#).status,
        400
    );
    assert_eq!(send("PATCH", &change, Some(OPERATOR), "{}").status, 400);
    assert_eq!(
        send("PATCH", &change, Some(OPERATOR), "not json").status,
        400
    );

    // 404: unknown pool or level.
    let r = send(
        "PATCH",
        &demo.url("/api/admin/pools/NOPE/levels/mini"),
        Some(OPERATOR),
        r#"{"seed_minor": 150}"#,
    );
    assert_eq!(r.status, 404, "{}", r.body);
    let r = send(
        "PATCH",
        &demo.url("/api/admin/pools/FAST/levels/grand"),
        Some(OPERATOR),
        r#"{"seed_minor": 150}"#,
    );
    assert_eq!(r.status, 404, "{}", r.body);

    // A change to the active pool waits for the level's next hit.
    let hits_before = get(&demo.url("/api/pools/FAST"), None).unwrap().json()["levels"][1]["hits"]
        .as_u64()
        .unwrap();
    let r = send(
        "PATCH",
        &change,
        Some(OPERATOR),
        r#"{"seed_minor": 150, "ceiling_minor": 700}"#,
    );
    assert_eq!(r.status, 202, "{}", r.body);
    let body = r.json();
    assert_eq!(body["before"]["levels"][1]["config"]["seed_minor"], 100);
    assert_eq!(body["pool"]["levels"][1]["pending"]["seed_minor"], 150);
    assert_eq!(body["pool"]["levels"][1]["pending"]["ceiling_minor"], 700);
    assert_eq!(
        body["pool"]["levels"][1]["config"]["seed_minor"], 100,
        "not yet in force"
    );
    let after_hit = wait_for("the mini level's next hit", Duration::from_secs(60), || {
        let p = get(&demo.url("/api/pools/FAST"), None).ok()?.json();
        let l = p["levels"][1].clone();
        (l["hits"].as_u64()? > hits_before && l["pending"].is_null()).then_some(l)
    });
    assert_eq!(after_hit["config"]["seed_minor"], 150);
    assert_eq!(after_hit["config"]["ceiling_minor"], 700);

    // Creating a pool (admin); a second time is a conflict.
    let r = send("POST", &create, Some(ADMIN), pool);
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["pool"]["levels"][0]["amount_minor"], 500);
    assert_eq!(send("POST", &create, Some(ADMIN), pool).status, 409);
    let pools = get(&demo.url("/api/pools"), None).unwrap().json();
    let ids: Vec<&str> = pools["pools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["FAST", "NEW-1"]);
    let bad = r#"{"id":"NEW-2","levels":[{"name":"x","seed_minor":500,"contribution_percent":"1","mystery":true}]}"#;
    let r = send("POST", &create, Some(ADMIN), bad);
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("needs a ceiling"),
        "{}",
        r.body
    );

    // The audit log has every attempt by a known key, with who, what, when, before, after.
    let log = get(&demo.url("/api/admin/audit?limit=100"), Some(ADMIN))
        .unwrap()
        .json();
    let entries = log["entries"].as_array().unwrap();
    let ok_change = entries
        .iter()
        .find(|e| e["action"] == "pool.level.change" && e["outcome"] == "ok")
        .expect("the change is audited");
    assert_eq!(ok_change["who"], "olga-operator");
    assert_eq!(ok_change["role"], "operator");
    assert_eq!(ok_change["target"], "FAST/mini");
    assert_eq!(ok_change["request"]["seed_minor"], 150);
    assert_eq!(
        ok_change["before"]["levels"][1]["pending"],
        serde_json::Value::Null
    );
    assert_eq!(
        ok_change["after"]["levels"][1]["pending"]["seed_minor"],
        150
    );
    assert!(ok_change["at"].as_str().unwrap().ends_with('Z'));
    assert!(ok_change["at_ms"].as_i64().unwrap() > 1_600_000_000_000);
    let created = entries
        .iter()
        .find(|e| e["action"] == "pool.create" && e["outcome"] == "ok")
        .expect("the creation is audited");
    assert_eq!(created["who"], "ada-admin");
    assert!(created["before"].is_null());
    let refused: Vec<&str> = entries
        .iter()
        .filter(|e| e["outcome"] != "ok")
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert!(refused.contains(&"forbidden"), "{refused:?}");
    assert!(refused.contains(&"invalid"), "{refused:?}");
    assert!(refused.contains(&"not_found"), "{refused:?}");
    assert!(refused.contains(&"conflict"), "{refused:?}");
    assert!(
        !entries.iter().any(|e| e["who"].is_null()),
        "requests without a valid key are not attributed"
    );
    // The file itself is JSON lines, one per entry.
    let text = std::fs::read_to_string(demo.dir.path().join("audit.jsonl")).unwrap();
    assert_eq!(text.lines().count(), entries.len());
}

#[test]
fn read_apis_can_require_a_viewer_key() {
    let demo = Demo::start(500, &[("PITBOSS_HTTP__READ_REQUIRES_KEY", "true")]);
    assert_eq!(get(&demo.url("/api/halls"), None).unwrap().status, 401);
    assert_eq!(
        get(&demo.url("/api/halls"), Some(VIEWER)).unwrap().status,
        200
    );
    assert_eq!(
        get(&demo.url("/api/machines"), Some("nope"))
            .unwrap()
            .status,
        401
    );
    // The display and its feed stay open for hall screens.
    assert_eq!(get(&demo.url("/api/pools"), None).unwrap().status, 200);
    assert_eq!(get(&demo.url("/"), None).unwrap().status, 200);
}
