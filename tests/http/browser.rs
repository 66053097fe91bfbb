//! The jackpot display page and the operator page in a real headless Chromium (Debian's
//! chromium and chromium-driver, driven over WebDriver): the levels on the page count up, a
//! hit shows its banner, and the operator page's scripts fill its tables (the open alerts
//! among them). Fails (never skips) when chromium or chromedriver is not installed.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::{free_port, get, require_binary, wait_for, ChildGuard, Demo};
use serde_json::{json, Value};

struct Browser {
    base: String,
    session: String,
    _driver: ChildGuard,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn start() -> Browser {
        let chromium = require_binary("chromium", "chromium");
        let driver = require_binary("chromedriver", "chromium-driver");
        let port = free_port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let killed = ChildGuard(child);
        let base = format!("http://127.0.0.1:{port}");
        wait_for("chromedriver /status", Duration::from_secs(30), || {
            let r = get(&format!("{base}/status"), None).ok()?;
            (r.json()["value"]["ready"] == true).then_some(())
        });
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": chromium,
                    "args": [
                        "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update",
                        "--disable-sync", "--window-size=1920,1080",
                        format!("--user-data-dir={}", profile.path().display()),
                    ]
                }
            }}
        });
        // Starting Chromium takes seconds, more on a loaded 2-core machine with the other
        // HTTP tests running: the new session gets a minute.
        let r = testkit::http::send_within(
            Duration::from_secs(60),
            "POST",
            &format!("{base}/session"),
            None,
            &caps.to_string(),
        );
        assert_eq!(r.status, 200, "new session: {}", r.body);
        let session = r.json()["value"]["sessionId"]
            .as_str()
            .expect("session id")
            .to_string();
        Browser {
            base,
            session,
            _driver: killed,
            _profile: profile,
        }
    }

    fn cmd(&self, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}/{path}", self.base, self.session);
        // A page load waits for the page: more than a plain request's 10 s under load.
        let r = testkit::http::send_within(
            Duration::from_secs(30),
            "POST",
            &url,
            None,
            &body.to_string(),
        );
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        r.json()["value"].clone()
    }

    fn open(&self, url: &str) {
        self.cmd("url", json!({ "url": url }));
    }

    fn eval(&self, script: &str) -> Value {
        self.cmd("execute/sync", json!({ "script": script, "args": [] }))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let url = format!("{}/session/{}", self.base, self.session);
        let _ = ureq::delete(&url).call();
    }
}

const AMOUNTS: &str = "return Array.from(document.querySelectorAll('.level .amount'))\
    .map(e => [e.parentElement.dataset.pool + '/' + e.parentElement.dataset.level, Number(e.dataset.minor), e.textContent]);";

#[test]
fn the_jackpot_page_counts_up_and_shows_hits() {
    let demo = Demo::start(2000, &[]);
    let browser = Browser::start();
    browser.open(&demo.url("/?hit_secs=4"));

    // The pools appear with their levels, formatted in major units with the currency.
    let first = wait_for("levels on the page", Duration::from_secs(30), || {
        let v = browser.eval(AMOUNTS);
        let rows = v.as_array()?.clone();
        (rows.len() == 2).then_some(rows)
    });
    let text = first[1][2].as_str().unwrap();
    assert!(text.starts_with('\u{20ac}') && text.contains('.'), "{text}");
    assert_eq!(first[0][0], "FAST/0");

    // The major level (never hit in a short run) counts up over a few seconds.
    let major0 = first[0][1].as_f64().unwrap();
    let major1 = wait_for(
        "the major level to count up",
        Duration::from_secs(30),
        || {
            let v = browser.eval(AMOUNTS);
            let m = v.as_array()?.first()?[1].as_f64()?;
            (m > major0).then_some(m)
        },
    );
    assert!(major1 > major0);
    // It is shown as it counts: the text matches the minor amount shown.
    let row = &browser.eval(AMOUNTS)[0];
    let minor = row[1].as_i64().unwrap();
    let major: Vec<char> = (minor / 100).to_string().chars().collect();
    let mut grouped = String::new();
    for (i, c) in major.iter().enumerate() {
        if i > 0 && (major.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(*c);
    }
    let expect = format!("{grouped}.{:02}", minor % 100);
    assert_eq!(
        row[2].as_str().unwrap().trim_start_matches('\u{20ac}'),
        expect
    );

    // A hit (the mini level hits every few hundred bets) shows the banner with its amount.
    let hit = wait_for("a hit banner", Duration::from_secs(60), || {
        let v = browser.eval(
            "const h = document.getElementById('hit');\
             return h.classList.contains('show') ? [h.dataset.count, \
               document.getElementById('hit-amount').textContent, \
               document.getElementById('hit-machine').textContent, \
               getComputedStyle(h).display] : null;",
        );
        v.as_array().cloned()
    });
    assert!(hit[0].as_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert!(hit[1].as_str().unwrap().starts_with('\u{20ac}'), "{hit:?}");
    assert!(
        hit[2].as_str().unwrap().starts_with("on machine M-"),
        "{hit:?}"
    );
    assert_eq!(hit[3], "flex", "the banner is visible");
    let conn = browser.eval("return document.getElementById('conn').textContent;");
    assert_eq!(conn, "live");
}

/// The operator page in the browser (issue 12): with a viewer's key, its scripts fill every
/// table, the open alerts included (a count on the tile, a row per alert or "none"), and the
/// census time shows, not an error; with low AML thresholds the demo's cases are listed
/// (RULES.md W-11).
#[test]
fn the_operator_page_lists_the_open_alerts() {
    let demo = Demo::start(
        2000,
        &[
            ("PITBOSS_AML__LOG_THRESHOLD_MINOR", "1000"),
            ("PITBOSS_AML__REPORT_THRESHOLD_MINOR", "5000"),
            ("PITBOSS_AML__STRUCTURING_FLOOR_MINOR", "4000"),
        ],
    );
    let browser = Browser::start();
    browser.open(&demo.url("/operator"));
    let viewer = crate::support::KEYS[0].0;
    browser.eval(&format!(
        "sessionStorage.setItem('pitboss-key', '{viewer}'); return true;"
    ));
    browser.open(&demo.url("/operator"));
    let page = wait_for("the operator page filled", Duration::from_secs(30), || {
        let v = browser.eval(
            "return [document.getElementById('t-alerts').textContent, \
             document.querySelectorAll('#alerts tbody tr').length, \
             document.getElementById('updated').textContent, \
             document.querySelectorAll('#halls tbody tr').length, \
             document.getElementById('t-cases').textContent, \
             (document.querySelector('#cases tbody tr td') || {}).textContent || ''];",
        );
        let updated = v[2].as_str()?;
        let cases: u64 = v[4].as_str()?.replace(',', "").parse().ok()?;
        (v[0].as_str()? != "\u{2013}" && updated.starts_with("census") && cases > 0).then_some(v)
    });
    let kind = page[5].as_str().unwrap();
    assert!(
        ["log", "report", "structuring"].contains(&kind),
        "a case row: {page}"
    );
    let tile = page[0].as_str().unwrap();
    assert!(
        tile.replace(',', "").parse::<u64>().is_ok(),
        "the tile counts the open alerts: {page}"
    );
    assert!(
        page[1].as_u64().unwrap() >= 1,
        "an alert row or \"none\": {page}"
    );
    assert!(
        page[3].as_u64().unwrap() >= 2,
        "the halls are listed: {page}"
    );
}
