//! The pages: the jackpot display (`/`) and the operator overview (`/operator`). Plain HTML,
//! CSS and JavaScript compiled into the binary; no build step and no external resource
//! (the Content-Security-Policy allows this origin only).

use actix_web::{web, HttpResponse};

const DISPLAY_HTML: &str = include_str!("static/display.html");
const DISPLAY_JS: &str = include_str!("static/display.js");
const OPERATOR_HTML: &str = include_str!("static/operator.html");
const OPERATOR_JS: &str = include_str!("static/operator.js");
const STYLE_CSS: &str = include_str!("static/style.css");

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'";

fn page(body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", CSP))
        .insert_header(("Cache-Control", "no-cache"))
        .body(body)
}

/// `GET /`: the jackpot display for a hall screen.
pub async fn display() -> HttpResponse {
    page(DISPLAY_HTML)
}

/// `GET /operator`: GGR per hall, machines by status, pools.
pub async fn operator() -> HttpResponse {
    page(OPERATOR_HTML)
}

/// `GET /static/{file}`: the pages' scripts and style sheet.
pub async fn asset(file: web::Path<String>) -> HttpResponse {
    let (body, ty) = match file.as_str() {
        "display.js" => (DISPLAY_JS, "text/javascript; charset=utf-8"),
        "operator.js" => (OPERATOR_JS, "text/javascript; charset=utf-8"),
        "style.css" => (STYLE_CSS, "text/css; charset=utf-8"),
        _ => {
            return HttpResponse::NotFound()
                .json(serde_json::json!({ "error": format!("no asset {file}"), "status": 404 }))
        }
    };
    HttpResponse::Ok()
        .content_type(ty)
        .insert_header(("Cache-Control", "no-cache"))
        .body(body)
}
