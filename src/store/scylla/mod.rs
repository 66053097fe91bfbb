//! The ScyllaDB store, over CQL with the `scylla` driver (prepared statements, token-aware
//! load balancing, configurable consistency, optional TLS and password authentication).
//!
//! Tables: `schemas/cql/`. Every write is a plain upsert with a deterministic key (no
//! counters, no lightweight transactions, no `USING TIMESTAMP`/`TTL`): single-writer actors
//! make them unnecessary, and a replay writes the same rows.
//!
//! CQL has no atomic write across partitions (a logged batch is bounded in size and only
//! eventually complete), but a checkpoint must become visible whole: a stored machine whose
//! jackpot contribution is not stored in its pool would lose it after a crash. So a
//! checkpoint goes through a redo log:
//!
//! 1. its items are written to `checkpoint_log` under a new epoch number, in chunks;
//! 2. `checkpoint_head` (one row per instance, a single-partition write, atomic) records
//!    the epoch and its chunk count: this is the commit point;
//! 3. the items are applied to the tables (idempotent upserts);
//! 4. the head is marked applied and the chunks are deleted.
//!
//! On start, a head not marked applied is applied again from its chunks before anything is
//! read. A failed flush is retried under a new epoch with the failed items merged under the
//! newer ones, so a log is never rewritten in place.
//!
//! - [`session`]: the driver session (consistency, load balancing, TLS, authentication);
//! - [`schema`]: the CQL files and `pitboss migrate`;
//! - [`statements`]: the prepared statements and the writes of a checkpoint's items;
//! - [`redo`]: the redo log's items and chunks;
//! - [`backend`]: the checkpoint protocol above, recovery and reads;
//! - [`audit`]: the scans an audit reads;
//! - [`errors`]: which driver failures may heal.

pub mod audit;
pub mod backend;
pub mod errors;
pub mod redo;
pub mod schema;
pub mod session;
pub mod statements;

pub use backend::{Cql, CqlFaults};
pub use schema::{migrate, statements, SCHEMA};
