// The serial guard is held for the whole test on purpose: the tests of this file share
// the machine with a broker each and must not overlap.
#![allow(clippy::await_holding_lock)]
//! The synchronous gateway (issue 12) against a real broker and `pitboss run`: a desk's or a
//! provider's request becomes a command on the input topic, the owning actor applies it, and
//! the request is answered with the entity's own answer. A request nobody answers in time
//! gets 504 and is safe to retry with the same `tx`: the command is applied once.

use crate::support;

use std::time::Duration;

use std::collections::BTreeSet;
use std::path::PathBuf;

use jsonschema::{Draft, Validator};
use pitboss::gateway::{GatewayKey, Scope};
use pitboss::run::{run_with, shutdown_channel, RunOptions};
use pitboss::wire::{decode_output, OutputEvent};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::Broker;
use testkit::http::Reply;

const DESK_KEY: &str = "desk-key-for-the-gateway-test";
const PROVIDER_KEY: &str = "provider-key-for-the-gateway-test";
const LIMITED_KEY: &str = "limited-key-for-the-gateway-test";
const OPERATOR_KEY: &str = "operator-key-for-the-gateway-test";

fn key(name: &str, secret: &str, server: &str, scopes: Vec<Scope>) -> GatewayKey {
    GatewayKey {
        name: name.into(),
        key_sha256: hex::encode(Sha256::digest(secret.as_bytes())),
        hall: "H-GW".into(),
        server: server.into(),
        scopes,
        rate_per_sec: 0,
    }
}

const DOC_URI: &str = "https://pitboss.example/schemas/gateway-openapi.yaml";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn spec() -> Value {
    let text = std::fs::read_to_string(root().join("schemas/gateway-openapi.yaml"))
        .expect("schemas/gateway-openapi.yaml");
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("gateway-openapi.yaml: {e}"))
}

fn token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

fn validator(doc: &Value, pointer: &str) -> Validator {
    let resource = Draft::Draft202012.create_resource(doc.clone());
    let target = format!(
        "{DOC_URI}#{}",
        pointer.replace('{', "%7B").replace('}', "%7D")
    );
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .with_resource(DOC_URI, resource)
        .build(&json!({ "$ref": target }))
        .unwrap_or_else(|e| panic!("gateway-openapi.yaml#{pointer} does not compile: {e}"))
}

/// The path template of the document a concrete path is an instance of.
fn template(path: &str) -> Option<&'static str> {
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segs.as_slice() {
        ["gateway", "v1", "wallet", _] => Some("/gateway/v1/wallet/{op}"),
        ["gateway", "v1", "vouchers", _] => Some("/gateway/v1/vouchers/{op}"),
        ["gateway", "v1", "desk", _] => Some("/gateway/v1/desk/{op}"),
        ["gateway", "v1", "wallet", _, "balance"] => Some("/gateway/v1/wallet/{player}/balance"),
        ["gateway", "v1", "vouchers", _, "status"] => {
            Some("/gateway/v1/vouchers/{validation}/status")
        }
        _ => None,
    }
}

/// Every answer is checked against the document: its status listed for the operation and
/// its body valid against that status's schema; a request meant to be valid is checked
/// against the request schema too.
struct Spec {
    doc: Value,
}

impl Spec {
    fn response_schema(&self, path: &str, method: &str, status: u16) -> String {
        let Some(t) = template(path) else {
            // An unknown route: the failure schema.
            return "/components/schemas/Failure".into();
        };
        let at = format!("/paths/{}/{method}/responses/{status}", token(t));
        let r = self
            .doc
            .pointer(&at)
            .unwrap_or_else(|| panic!("{method} {t}: status {status} is not in the document"));
        let base = match r.get("$ref").and_then(Value::as_str) {
            Some(x) => x.trim_start_matches('#').to_string(),
            None => at,
        };
        format!("{base}/content/application~1json/schema")
    }

    fn check(&self, path: &str, method: &str, request: Option<&Value>, r: &Reply) {
        let v = validator(&self.doc, &self.response_schema(path, method, r.status));
        let body = r.json();
        let errors: Vec<String> = v.iter_errors(&body).map(|e| e.to_string()).collect();
        assert!(
            errors.is_empty(),
            "{method} {path} {}: {errors:?}\n{}",
            r.status,
            r.body
        );
        if let (Some(req), true) = (request, r.status != 400) {
            let schema = if path.contains("/wallet/") {
                "WalletRequest"
            } else if path.contains("/desk/") {
                "DeskRequest"
            } else {
                "VoucherRequest"
            };
            let v = validator(&self.doc, &format!("/components/schemas/{schema}"));
            assert!(v.is_valid(req), "request not valid against {schema}: {req}");
        }
    }
}

/// One call on a blocking thread (the client blocks; the servers run on this test's system),
/// its answer checked against the document.
async fn call(
    spec: &Spec,
    method: &'static str,
    base: &str,
    path: &str,
    key: Option<&'static str>,
    headers: &[(&'static str, &'static str)],
    body: Option<Value>,
) -> Reply {
    let url = format!("{base}{path}");
    let (headers, b) = (headers.to_vec(), body.clone());
    let r = tokio::task::spawn_blocking(move || {
        let mut req = ureq::request(method, &url).timeout(Duration::from_secs(30));
        if let Some(k) = key {
            req = req.set("X-Api-Key", k);
        }
        for (h, v) in headers {
            req = req.set(h, v);
        }
        let resp = match b {
            Some(b) => req
                .set("Content-Type", "application/json")
                .send_string(&b.to_string()),
            None => req.call(),
        };
        let resp = match resp {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {url}: {e}"),
        };
        let status = resp.status();
        let body = resp.into_string().expect("body");
        Reply { status, body }
    })
    .await
    .unwrap();
    spec.check(path, &method.to_lowercase(), body.as_ref(), &r);
    r
}

async fn post(
    spec: &Spec,
    base: &str,
    path: &str,
    key: Option<&'static str>,
    body: Value,
) -> Reply {
    call(spec, "POST", base, path, key, &[], Some(body)).await
}

async fn get(spec: &Spec, base: &str, path: &str, key: Option<&'static str>) -> Reply {
    call(spec, "GET", base, path, key, &[], None).await
}

fn code(r: &Reply) -> String {
    r.json()["code"].as_str().unwrap_or_default().to_owned()
}

/// Every (path, method) of src/gateway/mod.rs: each `.route("<path>", web::<method>()`.
fn code_routes() -> BTreeSet<(String, String)> {
    let src = std::fs::read_to_string(root().join("src/gateway/mod.rs")).expect("mod.rs");
    let mut out = BTreeSet::new();
    for (i, _) in src.match_indices(".route(") {
        let rest = &src[i + ".route(".len()..];
        let open = rest.find('"').expect("a route's path literal");
        let close = open + 1 + rest[open + 1..].find('"').expect("closing quote");
        let after = &rest[close..];
        let m = after.find("web::").expect("a route's method") + "web::".len();
        let method: String = after[m..]
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .collect();
        out.insert((rest[open + 1..close].to_string(), method));
    }
    out
}

#[test]
fn the_gateway_document_lists_exactly_the_served_routes_and_its_schemas_compile() {
    let doc = spec();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, _) in item.as_object().expect("path item") {
            documented.insert((path.clone(), method.clone()));
        }
    }
    assert_eq!(code_routes(), documented);
    for name in doc["components"]["schemas"]
        .as_object()
        .expect("schemas")
        .keys()
    {
        validator(&doc, &format!("/components/schemas/{}", token(name)));
    }
}

#[actix_rt::test]
async fn desks_and_providers_get_the_entitys_answer_and_a_timed_out_request_is_applied_once() {
    let _serial = support::serial();
    let spec = Spec { doc: spec() };
    let broker = Broker::start();
    let mut cfg = support::config(&broker, "gateway");
    let mut limited = key("limited", LIMITED_KEY, "PROV-SLOW", vec![Scope::Wallet]);
    limited.rate_per_sec = 1;
    cfg.gateway.keys = vec![
        key(
            "desk 1",
            DESK_KEY,
            "DESK-GW",
            vec![Scope::Wallet, Scope::Vouchers, Scope::Desk],
        ),
        key("provider", PROVIDER_KEY, "PROV-GW", vec![Scope::Wallet]),
        limited,
    ];
    cfg.gateway.deadline_ms = 1_500;
    pitboss::run::create_topics(&cfg)
        .await
        .expect("create topics");

    // A gateway alone: nothing processes the input yet, so the request times out.
    let mut alone = cfg.gateway.clone();
    alone.addr = "127.0.0.1:0".into();
    let first = pitboss::gateway::serve(&alone, &cfg.kafka, &cfg.network.currency, None, None)
        .await
        .expect("gateway alone");
    let a = format!("http://{}", first.addr);
    let s = &spec;
    let deposit = json!({"player": "P-GW-1", "tx": "dep-1", "amount": 5_000});
    let r = post(
        s,
        &a,
        "/gateway/v1/wallet/deposit",
        Some(DESK_KEY),
        deposit.clone(),
    )
    .await;
    assert_eq!(
        (r.status, code(&r)),
        (504, "gateway_timeout".into()),
        "{}",
        r.body
    );
    assert!(r.body.contains("retry with the same tx"), "{}", r.body);
    // A gateway alone has no runtime to read from.
    let r = get(s, &a, "/gateway/v1/wallet/P-GW-1/balance", Some(DESK_KEY)).await;
    assert_eq!(
        (r.status, code(&r)),
        (503, "reads_unavailable".into()),
        "{}",
        r.body
    );

    // Bad requests are answered here and never sent.
    let r = post(s, &a, "/gateway/v1/wallet/deposit", None, deposit.clone()).await;
    assert_eq!(
        (r.status, code(&r)),
        (401, "unauthorized".into()),
        "{}",
        r.body
    );
    let issue = json!({"validation": "000000000000000042", "tx": "iss-1", "amount": 2_500});
    let r = post(
        s,
        &a,
        "/gateway/v1/vouchers/issue",
        Some(PROVIDER_KEY),
        issue.clone(),
    )
    .await;
    assert_eq!(
        (r.status, code(&r)),
        (403, "forbidden".into()),
        "{}",
        r.body
    );
    let bad = json!({"validation": "42", "tx": "iss-0", "amount": 2_500});
    let r = post(s, &a, "/gateway/v1/vouchers/issue", Some(DESK_KEY), bad).await;
    assert_eq!(
        (r.status, code(&r)),
        (400, "invalid_id".into()),
        "{}",
        r.body
    );
    let r = post(
        s,
        &a,
        "/gateway/v1/wallet/deposit",
        Some(DESK_KEY),
        json!({"player": "P-GW-1", "tx": "x"}),
    )
    .await;
    assert_eq!(
        (r.status, code(&r)),
        (400, "missing_field".into()),
        "{}",
        r.body
    );
    let r = post(
        s,
        &a,
        "/gateway/v1/wallet/deposit",
        Some(DESK_KEY),
        json!({"player": "P-GW-1", "amount": 1}),
    )
    .await;
    assert_eq!(
        (r.status, code(&r)),
        (400, "missing_field".into()),
        "{}",
        r.body
    );
    let r = post(
        s,
        &a,
        "/gateway/v1/wallet/deposit",
        Some(DESK_KEY),
        json!({"player": "P-GW-1", "tx": "t", "amount": -5}),
    )
    .await;
    assert_eq!(
        (r.status, code(&r)),
        (400, "invalid_amount".into()),
        "{}",
        r.body
    );
    let r = post(
        s,
        &a,
        "/gateway/v1/wallet/deposit",
        Some(DESK_KEY),
        json!({"player": "P-GW-1", "tx": "t", "amount": 5, "pin": 1234}),
    )
    .await;
    assert_eq!(
        (r.status, code(&r)),
        (400, "malformed".into()),
        "{}",
        r.body
    );
    let r = call(
        s,
        "POST",
        &a,
        "/gateway/v1/wallet/deposit",
        Some(DESK_KEY),
        &[("Idempotency-Key", "other")],
        Some(deposit.clone()),
    )
    .await;
    assert_eq!(
        (r.status, code(&r)),
        (400, "idempotency_key_mismatch".into()),
        "{}",
        r.body
    );
    let r = post(
        s,
        &a,
        "/gateway/v1/wallet/steal",
        Some(DESK_KEY),
        deposit.clone(),
    )
    .await;
    assert_eq!(
        (r.status, code(&r)),
        (404, "unknown_operation".into()),
        "{}",
        r.body
    );
    let r = get(s, &a, "/gateway/v2/anything", Some(DESK_KEY)).await;
    assert_eq!(
        (r.status, code(&r)),
        (404, "not_found".into()),
        "{}",
        r.body
    );

    // Now `pitboss run`, serving its own gateway beside the processor, and its admin API.
    let dir = tempfile::tempdir().expect("temp dir");
    cfg.http.addr = format!("127.0.0.1:{}", testkit::names::free_port());
    cfg.http.audit_log = dir.path().join("audit.jsonl").display().to_string();
    cfg.http.api_keys = vec![pitboss::http::ApiKey {
        name: "ops-alice".into(),
        key_sha256: hex::encode(Sha256::digest(OPERATOR_KEY.as_bytes())),
        role: pitboss::http::Role::Operator,
    }];
    let admin = format!("http://{}", cfg.http.addr);
    cfg.gateway.addr = format!("127.0.0.1:{}", testkit::names::free_port());
    cfg.gateway.deadline_ms = 20_000;
    let b = format!("http://{}", cfg.gateway.addr);
    let (button, shutdown) = shutdown_channel();
    let rest = async {
        // The retry through the first gateway gets the first (and only) application.
        let retried = retry_until_answered(s, &a, &deposit).await;
        assert_eq!(retried.status, 200, "{}", retried.body);
        let j = retried.json();
        assert_eq!(j["status"], "applied");
        assert_eq!(
            (
                j["answer"]["balance"].as_i64(),
                j["answer"]["delta"].as_i64()
            ),
            (Some(5_000), Some(5_000))
        );
        // The same command through the run's gateway: the same answer, the same output.
        let again = post(
            s,
            &b,
            "/gateway/v1/wallet/deposit",
            Some(DESK_KEY),
            deposit.clone(),
        )
        .await;
        assert_eq!(again.status, 200, "{}", again.body);
        assert_eq!(again.json()["output_id"], j["output_id"]);
        assert_eq!(again.json()["answer"]["balance"], 5_000);
        // The same tx with other content: refused, the first answer stands.
        let other = json!({"player": "P-GW-1", "tx": "dep-1", "amount": 6_000});
        let r = post(s, &b, "/gateway/v1/wallet/deposit", Some(DESK_KEY), other).await;
        assert_eq!(
            (r.status, code(&r)),
            (409, "tx_conflict".into()),
            "{}",
            r.body
        );
        // The key in the Idempotency-Key header instead of the body.
        let r = call(
            s,
            "POST",
            &b,
            "/gateway/v1/wallet/deposit",
            Some(DESK_KEY),
            &[("Idempotency-Key", "dep-2")],
            Some(json!({"player": "P-GW-1", "amount": 500})),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            (
                r.json()["answer"]["tx"].as_str(),
                r.json()["answer"]["balance"].as_i64()
            ),
            (Some("dep-2"), Some(5_500))
        );
        // A provider's bet, and a withdrawal beyond the balance.
        let bet = json!({"player": "P-GW-1", "tx": "bet-1", "amount": 1_000, "round": "R-1"});
        let r = post(s, &b, "/gateway/v1/wallet/bet", Some(PROVIDER_KEY), bet).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["answer"]["balance"], 4_500);
        assert_eq!(r.json()["answer"]["provider"], "PROV-GW");
        let w = json!({"player": "P-GW-1", "tx": "wd-1", "amount": 9_000});
        let r = post(s, &b, "/gateway/v1/wallet/withdraw", Some(DESK_KEY), w).await;
        assert_eq!(
            (r.status, code(&r)),
            (422, "insufficient_funds".into()),
            "{}",
            r.body
        );
        assert_eq!(r.json()["answer"]["status"], "refused");
        // RULES.md W-10: a cashless host holds money for a machine and gives it back; a
        // second cancel finds nothing held, and a request names its machine.
        let hold = json!({"player": "P-GW-1", "tx": "XF-GW-1", "machine": "M-GW-1", "amount": 700});
        let r = post(
            s,
            &b,
            "/gateway/v1/wallet/transfer_request",
            Some(DESK_KEY),
            hold,
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            (
                r.json()["answer"]["kind"].as_str(),
                r.json()["answer"]["delta"].as_i64(),
                r.json()["answer"]["balance"].as_i64()
            ),
            (Some("transfer_request"), Some(-700), Some(3_800))
        );
        for (tx, status, delta) in [("XC-GW-1", 200, Some(700)), ("XC-GW-2", 422, None)] {
            let cancel = json!({"player": "P-GW-1", "tx": tx, "transfer": "XF-GW-1"});
            let r = post(
                s,
                &b,
                "/gateway/v1/wallet/transfer_cancel",
                Some(DESK_KEY),
                cancel,
            )
            .await;
            assert_eq!(r.status, status, "{}", r.body);
            assert_eq!(r.json()["answer"]["delta"].as_i64(), delta, "{}", r.body);
            if status == 422 {
                assert_eq!(code(&r), "transfer_not_held", "{}", r.body);
            }
        }
        let no_machine = json!({"player": "P-GW-1", "tx": "XF-GW-2", "amount": 700});
        let r = post(
            s,
            &b,
            "/gateway/v1/wallet/transfer_request",
            Some(DESK_KEY),
            no_machine,
        )
        .await;
        assert_eq!(
            (r.status, code(&r)),
            (400, "missing_field".into()),
            "{}",
            r.body
        );
        let r = get(
            s,
            &b,
            "/gateway/v1/wallet/P-GW-1/balance",
            Some(PROVIDER_KEY),
        )
        .await;
        assert_eq!(
            (r.status, r.json()["balance"].as_i64()),
            (200, Some(4_500)),
            "{}",
            r.body
        );
        let r = get(
            s,
            &b,
            "/gateway/v1/wallet/P-NOBODY/balance",
            Some(PROVIDER_KEY),
        )
        .await;
        assert_eq!(
            (r.status, code(&r)),
            (404, "wallet_unknown".into()),
            "{}",
            r.body
        );
        // A key limited to one request a second: the second at once is refused.
        let r = get(
            s,
            &b,
            "/gateway/v1/wallet/P-GW-1/balance",
            Some(LIMITED_KEY),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = get(
            s,
            &b,
            "/gateway/v1/wallet/P-GW-1/balance",
            Some(LIMITED_KEY),
        )
        .await;
        assert_eq!(
            (r.status, code(&r)),
            (429, "rate_limited".into()),
            "{}",
            r.body
        );

        // RULES.md D: the desk opens its shift before it sells and pays tickets; a second
        // open is refused.
        let open = json!({"tx": "sh-1", "cashier": "C-GW", "float": 10_000});
        let r = post(s, &b, "/gateway/v1/desk/open", Some(DESK_KEY), open).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["answer_kind"], "shift");
        assert_eq!(
            (
                r.json()["answer"]["shift"].as_i64(),
                r.json()["answer"]["expected"].as_i64()
            ),
            (Some(1), Some(10_000))
        );
        let again = json!({"tx": "sh-2", "cashier": "C-GW", "float": 10_000});
        let r = post(s, &b, "/gateway/v1/desk/open", Some(DESK_KEY), again).await;
        assert_eq!(
            (r.status, code(&r)),
            (422, "shift_already_open".into()),
            "{}",
            r.body
        );
        let r = post(
            s,
            &b,
            "/gateway/v1/desk/open",
            Some(PROVIDER_KEY),
            json!({"tx": "sh-x", "cashier": "C-X", "float": 0}),
        )
        .await;
        assert_eq!(
            (r.status, code(&r)),
            (403, "forbidden".into()),
            "{}",
            r.body
        );
        let r = post(
            s,
            &b,
            "/gateway/v1/desk/close",
            Some(DESK_KEY),
            json!({"tx": "sh-x"}),
        )
        .await;
        assert_eq!(
            (r.status, code(&r)),
            (400, "missing_field".into()),
            "{}",
            r.body
        );

        // A ticket sold at the desk, looked up, held for payment, paid.
        let r = post(
            s,
            &b,
            "/gateway/v1/vouchers/issue",
            Some(DESK_KEY),
            issue.clone(),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["answer"]["voucher_status"], "issued");
        let r = get(
            s,
            &b,
            "/gateway/v1/vouchers/000000000000000042/status",
            Some(DESK_KEY),
        )
        .await;
        assert_eq!(
            (
                r.status,
                r.json()["status"].as_str(),
                r.json()["amount"].as_i64()
            ),
            (200, Some("issued"), Some(2_500)),
            "{}",
            r.body
        );
        let redeem = json!({"validation": "000000000000000042", "tx": "red-1", "amount": 2_500});
        let r = post(s, &b, "/gateway/v1/vouchers/redeem", Some(DESK_KEY), redeem).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["answer"]["voucher_status"], "held");
        let commit = json!({"validation": "000000000000000042", "tx": "red-1-c"});
        let r = post(s, &b, "/gateway/v1/vouchers/commit", Some(DESK_KEY), commit).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["answer"]["voucher_status"], "redeemed");
        let twice = json!({"validation": "000000000000000042", "tx": "red-2", "amount": 2_500});
        let r = post(s, &b, "/gateway/v1/vouchers/redeem", Some(DESK_KEY), twice).await;
        assert_eq!(
            (r.status, code(&r)),
            (422, "voucher_already_redeemed".into()),
            "{}",
            r.body
        );
        // The shift closes with the float: the ticket sold and the ticket paid are booked
        // (they reached the desk before its close, on the same desk-ops partition), so
        // nothing is missing; a second close is refused.
        let close = json!({"tx": "sh-3", "counted": 10_000});
        let r = post(s, &b, "/gateway/v1/desk/close", Some(DESK_KEY), close).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let a = &r.json()["answer"];
        assert_eq!(
            (
                a["cash_in"].as_i64(),
                a["cash_out"].as_i64(),
                a["expected"].as_i64(),
                a["variance"].as_i64()
            ),
            (Some(2_500), Some(2_500), Some(10_000), Some(0)),
            "{}",
            r.body
        );
        let r = post(
            s,
            &b,
            "/gateway/v1/desk/close",
            Some(DESK_KEY),
            json!({"tx": "sh-4", "counted": 10_000}),
        )
        .await;
        assert_eq!(
            (r.status, code(&r)),
            (422, "shift_not_open".into()),
            "{}",
            r.body
        );
        let r = get(
            s,
            &b,
            "/gateway/v1/vouchers/000000000000000043/status",
            Some(DESK_KEY),
        )
        .await;
        assert_eq!(
            (r.status, code(&r)),
            (404, "voucher_unknown".into()),
            "{}",
            r.body
        );

        // An operator voids a ticket through the admin API: the void goes through the input
        // topic, the voucher answers, the audit log says who, why, before and after.
        let other = json!({"validation": "000000000000000044", "tx": "iss-2", "amount": 700});
        let r = post(s, &b, "/gateway/v1/vouchers/issue", Some(DESK_KEY), other).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let void = |number: &'static str| {
            let url = format!("{admin}/api/admin/vouchers/{number}/void");
            operator("POST", url, r#"{"reason": "printed in error"}"#.into())
        };
        let r = void("000000000000000044").await;
        assert_eq!(r.status, 200, "{}", r.body);
        let first_void = r.json();
        assert_eq!(first_void["voucher"]["voucher_status"], "voided");
        assert_eq!(first_void["before"]["status"], "issued");
        let r = void("000000000000000044").await;
        assert_eq!(
            r.status, 200,
            "the same void again gets the first answer: {}",
            r.body
        );
        assert_eq!(r.json()["output_id"], first_void["output_id"]);
        let r = void("000000000000000042").await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("voucher_already_redeemed"), "{}", r.body);
        let r = get(
            s,
            &b,
            "/gateway/v1/vouchers/000000000000000044/status",
            Some(DESK_KEY),
        )
        .await;
        assert_eq!(r.json()["status"], "voided", "{}", r.body);
        let log = std::fs::read_to_string(dir.path().join("audit.jsonl")).expect("audit log");
        let voids: Vec<Value> = log
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|e| e["action"] == "voucher.void")
            .collect();
        assert_eq!(voids.len(), 3, "{log}");
        assert_eq!(voids[0]["who"], "ops-alice");
        assert_eq!(voids[0]["outcome"], "ok");
        assert_eq!(voids[0]["after"]["voucher_status"], "voided");
        assert_eq!(voids[2]["outcome"], "refused");

        // An operator sets a player's limits through the admin API (RULES.md W-9): the
        // wallet's owner applies them, the gateway's next deposit meets them, the audit log
        // keeps who and what.
        let limit = |body: String| {
            operator(
                "POST",
                format!("{admin}/api/admin/players/P-GW-1/limits"),
                body,
            )
        };
        let day = r#"{"deposit_limit": {"period": "day", "amount": 100}}"#;
        let r = limit(day.to_owned()).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["answer"]["kind"], "deposit_limit", "{}", r.body);
        assert_eq!(r.json()["before"]["kyc"], "unverified", "{}", r.body);
        // The day's deposits so far (5,000) already pass the new limit of 100.
        let over = json!({"player": "P-GW-1", "tx": "dep-limited", "amount": 1});
        let r = post(s, &b, "/gateway/v1/wallet/deposit", Some(DESK_KEY), over).await;
        assert_eq!(
            (r.status, code(&r)),
            (422, "limit_deposit".into()),
            "{}",
            r.body
        );
        // A weekly loss limit of 1,500: the bet of 1,000 (bet-1) counts, so a bet of 600 would
        // take the week's loss past it (it is refused before its funds are looked at).
        let week = r#"{"loss_limit": {"period": "week", "amount": 1500}}"#;
        let r = limit(week.to_owned()).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["answer"]["kind"], "loss_limit", "{}", r.body);
        let bet = json!({"player": "P-GW-1", "tx": "bet-lossy", "amount": 600, "round": "R-8"});
        let r = post(s, &b, "/gateway/v1/wallet/bet", Some(PROVIDER_KEY), bet).await;
        assert_eq!(
            (r.status, code(&r)),
            (422, "limit_loss".into()),
            "{}",
            r.body
        );
        // A session limit: the answer is the wallet's, and the wallet view shows it.
        let session = r#"{"session_limit": {"minutes": 90}}"#;
        let r = limit(session.to_owned()).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["answer"]["kind"], "session_limit", "{}", r.body);
        assert_eq!(
            r.json()["before"]["loss_limits_minor"]["week"],
            1500,
            "{}",
            r.body
        );
        let until = pitboss::clock::now_ms() + 3_600_000;
        let exclusion = format!(r#"{{"self_exclusion": {{"until": {until}}}}}"#);
        let r = limit(exclusion).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let shorter = format!(r#"{{"self_exclusion": {{"until": {}}}}}"#, until - 1);
        let r = limit(shorter).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("self_exclusion_active"), "{}", r.body);
        let bet = json!({"player": "P-GW-1", "tx": "bet-excluded", "amount": 10, "round": "R-9"});
        let r = post(s, &b, "/gateway/v1/wallet/bet", Some(PROVIDER_KEY), bet).await;
        assert_eq!(
            (r.status, code(&r)),
            (422, "self_excluded".into()),
            "{}",
            r.body
        );
        let r = get(s, &b, "/gateway/v1/wallet/P-GW-1/balance", Some(DESK_KEY)).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let changes = audited(dir.path(), "player.limit");
        assert_eq!(changes.len(), 5, "{changes:?}");
        assert_eq!(
            (&changes[0]["outcome"], &changes[4]["outcome"]),
            (&json!("ok"), &json!("refused"))
        );

        // RULES.md W-12: an operator awards a bonus through the admin API; the player stakes it
        // through the gateway (no cash: the bonus pays), and the answers carry the bonus. No
        // promotion reaches the self-excluded player.
        let award = |player: &str, body: String| {
            operator(
                "POST",
                format!("{admin}/api/admin/players/{player}/bonus"),
                body,
            )
        };
        let expires = pitboss::clock::now_ms() + 3_600_000;
        // A player pitboss knows nothing of gets no bonus; a limit set makes the player known.
        let unknown = format!(r#"{{"amount": 499, "wagering": 2, "expires_at": {expires}}}"#);
        let r = award("P-GW-BONUS", unknown).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("player_unknown"), "{}", r.body);
        let session = r#"{"session_limit": {"minutes": 600}}"#.to_owned();
        let url = format!("{admin}/api/admin/players/P-GW-BONUS/limits");
        let r = operator("POST", url, session).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let body = format!(r#"{{"amount": 500, "wagering": 2, "expires_at": {expires}}}"#);
        let r = award("P-GW-BONUS", body.clone()).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let a = &r.json()["answer"];
        assert_eq!(
            (&a["kind"], &a["delta"], &a["bonus_delta"], &a["bonus"]),
            (&json!("bonus_award"), &json!(0), &json!(500), &json!(500)),
            "{}",
            r.body
        );
        let bet =
            json!({"player": "P-GW-BONUS", "tx": "bet-bonus", "amount": 200, "round": "R-10"});
        let r = post(s, &b, "/gateway/v1/wallet/bet", Some(PROVIDER_KEY), bet).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let a = &r.json()["answer"];
        assert_eq!(
            (&a["delta"], &a["balance"], &a["bonus_delta"], &a["bonus"]),
            (&json!(0), &json!(0), &json!(-200), &json!(300)),
            "{}",
            r.body
        );
        // The gateway's commands are version 2: the bet's round is in its answer (E-2).
        assert_eq!(a["round"], "R-10", "{}", r.body);
        let r = award("P-GW-1", body).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("self_excluded"), "{}", r.body);
        let awards = audited(dir.path(), "player.bonus");
        assert_eq!(awards.len(), 3, "{awards:?}");
        assert_eq!(
            (
                &awards[0]["outcome"],
                &awards[1]["outcome"],
                &awards[2]["outcome"]
            ),
            (&json!("refused"), &json!("ok"), &json!("refused"))
        );

        // RULES.md W-11: a deposit at the logging threshold opens an AML case; an officer
        // closes it through the admin API: the closing is on the compliance topic after the
        // case, the case book shows it closed, a second closing is refused, and the audit log
        // keeps both attempts.
        let cash = json!({"player": "P-GW-AML", "tx": "dep-aml", "amount": 300_000});
        let r = post(s, &b, "/gateway/v1/wallet/deposit", Some(DESK_KEY), cash).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let list = format!("{admin}/api/compliance/cases?player=P-GW-AML");
        let viewer = |url: String| operator("GET", url, String::new());
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let case = loop {
            let r = viewer(list.clone()).await;
            assert_eq!(r.status, 200, "{}", r.body);
            if let Some(c) = r.json()["cases"]
                .as_array()
                .and_then(|c| c.first().cloned())
            {
                break c;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no AML case: {}",
                r.body
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(
            (&case["case"], &case["status"]),
            (&json!("log"), &json!("open")),
            "{case}"
        );
        let id = case["id"].as_str().unwrap().to_owned();
        let close = |why: &'static str| {
            let url = format!("{admin}/api/admin/compliance/cases/{id}/close");
            operator("POST", url, format!(r#"{{"reason": "{why}"}}"#))
        };
        let r = close("salary slip seen").await;
        assert_eq!(r.status, 200, "{}", r.body);
        let closed = r.json();
        assert_eq!(closed["case"]["status"], "closed", "{closed}");
        assert_eq!(closed["case"]["closed"]["reason"], "salary slip seen");
        let r = close("again").await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert!(r.body.contains("case_closed"), "{}", r.body);
        let r = viewer(format!("{list}&status=open")).await;
        assert_eq!(r.json()["total"], 0, "{}", r.body);
        let c = cfg.clone();
        let on_topic = tokio::task::spawn_blocking(move || {
            support::read_all(
                &c.kafka.brokers,
                std::slice::from_ref(&c.kafka.topics.compliance),
            )
        })
        .await
        .unwrap();
        let at = |want: &str| {
            on_topic
                .iter()
                .position(|r| decode_output(&r.payload).is_ok_and(|e| e.output_id() == want))
        };
        let (case_at, closing_at) = (at(&id), at(closed["output_id"].as_str().unwrap()));
        assert!(
            case_at.is_some() && closing_at > case_at,
            "the closing follows its case on the topic: {case_at:?} {closing_at:?}"
        );
        match decode_output(&on_topic[closing_at.unwrap()].payload).unwrap() {
            OutputEvent::AmlCaseClosed(e) => {
                assert_eq!(
                    (&*e.payload.case_id, &*e.payload.player),
                    (id.as_str(), "P-GW-AML")
                );
                assert_eq!(&*e.payload.reason, "salary slip seen");
            }
            other => panic!("{}", other.kind()),
        }
        let closings = audited(dir.path(), "aml_case.close");
        assert_eq!(closings.len(), 2, "{closings:?}");
        assert_eq!(
            (&closings[0]["outcome"], &closings[1]["outcome"]),
            (&json!("ok"), &json!("conflict"))
        );

        // The deposit was applied once, though it was sent three times.
        let c = cfg.clone();
        let deposits = tokio::task::spawn_blocking(move || {
            support::read_all(
                &c.kafka.brokers,
                std::slice::from_ref(&c.kafka.topics.wallet_events),
            )
            .iter()
            .filter_map(|r| match decode_output(&r.payload).ok()? {
                OutputEvent::Wallet(e) if e.payload.tx == "dep-1" => {
                    Some((e.output_id.to_string(), e.payload.status.to_string()))
                }
                _ => None,
            })
            .collect::<Vec<_>>()
        })
        .await
        .unwrap();
        assert!(!deposits.is_empty());
        assert!(
            deposits
                .iter()
                .all(|d| d == &deposits[0] && d.1 == "applied"),
            "one answer, published again for each repeat: {deposits:?}"
        );
        button.send(true).unwrap();
    };
    let opts = RunOptions {
        http: true,
        ..RunOptions::default()
    };
    let (report, ()) = tokio::join!(run_with(cfg.clone(), opts, shutdown), rest);
    report.expect("pitboss run stops cleanly");
    first.stop().await;
}

/// An operator's call to the admin API (outside the gateway's document).
async fn operator(method: &'static str, url: String, body: String) -> testkit::http::Reply {
    tokio::task::spawn_blocking(move || {
        testkit::http::send_within(
            Duration::from_secs(30),
            method,
            &url,
            Some(OPERATOR_KEY),
            &body,
        )
    })
    .await
    .expect("the admin call's thread")
}

/// The entries of the admin audit log in `dir` with `action`.
fn audited(dir: &std::path::Path, action: &str) -> Vec<Value> {
    std::fs::read_to_string(dir.join("audit.jsonl"))
        .expect("audit log")
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["action"] == action)
        .collect()
}

/// Retries the timed-out deposit until the processor (starting meanwhile) answers it: a
/// 504 while the run's consumer joins its group is the answer a real client retries on.
async fn retry_until_answered(spec: &Spec, base: &str, deposit: &Value) -> Reply {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let r = post(
            spec,
            base,
            "/gateway/v1/wallet/deposit",
            Some(DESK_KEY),
            deposit.clone(),
        )
        .await;
        if r.status != 504 || std::time::Instant::now() > deadline {
            return r;
        }
    }
}
