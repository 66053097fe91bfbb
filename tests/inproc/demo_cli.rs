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
    // RULES.md M-12 and W-11: the sessions and cases published, as the outputs count them.
    for (field, kind) in [
        ("rated_sessions", "rated_session"),
        ("aml_cases", "aml_case"),
    ] {
        assert_eq!(
            s[field].as_u64().expect(field),
            s["outputs"][kind].as_u64().unwrap_or(0),
            "{field}"
        );
    }
    // RULES.md W-11: each structuring series the simulator sent opened a case (the last one
    // may be cut short by the end of the run).
    let series = s["generator"]["structuring"].as_u64().expect("structuring");
    assert!(
        s["aml_cases"].as_u64().unwrap() + 1 >= series,
        "{series} structuring series, {} cases",
        s["aml_cases"]
    );
    // RULES.md W-10: what carded players moved to machines, the recount found paid by their
    // wallets, unbacked or waiting for its request (a short run makes a few; `sim::tests`
    // makes many).
    s["cashless_transfers"]
        .as_u64()
        .expect("cashless_transfers");
    assert_eq!(
        s["transfers_to_machines_minor"].as_i64().unwrap()
            + s["transfers_unbacked_minor"].as_i64().unwrap()
            + s["transfers_waiting_minor"].as_i64().unwrap(),
        s["generator"]["transfers_to_machines"].as_i64().unwrap()
    );
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

/// `pitboss report gaming-day` (issue 13) over what a demo stored: the gaming days the demo
/// touched (UTC, 06:00 by default: today's and, near the rollover, the one before) add up to
/// every hall's bets and GGR as the demo's recount counted them; the CSV says the same; a
/// date without data, an unknown hall and a bad date are clear errors with a non-zero exit.
#[test]
fn the_gaming_day_report_adds_up_to_what_the_demo_booked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let summary = dir.path().join("s.json");
    let pitboss = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_pitboss"))
            .args(args)
            .env("PITBOSS_STORE__DATA_DIR", dir.path())
            .env("PITBOSS_SIM__HALLS", "3")
            .env("PITBOSS_SIM__PLAYERS", "500")
            .output()
            .expect("the pitboss binary runs")
    };
    let out = pitboss(&[
        "demo",
        "--duration",
        "2",
        "--rate",
        "5000",
        "--quiet",
        "--summary-json",
        summary.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&summary).expect("summary")).expect("JSON");
    let (bets, ggr) = (
        s["recount"]["bets"].as_i64().expect("bets"),
        s["recount"]["ggr"].as_i64().expect("ggr"),
    );
    assert!(bets > 0, "{s}");
    // The demo checked the same itself: its summary counts the rows of the days it touched
    // and counts their agreement in `conservation_ok`.
    assert_eq!(s["gaming_days_ok"], true, "{s}");
    assert!(s["gaming_day_rows"].as_u64().is_some_and(|n| n >= 3), "{s}");

    // The gaming days around now (UTC, rolling over at 06:00).
    let today = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(6))
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let (mut handle, mut net, mut days) = (0, 0, 0);
    for date in [today.yesterday().unwrap(), today] {
        let date = date.to_string();
        let out = pitboss(&["report", "gaming-day", "--date", &date]);
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains(&format!("no GGR recorded for gaming day {date}")),
                "{err}"
            );
            continue;
        }
        days += 1;
        let r: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(r["date"], date.as_str());
        let halls = r["halls"].as_array().expect("halls");
        let sum = |k: &str| halls.iter().map(|h| h[k].as_i64().unwrap()).sum::<i64>();
        assert_eq!(
            sum("handle_minor"),
            r["network"]["handle_minor"].as_i64().unwrap()
        );
        assert_eq!(r["halls"][0]["minutes"], 1440);
        handle += r["network"]["handle_minor"].as_i64().unwrap();
        net += r["network"]["ggr_minor"].as_i64().unwrap();
        // The CSV: a header, the halls, the network line with the same handle.
        let out = pitboss(&["report", "gaming-day", "--date", &date, "--format", "csv"]);
        assert!(out.status.success());
        let csv = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = csv.lines().collect();
        assert!(lines[0].starts_with("date,hall,time_zone,"), "{csv}");
        assert_eq!(lines.len(), halls.len() + 2, "{csv}");
        let network: Vec<&str> = lines.last().unwrap().split(',').collect();
        assert_eq!(network[1], "NETWORK");
        assert_eq!(
            network[7],
            r["network"]["handle_minor"].to_string(),
            "{csv}"
        );
        // The machine rows (from the ledger): a land hall's machines' coin in is its handle.
        let out = pitboss(&[
            "report",
            "gaming-day",
            "--date",
            &date,
            "--machines",
            "--format",
            "csv",
        ]);
        assert!(out.status.success());
        let csv = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = csv.lines().collect();
        assert!(
            lines[0].starts_with("date,hall,machine,currency,coin_in_minor,"),
            "{csv}"
        );
        assert!(lines.len() > halls.len(), "{csv}");
        for h in halls {
            let hall = h["hall"].as_str().unwrap();
            if hall == "ONLINE-1" {
                continue;
            }
            let header: Vec<&str> = lines[0].split(',').collect();
            let column = |name: &str| -> i64 {
                let i = header.iter().position(|c| *c == name).unwrap();
                lines[1..]
                    .iter()
                    .map(|l| l.split(',').collect::<Vec<_>>())
                    .filter(|f| f[1] == hall)
                    .map(|f| f[i].parse::<i64>().unwrap())
                    .sum()
            };
            assert_eq!(
                (column("coin_in_minor"), column("games")),
                (
                    h["handle_minor"].as_i64().unwrap(),
                    h["games"].as_i64().unwrap()
                ),
                "{hall}: {csv}"
            );
        }
    }
    assert!(days >= 1, "the demo's day has a report");
    assert_eq!(
        (handle, net),
        (bets, ggr),
        "the days add up to every hall's bets and GGR"
    );

    for (args, want) in [
        (
            vec!["--date", "2001-01-01"],
            "no GGR recorded for gaming day 2001-01-01",
        ),
        (vec!["--date", "31.12.2026"], "is not a date YYYY-MM-DD"),
        (
            vec!["--date", "2026-01-01", "--hall", "H-NONE"],
            "hall H-NONE has no GGR recorded at all",
        ),
    ] {
        let mut all = vec!["report", "gaming-day"];
        all.extend(args);
        let out = pitboss(&all);
        assert!(!out.status.success(), "{all:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{all:?}: {err}");
    }

    // RULES.md W-11: the patrons' cash of the local days around now (UTC by default), as
    // CSV: a header, the patrons, the day's sum.
    let utc = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let mut patron_days = 0;
    for date in [utc.yesterday().unwrap(), utc] {
        let date = date.to_string();
        let out = pitboss(&["report", "patrons", "--date", &date, "--format", "csv"]);
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("no patron's cash is counted on"), "{err}");
            continue;
        }
        patron_days += 1;
        let csv = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
        assert_eq!(lines[0][2], "player", "{csv}");
        let (rows, day) = (&lines[1..lines.len() - 1], lines.last().unwrap());
        assert!(!rows.is_empty() && day[2] == "DAY", "{csv}");
        let sum = |i: usize| {
            rows.iter()
                .map(|r| r[i].parse::<i64>().unwrap())
                .sum::<i64>()
        };
        assert_eq!(
            (sum(4), sum(5)),
            (day[4].parse().unwrap(), day[5].parse().unwrap())
        );
    }
    assert!(patron_days >= 1, "the demo's patrons have a day");
    let out = pitboss(&["report", "patrons", "--date", "31.12.2026"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a date YYYY-MM-DD"));
}
