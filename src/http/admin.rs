//! The admin API for jackpot pools, its API keys and roles, and the audit log.
//!
//! - Keys come from the configuration as the SHA-256 of the key (hex), never the key itself;
//!   a request carries the key as `Authorization: Bearer <key>` or `X-Api-Key: <key>`.
//! - Roles are ordered viewer < operator < admin. No key or an unknown key: 401. A key whose
//!   role is too low: 403. Changing a level needs operator, creating a pool and reading the
//!   audit log need admin.
//! - Every authenticated admin request that asks for a change is written to the audit log
//!   (who, what, when, before, after, outcome) before it is answered: an append-only file of
//!   JSON lines, synced to disk per entry. Refused attempts (403, 400, 404, 409) are logged
//!   too, with the reason. No change is made unless the log can be opened for appending.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use pitboss_actors::domain::jackpot::{LevelConfig, PoolConfig};
use pitboss_actors::domain::{HallId, PoolId};
use pitboss_actors::shell::{PoolAdminError, PoolSpec};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::api::{halls_of, pool_view, ApiError, PoolView};
use super::census::now_ms;
use super::HttpState;
use crate::telemetry;

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
    /// Its role.
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

fn presented_key(req: &HttpRequest) -> Option<&str> {
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
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The key's holder if the request carries a known key: 401 otherwise.
pub fn authenticate(state: &HttpState, req: &HttpRequest) -> Result<Principal, ApiError> {
    let unauthorized = |m: &str| ApiError {
        status: StatusCode::UNAUTHORIZED,
        message: m.to_string(),
    };
    let key = presented_key(req).ok_or_else(|| {
        unauthorized("an API key is required (Authorization: Bearer <key> or X-Api-Key)")
    })?;
    let digest = hex::encode(Sha256::digest(key.as_bytes()));
    state
        .config
        .api_keys
        .iter()
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
pub fn authorize(state: &HttpState, req: &HttpRequest, role: Role) -> Result<Principal, ApiError> {
    let p = authenticate(state, req)?;
    if p.role < role {
        return Err(forbidden(&p, role));
    }
    Ok(p)
}

fn forbidden(p: &Principal, role: Role) -> ApiError {
    ApiError {
        status: StatusCode::FORBIDDEN,
        message: format!(
            "key {} has role {:?}; this needs {:?} or higher",
            p.name, p.role, role
        )
        .to_lowercase(),
    }
}

/// One audit entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When, ms since the epoch.
    pub at_ms: i64,
    /// When, RFC 3339 (UTC).
    pub at: String,
    /// The key's name.
    pub who: String,
    /// The key's role.
    pub role: String,
    /// `pool.create` or `pool.level.change`.
    pub action: String,
    /// The pool (and level) acted on.
    pub target: String,
    /// The request body as received.
    pub request: serde_json::Value,
    /// `ok`, or why it was refused (`forbidden`, `invalid`, `not_found`, `conflict`).
    pub outcome: String,
    /// The HTTP status answered.
    pub status: u16,
    /// The refusal's message, if refused.
    pub error: Option<String>,
    /// The pool before (`null` for a creation or a refusal).
    pub before: Option<serde_json::Value>,
    /// The pool after (`null` for a refusal).
    pub after: Option<serde_json::Value>,
}

/// The append-only audit log (JSON lines).
pub struct AuditLog {
    path: PathBuf,
    lock: Mutex<()>,
}

impl AuditLog {
    /// A log at `path` (created, with its directory, at the first entry).
    pub fn new(path: &str) -> Self {
        Self {
            path: PathBuf::from(path),
            lock: Mutex::new(()),
        }
    }

    fn open(&self) -> std::io::Result<std::fs::File> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
    }

    /// Checks that the log can be appended to (before a change is made).
    pub fn check_writable(&self) -> std::io::Result<()> {
        let _g = self.lock.lock().expect("audit lock");
        self.open().map(drop)
    }

    /// Appends an entry and syncs it to disk.
    pub fn append(&self, entry: &AuditEntry) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let _g = self.lock.lock().expect("audit lock");
        let mut f = self.open()?;
        f.write_all(&line)?;
        f.sync_data()
    }

    /// The newest `limit` entries, oldest first.
    pub fn tail(&self, limit: usize) -> std::io::Result<Vec<serde_json::Value>> {
        let _g = self.lock.lock().expect("audit lock");
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        let start = lines.len().saturating_sub(limit);
        lines[start..]
            .iter()
            .map(|l| serde_json::from_str(l).map_err(std::io::Error::other))
            .collect()
    }
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// ms since the epoch as RFC 3339 UTC with milliseconds.
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (y, mo, d) = civil(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        s / 3600,
        (s % 3600) / 60,
        s % 60,
        ms.rem_euclid(1000)
    )
}

struct Attempt<'a> {
    state: &'a HttpState,
    who: Principal,
    action: &'static str,
    metric: &'static str,
    target: String,
    request: serde_json::Value,
}

impl Attempt<'_> {
    /// Writes the entry, then answers. The log was checked writable before the change; a
    /// write that still fails turns the answer into a 500 (the change stays made, and the
    /// failure is logged as an error).
    fn finish(
        self,
        result: Result<(StatusCode, Option<PoolView>, PoolView), ApiError>,
    ) -> Result<HttpResponse, ApiError> {
        let at_ms = now_ms();
        let (status, outcome, error, before, after) = match &result {
            Ok((status, before, after)) => (
                *status,
                "ok",
                None,
                before
                    .as_ref()
                    .map(|b| serde_json::to_value(b).expect("views serialize")),
                Some(serde_json::to_value(after).expect("views serialize")),
            ),
            Err(e) => {
                let outcome = match e.status {
                    StatusCode::FORBIDDEN => "forbidden",
                    StatusCode::NOT_FOUND => "not_found",
                    StatusCode::CONFLICT => "conflict",
                    StatusCode::BAD_REQUEST => "invalid",
                    _ => "error",
                };
                (e.status, outcome, Some(e.message.clone()), None, None)
            }
        };
        let entry = AuditEntry {
            at_ms,
            at: rfc3339(at_ms),
            who: self.who.name.clone(),
            role: format!("{:?}", self.who.role).to_lowercase(),
            action: self.action.to_string(),
            target: self.target,
            request: self.request,
            outcome: outcome.to_string(),
            status: status.as_u16(),
            error,
            before,
            after,
        };
        telemetry::admin_action(self.metric, outcome);
        if let Err(e) = self.state.audit.append(&entry) {
            tracing::error!(error = %e, "audit log write failed");
            return Err(ApiError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                message: format!("audit log write failed: {e}"),
            });
        }
        match result {
            Ok((status, before, after)) => {
                Ok(HttpResponse::build(status).json(serde_json::json!({
                    "pool": after,
                    "before": before,
                    "audit": entry.at,
                })))
            }
            Err(e) => Err(e),
        }
    }
}

/// A level in a pool creation request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewLevel {
    name: String,
    seed_minor: i64,
    contribution_percent: Decimal,
    #[serde(default)]
    ceiling_minor: Option<i64>,
    #[serde(default)]
    mystery: bool,
}

/// `POST /api/admin/pools` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPool {
    id: String,
    /// Linked halls; absent or empty: every hall.
    #[serde(default)]
    halls: Vec<String>,
    levels: Vec<NewLevel>,
}

fn invalid(e: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(e.to_string())
}

fn parse_body<T: serde::de::DeserializeOwned>(body: serde_json::Value) -> Result<T, ApiError> {
    serde_json::from_value(body).map_err(|e| invalid(format!("invalid request: {e}")))
}

/// The body for the audit log (as JSON, or as text if it is not JSON), and its parse.
fn json_body(raw: &[u8]) -> (serde_json::Value, Result<serde_json::Value, ApiError>) {
    match serde_json::from_slice::<serde_json::Value>(raw) {
        Ok(v) => (v.clone(), Ok(v)),
        Err(e) => {
            let text: String = String::from_utf8_lossy(raw).chars().take(4096).collect();
            (
                serde_json::Value::String(text),
                Err(invalid(format!("invalid JSON body: {e}"))),
            )
        }
    }
}

/// No change is made unless its audit entry can be written.
fn audit_writable(state: &HttpState) -> Result<(), ApiError> {
    state.audit.check_writable().map_err(|e| ApiError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        message: format!("audit log not writable, nothing changed: {e}"),
    })
}

fn admin_error(e: PoolAdminError) -> ApiError {
    match e {
        PoolAdminError::UnknownPool(_) => ApiError::not_found(e.to_string()),
        PoolAdminError::Exists(_) => ApiError {
            status: StatusCode::CONFLICT,
            message: e.to_string(),
        },
        PoolAdminError::Invalid(d) => invalid(d),
        PoolAdminError::Store(_) => ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: e.to_string(),
        },
    }
}

/// `POST /api/admin/pools` (admin): creates a pool, every level at its seed.
pub async fn create_pool(
    state: web::Data<HttpState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&state, &req)?;
    let (body, parsed) = json_body(&body);
    let target = body
        .get("id")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .chars()
        .take(64)
        .collect();
    let attempt = Attempt {
        state: &state,
        who: who.clone(),
        action: "pool.create",
        metric: "pool_create",
        target,
        request: body.clone(),
    };
    let result = async {
        if who.role < Role::Admin {
            return Err(forbidden(&who, Role::Admin));
        }
        let new: NewPool = parse_body(parsed?)?;
        let id = PoolId::new(&new.id).map_err(invalid)?;
        let mut levels = Vec::new();
        for l in new.levels {
            levels.push(LevelConfig {
                name: l.name,
                seed: l.seed_minor,
                contribution_ppm: LevelConfig::ppm_from_percent(l.contribution_percent)
                    .map_err(invalid)?,
                ceiling: l.ceiling_minor,
                mystery: l.mystery,
            });
        }
        let halls = if new.halls.is_empty() {
            None
        } else {
            Some(
                new.halls
                    .iter()
                    .map(|h| HallId::new(h))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(invalid)?,
            )
        };
        let config = PoolConfig {
            currency: state.runtime.config.currency,
            levels,
        };
        config.validate().map_err(invalid)?;
        let spec = PoolSpec { id, config, halls };
        audit_writable(&state)?;
        let created = state
            .runtime
            .create_pool(spec.clone())
            .await
            .map_err(admin_error)?;
        Ok((
            StatusCode::CREATED,
            None,
            PoolView::of_state(&created, halls_of(&spec)),
        ))
    }
    .await;
    attempt.finish(result)
}

/// `PATCH /api/admin/pools/{id}/levels/{level}` body: the fields to change.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelChange {
    seed_minor: Option<i64>,
    ceiling_minor: Option<i64>,
    contribution_percent: Option<Decimal>,
}

/// `PATCH /api/admin/pools/{id}/levels/{level}` (operator): changes a level's seed, ceiling
/// or contribution, effective at the level's next reset (after its next hit). `{level}` is
/// the level's name or index. 202 Accepted with the pool before and after (the change shows
/// as the level's `pending`).
pub async fn change_level(
    state: web::Data<HttpState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&state, &req)?;
    let (pool_raw, level_raw) = path.into_inner();
    let (body, parsed) = json_body(&body);
    let attempt = Attempt {
        state: &state,
        who: who.clone(),
        action: "pool.level.change",
        metric: "level_change",
        target: format!(
            "{}/{}",
            pool_raw.chars().take(64).collect::<String>(),
            level_raw.chars().take(64).collect::<String>()
        ),
        request: body.clone(),
    };
    let result = async {
        if who.role < Role::Operator {
            return Err(forbidden(&who, Role::Operator));
        }
        let change: LevelChange = parse_body(parsed?)?;
        if change.seed_minor.is_none()
            && change.ceiling_minor.is_none()
            && change.contribution_percent.is_none()
        {
            return Err(invalid(
                "nothing to change: give seed_minor, ceiling_minor or contribution_percent",
            ));
        }
        let id = PoolId::new(&pool_raw).map_err(invalid)?;
        let spec = state
            .runtime
            .pool_spec(&id)
            .ok_or_else(|| ApiError::not_found(format!("pool {id} not found")))?;
        let before = pool_view(&state, &spec).await?;
        let index = before
            .levels
            .iter()
            .find(|l| l.config.name == level_raw)
            .or_else(|| {
                level_raw
                    .parse::<u8>()
                    .ok()
                    .and_then(|i| before.levels.get(i as usize))
            })
            .map(|l| l.level)
            .ok_or_else(|| ApiError::not_found(format!("pool {id} has no level {level_raw:?}")))?;
        // Start from what will be in force after the next reset: a pending change if one
        // waits, else the current configuration.
        let base = {
            let l = &before.levels[index as usize];
            l.pending.clone().unwrap_or_else(|| l.config.clone())
        };
        let mut config = LevelConfig {
            name: base.name.clone(),
            seed: base.seed_minor,
            contribution_ppm: LevelConfig::ppm_from_percent(
                base.contribution_percent.parse().map_err(invalid)?,
            )
            .map_err(invalid)?,
            ceiling: base.ceiling_minor,
            mystery: base.mystery,
        };
        if let Some(s) = change.seed_minor {
            config.seed = s;
        }
        if let Some(c) = change.ceiling_minor {
            config.ceiling = Some(c);
        }
        if let Some(p) = change.contribution_percent {
            config.contribution_ppm = LevelConfig::ppm_from_percent(p).map_err(invalid)?;
        }
        audit_writable(&state)?;
        let changed = state
            .runtime
            .schedule_level_change(&id, index, config)
            .await
            .map_err(admin_error)?;
        Ok((
            StatusCode::ACCEPTED,
            Some(PoolView::of_state(&changed.before, halls_of(&spec))),
            PoolView::of_state(&changed.after, halls_of(&spec)),
        ))
    }
    .await;
    attempt.finish(result)
}

/// Query of `GET /api/admin/audit`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    limit: Option<usize>,
}

/// `GET /api/admin/audit?limit=` (admin): the newest entries, oldest first.
pub async fn audit(
    state: web::Data<HttpState>,
    req: HttpRequest,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    authorize(&state, &req, Role::Admin)?;
    let limit = q.limit.unwrap_or(100).clamp(1, state.config.list_len_max);
    let entries = state.audit.tail(limit).map_err(|e| ApiError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        message: format!("audit log unreadable: {e}"),
    })?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "entries": entries })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_of_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(rfc3339(1_700_000_000_000), "2023-11-14T22:13:20.000Z");
    }

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
