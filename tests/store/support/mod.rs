//! Shared by the store tests: an in-process CQL server (kassandra) that can be stopped and
//! restarted on the same port (`cql_server`), a harness that opens each store kind the same
//! way (`harness`), and a driver that feeds simulated events to a runtime on a store and
//! compares states (`driver`).

#![allow(dead_code)]

mod driver;
mod harness;

pub use driver::{assert_same_states, messages, small_network, Driver};
pub use harness::{migrate, scylla_config, Harness, BATCH_LEN_MAX};
pub use testkit::cql::CqlServer;
