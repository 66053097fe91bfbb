//! The gateway's reads: a wallet's balance and a voucher's status, for the desk or the
//! provider that is about to act on them. Served by `pitboss run`'s gateway from its runtime
//! (the live actor, else the store); a gateway alone has no runtime and answers 503.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use pitboss_actors::domain::{PlayerId, ValidationNo};
use pitboss_actors::shell::{Snapshot, VoucherEntity, WalletEntity};
use serde::Serialize;

use super::config::Scope;
use super::routes::{admitted, failure};
use super::state::Gateway;

/// A wallet's balance.
#[derive(Serialize)]
struct Balance {
    player: String,
    /// Minor units.
    balance: i64,
    currency: String,
}

/// A voucher's standing (RULES.md V).
#[derive(Serialize)]
struct VoucherStatus {
    validation: String,
    /// `issued`, `held`, `redeemed`, `expired` or `voided`.
    status: &'static str,
    /// Minor units.
    amount: i64,
    currency: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    issuing_hall: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at_ms: Option<i64>,
}

fn unavailable(what: impl std::fmt::Display) -> HttpResponse {
    failure(
        StatusCode::SERVICE_UNAVAILABLE,
        "reads_unavailable",
        format!("{what}; retry"),
    )
}

/// `GET /gateway/v1/wallet/{player}/balance`
pub async fn balance(
    gw: web::Data<Gateway>,
    req: HttpRequest,
    player: web::Path<String>,
) -> HttpResponse {
    if let Err(f) = admitted(&gw, &req, Scope::Wallet) {
        return f.response();
    }
    let Some(rt) = &gw.runtime else {
        return unavailable("this gateway runs without a processor (pitboss gateway): reads are served by pitboss run's gateway");
    };
    let id = match PlayerId::new(&player) {
        Ok(id) => id,
        Err(e) => {
            return failure(
                StatusCode::BAD_REQUEST,
                "invalid_id",
                format!("player id: {e}"),
            )
        }
    };
    match rt.inspect::<WalletEntity>(&id).await {
        Ok(Some(Snapshot::Wallet(w))) => HttpResponse::Ok().json(Balance {
            player: w.id.to_string(),
            balance: w.balance,
            currency: w.currency.as_str().to_owned(),
        }),
        Ok(_) => failure(
            StatusCode::NOT_FOUND,
            "wallet_unknown",
            format!("no wallet for player {id}"),
        ),
        Err(e) => unavailable(format!("the store did not answer: {e}")),
    }
}

/// `GET /gateway/v1/vouchers/{validation}/status`
pub async fn voucher(
    gw: web::Data<Gateway>,
    req: HttpRequest,
    number: web::Path<String>,
) -> HttpResponse {
    use pitboss_actors::domain::voucher::VoucherStatus as S;
    if let Err(f) = admitted(&gw, &req, Scope::Vouchers) {
        return f.response();
    }
    let Some(rt) = &gw.runtime else {
        return unavailable("this gateway runs without a processor (pitboss gateway): reads are served by pitboss run's gateway");
    };
    let id = match ValidationNo::new(&number) {
        Ok(id) => id,
        Err(e) => {
            return failure(
                StatusCode::BAD_REQUEST,
                "invalid_id",
                format!("validation number: {e}"),
            )
        }
    };
    match rt.inspect::<VoucherEntity>(&id).await {
        Ok(Some(Snapshot::Voucher(v))) if v.status != S::Unissued => {
            let issue = v.issue.as_ref();
            HttpResponse::Ok().json(VoucherStatus {
                validation: v.number.to_string(),
                status: v.status.name(),
                amount: v.amount(),
                currency: v.currency.as_str().to_owned(),
                issuing_hall: issue.map(|i| i.hall.to_string()),
                expires_at_ms: issue.and_then(|i| i.expires).map(|t| t.0),
            })
        }
        Ok(_) => failure(
            StatusCode::NOT_FOUND,
            "voucher_unknown",
            format!("voucher {id} was never issued"),
        ),
        Err(e) => unavailable(format!("the store did not answer: {e}")),
    }
}
