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

use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use pitboss_actors::domain::ValidationNo;
use pitboss_actors::shell::{Snapshot, VoucherEntity};
use serde::Deserialize;

use super::admin::Attempt;
use super::api::voucher_view;
use super::command_admin::{idempotency_tx, open, submit_audited, Opened, Submission};
use super::error::ApiError;
use super::state::HttpState;
use crate::gateway::voucher_key;
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
    let target = path.into_inner();
    let Opened {
        attempt,
        who,
        body: VoidBody { reason },
        started,
        ..
    } = open(
        &state,
        &req,
        target.clone(),
        payload,
        "voucher.void",
        "voucher_void",
    )
    .await?;
    let refuse = |attempt: Attempt<'_>, e: ApiError, before: Option<serde_json::Value>| {
        attempt.refuse(e, before)
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
    let tx = match idempotency_tx(&req, &format!("{} {id} {reason}", who.name), "void") {
        Ok(tx) => tx,
        Err(e) => return refuse(attempt, e, before),
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
    let submission = Submission {
        env: &env,
        answer_key: voucher_key(&id.to_string(), BACK_OFFICE, &tx, "void"),
        tx: &tx,
        what: "void",
        started,
        deadline: DEADLINE,
    };
    let (answer, entry) = submit_audited(attempt, &commands, submission, before.clone()).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "voucher": answer.payload,
        "before": before,
        "tx": tx,
        "output_id": answer.output_id,
        "audit": entry.at,
    })))
}
