//! Which driver failures may heal. A node that is down, overloaded, timing out or still
//! starting comes back, so a request failing that way is retried with backoff; a request the
//! server refuses (syntax, schema, authorisation, configuration) or an answer this build
//! cannot read fails the same way every time, so the caller stops and says why. A failure
//! this build does not know is taken as transient: retrying a permanent failure only delays
//! the report, stopping on a transient one would halt the service.

use pitboss_actors::shell::{Failure, StoreError};
use scylla::errors::{
    DbError, DeserializationError, ExecutionError, IntoRowsResultError, MaybeFirstRowError,
    NewSessionError, NextPageError, NextRowError, PagerExecutionError, PrepareError,
    RequestAttemptError, RequestError, RowsError, TypeCheckError, UseKeyspaceError,
};

use Failure::{Permanent, Transient};

/// Whether a driver failure may heal.
pub trait Classify: std::fmt::Display {
    /// Transient or permanent.
    fn failure(&self) -> Failure;
}

/// The store error of a driver failure while doing `what`.
pub fn cql_error<E: Classify>(e: E, what: impl std::fmt::Display) -> StoreError {
    StoreError::new(e.failure(), format!("scylla: {what}: {e}"))
}

/// [`cql_error`] as a `map_err` argument, for a fixed `what`.
pub fn cql<E: Classify>(what: &'static str) -> impl Fn(E) -> StoreError {
    move |e| cql_error(e, what)
}

impl Classify for DbError {
    fn failure(&self) -> Failure {
        match self {
            DbError::Unavailable { .. }
            | DbError::Overloaded
            | DbError::IsBootstrapping
            | DbError::TruncateError
            | DbError::ReadTimeout { .. }
            | DbError::WriteTimeout { .. }
            | DbError::ReadFailure { .. }
            | DbError::WriteFailure { .. }
            | DbError::Unprepared { .. }
            | DbError::ServerError
            | DbError::RateLimitReached { .. } => Transient,
            DbError::SyntaxError
            | DbError::Invalid
            | DbError::AlreadyExists { .. }
            | DbError::FunctionFailure { .. }
            | DbError::AuthenticationError
            | DbError::Unauthorized
            | DbError::ConfigError
            | DbError::ProtocolError
            | DbError::Other(_) => Permanent,
            _ => Transient,
        }
    }
}

impl Classify for RequestAttemptError {
    fn failure(&self) -> Failure {
        match self {
            RequestAttemptError::UnableToAllocStreamId
            | RequestAttemptError::BrokenConnectionError(_) => Transient,
            RequestAttemptError::DbError(e, _) => e.failure(),
            RequestAttemptError::SerializationError(_)
            | RequestAttemptError::CqlRequestSerialization(_)
            | RequestAttemptError::BodyExtensionsParseError(_)
            | RequestAttemptError::CqlResultParseError(_)
            | RequestAttemptError::CqlErrorParseError(_)
            | RequestAttemptError::UnexpectedResponse(_)
            | RequestAttemptError::RepreparedIdChanged { .. } => Permanent,
            _ => Transient,
        }
    }
}

impl Classify for RequestError {
    fn failure(&self) -> Failure {
        match self {
            RequestError::LastAttemptError(e) => e.failure(),
            _ => Transient,
        }
    }
}

impl Classify for PrepareError {
    fn failure(&self) -> Failure {
        match self {
            PrepareError::AllAttemptsFailed { first_attempt } => first_attempt.failure(),
            PrepareError::PreparedStatementIdsMismatch => Permanent,
            _ => Transient,
        }
    }
}

impl Classify for UseKeyspaceError {
    fn failure(&self) -> Failure {
        match self {
            UseKeyspaceError::BadKeyspaceName(_)
            | UseKeyspaceError::KeyspaceNameMismatch { .. } => Permanent,
            UseKeyspaceError::RequestError(e) => e.failure(),
            _ => Transient,
        }
    }
}

impl Classify for ExecutionError {
    fn failure(&self) -> Failure {
        match self {
            ExecutionError::BadQuery(_) => Permanent,
            ExecutionError::PrepareError(e) => e.failure(),
            ExecutionError::LastAttemptError(e) => e.failure(),
            ExecutionError::UseKeyspaceError(e) => e.failure(),
            _ => Transient,
        }
    }
}

impl Classify for NextPageError {
    fn failure(&self) -> Failure {
        match self {
            NextPageError::RequestFailure(e) => e.failure(),
            NextPageError::PartitionKeyError(_)
            | NextPageError::ResultMetadataParseError(_)
            | NextPageError::TypeCheckError(_) => Permanent,
            _ => Transient,
        }
    }
}

impl Classify for NextRowError {
    fn failure(&self) -> Failure {
        match self {
            NextRowError::NextPageError(e) => e.failure(),
            NextRowError::RowDeserializationError(_) => Permanent,
            _ => Transient,
        }
    }
}

impl Classify for PagerExecutionError {
    fn failure(&self) -> Failure {
        match self {
            PagerExecutionError::PrepareError(e) => e.failure(),
            PagerExecutionError::SerializationError(_) => Permanent,
            PagerExecutionError::NextPageError(e) => e.failure(),
            PagerExecutionError::UseKeyspaceError(e) => e.failure(),
            _ => Transient,
        }
    }
}

impl Classify for NewSessionError {
    fn failure(&self) -> Failure {
        match self {
            NewSessionError::EmptyKnownNodesList | NewSessionError::IllegalConfig(_) => Permanent,
            NewSessionError::UseKeyspaceError(e) => e.failure(),
            _ => Transient,
        }
    }
}

/// An answer of a shape this build does not expect (a table changed under it).
macro_rules! permanent {
    ($($t:ty),+) => {
        $(impl Classify for $t {
            fn failure(&self) -> Failure {
                Permanent
            }
        })+
    };
}

permanent!(
    IntoRowsResultError,
    MaybeFirstRowError,
    TypeCheckError,
    RowsError,
    DeserializationError
);

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn outages_are_transient_refusals_permanent() {
        let timeout = ExecutionError::RequestTimeout(Duration::from_secs(5));
        assert_eq!(timeout.failure(), Transient);
        let down = ExecutionError::LastAttemptError(RequestAttemptError::DbError(
            DbError::Overloaded,
            "busy".into(),
        ));
        assert_eq!(down.failure(), Transient);
        let syntax = ExecutionError::LastAttemptError(RequestAttemptError::DbError(
            DbError::SyntaxError,
            "line 1".into(),
        ));
        assert_eq!(syntax.failure(), Permanent);
        let unauthorized = PrepareError::AllAttemptsFailed {
            first_attempt: RequestAttemptError::DbError(DbError::Unauthorized, "no".into()),
        };
        assert_eq!(unauthorized.failure(), Permanent);
        assert_eq!(NewSessionError::EmptyKnownNodesList.failure(), Permanent);
        let e = cql::<ExecutionError>("reading machine M-1")(syntax);
        assert!(!e.is_transient());
        assert!(
            e.message().starts_with("scylla: reading machine M-1: "),
            "{e}"
        );
    }
}
