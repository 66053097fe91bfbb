//! The admin API's responsible-gaming limits (issue 13, RULES.md W-9) and bonus awards
//! (W-12): an operator sets a player's deposit, loss or session limit or self-exclusion, or
//! awards a bonus, audited.
//!
//! Like the voucher void ([`super::voucher_admin`]), the change is the wallet command the
//! responsible-gaming service would send (`deposit_limit`, `loss_limit`, `session_limit` or `self_exclusion`, from
//! [`BACK_OFFICE`]): it goes through the input topic to the instance that owns the wallet,
//! which applies W-9 (a lower limit at once, a higher one after the cooling-off), and the
//! request is answered with the wallet's answer. The audit entry names the operator, the
//! wallet before (its KYC status and limits included) and the answer. Only `pitboss run` has
//! an input topic: the demo answers 503 and changes nothing.
//!
//! The command's `tx` is the `Idempotency-Key` header if given, else derived from the
//! operator, the player and the request: the same request sent twice gets the first answer.

use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use pitboss_actors::domain::PlayerId;
use pitboss_actors::shell::{Snapshot, WalletEntity};
use serde::Deserialize;

use super::admin::Attempt;
use super::api::wallet_view;
use super::command_admin::{idempotency_tx, open, submit_audited, Opened, Submission};
use super::error::ApiError;
use super::state::HttpState;
use super::voucher_admin::BACK_OFFICE;
use crate::gateway::wallet_key;
use crate::wire::{InputEnvelope, InputPayload};

/// How long a change waits for the wallet's answer.
const DEADLINE: Duration = Duration::from_secs(10);

/// The namespace of the limit events' ids (UUID v5).
const EVENT_ID_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x7069_7462_6f73_7376_6c69_6d69_7473_0001);

/// One change per request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum LimitBody {
    /// A deposit limit for `day`, `week` or `month`; no `amount` removes it.
    DepositLimit {
        period: String,
        #[serde(default)]
        amount: Option<i64>,
    },
    /// A loss limit for `day`, `week` or `month`; no `amount` removes it.
    LossLimit {
        period: String,
        #[serde(default)]
        amount: Option<i64>,
    },
    /// The longest a playing session may last, in minutes; none removes it.
    SessionLimit {
        #[serde(default)]
        minutes: Option<i64>,
    },
    /// Excluded until this time (ms since the Unix epoch).
    SelfExclusion { until: i64 },
}

/// A bonus award (RULES.md W-12).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BonusBody {
    /// Minor units.
    amount: i64,
    /// The wagering requirement, a multiple of the amount (0 to 100).
    wagering: i64,
    /// When the bonus expires (ms since the Unix epoch), after now.
    expires_at: i64,
}

/// `POST /api/admin/players/{player}/limits` (operator).
pub async fn set_limit(
    state: web::Data<HttpState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let names = ("player.limit", "player_limit", "limit");
    player_command::<LimitBody>(
        state,
        req,
        path,
        payload,
        names,
        |body, player, tx, cur| match body {
            LimitBody::DepositLimit { period, amount } => InputPayload::DepositLimit {
                player,
                tx,
                period,
                amount,
                currency: amount.map(|_| cur),
            },
            LimitBody::LossLimit { period, amount } => InputPayload::LossLimit {
                player,
                tx,
                period,
                amount,
                currency: amount.map(|_| cur),
            },
            LimitBody::SessionLimit { minutes } => InputPayload::SessionLimit {
                player,
                tx,
                minutes,
            },
            LimitBody::SelfExclusion { until } => InputPayload::SelfExclusion { player, tx, until },
        },
    )
    .await
}

/// `POST /api/admin/players/{player}/bonus` (operator): a bonus award (RULES.md W-12), the
/// `bonus_award` command the promotions system would send.
pub async fn award_bonus(
    state: web::Data<HttpState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let names = ("player.bonus", "player_bonus", "bonus");
    player_command::<BonusBody>(state, req, path, payload, names, |b, player, tx, cur| {
        InputPayload::BonusAward {
            player,
            tx,
            amount: b.amount,
            currency: cur,
            wagering: b.wagering,
            expires_at: b.expires_at,
        }
    })
    .await
}

/// A player's wallet command from an operator: opened and audited under `names` (the audit
/// action, the request metric's name, the derived `tx`'s prefix), built by `build` from the body, the
/// player, the command's `tx` and the network's currency, checked as the processor checks
/// it, sent through the input topic, and answered with the wallet's answer.
async fn player_command<B: serde::de::DeserializeOwned>(
    state: web::Data<HttpState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    (action, metric, tx_prefix): (&'static str, &'static str, &'static str),
    build: impl FnOnce(B, String, String, String) -> InputPayload,
) -> Result<HttpResponse, ApiError> {
    let target = path.into_inner();
    let Opened {
        attempt,
        who,
        request,
        body,
        started,
    } = open::<B>(&state, &req, target.clone(), payload, action, metric).await?;
    let refuse = |attempt: Attempt<'_>, e: ApiError, before: Option<serde_json::Value>| {
        attempt.refuse(e, before)
    };
    let player = match PlayerId::new(&target) {
        Ok(id) => id,
        Err(e) => {
            let e = ApiError::bad_request(format!("invalid player id: {e}"));
            return refuse(attempt, e, None);
        }
    };
    let tx = match idempotency_tx(&req, &format!("{} {player} {request}", who.name), tx_prefix) {
        Ok(tx) => tx,
        Err(e) => return refuse(attempt, e, None),
    };
    let currency = state.runtime.config.currency.to_string();
    let payload = build(body, player.to_string(), tx.clone(), currency);
    // The answer's kind is the command's (`deposit_limit`, `bonus_award`, ...).
    let kind = payload.kind();
    let content = serde_json::to_string(&payload).expect("payloads serialize");
    let event_id = uuid::Uuid::new_v5(&EVENT_ID_NAMESPACE, content.as_bytes());
    let now = crate::clock::now_ms();
    let env = InputEnvelope::wallet(
        event_id,
        BACK_OFFICE,
        BACK_OFFICE,
        now.max(1) as u64,
        now,
        payload,
    );
    // Checked as the processor checks it (an unknown period, a limit of 0, a time outside
    // 1970 to 9999, a bonus expiring before now are refused here).
    if let Err(e) = pitboss_actors::shell::Input::try_from(&env) {
        let e = ApiError::bad_request(format!("{}: {e}", e.code()));
        return refuse(attempt, e, None);
    }
    let Some(commands) = state.commands.clone() else {
        let e = ApiError::unavailable(
            "a player's command goes through the input topic to the wallet's owner: served by \
             pitboss run, not by the demo; nothing changed",
        );
        return refuse(attempt, e, None);
    };
    let before = match state.runtime.inspect::<WalletEntity>(&player).await {
        Ok(Some(Snapshot::Wallet(w))) => {
            Some(serde_json::to_value(wallet_view(&w)).expect("views serialize"))
        }
        Ok(_) => None,
        Err(e) => {
            let e = ApiError::unavailable(format!("the store did not answer: {e}"));
            return refuse(attempt, e, None);
        }
    };
    let submission = Submission {
        env: &env,
        answer_key: wallet_key(player.as_str(), BACK_OFFICE, &tx, kind),
        tx: &tx,
        what: "change",
        started,
        deadline: DEADLINE,
    };
    let (answer, entry) = submit_audited(attempt, &commands, submission, before.clone()).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "answer": answer.payload,
        "before": before,
        "tx": tx,
        "output_id": answer.output_id,
        "audit": entry.at,
    })))
}
