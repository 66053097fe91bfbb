//! The `[http]` section of the configuration.

use serde::{Deserialize, Serialize};

use super::auth::ApiKey;

/// The `[http]` section of the configuration (see `deploy/pitboss.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct HttpConfig {
    /// Listen address (`--http-addr` overrides it).
    pub addr: String,
    /// Server worker threads.
    pub workers: usize,
    /// Jackpot level updates on the feed, per pool, at most this often (ms).
    pub feed_level_interval_ms: u64,
    /// Feed events buffered per client before the client starts losing old level updates.
    pub feed_buffer_len: usize,
    /// Recent hits kept to resend to a client that fell behind.
    pub feed_recent_hits_max: usize,
    /// Feed clients at most (more get 503).
    pub feed_clients_max: usize,
    /// A comment line is sent to idle feed clients this often (ms), to keep proxies open.
    pub feed_keepalive_ms: u64,
    /// How often the census inspects live machines and halls (ms).
    pub census_interval_ms: u64,
    /// Machines the census remembers at most.
    pub census_machines_max: usize,
    /// Halls the census remembers at most.
    pub census_halls_max: usize,
    /// A machine pitboss has not heard from for this long (wall clock) is silent, and a hall
    /// whose machines all are is offline (RULES.md M-11); 0 = off.
    pub machine_silence_secs: u64,
    /// Items a list endpoint returns at most.
    pub list_len_max: usize,
    /// AML cases the operator's case book keeps (the newest; RULES.md W-11).
    pub aml_cases_kept: usize,
    /// Read APIs (machines, wallets, halls) need a key with the viewer role.
    pub read_requires_key: bool,
    /// The admin audit log: JSON lines, append-only.
    pub audit_log: String,
    /// API keys, stored as the SHA-256 of the key (hex).
    pub api_keys: Vec<ApiKey>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:8080".into(),
            workers: 2,
            feed_level_interval_ms: 250,
            feed_buffer_len: 256,
            feed_recent_hits_max: 32,
            feed_clients_max: 1000,
            feed_keepalive_ms: 15_000,
            census_interval_ms: 2000,
            census_machines_max: 100_000,
            census_halls_max: 10_000,
            machine_silence_secs: 900,
            list_len_max: 1000,
            aml_cases_kept: 1000,
            read_requires_key: false,
            audit_log: "data/audit.jsonl".into(),
            api_keys: Vec::new(),
        }
    }
}
