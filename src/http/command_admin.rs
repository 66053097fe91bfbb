//! What the admin API's commands share (the voucher void, a player's limits): an operator's
//! change is the command its service would send, submitted through the input topic to the
//! entity that owns it (the gateway's command channel, [`crate::gateway::Commands`]); the
//! entity's answer is the request's, and the attempt is audited either way.

use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::admin::{audit_writable, json_body, outcome_of, read_body, Attempt};
use super::audit::AuditEntry;
use super::auth::{authenticate, forbidden, Principal, Role};
use super::error::ApiError;
use super::state::HttpState;
use crate::gateway::{Answer, Commands, SubmitError};
use crate::wire::InputEnvelope;

/// An operator's request, authenticated, authorised and parsed; refusals up to here are
/// audited (a body too large or a key unknown is refused before, unaudited).
pub(super) struct Opened<'a, T> {
    pub(super) attempt: Attempt<'a>,
    pub(super) who: Principal,
    /// The request body as sent (JSON), for the audit and the derived `tx`.
    pub(super) request: serde_json::Value,
    pub(super) body: T,
    pub(super) started: Instant,
}

/// Opens an operator's command on `target`: reads the body, checks the key (operator at
/// least) and that the audit log is writable, and parses the body as `T`.
pub(super) async fn open<'a, T: DeserializeOwned>(
    state: &'a HttpState,
    req: &HttpRequest,
    target: String,
    payload: web::Payload,
    action: &'static str,
    metric: &'static str,
) -> Result<Opened<'a, T>, ApiError> {
    let started = Instant::now();
    let raw = read_body(payload).await?;
    let who = authenticate(&state.config.api_keys, req)?;
    let (request, parsed) = json_body(&raw);
    let attempt = Attempt {
        state,
        who: who.clone(),
        action,
        metric,
        target,
        request: request.clone(),
    };
    if who.role < Role::Operator {
        return attempt.refuse(forbidden(&who, Role::Operator), None);
    }
    audit_writable(state)?;
    match parsed.and_then(|v| {
        serde_json::from_value::<T>(v)
            .map_err(|e| ApiError::bad_request(format!("invalid request: {e}")))
    }) {
        Ok(body) => Ok(Opened {
            attempt,
            who,
            request,
            body,
            started,
        }),
        Err(e) => attempt.refuse(e, None),
    }
}

/// A command ready to go: the event, the key its answer comes under, and for messages its
/// `tx` and what it is (`void`, `change`).
pub(super) struct Submission<'a> {
    pub(super) env: &'a InputEnvelope,
    pub(super) answer_key: String,
    pub(super) tx: &'a str,
    pub(super) what: &'static str,
    pub(super) started: Instant,
    pub(super) deadline: Duration,
}

/// The command's `tx`: the `Idempotency-Key` header if given, else `{prefix}-` and a digest
/// of `content` (the same request twice is one command).
pub(super) fn idempotency_tx(
    req: &HttpRequest,
    content: &str,
    prefix: &str,
) -> Result<String, ApiError> {
    match req.headers().get("idempotency-key").map(|v| v.to_str()) {
        Some(Ok(k)) if !k.is_empty() => Ok(k.to_owned()),
        Some(_) => Err(ApiError::bad_request(
            "Idempotency-Key must be visible ASCII, not empty",
        )),
        None => {
            let digest = Sha256::digest(content.as_bytes());
            Ok(format!("{prefix}-{}", &hex::encode(digest)[..24]))
        }
    }
}

/// Submits the command and waits for the entity's answer: applied, it is returned with the
/// audit entry written; refused (422, or 409 for `tx_conflict`), timed out (504) or not sent
/// (503), the attempt is audited and the error returned.
pub(super) async fn submit_audited(
    attempt: Attempt<'_>,
    commands: &Commands,
    s: Submission<'_>,
    before: Option<serde_json::Value>,
) -> Result<(Answer, AuditEntry), ApiError> {
    let answer = match commands
        .submit(s.env, s.answer_key, s.started, s.deadline)
        .await
    {
        Ok(a) => a,
        Err(e) => {
            let (status, message) = match e {
                SubmitError::Timeout => (
                    StatusCode::GATEWAY_TIMEOUT,
                    format!(
                        "no answer within {} s; the {} may still be applied: retry with the same Idempotency-Key ({})",
                        s.deadline.as_secs(),
                        s.what,
                        s.tx
                    ),
                ),
                other => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "the {} could not be sent ({other:?}); nothing changed, retry",
                        s.what
                    ),
                ),
            };
            return attempt.refuse(ApiError { status, message }, before);
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
        before,
        Some(answer.payload.clone()),
    )?;
    Ok((answer, entry))
}
