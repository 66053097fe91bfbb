//! API keys and roles.
//!
//! - Keys come from the configuration as the SHA-256 of the key (hex), never the key itself;
//!   a request carries the key as `Authorization: Bearer <key>` or `X-Api-Key: <key>`.
//! - Roles are ordered viewer < operator < admin. No key or an unknown key: 401. A key whose
//!   role is too low: 403.

use actix_web::http::StatusCode;
use actix_web::HttpRequest;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::error::ApiError;

/// A role. Ordered: a higher role may do what a lower one may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read APIs.
    Viewer,
    /// Change pool levels.
    Operator,
    /// Create pools, read the audit log.
    Admin,
}

/// An API key as configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ApiKey {
    /// Who holds it (written to the audit log).
    pub name: String,
    /// SHA-256 of the key, hex (`printf %s "$KEY" | sha256sum`).
    pub key_sha256: String,
    pub role: Role,
}

/// Who made a request.
#[derive(Debug, Clone, Serialize)]
pub struct Principal {
    /// The key's name.
    pub name: String,
    /// The key's role.
    pub role: Role,
}

/// The key a request presents (`Authorization: Bearer` or `X-Api-Key`), if any.
pub(crate) fn presented_key(req: &HttpRequest) -> Option<&str> {
    if let Some(v) = req.headers().get("authorization") {
        let v = v.to_str().ok()?;
        return v.strip_prefix("Bearer ").map(str::trim);
    }
    req.headers()
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Compares without an early exit, so the time taken does not tell how much matched.
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The key's holder if the request carries one of `keys`: 401 otherwise.
pub fn authenticate(keys: &[ApiKey], req: &HttpRequest) -> Result<Principal, ApiError> {
    let unauthorized = |m: &str| ApiError {
        status: StatusCode::UNAUTHORIZED,
        message: m.to_string(),
    };
    let key = presented_key(req).ok_or_else(|| {
        unauthorized("an API key is required (Authorization: Bearer <key> or X-Api-Key)")
    })?;
    let digest = hex::encode(Sha256::digest(key.as_bytes()));
    keys.iter()
        .find(|k| {
            same(
                k.key_sha256.to_ascii_lowercase().as_bytes(),
                digest.as_bytes(),
            )
        })
        .map(|k| Principal {
            name: k.name.clone(),
            role: k.role,
        })
        .ok_or_else(|| unauthorized("unknown API key"))
}

/// The key's holder if it has at least `role`: 401 without a known key, 403 below the role.
pub fn authorize(keys: &[ApiKey], req: &HttpRequest, role: Role) -> Result<Principal, ApiError> {
    let p = authenticate(keys, req)?;
    if p.role < role {
        return Err(forbidden(&p, role));
    }
    Ok(p)
}

/// 403: the key is known, its role too low.
pub fn forbidden(p: &Principal, role: Role) -> ApiError {
    ApiError {
        status: StatusCode::FORBIDDEN,
        message: format!(
            "key {} has role {:?}; this needs {:?} or higher",
            p.name, p.role, role
        )
        .to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Viewer < Role::Operator && Role::Operator < Role::Admin);
    }

    #[test]
    fn constant_time_compare() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
    }
}
