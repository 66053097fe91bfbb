//! The gateway's HTTP routes: one per command, each answered with the entity's own answer.

use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use pitboss_actors::shell::Input;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::commands::SubmitError;
use super::config::{GatewayKey, Scope};
use super::replies::{desk_key, voucher_key, wallet_key, Answer};
use super::state::Gateway;
use crate::http::auth::{presented_key, same};
use crate::wire::{InputEnvelope, InputPayload};

/// Largest request body accepted.
pub const BODY_LEN_MAX: usize = 16 * 1024;

/// The namespace of the event ids the gateway derives (UUID v5).
const EVENT_ID_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x7069_7462_6f73_7367_6174_6577_6179_0001);

/// A failure before or instead of an answer.
#[derive(Debug, Serialize)]
struct Failure {
    status: &'static str,
    code: &'static str,
    message: String,
}

/// A request that gets no command: the status, the stable code and why.
pub(super) struct Fail {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl Fail {
    pub(super) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    fn bad(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub(super) fn response(self) -> HttpResponse {
        failure(self.status, self.code, self.message)
    }
}

pub(super) fn failure(
    status: StatusCode,
    code: &'static str,
    message: impl Into<String>,
) -> HttpResponse {
    let mut r = HttpResponse::build(status);
    if matches!(
        status,
        StatusCode::GATEWAY_TIMEOUT | StatusCode::SERVICE_UNAVAILABLE | StatusCode::CONFLICT
    ) {
        r.insert_header(("Retry-After", "1"));
    }
    r.json(Failure {
        status: "error",
        code,
        message: message.into(),
    })
}

pub(super) async fn not_found() -> HttpResponse {
    failure(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such gateway route (POST /gateway/v1/wallet/{op}, /gateway/v1/vouchers/{op} or /gateway/v1/desk/{op})",
    )
}

/// The body of a wallet command.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WalletBody {
    player: String,
    #[serde(default)]
    tx: String,
    #[serde(default)]
    amount: Option<i64>,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    round: Option<String>,
    #[serde(default)]
    bet_tx: Option<String>,
    /// `transfer_request`: the machine the money is held for (RULES.md W-10).
    #[serde(default)]
    machine: Option<String>,
    /// `transfer_cancel`: the transfer whose hold goes back.
    #[serde(default)]
    transfer: Option<String>,
    /// `transfer_request`: `cashable` (absent) or `restricted` (the bonus, RULES.md W-12).
    #[serde(default)]
    credit_type: Option<String>,
}

/// The body of a voucher command.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VoucherBody {
    validation: String,
    #[serde(default)]
    tx: String,
    #[serde(default)]
    amount: Option<i64>,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

/// The body of a desk's shift command (RULES.md D).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeskBody {
    #[serde(default)]
    tx: String,
    /// `open`: who opens the shift.
    #[serde(default)]
    cashier: Option<String>,
    /// `open`: the counted float.
    #[serde(default)]
    float: Option<i64>,
    /// `fill`, `credit`: the cash moved.
    #[serde(default)]
    amount: Option<i64>,
    /// `close`: the counted cash.
    #[serde(default)]
    counted: Option<i64>,
    #[serde(default)]
    currency: Option<String>,
}

/// A command ready to send: what it is and the key of its answer.
struct Command {
    op: &'static str,
    payload: InputPayload,
    answer_key: String,
}

fn missing(field: &str) -> Fail {
    Fail::bad("missing_field", format!("this operation needs `{field}`"))
}

fn wallet_command(
    op: &str,
    b: WalletBody,
    key: &GatewayKey,
    currency: String,
) -> Result<Command, Fail> {
    let amount = |b: &WalletBody| b.amount.ok_or_else(|| missing("amount"));
    let (op, kind, payload) = match op {
        "deposit" => (
            "deposit",
            "deposit",
            InputPayload::Deposit {
                amount: amount(&b)?,
                player: b.player.clone(),
                tx: b.tx.clone(),
                currency,
                round: b.round.clone(),
            },
        ),
        "withdraw" => (
            "withdraw",
            "withdrawal",
            InputPayload::Withdraw {
                amount: amount(&b)?,
                player: b.player.clone(),
                tx: b.tx.clone(),
                currency,
                round: b.round.clone(),
            },
        ),
        "bet" => (
            "bet",
            "bet",
            InputPayload::WalletBet {
                amount: amount(&b)?,
                player: b.player.clone(),
                tx: b.tx.clone(),
                currency,
                round: b.round.clone(),
            },
        ),
        "win" => (
            "win",
            "win",
            InputPayload::WalletWin {
                amount: amount(&b)?,
                player: b.player.clone(),
                tx: b.tx.clone(),
                currency,
                bet_tx: b.bet_tx.clone(),
                round: b.round.clone(),
            },
        ),
        "rollback" => (
            "rollback",
            "rollback",
            InputPayload::Rollback {
                player: b.player.clone(),
                tx: b.tx.clone(),
                bet_tx: b.bet_tx.clone().ok_or_else(|| missing("bet_tx"))?,
                currency,
                round: b.round.clone(),
            },
        ),
        // RULES.md W-10: a cashless host's hold for a machine, and its release.
        "transfer_request" => (
            "transfer_request",
            "transfer_request",
            InputPayload::TransferRequest {
                amount: amount(&b)?,
                machine: b.machine.clone().ok_or_else(|| missing("machine"))?,
                player: b.player.clone(),
                tx: b.tx.clone(),
                currency,
                credit_type: b.credit_type.clone(),
            },
        ),
        "transfer_cancel" => (
            "transfer_cancel",
            "transfer_cancel",
            InputPayload::TransferCancel {
                transfer: b.transfer.clone().ok_or_else(|| missing("transfer"))?,
                player: b.player.clone(),
                tx: b.tx.clone(),
            },
        ),
        _ => {
            return Err(unknown_op(
                "wallet",
                "deposit, withdraw, bet, win, rollback, transfer_request, transfer_cancel",
            ))
        }
    };
    Ok(Command {
        op,
        payload,
        answer_key: wallet_key(&b.player, &key.server, &b.tx, kind),
    })
}

fn voucher_command(
    op: &str,
    b: VoucherBody,
    key: &GatewayKey,
    currency: String,
) -> Result<Command, Fail> {
    let amount = |b: &VoucherBody| b.amount.ok_or_else(|| missing("amount"));
    let (validation, tx) = (b.validation.clone(), b.tx.clone());
    let (op, payload) = match op {
        "issue" => (
            "issue",
            InputPayload::VoucherIssue {
                amount: amount(&b)?,
                validation,
                tx,
                currency,
            },
        ),
        "redeem" => (
            "redeem",
            InputPayload::VoucherRedeem {
                amount: amount(&b)?,
                validation,
                tx,
                currency,
            },
        ),
        "commit" => ("commit", InputPayload::VoucherCommit { validation, tx }),
        "cancel" => ("cancel", InputPayload::VoucherCancel { validation, tx }),
        "void" => (
            "void",
            InputPayload::VoucherVoid {
                reason: b.reason.clone().ok_or_else(|| missing("reason"))?,
                validation,
                tx,
            },
        ),
        _ => {
            return Err(unknown_op(
                "vouchers",
                "issue, redeem, commit, cancel, void",
            ))
        }
    };
    Ok(Command {
        op,
        payload,
        answer_key: voucher_key(&b.validation, &key.server, &b.tx, op),
    })
}

fn desk_command(
    op: &str,
    b: DeskBody,
    key: &GatewayKey,
    currency: String,
) -> Result<Command, Fail> {
    let tx = b.tx.clone();
    let (op, payload) = match op {
        "open" => (
            "open",
            InputPayload::ShiftOpen {
                tx,
                cashier: b.cashier.clone().ok_or_else(|| missing("cashier"))?,
                float: b.float.ok_or_else(|| missing("float"))?,
                currency,
            },
        ),
        "fill" => (
            "fill",
            InputPayload::DeskFill {
                tx,
                amount: b.amount.ok_or_else(|| missing("amount"))?,
                currency,
            },
        ),
        "credit" => (
            "credit",
            InputPayload::DeskCredit {
                tx,
                amount: b.amount.ok_or_else(|| missing("amount"))?,
                currency,
            },
        ),
        "close" => (
            "close",
            InputPayload::ShiftClose {
                tx,
                counted: b.counted.ok_or_else(|| missing("counted"))?,
                currency,
            },
        ),
        _ => return Err(unknown_op("desk", "open, fill, credit, close")),
    };
    Ok(Command {
        op,
        payload,
        answer_key: desk_key(&key.server, &b.tx, op),
    })
}

fn unknown_op(scope: &str, ops: &str) -> Fail {
    Fail::new(
        StatusCode::NOT_FOUND,
        "unknown_operation",
        format!("no such {scope} operation (one of: {ops})"),
    )
}

/// The key the request presents, if it is one of the gateway's.
pub(super) fn authenticate<'a>(
    gw: &'a Gateway,
    req: &HttpRequest,
) -> Option<(usize, &'a GatewayKey)> {
    let presented = presented_key(req)?;
    let digest = hex::encode(Sha256::digest(presented.as_bytes()));
    gw.cfg.keys.iter().enumerate().find(|(_, k)| {
        same(
            k.key_sha256.to_ascii_lowercase().as_bytes(),
            digest.as_bytes(),
        )
    })
}

/// The key of a request, if it is known, may use `scope` and is within its rate.
pub(super) fn admitted<'a>(
    gw: &'a Gateway,
    req: &HttpRequest,
    scope: Scope,
) -> Result<&'a GatewayKey, Fail> {
    let Some((i, key)) = authenticate(gw, req) else {
        return Err(Fail::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a gateway key is required (Authorization: Bearer <key> or X-Api-Key)",
        ));
    };
    if !key.scopes.contains(&scope) {
        return Err(Fail::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("key {} may not use {}", key.name, scope.name()),
        ));
    }
    if !gw.admit(i) {
        return Err(Fail::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "key {} is limited to {} requests per second",
                key.name, key.rate_per_sec
            ),
        ));
    }
    Ok(key)
}

pub(super) async fn wallet(
    gw: web::Data<Gateway>,
    req: HttpRequest,
    op: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    handle(&gw, &req, Scope::Wallet, &op, &body).await
}

pub(super) async fn vouchers(
    gw: web::Data<Gateway>,
    req: HttpRequest,
    op: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    handle(&gw, &req, Scope::Vouchers, &op, &body).await
}

pub(super) async fn desk(
    gw: web::Data<Gateway>,
    req: HttpRequest,
    op: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    handle(&gw, &req, Scope::Desk, &op, &body).await
}

/// The metric label of an operation named in a path (a fixed set).
fn op_label(op: &str) -> &'static str {
    const OPS: [&str; 16] = [
        "deposit",
        "withdraw",
        "bet",
        "win",
        "rollback",
        "issue",
        "redeem",
        "commit",
        "cancel",
        "void",
        "transfer_request",
        "transfer_cancel",
        "open",
        "fill",
        "credit",
        "close",
    ];
    OPS.iter().find(|o| **o == op).copied().unwrap_or("other")
}

async fn handle(
    gw: &Gateway,
    req: &HttpRequest,
    scope: Scope,
    op: &str,
    body: &[u8],
) -> HttpResponse {
    let started = Instant::now();
    // The key is checked once; its name goes to the log (never the key itself).
    let (who, (outcome, response)) = match admitted(gw, req, scope) {
        Ok(key) => (
            key.name.as_str(),
            answer(gw, req, key, scope, op, body, started).await,
        ),
        Err(f) => {
            let outcome = if f.code == "rate_limited" {
                "rate_limited"
            } else {
                "unauthorized"
            };
            ("-", (outcome, f.response()))
        }
    };
    let took = started.elapsed();
    crate::telemetry::gateway_request(scope.name(), op_label(op), outcome, took);
    tracing::info!(
        target: "pitboss::gateway",
        key = who,
        scope = scope.name(),
        op = op_label(op),
        outcome,
        status = response.status().as_u16(),
        ms = took.as_millis() as u64,
        "gateway request"
    );
    response
}

async fn answer(
    gw: &Gateway,
    req: &HttpRequest,
    key: &GatewayKey,
    scope: Scope,
    op: &str,
    body: &[u8],
    started: Instant,
) -> (&'static str, HttpResponse) {
    let idempotency = match req.headers().get("idempotency-key").map(|v| v.to_str()) {
        Some(Err(_)) => {
            let f = Fail::bad("malformed", "Idempotency-Key is not visible ASCII");
            return ("invalid", f.response());
        }
        Some(Ok(k)) => Some(k.to_owned()),
        None => None,
    };
    // The command's `tx` is its idempotency key: from the body or the header (both: equal).
    let tx_of = |body_tx: &mut String| -> Result<(), Fail> {
        match (&idempotency, body_tx.is_empty()) {
            (Some(k), true) => *body_tx = k.clone(),
            (Some(k), false) if k != body_tx => return Err(Fail::bad(
                "idempotency_key_mismatch",
                "the Idempotency-Key header and the body's `tx` differ: send one, or both equal",
            )),
            (None, true) => return Err(missing("tx")),
            _ => {}
        }
        Ok(())
    };
    let malformed = |e: serde_json::Error| Fail::bad("malformed", format!("invalid body: {e}"));
    let command = match scope {
        Scope::Wallet => serde_json::from_slice::<WalletBody>(body)
            .map_err(malformed)
            .and_then(|mut b| {
                tx_of(&mut b.tx)?;
                let currency = b.currency.clone().unwrap_or_else(|| gw.currency.clone());
                wallet_command(op, b, key, currency)
            }),
        Scope::Vouchers => serde_json::from_slice::<VoucherBody>(body)
            .map_err(malformed)
            .and_then(|mut b| {
                tx_of(&mut b.tx)?;
                let currency = b.currency.clone().unwrap_or_else(|| gw.currency.clone());
                voucher_command(op, b, key, currency)
            }),
        Scope::Desk => serde_json::from_slice::<DeskBody>(body)
            .map_err(malformed)
            .and_then(|mut b| {
                tx_of(&mut b.tx)?;
                let currency = b.currency.clone().unwrap_or_else(|| gw.currency.clone());
                desk_command(op, b, key, currency)
            }),
    };
    let command = match command {
        Ok(c) => c,
        Err(f) => return ("invalid", f.response()),
    };
    // The same content from the same sender is the same event; other content is another.
    let content = serde_json::to_string(&command.payload).expect("payloads serialize");
    let event_id = uuid::Uuid::new_v5(
        &EVENT_ID_NAMESPACE,
        format!(
            "gateway {} {} {} {content}",
            key.server,
            scope.name(),
            command.op
        )
        .as_bytes(),
    );
    let mut env = InputEnvelope::wallet(
        event_id,
        &key.hall,
        &key.server,
        gw.next_seq(),
        crate::clock::now_ms(),
        command.payload,
    );
    // The gateway speaks the current version: the fields its requests take that version 1
    // does not read (a bet's `round`, RULES.md E-2; a transfer's `credit_type`, W-12) are
    // read, not dropped.
    env.schema_version = 2;
    // Validated exactly as the processor will: a bad command is answered here, never sent.
    if let Err(e) = Input::try_from(&env) {
        return ("invalid", Fail::bad(e.code(), e.to_string()).response());
    }
    let event_text = event_id.hyphenated().to_string();
    let deadline = gw.deadline();
    match gw
        .commands
        .submit(&env, command.answer_key, started, deadline)
        .await
    {
        Ok(a) => reply(a, &event_text),
        Err(e) => submit_failure(&e, deadline),
    }
}

/// The answer to a command that got none.
pub(crate) fn submit_failure(e: &SubmitError, deadline: Duration) -> (&'static str, HttpResponse) {
    let (outcome, status, code, message) = match e {
        SubmitError::Busy => (
            "unavailable",
            StatusCode::SERVICE_UNAVAILABLE,
            "gateway_busy",
            "too many requests are waiting for their answer; retry with the same tx".to_owned(),
        ),
        SubmitError::InProgress => (
            "conflict",
            StatusCode::CONFLICT,
            "request_in_progress",
            "the same command is already waiting for its answer; retry with the same tx".to_owned(),
        ),
        SubmitError::Broker(e) | SubmitError::Listener(e) => {
            tracing::warn!(error = %e, "gateway: a command could not be sent");
            (
                "unavailable",
                StatusCode::SERVICE_UNAVAILABLE,
                "broker_unavailable",
                format!("the command could not be sent ({e}); retry with the same tx"),
            )
        }
        SubmitError::Timeout => (
            "timeout",
            StatusCode::GATEWAY_TIMEOUT,
            "gateway_timeout",
            format!(
                "no answer within {} ms; the command may still be applied: retry with the same tx, which is answered with its first answer",
                deadline.as_millis()
            ),
        ),
    };
    (outcome, failure(status, code, message))
}

/// The answer to the client: the entity's own answer, with a status that says what it was.
#[derive(Serialize)]
struct Reply<'a> {
    /// `applied` or `refused`.
    status: &'a str,
    /// A refusal's stable code.
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'a str>,
    /// The event the gateway sent.
    event_id: &'a str,
    /// The answer's output id (consumers of the output topics see the same id).
    output_id: &'a str,
    /// `wallet`, `voucher`, `shift` or `refused`: the output the answer is.
    answer_kind: &'a str,
    /// The output's payload.
    answer: &'a serde_json::Value,
}

pub(crate) fn reply(a: Answer, event_id: &str) -> (&'static str, HttpResponse) {
    let (outcome, status) = match (a.status.as_str(), a.code.as_deref()) {
        ("applied", _) => ("applied", StatusCode::OK),
        (_, Some("tx_conflict")) => ("conflict", StatusCode::CONFLICT),
        _ => ("refused", StatusCode::UNPROCESSABLE_ENTITY),
    };
    let body = Reply {
        status: &a.status,
        code: a.code.as_deref(),
        event_id,
        output_id: &a.output_id,
        answer_kind: a.kind,
        answer: &a.payload,
    };
    (outcome, HttpResponse::build(status).json(body))
}
