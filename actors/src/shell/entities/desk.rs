//! A cash desk's actor state: its shifts and drawer (RULES.md D), the outputs it publishes
//! (answers, revisions, alerts) and its ledger (the drawer's cash, level 0; unshifted cash,
//! level 1).

use crate::domain::desk::{DeskEffect, DeskMove, DeskState, Reply};
use crate::domain::{EntityKind, ServerId};

use crate::shell::ack::AckToken;
use crate::shell::actor::Entity;
use crate::shell::context::{Counter, EntityContext};
use crate::shell::ledger::Ledger;
use crate::shell::messages::DeskMsg;
use crate::shell::ports::ledger::Movement;
use crate::shell::ports::sink::Output;
use crate::shell::ports::store::{EntityKey, Snapshot, Stash, Stored};

pub struct DeskEntity {
    id: ServerId,
    state: Option<DeskState>,
    ledger: Option<Ledger>,
}

thread_local! {
    static FX: std::cell::Cell<Vec<DeskEffect>> = const { std::cell::Cell::new(Vec::new()) };
}

impl From<DeskMove> for Movement {
    fn from(m: DeskMove) -> Self {
        match m {
            DeskMove::Float => Movement::ShiftFloat,
            DeskMove::CashIn => Movement::DeskCashIn,
            DeskMove::CashOut => Movement::DeskCashOut,
            DeskMove::Fill => Movement::DeskFill,
            DeskMove::Credit => Movement::DeskCredit,
            DeskMove::Close => Movement::ShiftClose,
        }
    }
}

/// The index of a desk's first alert about an event: the voucher's own alerts about the
/// same command take 2000, 2001, ... (the output id is v5 of `<cause> alert <index>`).
pub const DESK_ALERT_INDEX: u32 = 3000;

impl Entity for DeskEntity {
    type Id = ServerId;
    type Msg = DeskMsg;
    const KIND: EntityKind = EntityKind::Desk;

    fn key(id: &ServerId) -> EntityKey {
        EntityKey::Desk(id.clone())
    }

    fn ack(msg: &DeskMsg) -> &AckToken {
        msg.ack()
    }

    fn restore(id: &ServerId, stored: Option<Stored>, cx: &dyn EntityContext) -> Self {
        let ledger = Ledger::new(cx.keeps_ledger(), stored.as_ref());
        let state = match stored.map(|s| s.snapshot) {
            Some(Snapshot::Desk(s)) => Some(s),
            _ => None,
        };
        Self {
            id: id.clone(),
            state,
            ledger,
        }
    }

    fn handle(&mut self, msg: DeskMsg, cx: &dyn EntityContext) {
        let id = &self.id;
        let state = self
            .state
            .get_or_insert_with(|| DeskState::new(id.clone(), cx.settings().currency));
        let mut fx = super::take_scratch(&FX);
        let (cause, ack, outcome) = match msg {
            DeskMsg::Command {
                meta,
                cmd,
                currency,
                ack,
            } => {
                let r = state.apply(&meta, &cmd, currency, &mut fx);
                (meta.event_id, ack, r)
            }
            DeskMsg::Cash {
                meta,
                cash,
                source,
                ack,
            } => {
                let r = state.apply_cash(&meta, cash, source, &mut fx);
                (meta.event_id, ack, r)
            }
        };
        match outcome {
            Ok(Reply::Done) => {}
            Ok(Reply::Repeat) => cx.count(Counter::Duplicate),
            // A conflicting repeat (D-6) or a total beyond the bounds (E-5).
            Err(e) => cx.refuse(id.to_string(), &e, cause, &ack),
        }
        if cfg!(debug_assertions) {
            state.assert_invariants();
        }
        let mut alerts = 0;
        for effect in fx.drain(..) {
            match effect {
                DeskEffect::Moved {
                    kind,
                    level,
                    delta,
                    balance,
                    time,
                    causes,
                } => {
                    if let Some(l) = &mut self.ledger {
                        l.push(kind.into(), level, delta, balance, cause, causes, time);
                    }
                }
                DeskEffect::Note(note) => {
                    if note.refused.is_some() {
                        cx.count(Counter::Refused);
                    }
                    cx.emit(
                        Output::Shift {
                            desk: id.clone(),
                            currency: state.currency,
                            note,
                        },
                        &ack,
                    );
                }
                DeskEffect::Alert(alert) => {
                    let out = Output::Alert {
                        alert,
                        cause,
                        index: DESK_ALERT_INDEX + alerts,
                    };
                    alerts += 1;
                    cx.emit(out, &ack);
                }
            }
        }
        super::put_scratch(&FX, fx);
    }

    fn snapshot(&self) -> Option<Snapshot> {
        self.state.clone().map(Snapshot::Desk)
    }

    fn stash(&mut self, _cx: &dyn EntityContext) -> Option<Stash> {
        let snapshot = self.state.clone().map(Snapshot::Desk)?;
        Some(Ledger::stash(&mut self.ledger, snapshot))
    }
}
