//! A wallet's actor state: its state machine, the effects it routes (GGR to the brand's
//! hall, balance changes to the sink) and its ledger.

use crate::domain::wallet::{WalletEffect, WalletState};
use crate::domain::{EntityKind, PlayerId};

use crate::shell::ack::AckToken;
use crate::shell::actor::Entity;
use crate::shell::context::{Counter, EntityContext};
use crate::shell::ledger::Ledger;
use crate::shell::messages::{HallMsg, Remote, WalletMsg};
use crate::shell::ports::sink::Output;
use crate::shell::ports::store::{EntityKey, Snapshot, Stash, Stored};

pub struct WalletEntity {
    id: PlayerId,
    state: Option<WalletState>,
    fx: Vec<WalletEffect>,
    ledger: Option<Ledger>,
}

impl Entity for WalletEntity {
    type Id = PlayerId;
    type Msg = WalletMsg;
    const KIND: EntityKind = EntityKind::Wallet;

    fn key(id: &PlayerId) -> EntityKey {
        EntityKey::Wallet(id.clone())
    }

    fn ack(msg: &WalletMsg) -> &AckToken {
        &msg.ack
    }

    fn restore(id: &PlayerId, stored: Option<Stored>, cx: &dyn EntityContext) -> Self {
        let ledger = Ledger::new(cx.keeps_ledger(), stored.as_ref());
        let state = match stored.map(|s| s.snapshot) {
            Some(Snapshot::Wallet(s)) => Some(s),
            _ => None,
        };
        Self {
            id: id.clone(),
            state,
            fx: Vec::with_capacity(2),
            ledger,
        }
    }

    fn handle(&mut self, msg: WalletMsg, cx: &dyn EntityContext) {
        let WalletMsg {
            meta,
            cmd,
            currency,
            ack,
        } = msg;
        let id = &self.id;
        let state = self.state.get_or_insert_with(|| {
            let s = cx.settings();
            WalletState::new(
                id.clone(),
                currency,
                s.wallet_credit_line_minor,
                s.wallet_window_len,
            )
        });
        self.fx.clear();
        match state.apply(&meta, &cmd, currency, &mut self.fx) {
            Ok(reply) if reply.repeat => cx.count(Counter::Duplicate),
            Ok(_) => {}
            Err(e) => cx.refuse(id.to_string(), &e, meta.event_id, &ack),
        }
        if cfg!(debug_assertions) {
            state.assert_invariants();
        }
        let currency = state.currency;
        for effect in self.fx.drain(..) {
            match effect {
                WalletEffect::Ggr(d) => {
                    let hall = d.hall.clone();
                    cx.forward(Remote::Hall(hall, HallMsg::Delta(d, ack.clone())));
                }
                WalletEffect::Changed {
                    tx,
                    kind,
                    delta,
                    balance,
                } => {
                    if let Some(l) = &mut self.ledger {
                        l.push(kind.into(), 0, delta, balance, meta.event_id, 1, meta.time);
                    }
                    cx.emit(
                        Output::Wallet {
                            player: id.clone(),
                            tx,
                            kind,
                            delta,
                            balance,
                            currency,
                            cause: meta.event_id,
                        },
                        &ack,
                    )
                }
            }
        }
    }

    fn snapshot(&self) -> Option<Snapshot> {
        self.state.clone().map(Snapshot::Wallet)
    }

    fn stash(&mut self, _cx: &dyn EntityContext) -> Option<Stash> {
        let snapshot = self.state.clone().map(Snapshot::Wallet)?;
        Some(Ledger::stash(&mut self.ledger, snapshot))
    }
}
