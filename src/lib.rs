//! pitboss: the composition root and the adapters around the actor core
//! (`pitboss-actors`): configuration, wire format, ingest, the simulator and the demo.

pub mod app;
pub mod backup;
pub mod calendar;
pub mod clock;
pub mod config;
pub mod demo;
pub mod direct;
pub mod gaming_day;
pub mod gateway;
pub mod http;
pub mod kafka;
pub mod model;
pub mod model_check;
pub mod pipeline;
pub mod readiness;
pub mod recount;
pub mod report;
pub mod rng;
pub mod run;
pub mod sim;
pub mod store;
pub mod telemetry;
pub mod wire;
