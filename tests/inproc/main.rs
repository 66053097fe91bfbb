//! Integration tests that need no peer: the wire format (golden files, the fast path
//! against the serde path), the schemas, the internal topics' messages, the actor pipeline
//! against the reference processor, the pool admin calls, the demo as a user runs it, and
//! the rule that no two source files import each other.
//!
//! The integration tests are grouped into one binary per peer they need (`inproc`, `kafka`,
//! `store`, `http`): every test binary links rdkafka, scylla and actix-web, and on two cores
//! linking dominates `cargo test`. A new test file becomes a module of one of them.

mod actors_pipeline;
mod architecture;
mod contract_statements;
mod demo_cli;
mod kafka_internal_schema;
mod model_check;
mod model_machines;
mod pool_admin;
mod schemas_conform;
mod wallet_findings;
mod wallet_model;
mod wallet_rounds;
mod wire_fast_path;
mod wire_golden;
