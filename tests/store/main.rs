//! Integration tests of the stores: one contract suite, round trips, outages and recovery,
//! each run against the in-memory store, the embedded store (redb) and the ScyllaDB adapter
//! against an in-process CQL server (kassandra). The same suites against a real ScyllaDB
//! are ignored unless asked for: `SCYLLA_URI=host:port cargo test --test store -- --ignored`.

mod support;

mod contract;
mod fencing;
mod gaming_day;
mod outage;
mod patrons;
mod recovery;
mod roundtrip;
