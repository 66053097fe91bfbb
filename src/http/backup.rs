//! `POST /api/admin/backup` (admin): a backup of the embedded store taken by the instance
//! that holds it. redb locks its file, so while `pitboss run` runs no other process can
//! read the store; `pitboss backup` asks the instance through this endpoint instead (see
//! `store::backup` for the design). The directory is a path on the instance's machine.
//!
//! Like every admin change it is written to the audit log (action `store.backup`, the
//! manifest as `after`) before it is answered, and not started unless the log can be
//! opened for appending.

use std::path::PathBuf;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::admin::BODY_LEN_MAX;
use super::audit::{rfc3339, AuditEntry};
use super::auth::{authenticate, forbidden, Role};
use super::error::ApiError;
use super::state::HttpState;
use crate::clock::now_ms;
use crate::store::backup::BackupError;
use crate::telemetry;

/// The request body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BackupRequest {
    /// An absolute path on the instance's machine; the directory must be empty or absent.
    to: PathBuf,
    /// Restore the backup into a scratch directory and audit it (default: yes).
    #[serde(default = "yes")]
    check: bool,
}

fn yes() -> bool {
    true
}

fn status_of(e: &BackupError) -> StatusCode {
    match e {
        BackupError::NotEmpty { .. } | BackupError::Busy => StatusCode::CONFLICT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// `POST /api/admin/backup`: 201 with the manifest (and the restore check) once the backup
/// is complete; 409 for a directory that is not empty or a backup already running; 503
/// when this instance keeps no embedded store.
pub async fn backup(
    state: web::Data<HttpState>,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let raw = match body.to_bytes_limited(BODY_LEN_MAX).await {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => {
            return Err(ApiError::bad_request(format!(
                "unreadable request body: {e}"
            )))
        }
        Err(_) => {
            return Err(ApiError {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                message: format!("request body larger than {BODY_LEN_MAX} bytes"),
            })
        }
    };
    let who = authenticate(&state.config.api_keys, &req)?;
    let request: serde_json::Value = serde_json::from_slice(&raw)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&raw).into()));
    let target = request
        .get("to")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    let result = async {
        if who.role < Role::Admin {
            return Err(forbidden(&who, Role::Admin));
        }
        let r: BackupRequest = serde_json::from_slice(&raw)
            .map_err(|e| ApiError::bad_request(format!("invalid request: {e}")))?;
        if !r.to.is_absolute() {
            return Err(ApiError::bad_request(format!(
                "\"to\" must be an absolute path on the instance's machine, got {:?}",
                r.to
            )));
        }
        let backups = state.backups.clone().ok_or_else(|| ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: "this instance keeps no embedded store to back up (store.kind); back up ScyllaDB with its snapshots".into(),
        })?;
        state.audit.check_writable().map_err(|e| ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: format!("audit log not writable, no backup taken: {e}"),
        })?;
        backups.take(&r.to, r.check).await.map_err(|e| ApiError {
            status: status_of(&e),
            message: e.to_string(),
        })
    }
    .await;
    let at_ms = now_ms();
    let (status, outcome, error, after) = match &result {
        Ok(t) => (
            StatusCode::CREATED,
            "ok",
            None,
            Some(serde_json::json!({"manifest": t.manifest, "check": t.check})),
        ),
        Err(e) => {
            let outcome = match e.status {
                StatusCode::FORBIDDEN => "forbidden",
                StatusCode::BAD_REQUEST => "invalid",
                StatusCode::CONFLICT => "conflict",
                StatusCode::SERVICE_UNAVAILABLE => "unavailable",
                _ => "error",
            };
            (e.status, outcome, Some(e.message.clone()), None)
        }
    };
    let entry = AuditEntry {
        at_ms,
        at: rfc3339(at_ms),
        who: who.name.clone(),
        role: format!("{:?}", who.role).to_lowercase(),
        action: "store.backup".into(),
        target,
        request,
        outcome: outcome.into(),
        status: status.as_u16(),
        error,
        before: None,
        after,
    };
    telemetry::admin_action("store.backup", outcome);
    if let Err(e) = state.audit.append(&entry) {
        tracing::error!(error = %e, "audit log write failed");
        return Err(ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: format!("audit log write failed: {e}"),
        });
    }
    let t = result?;
    Ok(HttpResponse::Created().json(serde_json::json!({
        "dir": t.dir,
        "manifest": t.manifest,
        "check": t.check,
        "audit": entry.at,
    })))
}
