//! pitboss-actors: the money core of pitboss and the actix actors that carry it.
//!
//! - [`domain`]: pure state machines (`apply(state, command) -> effects`), no I/O.
//! - [`shell`]: actix actors around them, the router, and the ports (store, sink) they talk to.

pub mod domain;
pub mod shell;
