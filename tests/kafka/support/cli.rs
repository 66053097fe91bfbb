//! The real binary's subcommands a Kafka test runs around `pitboss run`.

use std::process::Command;

/// `pitboss audit --config <config>` (the real binary `bin`) exits 0 and reports no
/// difference between the stored ledger and the stored state.
pub fn assert_audit_clean(bin: &str, config: &std::path::Path) {
    let out = Command::new(bin)
        .args(["audit", "--config"])
        .arg(config)
        .output()
        .expect("running pitboss audit");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pitboss audit: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains(" 0 differences"), "{text}");
}

/// `pitboss topics create --config <config>` (the real binary `bin`) succeeds; its listing.
pub fn topics_create_cli(bin: &str, config: &std::path::Path) -> String {
    let out = Command::new(bin)
        .args(["topics", "create", "--config"])
        .arg(config)
        .output()
        .expect("running pitboss topics create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
