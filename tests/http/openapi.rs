//! schemas/openapi.yaml against the code (issue 11, finding 18, the HTTP part).
//!
//! - The document: OpenAPI 3.1, every `$ref` resolves, every component schema compiles as
//!   JSON Schema 2020-12, and its paths and methods are exactly the routes of
//!   src/http/mod.rs (read from the source, so a route added without its description fails).
//! - The behaviour: against a running `pitboss demo` (read APIs behind a key, one feed client
//!   at most), every operation is called into every status the spec lists for it, errors
//!   included; each answer's status must be listed for its operation, its content type must
//!   be one the spec gives for that status, and a JSON body must be valid against that
//!   status's schema (`$ref`s resolved in the document). Each JSON object answer is also
//!   checked the other way: with its first field renamed, the schema must reject it (so a
//!   renamed field in the code fails here). A status the spec lists but a healthy demo cannot
//!   produce (a failing store, a missing metrics recorder) is named in `UNREACHABLE` with the
//!   reason; any other listed status left unexercised fails the test.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::support::{wait_for, Demo, KEYS};
use jsonschema::{Draft, Validator};
use serde_json::{json, Value};

const VIEWER: &str = KEYS[0].0;
const OPERATOR: &str = KEYS[1].0;
const ADMIN: &str = KEYS[2].0;

/// The URI the document is registered under, so `#/components/...` refs resolve in it.
const DOC_URI: &str = "https://pitboss.example/schemas/openapi.yaml";

/// Listed statuses a healthy demo cannot answer with, and why.
const UNREACHABLE: &[(&str, &str, u16, &str)] = &[
    (
        "/metrics",
        "get",
        503,
        "needs a process without a metrics recorder",
    ),
    ("/readyz", "get", 503, "needs a failing store or a shutdown"),
    ("/api/pools", "get", 503, "needs a store that fails reads"),
    (
        "/api/reports/gaming-day",
        "get",
        503,
        "needs the in-memory store or a store that fails reads (the demo holds an embedded one)",
    ),
    (
        "/api/desks/{id}",
        "get",
        503,
        "needs a store that fails reads",
    ),
    (
        "/api/reports/shifts",
        "get",
        503,
        "needs the in-memory store or a store that fails reads (the demo holds an embedded one)",
    ),
    (
        "/api/reports/patrons",
        "get",
        503,
        "needs the in-memory store or a store that fails reads (the demo holds an embedded one)",
    ),
    (
        "/api/pools/{id}",
        "get",
        503,
        "needs a store that fails reads",
    ),
    (
        "/api/machines/{id}",
        "get",
        503,
        "needs a store that fails reads",
    ),
    (
        "/api/machines/{id}/events",
        "get",
        503,
        "needs a store that fails reads",
    ),
    (
        "/api/wallets/{id}",
        "get",
        503,
        "needs a store that fails reads",
    ),
    (
        "/api/halls/{id}/ggr",
        "get",
        503,
        "needs a store that fails reads",
    ),
    (
        "/api/vouchers/{validation}",
        "get",
        503,
        "needs a store that fails reads",
    ),
    (
        "/api/admin/pools/{id}/levels/{level}",
        "patch",
        503,
        "needs a store that fails reads",
    ),
    (
        "/api/admin/vouchers/{validation}/void",
        "post",
        200,
        "needs pitboss run's input topic (tests/kafka/gateway.rs voids a voucher through it)",
    ),
    (
        "/api/admin/vouchers/{validation}/void",
        "post",
        409,
        "needs pitboss run's input topic and a tx answered for another void",
    ),
    (
        "/api/admin/vouchers/{validation}/void",
        "post",
        422,
        "needs pitboss run's input topic (tests/kafka/gateway.rs has a void refused)",
    ),
    (
        "/api/admin/vouchers/{validation}/void",
        "post",
        504,
        "needs pitboss run's input topic with no instance consuming it",
    ),
    (
        "/api/admin/players/{player}/limits",
        "post",
        200,
        "needs pitboss run's input topic (tests/kafka/gateway.rs sets a player's limits through it)",
    ),
    (
        "/api/admin/players/{player}/limits",
        "post",
        409,
        "needs pitboss run's input topic and a tx answered for another change",
    ),
    (
        "/api/admin/players/{player}/limits",
        "post",
        422,
        "needs pitboss run's input topic (tests/kafka/gateway.rs has a shortened exclusion refused)",
    ),
    (
        "/api/admin/players/{player}/limits",
        "post",
        504,
        "needs pitboss run's input topic with no instance consuming it",
    ),
    (
        "/api/admin/players/{player}/bonus",
        "post",
        200,
        "needs pitboss run's input topic (tests/kafka/gateway.rs awards a bonus through it)",
    ),
    (
        "/api/admin/players/{player}/bonus",
        "post",
        409,
        "needs pitboss run's input topic and a tx answered for another award",
    ),
    (
        "/api/admin/players/{player}/bonus",
        "post",
        422,
        "needs pitboss run's input topic (tests/kafka/gateway.rs has an award to a self-excluded player refused)",
    ),
    (
        "/api/admin/players/{player}/bonus",
        "post",
        504,
        "needs pitboss run's input topic with no instance consuming it",
    ),
    (
        "/api/admin/compliance/cases/{id}/close",
        "post",
        200,
        "needs pitboss run's compliance topic (tests/kafka/gateway.rs closes a case through it)",
    ),
    (
        "/api/admin/compliance/cases/{id}/close",
        "post",
        409,
        "needs a closed case: pitboss run's compliance topic (tests/kafka/gateway.rs closes one twice)",
    ),
    (
        "/api/admin/backup",
        "post",
        503,
        "needs an instance without an embedded store (the demo holds one)",
    ),
];

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn spec() -> Value {
    let path = root().join("schemas/openapi.yaml");
    let text = std::fs::read_to_string(&path).expect("schemas/openapi.yaml");
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("openapi.yaml: {e}"))
}

/// A JSON pointer token (`/` and `~` escaped).
fn token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// A validator for the schema at `pointer` in the document.
fn validator(doc: &Value, pointer: &str) -> Validator {
    let resource = Draft::Draft202012.create_resource(doc.clone());
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .with_resource(DOC_URI, resource)
        .build(&json!({ "$ref": format!("{DOC_URI}#{}", pointer.replace('{', "%7B").replace('}', "%7D")) }))
        .unwrap_or_else(|e| panic!("openapi.yaml#{pointer} does not compile: {e}"))
}

/// Every (path, method) of the routes in src/http/mod.rs: each `.route("<path>",
/// web::<method>()...)` call.
fn code_routes() -> BTreeSet<(String, String)> {
    let src = std::fs::read_to_string(root().join("src/http/mod.rs")).expect("src/http/mod.rs");
    let mut out = BTreeSet::new();
    for (i, _) in src.match_indices(".route(") {
        let rest = &src[i + ".route(".len()..];
        let open = rest.find('"').expect("a route's path literal");
        let close = open + 1 + rest[open + 1..].find('"').expect("closing quote");
        let path = &rest[open + 1..close];
        let after = &rest[close..];
        let m = after.find("web::").expect("a route's method") + "web::".len();
        let method: String = after[m..]
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        assert!(
            METHODS.contains(&method.as_str()),
            "route {path}: method {method}"
        );
        out.insert((path.to_string(), method));
    }
    assert!(
        out.len() >= 10,
        "routes parsed from src/http/mod.rs: {out:?}"
    );
    out
}

fn spec_operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in METHODS {
            if item.get(m).is_some() {
                out.insert((path.clone(), m.to_string()));
            }
        }
    }
    out
}

/// Follows a `$ref` within the document.
fn deref<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let ptr = r
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("external $ref {r}"));
            deref(
                doc,
                doc.pointer(ptr)
                    .unwrap_or_else(|| panic!("{r} does not resolve")),
            )
        }
        None => v,
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "$ref" {
                    out.push(x.as_str().expect("$ref is a string").to_string());
                } else {
                    collect_refs(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

#[test]
fn the_document_is_openapi_3_1_and_lists_exactly_the_served_routes() {
    let doc = spec();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["jsonSchemaDialect"],
        "https://json-schema.org/draft/2020-12/schema"
    );

    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    for r in &refs {
        let ptr = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("external $ref {r}"));
        assert!(doc.pointer(ptr).is_some(), "$ref {r} does not resolve");
    }
    for name in doc["components"]["schemas"]
        .as_object()
        .expect("schemas")
        .keys()
    {
        validator(&doc, &format!("/components/schemas/{}", token(name)));
    }

    let mut ids = BTreeSet::new();
    for (path, method) in spec_operations(&doc) {
        let op = &doc["paths"][&path][&method];
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path}: operationId"));
        assert!(ids.insert(id.to_string()), "operationId {id} twice");
        assert!(
            op["security"].is_array(),
            "{method} {path}: security (empty: open)"
        );
        let responses = op["responses"].as_object().expect("responses");
        assert!(!responses.is_empty(), "{method} {path}: responses");
        for (status, r) in responses {
            assert!(
                status.parse::<u16>().is_ok(),
                "{method} {path}: status {status}"
            );
            let r = deref(&doc, r);
            assert!(
                r["description"].is_string(),
                "{method} {path} {status}: description"
            );
            assert!(
                r["content"].is_object(),
                "{method} {path} {status}: content"
            );
        }
        // Every `{param}` of the path is declared.
        let declared: BTreeSet<String> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| deref(&doc, p))
            .filter(|p| p["in"] == "path")
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect();
        let in_path: BTreeSet<String> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .map(String::from)
            .collect();
        assert_eq!(declared, in_path, "{method} {path}: path parameters");
    }

    let code = code_routes();
    let documented = spec_operations(&doc);
    let undocumented: Vec<_> = code.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&code).collect();
    assert!(
        undocumented.is_empty(),
        "routes served but not in schemas/openapi.yaml: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "operations in schemas/openapi.yaml that src/http/mod.rs does not serve: {unserved:?}"
    );
}

/// An answer.
struct Answer {
    status: u16,
    content_type: String,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

enum Key<'a> {
    None,
    Bearer(&'a str),
    Header(&'a str),
}

fn request(method: &str, url: &str, key: Key<'_>, body: Option<&str>) -> Answer {
    let mut req = ureq::request(&method.to_uppercase(), url).timeout(Duration::from_secs(10));
    match key {
        Key::None => {}
        Key::Bearer(k) => req = req.set("Authorization", &format!("Bearer {k}")),
        Key::Header(k) => req = req.set("X-Api-Key", k),
    }
    let r = match body {
        Some(b) => req.set("Content-Type", "application/json").send_string(b),
        None => req.call(),
    };
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let status = resp.status();
    let content_type = resp.header("content-type").unwrap_or("").to_string();
    let mut body = String::new();
    resp.into_reader()
        .take(16 << 20)
        .read_to_string(&mut body)
        .expect("read body");
    Answer {
        status,
        content_type,
        body,
    }
}

/// Calls the demo and checks every answer against the document, remembering which
/// (path, method, status) it has seen.
struct Checker {
    doc: Value,
    base: String,
    seen: BTreeSet<(String, String, u16)>,
    validators: BTreeMap<String, Validator>,
}

impl Checker {
    fn validate(&mut self, pointer: &str, instance: &Value, what: &str) {
        if !self.validators.contains_key(pointer) {
            let v = validator(&self.doc, pointer);
            self.validators.insert(pointer.to_string(), v);
        }
        let v = &self.validators[pointer];
        let errors: Vec<String> = v
            .iter_errors(instance)
            .map(|e| format!("  at {}: {e}", e.instance_path))
            .collect();
        assert!(
            errors.is_empty(),
            "{what}: not valid against openapi.yaml#{pointer}:\n{}\nbody: {instance}",
            errors.join("\n")
        );
        // The schema is strict enough to notice a renamed field.
        if let Some(first) = instance.as_object().and_then(|m| m.keys().next().cloned()) {
            let mut renamed = instance.clone();
            let m = renamed.as_object_mut().unwrap();
            let v = m.remove(&first).unwrap();
            m.insert(format!("{first}_renamed"), v);
            assert!(
                !self.validators[pointer].is_valid(&renamed),
                "{what}: openapi.yaml#{pointer} accepts the answer with `{first}` renamed"
            );
        }
    }

    /// `method` on `path` (the spec's template) at `concrete` (the path with values, and
    /// any query), expecting `expect`.
    fn call(
        &mut self,
        method: &str,
        path: &str,
        concrete: &str,
        key: Key<'_>,
        body: Option<&str>,
        expect: u16,
    ) -> Answer {
        let a = request(method, &format!("{}{concrete}", self.base), key, body);
        let what = format!("{} {concrete}", method.to_uppercase());
        assert_eq!(a.status, expect, "{what}: {}", a.body);
        self.check(method, path, &a, &what);
        a
    }

    fn check(&mut self, method: &str, path: &str, a: &Answer, what: &str) {
        let op_ptr = format!("/paths/{}/{method}", token(path));
        assert!(
            self.doc.pointer(&op_ptr).is_some(),
            "{what}: no operation {method} {path} in openapi.yaml"
        );
        let status = a.status.to_string();
        let resp_ptr = format!("{op_ptr}/responses/{status}");
        let resp = self
            .doc
            .pointer(&resp_ptr)
            .unwrap_or_else(|| {
                panic!(
                    "{what}: status {status} is not listed for {method} {path}: {}",
                    a.body
                )
            })
            .clone();
        let resp_ptr = match resp.get("$ref").and_then(Value::as_str) {
            Some(r) => r.strip_prefix('#').unwrap().to_string(),
            None => resp_ptr,
        };
        let media = a
            .content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        let content = self
            .doc
            .pointer(&format!("{resp_ptr}/content"))
            .unwrap()
            .clone();
        assert!(
            content.get(&media).is_some(),
            "{what}: content type {:?} is not listed for status {status} of {method} {path}",
            a.content_type
        );
        if media == "application/json" {
            let schema_ptr = format!("{resp_ptr}/content/{}/schema", token(&media));
            let body = a.json();
            self.validate(&schema_ptr, &body, what);
        }
        self.seen
            .insert((path.to_string(), method.to_string(), a.status));
    }
}

/// Reads the feed until it has seen a `levels` and a `hit` event; validates each event's
/// data against the schema `x-sse-events` names for it. Returns the open stream.
fn read_feed(c: &mut Checker) -> Box<dyn BufRead + Send> {
    let url = format!("{}/api/jackpots/stream", c.base);
    let resp = ureq::get(&url)
        .timeout(Duration::from_secs(60))
        .call()
        .expect("the feed answers");
    let a = Answer {
        status: resp.status(),
        content_type: resp.header("content-type").unwrap_or("").to_string(),
        body: String::new(),
    };
    c.check(
        "get",
        "/api/jackpots/stream",
        &a,
        "GET /api/jackpots/stream",
    );
    let events = c.doc["paths"]["/api/jackpots/stream"]["get"]["x-sse-events"].clone();
    let mut reader: Box<dyn BufRead + Send> = Box::new(BufReader::new(resp.into_reader()));
    let (mut event, mut id) = (None::<String>, None::<u64>);
    let mut seen = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.len() < 2 {
        assert!(
            Instant::now() < deadline,
            "no levels and hit events within 60 s: {seen:?}"
        );
        let mut line = String::new();
        assert!(
            reader.read_line(&mut line).expect("read the feed") > 0,
            "feed ended"
        );
        let line = line.trim_end_matches('\n');
        if let Some(v) = line.strip_prefix("id: ") {
            id = Some(v.parse().expect("numeric id"));
        } else if let Some(v) = line.strip_prefix("event: ") {
            event = Some(v.to_string());
        } else if let Some(data) = line.strip_prefix("data: ") {
            let name = event.take().expect("event: before data:");
            let ptr = events[&name]["$ref"]
                .as_str()
                .unwrap_or_else(|| panic!("event {name} is not in x-sse-events"))
                .strip_prefix('#')
                .unwrap()
                .to_string();
            let data: Value = serde_json::from_str(data).expect("data is JSON");
            c.validate(&ptr, &data, &format!("feed event {name}"));
            assert_eq!(data["seq"].as_u64(), id.take(), "the id is the data's seq");
            seen.insert(name);
        } else {
            assert!(
                line.is_empty() || line.starts_with("retry: ") || line.starts_with(':'),
                "unexpected feed line {line:?}"
            );
        }
    }
    reader
}

/// One call: method, the spec's path, the concrete path and query, key, body, status.
type Case<'a> = (&'a str, &'a str, &'a str, Key<'a>, Option<&'a str>, u16);

fn run(c: &mut Checker, cases: Vec<Case<'_>>) {
    for (method, path, concrete, key, body, status) in cases {
        c.call(method, path, concrete, key, body, status);
    }
}

#[test]
fn every_answer_of_a_running_demo_is_as_the_document_says() {
    use Key::{Bearer, Header, None as NoKey};
    let demo = Demo::start(
        2000,
        &[
            ("PITBOSS_HTTP__READ_REQUIRES_KEY", "true"),
            ("PITBOSS_HTTP__FEED_CLIENTS_MAX", "1"),
            // Low AML thresholds: the demo's patrons open cases within seconds.
            ("PITBOSS_AML__LOG_THRESHOLD_MINOR", "1000"),
            ("PITBOSS_AML__REPORT_THRESHOLD_MINOR", "5000"),
            ("PITBOSS_AML__STRUCTURING_FLOOR_MINOR", "4000"),
        ],
    );
    let mut c = Checker {
        doc: spec(),
        base: demo.base.clone(),
        seen: BTreeSet::new(),
        validators: BTreeMap::new(),
    };
    let get = |c: &Checker, url: &str, key| request("get", &format!("{}{url}", c.base), key, None);

    // Operations, pages, pools (open).
    #[rustfmt::skip]
    run(&mut c, vec![
        ("get", "/metrics", "/metrics", NoKey, None, 200),
        ("get", "/healthz", "/healthz", NoKey, None, 200),
        ("get", "/readyz", "/readyz", NoKey, None, 200),
        ("get", "/", "/", NoKey, None, 200),
        ("get", "/", "/?pools=FAST&hit_secs=3", NoKey, None, 200),
        ("get", "/operator", "/operator", NoKey, None, 200),
        ("get", "/static/{file}", "/static/display.js", NoKey, None, 200),
        ("get", "/static/{file}", "/static/operator.js", NoKey, None, 200),
        ("get", "/static/{file}", "/static/style.css", NoKey, None, 200),
        ("get", "/static/{file}", "/static/nope.js", NoKey, None, 404),
        ("get", "/api/pools", "/api/pools", NoKey, None, 200),
        ("get", "/api/pools/{id}", "/api/pools/FAST", NoKey, None, 200),
        ("get", "/api/pools/{id}", "/api/pools/NOPE", NoKey, None, 404),
        ("get", "/api/pools/{id}", "/api/pools/has%20space", NoKey, None, 400),
    ]);

    // The feed: one client at most here, so a second is refused while the first reads.
    let feed = read_feed(&mut c);
    c.call(
        "get",
        "/api/jackpots/stream",
        "/api/jackpots/stream",
        NoKey,
        None,
        503,
    );
    drop(feed);

    // Read APIs behind the viewer role (http.read-requires-key = true here), once the
    // simulated network has machines, a funded wallet and a GGR window.
    let list = wait_for("machines in the census", Duration::from_secs(30), || {
        let a = get(&c, "/api/machines?hall=H-001&limit=3", Bearer(VIEWER));
        (a.status == 200 && a.json()["total"].as_u64().unwrap_or(0) > 3).then_some(a)
    });
    c.check(
        "get",
        "/api/machines",
        &list,
        "GET /api/machines?hall=H-001&limit=3",
    );
    let machine = format!(
        "/api/machines/{}",
        list.json()["machines"][0]["id"].as_str().unwrap()
    );
    let events = format!("{machine}/events");
    let wallet = wait_for("a funded wallet", Duration::from_secs(30), || {
        Some(get(&c, "/api/wallets/P-0000001", Bearer(VIEWER))).filter(|a| a.status == 200)
    });
    c.check(
        "get",
        "/api/wallets/{id}",
        &wallet,
        "GET /api/wallets/P-0000001",
    );
    // A funded wallet's deposits are patron cash (RULES.md W-11): the field checked above
    // is there.
    assert!(
        wallet.json()["patron_cash"]["cash_in_minor"]
            .as_i64()
            .is_some_and(|v| v > 0),
        "{}",
        wallet.body
    );
    let ggr = wait_for("a GGR window", Duration::from_secs(30), || {
        let a = get(&c, "/api/halls/H-001/ggr", Bearer(VIEWER));
        (a.status == 200 && !a.json()["windows"].as_array()?.is_empty()).then_some(a)
    });
    c.check(
        "get",
        "/api/halls/{id}/ggr",
        &ggr,
        "GET /api/halls/H-001/ggr",
    );
    // RULES.md V: the simulator's first ticket (seed 42: numbers 42 and a counter) once the
    // census counts open vouchers.
    let liability = wait_for("an open voucher", Duration::from_secs(30), || {
        let a = get(&c, "/api/vouchers/liability", Bearer(VIEWER));
        (a.status == 200 && a.json()["open_vouchers"].as_u64().unwrap_or(0) > 0).then_some(a)
    });
    c.check(
        "get",
        "/api/vouchers/liability",
        &liability,
        "GET /api/vouchers/liability",
    );
    let voucher = wait_for("the first ticket", Duration::from_secs(30), || {
        Some(get(&c, "/api/vouchers/420000000000000001", Bearer(VIEWER)))
            .filter(|a| a.status == 200)
    });
    c.check(
        "get",
        "/api/vouchers/{validation}",
        &voucher,
        "GET /api/vouchers/420000000000000001",
    );
    let start = ggr.json()["windows"][0]["start_ms"].as_i64().unwrap();
    let one_window = format!("/api/halls/H-001/ggr?from={start}&to={}", start + 1);
    // The gaming day (UTC, rolling over at 06:00 by default) of the demo's first window.
    let day = jiff::Timestamp::from_millisecond(start - 6 * 3_600_000)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let report = format!("/api/reports/gaming-day?date={day}");
    let (report_csv, report_hall) = (
        format!("{report}&format=csv"),
        format!("{report}&hall=H-001"),
    );
    let (report_machines, report_machines_csv) = (
        format!("{report}&hall=H-001&level=machines"),
        format!("{report}&level=machines&format=csv"),
    );
    let rep = "/api/reports/gaming-day";
    // The windows reach the store at the demo's checkpoints.
    let stored = wait_for("a stored GGR window", Duration::from_secs(60), || {
        Some(get(&c, &report, Bearer(VIEWER))).filter(|a| a.status == 200)
    });
    c.check("get", rep, &stored, &format!("GET {report}"));
    // RULES.md D-8: the simulated desk's closed shifts (one every 30 desk operations) of the
    // demo's first gaming day, once a closed shift is stored.
    let shifts = format!("/api/reports/shifts?date={day}");
    let sh = "/api/reports/shifts";
    let closed = wait_for("a stored closed shift", Duration::from_secs(90), || {
        Some(get(&c, &shifts, Bearer(VIEWER))).filter(|a| a.status == 200)
    });
    c.check("get", sh, &closed, &format!("GET {shifts}"));
    let totals = closed.json();
    assert_eq!(
        totals["day"]["variance_minor"].as_i64(),
        Some(
            totals["shifts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["variance_minor"].as_i64().unwrap())
                .sum::<i64>()
        ),
        "the day's variance is its shifts'"
    );
    // RULES.md W-11: the patrons' cash of the demo's first local day (UTC by default), once
    // a wallet's ledger is stored; the day is the sum of its patrons.
    let pday = jiff::Timestamp::from_millisecond(start)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let patrons = format!("/api/reports/patrons?date={pday}");
    let pr = "/api/reports/patrons";
    let counted = wait_for("a stored patron's cash", Duration::from_secs(90), || {
        Some(get(&c, &patrons, Bearer(VIEWER))).filter(|a| a.status == 200)
    });
    c.check("get", pr, &counted, &format!("GET {patrons}"));
    let p = counted.json();
    assert_eq!(
        p["day"]["cash_in_minor"].as_i64(),
        Some(
            p["patrons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["cash_in_minor"].as_i64().unwrap())
                .sum::<i64>()
        ),
        "the day's cash in is its patrons'"
    );
    let one_patron = format!(
        "{patrons}&player={}",
        p["patrons"][0]["player"].as_str().unwrap()
    );
    // RULES.md W-11: the cases the demo's wallets opened, with their evidence.
    let cases = "/api/compliance/cases";
    let opened = wait_for("an AML case", Duration::from_secs(60), || {
        Some(get(&c, cases, Bearer(VIEWER))).filter(|a| a.json()["total"].as_u64() > Some(0))
    });
    c.check("get", cases, &opened, "GET /api/compliance/cases");
    let first = &opened.json()["cases"][0];
    assert!(!first["evidence"].as_array().unwrap().is_empty(), "{first}");
    let one_player = format!(
        "{cases}?player={}&limit=1",
        first["player"].as_str().unwrap()
    );
    let close = "/api/admin/compliance/cases/{id}/close";
    let close_first = format!(
        "/api/admin/compliance/cases/{}/close",
        first["id"].as_str().unwrap()
    );
    let because = r#"{"reason": "source of funds documented"}"#;
    #[rustfmt::skip]
    run(&mut c, vec![
        ("get", "/api/machines", "/api/machines", Header(VIEWER), None, 200),
        ("get", "/api/machines", "/api/machines?status=online&limit=0", Bearer(ADMIN), None, 200),
        ("get", "/api/machines", "/api/machines", NoKey, None, 401),
        ("get", "/api/machines", "/api/machines", Bearer("not-a-key"), None, 401),
        ("get", "/api/machines", "/api/machines?status=broken", Bearer(VIEWER), None, 400),
        ("get", "/api/machines", "/api/machines?limit=many", Bearer(VIEWER), None, 400),
        ("get", "/api/machines", "/api/machines?colour=red", Bearer(VIEWER), None, 400),
        ("get", "/api/machines", "/api/machines?hall=has%20space", Bearer(VIEWER), None, 400),
        ("get", "/api/machines/{id}", &machine, Bearer(VIEWER), None, 200),
        ("get", "/api/machines/{id}", &machine, NoKey, None, 401),
        ("get", "/api/machines/{id}", "/api/machines/M-NOPE", Bearer(VIEWER), None, 404),
        ("get", "/api/machines/{id}", "/api/machines/has%20space", Bearer(VIEWER), None, 400),
        ("get", "/api/machines/{id}/events", &events, Bearer(VIEWER), None, 200),
        ("get", "/api/machines/{id}/events", &format!("{events}?before=1&limit=2"), Bearer(VIEWER), None, 200),
        ("get", "/api/machines/{id}/events", &events, NoKey, None, 401),
        ("get", "/api/machines/{id}/events", "/api/machines/M-NOPE/events", Bearer(VIEWER), None, 404),
        ("get", "/api/machines/{id}/events", "/api/machines/has%20space/events", Bearer(VIEWER), None, 400),
        ("get", "/api/machines/{id}/events", &format!("{events}?before=soon"), Bearer(VIEWER), None, 400),
        ("get", "/api/wallets/{id}", "/api/wallets/P-0000001", NoKey, None, 401),
        ("get", "/api/wallets/{id}", "/api/wallets/P-nobody", Bearer(VIEWER), None, 404),
        ("get", "/api/wallets/{id}", "/api/wallets/has%20space", Bearer(VIEWER), None, 400),
        ("get", "/api/handpays", "/api/handpays", Bearer(VIEWER), None, 200),
        ("get", "/api/handpays", "/api/handpays?limit=many", Bearer(VIEWER), None, 400),
        ("get", "/api/handpays", "/api/handpays", NoKey, None, 401),
        ("get", "/api/alerts", "/api/alerts", Bearer(VIEWER), None, 200),
        ("get", "/api/alerts", "/api/alerts?hall=H-001&limit=5", Bearer(VIEWER), None, 200),
        ("get", "/api/alerts", "/api/alerts?hall=has%20space", Bearer(VIEWER), None, 400),
        ("get", "/api/alerts", "/api/alerts?severity=high", Bearer(VIEWER), None, 400),
        ("get", "/api/alerts", "/api/alerts", NoKey, None, 401),
        ("get", cases, &one_player, Bearer(VIEWER), None, 200),
        ("get", cases, "/api/compliance/cases?player=has%20space", Bearer(VIEWER), None, 400),
        ("get", cases, "/api/compliance/cases?kind=log", Bearer(VIEWER), None, 400),
        ("get", cases, "/api/compliance/cases?status=open&limit=5", Bearer(VIEWER), None, 200),
        ("get", cases, "/api/compliance/cases?status=maybe", Bearer(VIEWER), None, 400),
        ("post", close, &close_first, NoKey, Some(because), 401),
        ("post", close, &close_first, Bearer(VIEWER), Some(because), 403),
        ("post", close, &close_first, Bearer(OPERATOR), Some(r#"{"reason": "  "}"#), 400),
        ("post", close, &close_first, Bearer(OPERATOR), Some(r#"{"why": "x"}"#), 400),
        ("post", close, "/api/admin/compliance/cases/no-such-case/close", Bearer(OPERATOR), Some(because), 404),
        ("post", close, &close_first, Bearer(OPERATOR), Some(&"x".repeat(70_000)), 413),
        ("post", close, &close_first, Bearer(OPERATOR), Some(because), 503),
        ("get", cases, cases, NoKey, None, 401),
        ("get", rep, &report_csv, Bearer(VIEWER), None, 200),
        ("get", rep, &report_hall, Bearer(VIEWER), None, 200),
        ("get", rep, &report_machines, Bearer(VIEWER), None, 200),
        ("get", rep, &report_machines_csv, Bearer(VIEWER), None, 200),
        ("get", rep, &format!("{report}&level=tables"), Bearer(VIEWER), None, 400),
        ("get", rep, "/api/reports/gaming-day?date=2001-01-01", Bearer(VIEWER), None, 404),
        ("get", rep, "/api/reports/gaming-day?date=2026-01-01&hall=H-NONE", Bearer(VIEWER), None, 404),
        ("get", rep, "/api/reports/gaming-day?date=31.12.2026", Bearer(VIEWER), None, 400),
        ("get", rep, "/api/reports/gaming-day?date=2026-01-01&format=xml", Bearer(VIEWER), None, 400),
        ("get", rep, "/api/reports/gaming-day", Bearer(VIEWER), None, 400),
        ("get", rep, &report, NoKey, None, 401),
        ("get", sh, &format!("{shifts}&format=csv"), Bearer(VIEWER), None, 200),
        ("get", sh, &format!("{shifts}&hall=H-001"), Bearer(VIEWER), None, 200),
        ("get", sh, "/api/reports/shifts?date=2001-01-01", Bearer(VIEWER), None, 404),
        ("get", sh, "/api/reports/shifts?date=31.12.2026", Bearer(VIEWER), None, 400),
        ("get", sh, &format!("{shifts}&format=xml"), Bearer(VIEWER), None, 400),
        ("get", sh, &shifts, NoKey, None, 401),
        ("get", pr, &format!("{patrons}&format=csv"), Bearer(VIEWER), None, 200),
        ("get", pr, &one_patron, Bearer(VIEWER), None, 200),
        ("get", pr, &format!("{patrons}&player=P-nobody"), Bearer(VIEWER), None, 404),
        ("get", pr, "/api/reports/patrons?date=2001-01-01", Bearer(VIEWER), None, 404),
        ("get", pr, "/api/reports/patrons?date=31.12.2026", Bearer(VIEWER), None, 400),
        ("get", pr, &format!("{patrons}&format=xml"), Bearer(VIEWER), None, 400),
        ("get", pr, &patrons, NoKey, None, 401),
        ("get", "/api/desks/{id}", "/api/desks/DESK-1", Bearer(VIEWER), None, 200),
        ("get", "/api/desks/{id}", "/api/desks/DESK-1", NoKey, None, 401),
        ("get", "/api/desks/{id}", "/api/desks/DESK-NONE", Bearer(VIEWER), None, 404),
        ("get", "/api/desks/{id}", "/api/desks/has%20space", Bearer(VIEWER), None, 400),
        ("get", "/api/vouchers/liability", "/api/vouchers/liability", NoKey, None, 401),
        ("get", "/api/vouchers/{validation}", "/api/vouchers/420000000000000001", NoKey, None, 401),
        ("get", "/api/vouchers/{validation}", "/api/vouchers/999999999999999999", Bearer(VIEWER), None, 404),
        ("get", "/api/vouchers/{validation}", "/api/vouchers/12345", Bearer(VIEWER), None, 400),
        ("get", "/api/halls", "/api/halls", Bearer(VIEWER), None, 200),
        ("get", "/api/halls", "/api/halls", NoKey, None, 401),
        ("get", "/api/halls/{id}/ggr", &one_window, Bearer(VIEWER), None, 200),
        ("get", "/api/halls/{id}/ggr", "/api/halls/H-001/ggr?from=5&to=1", Bearer(VIEWER), None, 400),
        ("get", "/api/halls/{id}/ggr", "/api/halls/H-001/ggr?from=soon", Bearer(VIEWER), None, 400),
        ("get", "/api/halls/{id}/ggr", "/api/halls/H-999/ggr", Bearer(VIEWER), None, 404),
        ("get", "/api/halls/{id}/ggr", "/api/halls/has%20space/ggr", Bearer(VIEWER), None, 400),
        ("get", "/api/halls/{id}/ggr", "/api/halls/H-001/ggr", NoKey, None, 401),
    ]);

    // The admin API.
    let create = "/api/admin/pools";
    let new_pool = r#"{"id": "LAP-9", "halls": ["H-001"], "levels": [{"name": "mini",
        "seed_minor": 1000, "contribution_percent": "0.5", "ceiling_minor": 20000, "mystery": true}]}"#;
    let bad_pool = r#"{"id": "LAP-10", "levels": [{"name": "mini", "seed_minor": 100,
        "contribution_percent": "0.5", "ceiling_minor": 50}]}"#;
    let big = format!(
        r#"{{"id": "BIG", "levels": [], "pad": "{}"}}"#,
        "x".repeat(70_000)
    );
    let level = "/api/admin/pools/{id}/levels/{level}";
    let mini = "/api/admin/pools/LAP-9/levels/mini";
    let change = r#"{"seed_minor": 1500, "ceiling_minor": 25000}"#;
    let audit = "/api/admin/audit";
    let void = "/api/admin/vouchers/{validation}/void";
    let void_one = "/api/admin/vouchers/000000000000000042/void";
    let why = r#"{"reason": "damaged ticket"}"#;
    let limits = "/api/admin/players/{player}/limits";
    let limit_one = "/api/admin/players/P-0000001/limits";
    let day_limit = r#"{"deposit_limit": {"period": "day", "amount": 50000}}"#;
    let bonus = "/api/admin/players/{player}/bonus";
    let bonus_one = "/api/admin/players/P-0000001/bonus";
    let award = r#"{"amount": 5000, "wagering": 3, "expires_at": 253402300799999}"#;
    // A backup of the demo's embedded store, taken while it runs.
    let backup = "/api/admin/backup";
    let backup_to = |name: &str| json!({ "to": demo.dir.path().join(name) }).to_string();
    let (first_backup, second_backup) = (backup_to("backup-1"), backup_to("backup-2"));
    #[rustfmt::skip]
    run(&mut c, vec![
        ("post", backup, backup, NoKey, Some(&first_backup), 401),
        ("post", backup, backup, Bearer(OPERATOR), Some(&first_backup), 403),
        ("post", backup, backup, Bearer(ADMIN), Some(r#"{"to": "relative/dir"}"#), 400),
        ("post", backup, backup, Bearer(ADMIN), Some(r#"{"into": "/tmp"}"#), 400),
        ("post", backup, backup, Bearer(ADMIN), Some(&first_backup), 201),
        ("post", backup, backup, Header(ADMIN), Some(&first_backup), 409),
        ("post", backup, backup, Bearer(ADMIN), Some(&big), 413),
    ]);
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(demo.dir.path().join("backup-1/manifest.json"))
            .expect("the backup's manifest"),
    )
    .unwrap();
    c.validate(
        "/components/schemas/BackupManifest",
        &manifest,
        "backup-1/manifest.json",
    );
    #[rustfmt::skip]
    run(&mut c, vec![
        ("post", create, create, NoKey, Some(new_pool), 401),
        ("post", create, create, Bearer(OPERATOR), Some(new_pool), 403),
        ("post", create, create, Bearer(ADMIN), Some(new_pool), 201),
        ("post", create, create, Header(ADMIN), Some(new_pool), 409),
        ("post", create, create, Bearer(ADMIN), Some("{not json"), 400),
        ("post", create, create, Bearer(ADMIN), Some(bad_pool), 400),
        ("post", create, create, Bearer(ADMIN), Some(&big), 413),
        ("patch", level, mini, NoKey, Some(change), 401),
        ("patch", level, mini, Bearer(VIEWER), Some(change), 403),
        ("patch", level, mini, Bearer(OPERATOR), Some(change), 202),
        ("patch", level, "/api/admin/pools/LAP-9/levels/0", Header(ADMIN), Some(r#"{"contribution_percent": 1}"#), 202),
        ("patch", level, "/api/admin/pools/NOPE/levels/mini", Bearer(OPERATOR), Some(change), 404),
        ("patch", level, "/api/admin/pools/LAP-9/levels/grand", Bearer(OPERATOR), Some(change), 404),
        ("patch", level, mini, Bearer(OPERATOR), Some("{}"), 400),
        ("patch", level, mini, Bearer(OPERATOR), Some(r#"{"seed_minor": 9999999, "ceiling_minor": 10}"#), 400),
        ("patch", level, mini, Bearer(OPERATOR), Some(&big), 413),
        ("post", void, void_one, NoKey, Some(why), 401),
        ("post", void, void_one, Bearer(VIEWER), Some(why), 403),
        ("post", void, void_one, Bearer(OPERATOR), Some("{not json"), 400),
        ("post", void, void_one, Bearer(OPERATOR), Some(r#"{"why": "x"}"#), 400),
        ("post", void, "/api/admin/vouchers/42/void", Bearer(OPERATOR), Some(why), 400),
        ("post", void, void_one, Bearer(OPERATOR), Some(&big), 413),
        ("post", void, void_one, Bearer(OPERATOR), Some(why), 503),
        ("post", limits, limit_one, NoKey, Some(day_limit), 401),
        ("post", limits, limit_one, Bearer(VIEWER), Some(day_limit), 403),
        ("post", limits, limit_one, Bearer(OPERATOR), Some("{not json"), 400),
        ("post", limits, limit_one, Bearer(OPERATOR), Some(r#"{"deposit_limit": {"period": "year", "amount": 5}}"#), 400),
        ("post", limits, limit_one, Bearer(OPERATOR), Some(r#"{"loss_limit": {"period": "year", "amount": 5}}"#), 400),
        ("post", limits, limit_one, Bearer(OPERATOR), Some(r#"{"loss_limit": {"period": "week", "amount": 0}}"#), 400),
        ("post", limits, limit_one, Bearer(OPERATOR), Some(r#"{"session_limit": {"minutes": 0}}"#), 400),
        ("post", limits, limit_one, Bearer(OPERATOR), Some(r#"{"session_limit": {"minutes": 1441}}"#), 400),
        ("post", limits, limit_one, Bearer(OPERATOR), Some(r#"{"self_exclusion": {"until": -1}}"#), 400),
        ("post", limits, "/api/admin/players/P%20X/limits", Bearer(OPERATOR), Some(day_limit), 400),
        ("post", limits, limit_one, Bearer(OPERATOR), Some(&big), 413),
        ("post", limits, limit_one, Bearer(OPERATOR), Some(day_limit), 503),
        ("post", bonus, bonus_one, NoKey, Some(award), 401),
        ("post", bonus, bonus_one, Bearer(VIEWER), Some(award), 403),
        ("post", bonus, bonus_one, Bearer(OPERATOR), Some("{not json"), 400),
        ("post", bonus, bonus_one, Bearer(OPERATOR), Some(r#"{"amount": 5000, "wagering": 101, "expires_at": 253402300799999}"#), 400),
        ("post", bonus, bonus_one, Bearer(OPERATOR), Some(r#"{"amount": 5000, "wagering": 1, "expires_at": 1000}"#), 400),
        ("post", bonus, bonus_one, Bearer(OPERATOR), Some(r#"{"amount": 0, "wagering": 1, "expires_at": 253402300799999}"#), 400),
        ("post", bonus, bonus_one, Bearer(OPERATOR), Some(&big), 413),
        ("post", bonus, bonus_one, Bearer(OPERATOR), Some(award), 503),
        ("get", audit, audit, NoKey, None, 401),
        ("get", audit, audit, Bearer(OPERATOR), None, 403),
        ("get", audit, "/api/admin/audit?limit=all", Bearer(ADMIN), None, 400),
    ]);
    let pool = c
        .call(
            "get",
            "/api/pools/{id}",
            "/api/pools/LAP-9",
            NoKey,
            None,
            200,
        )
        .json();
    assert_eq!(pool["levels"][0]["pending"]["seed_minor"], 1500, "{pool}");
    let entries = c
        .call(
            "get",
            audit,
            "/api/admin/audit?limit=50",
            Bearer(ADMIN),
            None,
            200,
        )
        .json();
    let outcomes: BTreeSet<&str> = entries["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    for o in ["ok", "forbidden", "invalid", "not_found", "conflict"] {
        assert!(
            outcomes.contains(o),
            "an audit entry with outcome {o}: {outcomes:?}"
        );
    }

    // An audit log that cannot be opened (a directory where the file should be): no change,
    // no read.
    let log = demo.dir.path().join("audit.jsonl");
    std::fs::remove_file(&log).expect("the audit log exists");
    std::fs::create_dir(&log).expect("a directory in its place");
    let other_pool = new_pool.replace("LAP-9", "LAP-11");
    #[rustfmt::skip]
    run(&mut c, vec![
        ("post", create, create, Bearer(ADMIN), Some(&other_pool), 500),
        ("patch", level, mini, Bearer(OPERATOR), Some(change), 500),
        ("get", audit, audit, Bearer(ADMIN), None, 500),
        ("post", void, void_one, Bearer(OPERATOR), Some(why), 500),
        ("post", limits, limit_one, Bearer(OPERATOR), Some(day_limit), 500),
        ("post", bonus, bonus_one, Bearer(OPERATOR), Some(award), 500),
        ("post", close, &close_first, Bearer(OPERATOR), Some(because), 500),
        ("post", backup, backup, Bearer(ADMIN), Some(&second_backup), 500),
    ]);
    assert!(
        !demo.dir.path().join("backup-2").exists(),
        "no backup is taken without its audit entry"
    );
    assert_eq!(
        get(&c, "/api/pools/LAP-11", NoKey).status,
        404,
        "created without its audit entry"
    );

    // Outside the document: unknown routes and methods are 404 with the error body.
    for (method, url) in [
        ("get", "/api/nope"),
        ("post", "/api/pools"),
        ("delete", "/api/machines"),
    ] {
        let a = request(method, &format!("{}{url}", c.base), Bearer(ADMIN), None);
        assert_eq!(a.status, 404, "{method} {url}");
        assert!(
            a.content_type.starts_with("application/json"),
            "{method} {url}: {}",
            a.content_type
        );
        c.validate(
            "/components/schemas/Error",
            &a.json(),
            &format!("{method} {url}"),
        );
    }

    // Every listed status was answered, except those a healthy demo cannot produce.
    let unreachable: BTreeSet<(String, String, u16)> = UNREACHABLE
        .iter()
        .map(|(p, m, s, _)| (p.to_string(), m.to_string(), *s))
        .collect();
    let mut missing = Vec::new();
    for (path, method) in spec_operations(&c.doc) {
        for status in c.doc["paths"][&path][&method]["responses"]
            .as_object()
            .unwrap()
            .keys()
        {
            let key = (path.clone(), method.clone(), status.parse::<u16>().unwrap());
            assert!(
                !(c.seen.contains(&key) && unreachable.contains(&key)),
                "{method} {path} {status} is answered: take it out of UNREACHABLE"
            );
            if !c.seen.contains(&key) && !unreachable.contains(&key) {
                missing.push(format!("{method} {path} {status}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "listed in openapi.yaml but never answered: {missing:?}"
    );
}
