//! The one error type of the handlers, answered as JSON.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use pitboss_actors::shell::StoreError;

/// An error answered as JSON: `{"error": "...", "status": 404}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// What went wrong, naming the thing and the value.
    pub message: String,
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }

    /// 503 (the store could not be read).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status)
            .json(serde_json::json!({ "error": self.message, "status": self.status.as_u16() }))
    }
}

/// The store could not be read: 503, the client may retry.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::unavailable(e.to_string())
    }
}

impl From<crate::report::ReportError> for ApiError {
    /// A bad date or hall is 400, a day without data 404, a store that cannot be read 503.
    fn from(e: crate::report::ReportError) -> Self {
        match e {
            crate::report::ReportError::BadRequest(m) => ApiError::bad_request(m),
            crate::report::ReportError::NoData(m) => ApiError::not_found(m),
            crate::report::ReportError::Store(m) => ApiError::unavailable(m),
        }
    }
}
