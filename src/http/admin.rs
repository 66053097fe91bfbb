//! The admin API for jackpot pools.
//!
//! - Changing a level needs the operator role, creating a pool and reading the audit log
//!   need admin (see [`super::auth`]).
//! - Every authenticated request that asks for a change is written to the audit log (who,
//!   what, when, before, after, outcome) before it is answered. Refused attempts (403, 400,
//!   404, 409) are logged too, with the reason. No change is made unless the log can be
//!   opened for appending. A body over [`BODY_LEN_MAX`] is refused (413) before the
//!   key is looked at, so it is not logged.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use pitboss_actors::domain::jackpot::{LevelConfig, PoolConfig};
use pitboss_actors::domain::{HallId, PoolId};
use pitboss_actors::shell::{PoolAdminError, PoolSpec};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::audit::{rfc3339, AuditEntry};
use super::auth::{authenticate, authorize, forbidden, Principal, Role};
use super::error::ApiError;
use super::state::HttpState;
use super::views::{halls_of, pool_view, PoolView};
use crate::clock::now_ms;
use crate::telemetry;

/// Largest request body accepted; a larger one is answered 413.
pub const BODY_LEN_MAX: usize = 64 * 1024;

pub(super) struct Attempt<'a> {
    pub(super) state: &'a HttpState,
    pub(super) who: Principal,
    pub(super) action: &'static str,
    pub(super) metric: &'static str,
    pub(super) target: String,
    pub(super) request: serde_json::Value,
}

/// The audit outcome of a refusal, by its status.
pub(super) fn outcome_of(status: StatusCode) -> &'static str {
    match status {
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::CONFLICT => "conflict",
        StatusCode::BAD_REQUEST => "invalid",
        StatusCode::UNPROCESSABLE_ENTITY => "refused",
        StatusCode::GATEWAY_TIMEOUT => "timeout",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        _ => "error",
    }
}

impl Attempt<'_> {
    /// Records a refused attempt (its status, outcome and message) and returns the error.
    pub(super) fn refuse<T>(
        self,
        e: ApiError,
        before: Option<serde_json::Value>,
    ) -> Result<T, ApiError> {
        self.record(
            e.status,
            outcome_of(e.status),
            Some(e.message.clone()),
            before,
            None,
        )?;
        Err(e)
    }

    /// Writes the entry (who, what, when, before, after, outcome). The log was checked
    /// writable before the change; a write that still fails is a 500 (the change stays
    /// made, and the failure is logged as an error).
    pub(super) fn record(
        self,
        status: StatusCode,
        outcome: &'static str,
        error: Option<String>,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> Result<AuditEntry, ApiError> {
        let at_ms = now_ms();
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
        Ok(entry)
    }

    /// Writes the entry of a pool change, then answers.
    fn finish(
        self,
        result: Result<(StatusCode, Option<PoolView>, PoolView), ApiError>,
    ) -> Result<HttpResponse, ApiError> {
        let view = |v: &PoolView| serde_json::to_value(v).expect("views serialize");
        match result {
            Ok((status, before, after)) => {
                let entry = self.record(
                    status,
                    "ok",
                    None,
                    before.as_ref().map(view),
                    Some(view(&after)),
                )?;
                Ok(HttpResponse::build(status).json(serde_json::json!({
                    "pool": after,
                    "before": before,
                    "audit": entry.at,
                })))
            }
            Err(e) => {
                self.record(
                    e.status,
                    outcome_of(e.status),
                    Some(e.message.clone()),
                    None,
                    None,
                )?;
                Err(e)
            }
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
    #[serde(default)]
    min_bet_minor: i64,
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

/// The request body. Read by the handler rather than by the `Bytes` extractor, whose
/// refusals (413 beyond the limit, 400 for a broken body) are plain text: errors are JSON.
pub(super) async fn read_body(payload: web::Payload) -> Result<web::Bytes, ApiError> {
    match payload.to_bytes_limited(BODY_LEN_MAX).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => Err(invalid(format!("unreadable request body: {e}"))),
        Err(_) => Err(ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message: format!("request body larger than {} bytes", BODY_LEN_MAX),
        }),
    }
}

/// The body for the audit log (as JSON, or as text if it is not JSON), and its parse.
pub(super) fn json_body(raw: &[u8]) -> (serde_json::Value, Result<serde_json::Value, ApiError>) {
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
pub(super) fn audit_writable(state: &HttpState) -> Result<(), ApiError> {
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
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(payload).await?;
    let who = authenticate(&state.config.api_keys, &req)?;
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
                min_bet: l.min_bet_minor,
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
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(payload).await?;
    let who = authenticate(&state.config.api_keys, &req)?;
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
            min_bet: base.min_bet_minor,
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
    authorize(&state.config.api_keys, &req, Role::Admin)?;
    let limit = q.limit.unwrap_or(100).clamp(1, state.config.list_len_max);
    let entries = state.audit.tail(limit).map_err(|e| ApiError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        message: format!("audit log unreadable: {e}"),
    })?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "entries": entries })))
}
