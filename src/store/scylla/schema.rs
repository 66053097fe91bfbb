//! The CQL schema (`schemas/cql/`) and `pitboss migrate`, which applies it.

use pitboss_actors::shell::StoreError;

use crate::store::config::ScyllaConfig;
use crate::store::scylla::errors::cql_error;
use crate::store::scylla::session::session;

/// The CQL files `pitboss migrate` applies, in order (keyspace first).
pub const SCHEMA: &[(&str, &str)] = &[
    (
        "00_keyspace.cql",
        include_str!("../../../schemas/cql/00_keyspace.cql"),
    ),
    (
        "10_entities.cql",
        include_str!("../../../schemas/cql/10_entities.cql"),
    ),
    (
        "20_ledger.cql",
        include_str!("../../../schemas/cql/20_ledger.cql"),
    ),
    (
        "30_ggr.cql",
        include_str!("../../../schemas/cql/30_ggr.cql"),
    ),
    (
        "40_vouchers.cql",
        include_str!("../../../schemas/cql/40_vouchers.cql"),
    ),
    (
        "50_processor.cql",
        include_str!("../../../schemas/cql/50_processor.cql"),
    ),
    (
        "60_wallet_transactions.cql",
        include_str!("../../../schemas/cql/60_wallet_transactions.cql"),
    ),
    (
        "70_machine_log.cql",
        include_str!("../../../schemas/cql/70_machine_log.cql"),
    ),
    (
        "80_desks.cql",
        include_str!("../../../schemas/cql/80_desks.cql"),
    ),
];

/// The statements of a CQL file: comments (`--`) removed, split at `;`.
pub fn statements(text: &str) -> Vec<String> {
    let cleaned: String = text
        .lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    cleaned
        .split(';')
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
        .collect()
}

/// Checks a keyspace name before it is put into CQL text.
pub fn valid_keyspace(ks: &str) -> Result<(), StoreError> {
    let ok = !ks.is_empty()
        && ks.len() <= 48
        && ks.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && ks.as_bytes()[0].is_ascii_alphabetic();
    if ok {
        Ok(())
    } else {
        Err(StoreError::permanent(format!(
            "store.scylla.keyspace {ks:?} must be 1 to 48 letters, digits or underscores, starting with a letter"
        )))
    }
}

/// `pitboss migrate` for ScyllaDB: creates the keyspace (with the configured name and
/// replication) and every table, each `IF NOT EXISTS`, so running it again changes nothing.
pub async fn migrate(cfg: &ScyllaConfig) -> Result<Vec<String>, StoreError> {
    valid_keyspace(&cfg.keyspace)?;
    let s = session(cfg, None).await?;
    let mut done = Vec::new();
    for (file, text) in SCHEMA {
        for stmt in statements(text) {
            let stmt = if stmt.starts_with("CREATE KEYSPACE") {
                format!(
                    "CREATE KEYSPACE IF NOT EXISTS {} WITH replication = {}",
                    cfg.keyspace, cfg.replication
                )
            } else {
                stmt.replacen(
                    "CREATE TABLE IF NOT EXISTS ",
                    &format!("CREATE TABLE IF NOT EXISTS {}.", cfg.keyspace),
                    1,
                )
            };
            s.query_unpaged(stmt.clone(), &[])
                .await
                .map_err(|e| cql_error(e, format_args!("migrate {file}: {stmt}")))?;
            let head: String = stmt.chars().take(72).collect();
            done.push(format!("{file}: {head}"));
        }
    }
    Ok(done)
}
