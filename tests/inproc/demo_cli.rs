//! The demo command as a user runs it: it stops by itself, writes its summary, and the money
//! reconciles.

use std::process::Command;

#[test]
fn demo_runs_for_a_duration_and_reconciles() {
    let dir = tempfile::tempdir().expect("tempdir");
    let summary = dir.path().join("s.json");
    let out = Command::new(env!("CARGO_BIN_EXE_pitboss"))
        .args([
            "demo",
            "--duration",
            "3",
            "--rate",
            "5000",
            "--quiet",
            "--summary-json",
        ])
        .arg(&summary)
        // A small network keeps the debug build quick; the defaults are exercised elsewhere.
        .env("PITBOSS_SIM__HALLS", "3")
        .env("PITBOSS_SIM__PLAYERS", "500")
        .env("PITBOSS_SIM__MALFORMED_PER_MILLION", "5000")
        .output()
        .expect("the pitboss binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "demo failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("conservation_ok: true"), "{stdout}");
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&summary).expect("summary written"))
            .expect("summary is JSON");
    assert_eq!(s["conservation_ok"], true);
    assert_eq!(s["generator_matches"], true);
    let processed = s["events_processed"].as_u64().expect("events_processed");
    assert!(processed > 1_000, "processed only {processed}");
    assert!(s["events_per_sec"].as_f64().expect("events_per_sec") > 0.0);
    assert_eq!(
        s["rejected"], s["generator"]["malformed"],
        "every malformed message is rejected"
    );
    assert!(s["recount"]["cash_in"].as_i64().expect("cash_in") > 0);
    assert_eq!(
        s["recount"]["entered_micro"],
        s["recount"]["accounted_micro"]
    );
}

#[test]
fn config_prints_the_effective_configuration() {
    let out = Command::new(env!("CARGO_BIN_EXE_pitboss"))
        .arg("config")
        .env("PITBOSS_NETWORK__CURRENCY", "CHF")
        .output()
        .expect("the pitboss binary runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("currency = \"CHF\""), "{text}");
}

#[test]
fn a_bad_configuration_is_a_clear_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_pitboss"))
        .arg("config")
        .env("PITBOSS_RUNTIME__NO_SUCH_KEY", "1")
        .output()
        .expect("the pitboss binary runs");
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("no-such-key"), "{text}");
}

#[test]
fn the_config_file_can_be_named_in_the_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("p.toml");
    std::fs::write(&file, "[network]\ncurrency = \"SEK\"\n").expect("config written");
    let out = Command::new(env!("CARGO_BIN_EXE_pitboss"))
        .arg("config")
        .env("PITBOSS_CONFIG", &file)
        .output()
        .expect("the pitboss binary runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(text.contains("currency = \"SEK\""), "{text}");
}

/// `pitboss run` with the shipped placeholder secret, or a short one, stops before it
/// connects to anything, says why, and never prints the secret; `pitboss config` shows only
/// its length; a secret file is read.
#[test]
fn pitboss_run_refuses_a_demo_grade_hit_point_secret() {
    let run = |secret: &str| {
        Command::new(env!("CARGO_BIN_EXE_pitboss"))
            .arg("run")
            .env("PITBOSS_RUNTIME__HIT_POINT_SECRET", secret)
            // Nothing listens here: the check must come first.
            .env("PITBOSS_KAFKA__BROKERS", "127.0.0.1:9")
            .output()
            .expect("the pitboss binary runs")
    };
    for (secret, expect) in [
        ("change-me", "shipped placeholder"),
        ("short-but-not-the-default", "at least 32 are required"),
    ] {
        let out = run(secret);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{secret}: started anyway");
        assert!(stderr.contains(expect), "{secret}: {stderr}");
        if secret != "change-me" {
            assert!(!stderr.contains(secret), "the secret was printed: {stderr}");
        }
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("secret");
    let secret = "a-secret-from-a-file-0123456789-abcdef";
    std::fs::write(&file, format!("{secret}\n")).expect("write secret");
    let out = Command::new(env!("CARGO_BIN_EXE_pitboss"))
        .arg("config")
        .env("PITBOSS_RUNTIME__HIT_POINT_SECRET_FILE", &file)
        .output()
        .expect("the pitboss binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(!stdout.contains(secret), "the secret was printed: {stdout}");
    assert!(
        stdout.contains(&format!("<redacted: {} characters>", secret.len())),
        "{stdout}"
    );
}
