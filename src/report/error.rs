//! Why a report could not be made.

/// Why a report could not be made.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NoData(String),
    /// The store could not be read, or keeps no GGR windows.
    #[error("{0}")]
    Store(String),
}
