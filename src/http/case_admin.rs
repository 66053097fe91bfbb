//! The admin API's closing of an AML case (issue 13, RULES.md W-11): a compliance officer
//! (an operator key) closes a case of the book with a reason, audited.
//!
//! The closing is an `aml_case_closed` output the request publishes on the compliance topic
//! (keyed by the case's player, so it follows the case on its partition), not a command to
//! an entity: no wallet rule depends on it. Every instance's book reads the topic from its
//! beginning, so the case shows closed everywhere and after a restart; this instance's book
//! takes it at once. Only `pitboss run` has the topic: the demo answers 503 and changes
//! nothing.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::command_admin::{open, Opened};
use super::error::ApiError;
use super::state::HttpState;
use crate::wire::{encode_case_closed, AmlCaseClosedPayload};

/// How long the closing waits for the broker.
const DEADLINE: Duration = Duration::from_secs(10);

/// The request's body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CloseBody {
    /// Why (1 to 256 bytes, not only spaces).
    reason: String,
}

/// `POST /api/admin/compliance/cases/{id}/close` (operator): `{"reason": "..."}`.
pub async fn close(
    state: web::Data<HttpState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let Opened {
        attempt,
        who,
        body: CloseBody { reason },
        ..
    } = open(
        &state,
        &req,
        id.clone(),
        payload,
        "aml_case.close",
        "aml_case_close",
    )
    .await?;
    if reason.trim().is_empty() || reason.len() > 256 {
        let e = ApiError::bad_request("reason must be 1 to 256 bytes, not only spaces");
        return attempt.refuse(e, None);
    }
    let Some(case) = state.feed.cases.get(&id) else {
        let e = ApiError::not_found(format!(
            "case_unknown: no AML case {id} in the case book (GET /api/compliance/cases lists them)"
        ));
        return attempt.refuse(e, None);
    };
    let before = serde_json::to_value(&case).ok();
    if let Some(c) = &case.closed {
        let e = ApiError {
            status: StatusCode::CONFLICT,
            message: format!(
                "case_closed: case {id} was closed by {} at {} ms: {}",
                c.operator, c.at_ms, c.reason
            ),
        };
        return attempt.refuse(e, before);
    }
    let Some(commands) = state.commands.clone() else {
        let e = ApiError::unavailable(
            "a closing is published on the compliance topic: served by pitboss run, not by \
             the demo; nothing changed",
        );
        return attempt.refuse(e, before);
    };
    let closing = AmlCaseClosedPayload {
        case_id: id.as_str().into(),
        player: case.player.as_str().into(),
        reason: reason.as_str().into(),
        operator: who.name.as_str().into(),
        closed_at: crate::clock::now_ms(),
    };
    let rec = encode_case_closed(&closing);
    if let Err(e) = commands.publish(&rec, DEADLINE).await {
        let e = ApiError::unavailable(format!(
            "the closing could not be published ({e}); nothing changed, retry"
        ));
        return attempt.refuse(e, before);
    }
    state.feed.cases.offer(&rec.bytes);
    let after = state
        .feed
        .cases
        .get(&id)
        .and_then(|c| serde_json::to_value(c).ok());
    let entry = attempt.record(StatusCode::OK, "ok", None, before, after.clone())?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "case": after,
        "output_id": rec.id.to_string(),
        "audit": entry.at,
    })))
}
