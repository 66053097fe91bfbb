//! A hall's actor state: its GGR aggregator, and the windows it publishes when they close.
//!
//! With a durable store (RULES.md H-2) closed windows wait in the hall's outbox, which is
//! stored with its state, and are published when the runtime says a checkpoint holding them
//! is durable ([`Entity::release`]); a late delta for a window no longer in memory has the
//! window read back from the store first ([`Entity::prefetch`]). Without one, windows are
//! published as they close.

use crate::domain::ggr::{GgrTotals, HallState, WindowClosed};
use crate::domain::{Currency, EntityKind, GgrDelta, HallId, Timestamp};

use crate::shell::ack::AckToken;
use crate::shell::actor::{Entity, Found, Need};
use crate::shell::context::EntityContext;
use crate::shell::messages::HallMsg;
use crate::shell::ports::sink::Output;
use crate::shell::ports::store::{EntityKey, Snapshot, Stash, Stored};

pub struct HallEntity {
    state: HallState,
    /// Publications of the outbox (its oldest) that the last stash held.
    stashed: usize,
    /// The booked hour of the last source expiry pass (RULES.md H-3).
    swept_hour: i64,
}

impl HallEntity {
    /// Applies a delta (once per source and sequence number, RULES.md H-3).
    fn add(&mut self, d: &GgrDelta, ack: &AckToken) {
        if let Err(e) = self.state.apply(d) {
            // Only an overflow of an all-time total gets here: the delta was accepted by its
            // machine or wallet, so it cannot be refused now. Fail the input: its offset
            // will not be stored and the processor stops loudly.
            tracing::error!(hall = %self.state.id, source = %d.source, error = %e, "GGR delta cannot be applied");
            ack.fail();
        }
    }

    /// Applies a batch of deltas in order, each as its own message would be, with the
    /// windows read back for it (`stored`).
    fn add_all(
        &mut self,
        deltas: &[GgrDelta],
        stored: &[(Timestamp, Option<(GgrTotals, u32)>)],
        ack: &AckToken,
    ) {
        for d in deltas {
            // Read back only for a delta that needs it now, as its own message's turn would
            // have (an earlier one of the batch may have brought it).
            if self.state.needs_recall(d) {
                if let Some((_, s)) = stored.iter().find(|(w, _)| *w == d.window) {
                    self.state.recalled(d.window, s.clone());
                }
            }
            self.add(d, ack);
        }
    }
}

fn publish(cx: &dyn EntityContext, windows: Vec<WindowClosed>, currency: Currency, ack: &AckToken) {
    for window in windows {
        cx.emit(Output::Ggr { window, currency }, ack);
    }
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
        // What the store gave back is stored, or stashed for the next flush.
        let stashed = state.outbox.len();
        Self {
            state,
            stashed,
            swept_hour: i64::MIN,
        }
    }

    fn prefetch(&self, msg: &HallMsg) -> Option<Need> {
        match msg {
            HallMsg::Delta(d, _) if self.state.needs_recall(d) => {
                Some(Need::Windows(self.state.id.clone(), vec![d.window]))
            }
            HallMsg::Deltas(v, _) => {
                // Against the state before the batch: applying its deltas only adds windows
                // and sequence numbers, so a delta that needs its window read back when its
                // turn comes needed it here already (`handle` asks again).
                let mut windows: Vec<_> = v
                    .iter()
                    .filter(|d| self.state.needs_recall(d))
                    .map(|d| d.window)
                    .collect();
                windows.sort_unstable();
                windows.dedup();
                (!windows.is_empty()).then(|| Need::Windows(self.state.id.clone(), windows))
            }
            _ => None,
        }
    }

    fn fill(msg: &mut HallMsg, found: Found) {
        let Found::Windows(windows) = found else {
            return;
        };
        let taken = std::mem::replace(msg, HallMsg::Wake(AckToken::none()));
        *msg = match taken {
            HallMsg::Delta(d, ack) => {
                let stored = windows
                    .into_iter()
                    .find(|(w, _)| *w == d.window)
                    .and_then(|(_, s)| s);
                HallMsg::Recalled(d, stored, ack)
            }
            HallMsg::Deltas(v, ack) => HallMsg::RecalledDeltas(v, windows, ack),
            other => other,
        };
    }

    fn handle(&mut self, msg: HallMsg, _cx: &dyn EntityContext) {
        let (d, ack) = match msg {
            HallMsg::Delta(d, ack) => (d, ack),
            HallMsg::Recalled(d, stored, ack) => {
                self.state.recalled(d.window, stored);
                (d, ack)
            }
            // Deltas that needed no window read back are the same with none read.
            HallMsg::Deltas(v, ack) => return self.add_all(&v, &[], &ack),
            HallMsg::RecalledDeltas(v, stored, ack) => return self.add_all(&v, &stored, &ack),
            HallMsg::Wake(_) => return,
        };
        self.add(&d, &ack);
    }

    fn tick(&mut self, cx: &dyn EntityContext, all: bool) -> bool {
        let s = cx.settings();
        // H-3: sources silent longer than the expiry are forgotten, in one pass per booked
        // hour (the watermark's hour), so the cost is amortised over the hour's deltas.
        let hour = self.state.watermark.0.div_euclid(3_600_000);
        let expired = hour != self.swept_hour && {
            self.swept_hour = hour;
            self.state.expire_sources(s.source_expiry_ms) > 0
        };
        if cx.publishes_after_checkpoint() {
            return self
                .state
                .close_into_outbox(s.ggr_grace_windows, all, s.ggr_windows_max)
                || expired;
        }
        let mut closed = Vec::new();
        self.state
            .close_windows(s.ggr_grace_windows, all, s.ggr_windows_max, &mut closed);
        let changed = !closed.is_empty();
        publish(cx, closed, s.currency, &AckToken::none());
        changed || expired
    }

    fn release(&mut self, cx: &dyn EntityContext, ack: &AckToken) -> bool {
        if self.stashed == 0 {
            return false;
        }
        let s = cx.settings();
        let out = self.state.release(self.stashed, s.ggr_windows_max);
        self.stashed = 0;
        publish(cx, out, s.currency, ack);
        true
    }

    fn may_passivate(&self) -> bool {
        self.state.outbox.is_empty()
    }

    fn snapshot(&self) -> Option<Snapshot> {
        Some(Snapshot::Hall(self.state.clone()))
    }

    fn stash(&mut self, _cx: &dyn EntityContext) -> Option<Stash> {
        self.stashed = self.state.outbox.len();
        self.snapshot().map(Stash::state)
    }
}
