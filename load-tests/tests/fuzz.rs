//! `pitboss-load fuzz` in CI: random and damaged messages through the decoder, the actors and
//! the store, two seeds. The run itself checks (and exits non-zero otherwise) that nothing
//! panicked, every rejection has its reason and a stable code, every routed input completed,
//! the end state balances and the audit finds no difference; the test reads its JSON line and
//! asserts the same, and that the damage really was varied and mostly rejected.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn fuzz(seed: u64) -> Value {
    let load = PathBuf::from(env!("CARGO_BIN_EXE_pitboss-load"));
    let out = Command::new(load)
        .args([
            "fuzz",
            "--cases",
            "50000",
            "--seed",
            &seed.to_string(),
            "--json",
        ])
        .output()
        .expect("pitboss-load runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pitboss-load fuzz --seed {seed} failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.lines().last().expect("a JSON line")).expect("JSON")
}

#[test]
fn a_fuzz_run_finds_no_panic_and_keeps_the_books() {
    for seed in [11, 12] {
        let r = fuzz(seed);
        assert_eq!(r["ok"], true, "{r}");
        assert_eq!(r["panics"], 0, "{r}");
        assert_eq!(r["failed_inputs"], 0, "{r}");
        assert_eq!(r["hung"], false, "{r}");
        assert_eq!(r["rejections_without_reason"], 0, "{r}");
        assert_eq!(r["conservation_ok"], true, "{r}");
        assert_eq!(r["audit_ok"], true, "{r}");
        let n = |k: &str| r[k].as_u64().unwrap_or(0);
        assert_eq!(n("routed") + n("rejected"), 50_000, "{r}");
        assert!(n("damaged") > 20_000, "{r}");
        // Most damage is rejected (some damage still leaves a valid event).
        assert!(n("rejected") > n("damaged") * 3 / 4, "{r}");
        let kinds = r["damaged_by_kind"].as_object().expect("kinds");
        for kind in [
            "random_bytes",
            "truncated",
            "bits_flipped",
            "bytes_inserted",
            "json_instead",
            "deeply_nested",
            "field_replaced",
            "field_removed",
            "field_added",
        ] {
            assert!(
                kinds.get(kind).and_then(Value::as_u64).unwrap_or(0) > 0,
                "{kind}: {r}"
            );
        }
        let codes = r["rejected_by_code"].as_object().expect("codes");
        for code in ["malformed", "missing_field", "invalid_amount", "invalid_id"] {
            assert!(
                codes.get(code).and_then(Value::as_u64).unwrap_or(0) > 0,
                "{code}: {r}"
            );
        }
    }
}
