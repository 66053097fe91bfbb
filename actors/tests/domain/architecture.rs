//! Architecture invariant: the domain core (actors/src/domain) is pure. It imports no actor
//! framework, async runtime, Kafka or database client, reads no clock and draws no
//! randomness. Cargo cannot enforce this inside one crate, so this test reads the sources.

use std::path::Path;

const FORBIDDEN: &[&str] = &[
    "actix",
    "tokio",
    "rdkafka",
    "scylla",
    "redb",
    "std::time::SystemTime",
    "std::time::Instant",
    "SystemTime::now",
    "Instant::now",
    "rand::",
    "std::thread",
    "std::net",
    "std::fs",
    "crate::shell",
];

#[test]
fn domain_core_imports_nothing_impure() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/domain");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("actors/src/domain exists") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("readable source");
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for word in FORBIDDEN {
                    assert!(
                        !code.contains(word),
                        "{}:{}: the pure core must not use `{word}`: {line}",
                        path.display(),
                        n + 1
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 8,
        "expected the domain's source files, found {checked}"
    );
}
