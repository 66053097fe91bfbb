//! The statements README.md and the schemas make about the wire, checked against the code
//! that keeps them (issue 11, finding 18): where a document states a limit, a code or an
//! identity, a test here holds the code to it.

use std::path::PathBuf;

use pitboss::wire::{self, WireError, MESSAGE_BYTES_MAX};

fn repo_file(rel: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// "at most 64 KiB (a larger message is rejected with code `oversize`)": the envelope schema,
/// README and the decoder say the same number, and the decoder keeps it to the byte.
#[test]
fn the_message_size_limit_is_the_documented_one() {
    assert_eq!(MESSAGE_BYTES_MAX, 64 * 1024);
    let envelope = repo_file("schemas/events/envelope.schema.json");
    assert!(envelope.contains("at most 64 KiB"), "envelope schema");
    assert!(
        envelope.contains("`oversize`"),
        "envelope schema names the code"
    );
    assert!(
        repo_file("README.md").contains("a message over 64 KiB"),
        "README"
    );

    let mut big = vec![0x80u8]; // an empty MessagePack map, then padding
    big.resize(MESSAGE_BYTES_MAX + 1, 0);
    match wire::decode_input(&big) {
        Err(e @ WireError::Oversize { .. }) => assert_eq!(e.code(), "oversize"),
        other => panic!("a message of {} bytes: {other:?}", big.len()),
    }
}

/// README lists what is rejected and says a valid event in another currency is refused
/// instead; the rejection codes it implies are the decoder's stable codes.
#[test]
fn rejected_and_refused_are_told_apart_as_documented() {
    let readme = repo_file("README.md");
    assert!(readme.contains("an invalid currency code"), "README");
    assert!(
        readme.contains("(`wrong_currency`"),
        "README: refused, with its code"
    );
    for code in [
        "malformed",
        "unsupported_version",
        "invalid_currency",
        "oversize",
    ] {
        assert!(
            wire::REASON_CODES.contains(&code),
            "{code} is not a rejection code: {:?}",
            wire::REASON_CODES
        );
    }
    assert!(
        !wire::REASON_CODES.contains(&"wrong_currency"),
        "wrong_currency is a refusal, not a rejection"
    );
}

/// The envelope does not call `event_id` the idempotency key (machines deduplicate by
/// epoch and sequence, wallets by provider and tx), and every wallet command schema names
/// the key RULES.md W-1 defines.
#[test]
fn the_schemas_name_the_idempotency_keys_rules_md_defines() {
    let envelope = repo_file("schemas/events/envelope.schema.json");
    assert!(envelope.contains("It is not what deduplicates"), "envelope");
    assert!(envelope.contains("(machine, epoch, seq)"), "envelope");
    for kind in ["deposit", "withdraw", "wallet_bet", "wallet_win"] {
        let s = repo_file(&format!("schemas/events/{kind}.schema.json"));
        assert!(
            s.contains("with the player and the sender (source.server)"),
            "{kind}"
        );
    }
    let rules = repo_file("RULES.md");
    assert!(rules.contains("| machine event | (machine, epoch, seq) |"));
    assert!(rules.contains("| wallet command | (player, provider, tx) |"));
}
