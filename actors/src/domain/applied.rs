//! What an apply did: shared by every state machine that deduplicates replays.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The command changed the state (or was a no-op status event).
    Done,
    /// A replay, recognised by its sequence number (or hit number): nothing was applied.
    Duplicate,
}
