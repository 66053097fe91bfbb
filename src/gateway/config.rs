//! The `[gateway]` section: the gateway's address, deadline and keys.

use serde::{Deserialize, Serialize};

/// What a gateway key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Wallet commands: deposit, withdraw, bet, win, rollback (a game provider, a desk), and
    /// a cashless host's transfer_request and transfer_cancel (RULES.md W-10).
    Wallet,
    /// Voucher commands: issue, redeem, commit, cancel, void (a cash desk, a back office).
    Vouchers,
    /// A cash desk's shift: open, fill, credit, close (RULES.md D).
    Desk,
}

impl Scope {
    /// The scope's name (paths, metrics).
    pub fn name(self) -> &'static str {
        match self {
            Scope::Wallet => "wallet",
            Scope::Vouchers => "vouchers",
            Scope::Desk => "desk",
        }
    }
}

/// A gateway key as configured: who holds it, which hall and sender it acts as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GatewayKey {
    /// Who holds it (logs).
    pub name: String,
    /// SHA-256 of the key, hex (`printf %s "$KEY" | sha256sum`).
    pub key_sha256: String,
    /// The hall the sender belongs to (`source.hall`).
    pub hall: String,
    /// The desk or game server it acts as (`source.server`): the `provider` of wallet
    /// answers, the `party` of voucher answers.
    pub server: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// Requests per second it may send, with bursts of as many (0: no limit); more are
    /// answered 429 `rate_limited`.
    #[serde(default)]
    pub rate_per_sec: u32,
}

/// The `[gateway]` section of the configuration (see `deploy/pitboss.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct GatewayConfig {
    /// Listen address; empty: no gateway (the default). `pitboss run` serves it beside the
    /// processor, `pitboss gateway` alone.
    pub addr: String,
    /// Server worker threads.
    pub workers: usize,
    /// How long a request waits for its answer before 504 `gateway_timeout` (ms).
    pub deadline_ms: u64,
    /// Requests waiting at once at most; more are answered 503 `gateway_busy`.
    pub waiting_max: usize,
    /// The keys of desks and providers, stored as the SHA-256 of the key (hex).
    pub keys: Vec<GatewayKey>,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            addr: String::new(),
            workers: 2,
            deadline_ms: 5_000,
            waiting_max: 10_000,
            keys: Vec::new(),
        }
    }
}

impl GatewayConfig {
    /// Refuses settings the gateway cannot work with.
    ///
    /// # Errors
    ///
    /// A message naming the setting.
    pub fn validate(&self) -> Result<(), String> {
        if self.addr.is_empty() {
            return Ok(());
        }
        if self.deadline_ms == 0 || self.deadline_ms > 120_000 {
            return Err("gateway.deadline-ms must be 1 to 120000".into());
        }
        if self.waiting_max == 0 {
            return Err("gateway.waiting-max must be at least 1".into());
        }
        if self.keys.is_empty() {
            return Err(
                "gateway.addr is set but gateway.keys is empty: no desk or provider could call it"
                    .into(),
            );
        }
        for k in &self.keys {
            let hex_ok =
                k.key_sha256.len() == 64 && k.key_sha256.bytes().all(|b| b.is_ascii_hexdigit());
            if !hex_ok {
                return Err(format!(
                    "gateway key {}: key-sha256 must be 64 hex digits",
                    k.name
                ));
            }
            if k.hall.is_empty() || k.server.is_empty() || k.scopes.is_empty() {
                return Err(format!(
                    "gateway key {}: hall, server and scopes are required",
                    k.name
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_the_gateway_cannot_work_with_are_refused() {
        assert!(
            GatewayConfig::default().validate().is_ok(),
            "off by default"
        );
        let on = GatewayConfig {
            addr: "127.0.0.1:0".into(),
            ..GatewayConfig::default()
        };
        assert!(on.validate().unwrap_err().contains("keys is empty"));
        let key = GatewayKey {
            name: "k".into(),
            key_sha256: "ab".into(),
            hall: "H-1".into(),
            server: "DESK-1".into(),
            scopes: vec![Scope::Vouchers],
            rate_per_sec: 0,
        };
        let short = GatewayConfig {
            keys: vec![key.clone()],
            ..on.clone()
        };
        assert!(short.validate().unwrap_err().contains("64 hex digits"));
        let good = GatewayConfig {
            keys: vec![GatewayKey {
                key_sha256: "0".repeat(64),
                ..key
            }],
            ..on
        };
        assert!(good.validate().is_ok());
        assert!(GatewayConfig {
            deadline_ms: 0,
            ..good
        }
        .validate()
        .is_err());
    }
}
