//! Integration tests against a real Kafka broker (Tansu, started per test on a free
//! loopback port, see `testkit::tansu`): the pipeline's outputs, restarts, rebalances, a
//! store outage, the real binary's `topics create` / `run` / SIGTERM, `pitboss run`
//! killed with SIGKILL mid-stream, and a backup taken under load, restored and replayed.
//! They run one at a time (`support::serial`): each starts its own broker on the same two
//! cores.

// The serial guard is held for the whole test on purpose: tests that start a broker each
// must not overlap on this machine.
#![allow(clippy::await_holding_lock)]

mod support;

mod backup;
mod cases;
mod cli;
mod crash_embedded;
mod gateway;
mod pipeline;
mod rebalance;
mod reports;
mod restart;
mod shifts;
mod silence;
mod sole_member;
mod store_outage;
mod transfers;
mod versions;
mod voucher_sweep;
