//! A voucher's actor state: its state machine, the outputs it publishes (answers, facts,
//! lapses, alerts) and its ledger (the liability it moves).

use crate::domain::desk::{CashSource, DeskMeta};
use crate::domain::voucher::{Reply, VoucherEffect, VoucherMove, VoucherState};
use crate::domain::{EntityKind, ValidationNo};

use crate::shell::ack::AckToken;
use crate::shell::actor::Entity;
use crate::shell::context::{Counter, EntityContext};
use crate::shell::ledger::Ledger;
use crate::shell::messages::{DeskMsg, Remote, VoucherMsg};
use crate::shell::ports::ledger::Movement;
use crate::shell::ports::sink::Output;
use crate::shell::ports::store::{EntityKey, Snapshot, Stash, Stored};

pub struct VoucherEntity {
    id: ValidationNo,
    state: Option<VoucherState>,
    ledger: Option<Ledger>,
}

thread_local! {
    static FX: std::cell::Cell<Vec<VoucherEffect>> = const { std::cell::Cell::new(Vec::new()) };
}

impl From<VoucherMove> for Movement {
    fn from(m: VoucherMove) -> Self {
        match m {
            VoucherMove::Issue => Movement::VoucherIssue,
            VoucherMove::Redeem => Movement::VoucherRedeem,
            VoucherMove::Expire => Movement::VoucherExpire,
            VoucherMove::Void => Movement::VoucherVoid,
        }
    }
}

impl Entity for VoucherEntity {
    type Id = ValidationNo;
    type Msg = VoucherMsg;
    const KIND: EntityKind = EntityKind::Voucher;

    fn key(id: &ValidationNo) -> EntityKey {
        EntityKey::Voucher(*id)
    }

    fn ack(msg: &VoucherMsg) -> &AckToken {
        msg.ack()
    }

    fn restore(id: &ValidationNo, stored: Option<Stored>, cx: &dyn EntityContext) -> Self {
        let ledger = Ledger::new(cx.keeps_ledger(), stored.as_ref());
        let state = match stored.map(|s| s.snapshot) {
            Some(Snapshot::Voucher(s)) => Some(s),
            _ => None,
        };
        Self {
            id: *id,
            state,
            ledger,
        }
    }

    fn handle(&mut self, msg: VoucherMsg, cx: &dyn EntityContext) {
        let id = self.id;
        let state = self
            .state
            .get_or_insert_with(|| VoucherState::new(id, cx.settings().currency));
        let policy = cx.voucher_policy();
        let mut fx = super::take_scratch(&FX);
        let (meta, ack, outcome) = match msg {
            VoucherMsg::Command {
                meta,
                cmd,
                currency,
                ack,
            } => {
                let currency = currency.unwrap_or(state.currency);
                let r = state.apply(&meta, &cmd, currency, policy, &mut fx);
                (meta, ack, r)
            }
            VoucherMsg::Fact { meta, fact, ack } => {
                let r = state.apply_fact(&meta, &fact, policy, &mut fx);
                (meta, ack, r)
            }
            VoucherMsg::Lapse { meta, ack } => {
                let r = state.apply_lapse(&meta, &mut fx);
                (meta, ack, Ok(r))
            }
        };
        match outcome {
            Ok(Reply::Done) => {}
            Ok(Reply::Repeat) => cx.count(Counter::Duplicate),
            // A conflicting repeat (V-7) or a total beyond the bounds (E-5).
            Err(e) => cx.refuse(id.to_string(), &e, meta.event_id, &ack),
        }
        if cfg!(debug_assertions) {
            state.assert_invariants();
        }
        let mut alerts = 0;
        for effect in fx.drain(..) {
            match effect {
                VoucherEffect::Moved {
                    kind,
                    delta,
                    liability,
                    time,
                } => {
                    if let Some(l) = &mut self.ledger {
                        l.push(kind.into(), 0, delta, liability, meta.event_id, 1, time);
                    }
                }
                VoucherEffect::Note(note) => {
                    if note.refused.is_some() {
                        cx.count(Counter::Refused);
                    }
                    cx.emit(
                        Output::Voucher {
                            validation: id,
                            currency: state.currency,
                            note,
                        },
                        &ack,
                    );
                }
                VoucherEffect::Desk(desk, cash) => {
                    // RULES.md D-3: the desk books it to its shift.
                    cx.forward(Remote::Desk(
                        desk,
                        DeskMsg::Cash {
                            meta: DeskMeta {
                                event_id: meta.event_id,
                                time: meta.time,
                                hall: meta.hall.clone(),
                            },
                            cash,
                            source: CashSource::Ticket,
                            ack: ack.clone(),
                        },
                    ));
                }
                VoucherEffect::Alert(alert) => {
                    // Numbered after the machine's own alerts about the same event.
                    let out = Output::Alert {
                        alert,
                        cause: meta.event_id,
                        index: VOUCHER_ALERT_INDEX + alerts,
                    };
                    alerts += 1;
                    cx.emit(out, &ack);
                }
            }
        }
        super::put_scratch(&FX, fx);
    }

    fn snapshot(&self) -> Option<Snapshot> {
        self.state.clone().map(Snapshot::Voucher)
    }

    fn stash(&mut self, _cx: &dyn EntityContext) -> Option<Stash> {
        let snapshot = self.state.clone().map(Snapshot::Voucher)?;
        Some(Ledger::stash(&mut self.ledger, snapshot))
    }
}

/// The index of a voucher's first alert about an event: a machine's alerts about the same
/// ticket event take 0, 1, ...; a pool's about a claim take 1000 (the output id is v5 of
/// `<cause> alert <index>`).
pub const VOUCHER_ALERT_INDEX: u32 = 2000;
