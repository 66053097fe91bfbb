//! Awards held for machines that have no state yet on this instance.
//!
//! After a restart with a store that lost state, the awards topic can deliver an award
//! before the machine's own events are replayed (different partitions of different topics);
//! the machine needs an event first (its profile comes from it). The award waits here,
//! holding its batch open (so its offset is not committed), until the machine's first event
//! is dispatched.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use pitboss_actors::domain::jackpot::JackpotHit;
use pitboss_actors::domain::MachineId;
use pitboss_actors::shell::{AckToken, MachineEntity, MachineMsg, Runtime};

use crate::kafka::Tp;

/// Per batch: set when the processor gives up on part of it on purpose (an award held for
/// a machine whose partition is revoked), so its failure is not an internal error.
#[derive(Default)]
pub(super) struct BatchCtl {
    pub abandoned: AtomicBool,
}

pub(super) struct PendingAward {
    pub hit: JackpotHit,
    pub ack: AckToken,
    pub ctl: Arc<BatchCtl>,
    /// The awards partition it came from (given up when that partition is revoked).
    pub tp: Tp,
}

#[derive(Default)]
pub(super) struct HeldAwards(HashMap<MachineId, Vec<PendingAward>>);

impl HeldAwards {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn hold(&mut self, machine: MachineId, award: PendingAward) {
        self.0.entry(machine).or_default().push(award);
    }

    pub fn take(&mut self, machine: &MachineId) -> Option<Vec<PendingAward>> {
        self.0.remove(machine)
    }

    /// Delivers awards taken for `machine` (after its first event was dispatched).
    pub fn deliver(rt: &Arc<Runtime>, machine: &MachineId, awards: Vec<PendingAward>) {
        for p in awards {
            let msg = MachineMsg::Award {
                hit: p.hit,
                ack: p.ack,
            };
            rt.tell::<MachineEntity>(machine, msg);
        }
    }

    /// Gives up the held awards of the given partitions (all if `None`): their batches stay
    /// incomplete, so the next owner (or the next run) consumes them again.
    pub fn abandon(&mut self, only: Option<&[Tp]>) {
        let mut n = 0;
        self.0.retain(|_, list| {
            list.retain(|p| {
                let drop_it = only.is_none_or(|o| o.contains(&p.tp));
                if drop_it {
                    p.ctl.abandoned.store(true, Ordering::SeqCst);
                    p.ack.fail();
                    n += 1;
                }
                !drop_it
            });
            !list.is_empty()
        });
        if n > 0 {
            tracing::warn!(
                awards = n,
                "held awards given up; their offsets stay uncommitted"
            );
        }
    }
}
