//! The admin API's voucher void (issue 12, RULES.md V-6): an operator voids an issued voucher
//! with a reason, audited.
//!
//! The void is the `voucher_void` command a back office sends (`source.server` =
//! [`BACK_OFFICE`]): it goes through the input topic to whichever instance owns the voucher,
//! which applies the rules, and the request is answered with the voucher's own answer (the
//! gateway's command channel, [`crate::gateway::Commands`]). The audit entry names the
//! operator, the voucher before, and the answer. Only `pitboss run` has an input topic: the
//! demo answers 503 and changes nothing.
//!
//! The command's `tx` is the `Idempotency-Key` header if given, else derived from the
//! operator, the voucher and the reason: the same void sent twice gets the first answer.

use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use pitboss_actors::domain::ValidationNo;
use pitboss_actors::shell::{Snapshot, VoucherEntity};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::admin::{audit_writable, json_body, outcome_of, read_body, Attempt};
use super::api::voucher_view;
use super::auth::{authenticate, forbidden, Role};
use super::error::ApiError;
use super::state::HttpState;
use crate::gateway::{voucher_key, SubmitError};
use crate::wire::{InputEnvelope, InputPayload};

/// The sender of operators' voids.
pub const BACK_OFFICE: &str = "BACKOFFICE";

/// How long a void waits for the voucher's answer.
const DEADLINE: Duration = Duration::from_secs(10);

/// The namespace of the void events' ids (UUID v5).
const EVENT_ID_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x7069_7462_6f73_7376_6f69_6476_6f75_0001);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VoidBody {
    reason: String,
}

/// `POST /api/admin/vouchers/{validation}/void` (operator).
pub async fn void(
    state: web::Data<HttpState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let started = Instant::now();
    let raw = read_body(payload).await?;
    let who = authenticate(&state.config.api_keys, &req)?;
    let (request, parsed) = json_body(&raw);
    let target = path.into_inner();
    let attempt = Attempt {
        state: &state,
        who: who.clone(),
        action: "voucher.void",
        metric: "voucher_void",
        target: target.clone(),
        request,
    };
    let refuse = |attempt: Attempt<'_>, e: ApiError, before: Option<serde_json::Value>| {
        attempt.record(
            e.status,
            outcome_of(e.status),
            Some(e.message.clone()),
            before,
            None,
        )?;
        Err(e)
    };
    if who.role < Role::Operator {
        return refuse(attempt, forbidden(&who, Role::Operator), None);
    }
    audit_writable(&state)?;
    let reason = match parsed.and_then(|v| {
        serde_json::from_value::<VoidBody>(v)
            .map_err(|e| ApiError::bad_request(format!("invalid request: {e}")))
    }) {
        Ok(b) => b.reason,
        Err(e) => return refuse(attempt, e, None),
    };
    let id = match ValidationNo::new(&target) {
        Ok(id) => id,
        Err(e) => {
            let e = ApiError::bad_request(format!("invalid validation number: {e}"));
            return refuse(attempt, e, None);
        }
    };
    let Some(commands) = state.commands.clone() else {
        let e = ApiError::unavailable(
            "a void goes through the input topic to the voucher's owner: served by pitboss run, \
             not by the demo; nothing changed",
        );
        return refuse(attempt, e, None);
    };
    let (before, hall) = match state.runtime.inspect::<VoucherEntity>(&id).await {
        Ok(Some(Snapshot::Voucher(v))) => (
            Some(serde_json::to_value(voucher_view(&v)).expect("views serialize")),
            v.issue.as_ref().map(|i| i.hall.to_string()),
        ),
        Ok(_) => (None, None),
        Err(e) => {
            let e = ApiError::unavailable(format!("the store did not answer: {e}"));
            return refuse(attempt, e, None);
        }
    };
    let tx = match req.headers().get("idempotency-key").map(|v| v.to_str()) {
        Some(Ok(k)) if !k.is_empty() => k.to_owned(),
        Some(_) => {
            let e = ApiError::bad_request("Idempotency-Key must be visible ASCII, not empty");
            return refuse(attempt, e, before);
        }
        None => {
            let digest = Sha256::digest(format!("{} {id} {reason}", who.name).as_bytes());
            format!("void-{}", &hex::encode(digest)[..24])
        }
    };
    let payload = InputPayload::VoucherVoid {
        validation: id.to_string(),
        tx: tx.clone(),
        reason,
    };
    let content = serde_json::to_string(&payload).expect("payloads serialize");
    let event_id = uuid::Uuid::new_v5(&EVENT_ID_NAMESPACE, content.as_bytes());
    let env = InputEnvelope::wallet(
        event_id,
        hall.as_deref().unwrap_or(BACK_OFFICE),
        BACK_OFFICE,
        crate::clock::now_ms().max(1) as u64,
        crate::clock::now_ms(),
        payload,
    );
    // Checked as the processor checks it (a blank or overlong reason is refused here).
    if let Err(e) = pitboss_actors::shell::Input::try_from(&env) {
        let e = ApiError::bad_request(format!("{}: {e}", e.code()));
        return refuse(attempt, e, before);
    }
    let key = voucher_key(&id.to_string(), BACK_OFFICE, &tx, "void");
    let answer = match commands.submit(&env, key, started, DEADLINE).await {
        Ok(a) => a,
        Err(e) => {
            let (status, message) = match e {
                SubmitError::Timeout => (
                    StatusCode::GATEWAY_TIMEOUT,
                    format!(
                        "no answer within {} s; the void may still be applied: retry with the same Idempotency-Key ({tx})",
                        DEADLINE.as_secs()
                    ),
                ),
                other => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("the void could not be sent ({other:?}); nothing changed, retry"),
                ),
            };
            return refuse(attempt, ApiError { status, message }, before);
        }
    };
    if answer.status != "applied" {
        let code = answer.code.clone().unwrap_or_default();
        let why = answer.payload["reason"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let status = if code == "tx_conflict" {
            StatusCode::CONFLICT
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        attempt.record(
            status,
            outcome_of(status),
            Some(format!("{code}: {why}")),
            before,
            Some(answer.payload.clone()),
        )?;
        return Err(ApiError {
            status,
            message: format!("{code}: {why}"),
        });
    }
    let entry = attempt.record(
        StatusCode::OK,
        "ok",
        None,
        before.clone(),
        Some(answer.payload.clone()),
    )?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "voucher": answer.payload,
        "before": before,
        "tx": tx,
        "output_id": answer.output_id,
        "audit": entry.at,
    })))
}
