//! A hall's actor state: its GGR aggregator, and the windows it publishes when they close.

use crate::domain::ggr::{HallState, WindowClosed};
use crate::domain::{EntityKind, HallId};

use crate::shell::ack::AckToken;
use crate::shell::actor::Entity;
use crate::shell::context::EntityContext;
use crate::shell::messages::HallMsg;
use crate::shell::ports::sink::Output;
use crate::shell::ports::store::{EntityKey, Snapshot, Stored};

pub struct HallEntity {
    state: HallState,
    closed: Vec<WindowClosed>,
}

impl Entity for HallEntity {
    type Id = HallId;
    type Msg = HallMsg;
    const KIND: EntityKind = EntityKind::Hall;

    fn key(id: &HallId) -> EntityKey {
        EntityKey::Hall(id.clone())
    }

    fn ack(msg: &HallMsg) -> &AckToken {
        msg.ack()
    }

    fn restore(id: &HallId, stored: Option<Stored>, _cx: &dyn EntityContext) -> Self {
        let state = match stored.map(|s| s.snapshot) {
            Some(Snapshot::Hall(s)) => s,
            _ => HallState::new(id.clone()),
        };
        Self {
            state,
            closed: Vec::new(),
        }
    }

    fn handle(&mut self, msg: HallMsg, _cx: &dyn EntityContext) {
        let HallMsg::Delta(d, ack) = msg;
        if let Err(e) = self.state.apply(&d) {
            // Only an overflow of an all-time total gets here: the delta was accepted by its
            // machine or wallet, so it cannot be refused now. Fail the input: its offset
            // will not be stored and the processor stops loudly.
            tracing::error!(hall = %self.state.id, source = %d.source, error = %e, "GGR delta cannot be applied");
            ack.fail();
        }
    }

    fn tick(&mut self, cx: &dyn EntityContext, all: bool) {
        let s = cx.settings();
        self.state.close_windows(
            s.ggr_grace_windows,
            all,
            s.ggr_windows_max,
            &mut self.closed,
        );
        for window in self.closed.drain(..) {
            cx.emit(
                Output::Ggr {
                    window,
                    currency: s.currency,
                },
                &AckToken::none(),
            );
        }
    }

    fn snapshot(&self) -> Option<Snapshot> {
        Some(Snapshot::Hall(self.state.clone()))
    }
}
