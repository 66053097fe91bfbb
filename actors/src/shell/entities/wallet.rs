//! A wallet's actor state: its state machine, the effects it routes (GGR to the brand's
//! hall, balance changes to the sink) and its ledger.

use crate::domain::aml::CashDir;
use crate::domain::desk::{CashSource, DeskMeta};
use crate::domain::wallet::{
    Answer, Answered, TxKey, TxRecord, WalletEffect, WalletRules, WalletState,
};
use crate::domain::{Applied, DomainError, EntityKind, PlayerId};

use crate::shell::ack::AckToken;
use crate::shell::actor::{Entity, Found, Need};
use crate::shell::context::{Counter, EntityContext};
use crate::shell::ledger::Ledger;
use crate::shell::messages::{DeskMsg, HallMsg, PlayerFact, Remote, WalletMsg};
use crate::shell::ports::ledger::Movement;
use crate::shell::ports::sink::{Output, WalletStatus};
use crate::shell::ports::store::{EntityKey, Snapshot, Stash, Stored};

pub struct WalletEntity {
    id: PlayerId,
    state: Option<WalletState>,
    ledger: Option<Ledger>,
    /// Records made or changed since the last stash, in order: the next stash hands them
    /// to the store (RULES.md W-1). Also read before the store: a record that left memory
    /// may not be stashed yet.
    pending: Vec<(TxKey, TxRecord)>,
}

thread_local! {
    static FX: std::cell::Cell<Vec<WalletEffect>> = const { std::cell::Cell::new(Vec::new()) };
}

impl WalletEntity {
    fn pending(&self, key: &TxKey) -> Option<&TxRecord> {
        self.pending
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, r)| r)
    }
}

/// The wallet's rules, from the configuration.
fn rules(cx: &dyn EntityContext) -> WalletRules<'_> {
    let s = cx.settings();
    WalletRules {
        kyc_withdrawal_max: s.wallet_kyc_withdrawal_max_minor,
        cooling_off_ms: s.wallet_cooling_off_ms,
        calendar: cx.calendar(),
        transfer_hold_ms: s.wallet_transfer_hold_ms,
        session_break_ms: s.wallet_session_break_ms,
        aml: s.aml,
        bets_draw: s.wallet_bets_draw,
        cash_desks: &s.cash_desks,
    }
}

/// The published form of an answer.
fn status(answered: &Answered) -> WalletStatus {
    match &answered.answer {
        Answer::Applied { delta, balance } => WalletStatus::Applied {
            delta: *delta,
            balance: *balance,
            bonus: answered.bonus.as_deref().copied(),
        },
        Answer::Refused(e) => WalletStatus::Refused {
            code: e.code(),
            reason: e.to_string(),
        },
    }
}

impl Entity for WalletEntity {
    type Id = PlayerId;
    type Msg = WalletMsg;
    const KIND: EntityKind = EntityKind::Wallet;

    fn key(id: &PlayerId) -> EntityKey {
        EntityKey::Wallet(id.clone())
    }

    fn ack(msg: &WalletMsg) -> &AckToken {
        msg.ack()
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
            ledger,
            pending: Vec::new(),
        }
    }

    fn prefetch(&self, msg: &WalletMsg) -> Option<Need> {
        let state = self.state.as_ref()?;
        let WalletMsg::Command { cmd, .. } = msg else {
            return None;
        };
        let keys: Vec<TxKey> = state
            .missing(cmd)
            .into_iter()
            .filter(|k| self.pending(k).is_none())
            .collect();
        (!keys.is_empty()).then(|| Need::Txs(self.id.clone(), keys))
    }

    fn fill(msg: &mut WalletMsg, found: Found) {
        if let (Found::Txs(found), WalletMsg::Command { recalled, .. }) = (found, msg) {
            *recalled = found;
        }
    }

    fn handle(&mut self, msg: WalletMsg, cx: &dyn EntityContext) {
        let id = &self.id;
        if let (
            WalletMsg::Player {
                fact: PlayerFact::CardIn,
                ..
            },
            None,
        ) = (&msg, &self.state)
        {
            // W-9: a player without a wallet has no limits; a card-in creates none.
            return;
        }
        let state = self.state.get_or_insert_with(|| {
            let s = cx.settings();
            // E-4: the network's currency, from creation.
            WalletState::new(
                id.clone(),
                s.currency,
                s.wallet_credit_line_minor,
                s.wallet_window_len,
            )
        });
        let mut fx = super::take_scratch(&FX);
        let (meta, ack) = match msg {
            WalletMsg::Command {
                meta,
                cmd,
                currency,
                mut recalled,
                ack,
            } => {
                for key in state.missing(&cmd) {
                    if let Some(r) = self
                        .pending
                        .iter()
                        .rev()
                        .find(|(k, _)| k == &key)
                        .map(|(_, r)| r.clone())
                    {
                        recalled.push((key, Some(r)));
                    }
                }
                let rules = rules(cx);
                if let Err(e) = state.apply(&meta, &cmd, currency, &rules, &recalled, &mut fx) {
                    if matches!(e, DomainError::TxConflict { .. }) {
                        // W-2: the key's answer is taken; the conflict is answered on its own.
                        cx.refuse(id.to_string(), &e, meta.event_id, &ack);
                    }
                }
                (meta, ack)
            }
            WalletMsg::Transfer { meta, fact, ack } => {
                // W-10: the machine's word is never refused; an overflow is reported.
                let rules = rules(cx);
                match state.apply_transfer(&meta, &fact, &rules, &mut fx) {
                    Ok(Applied::Done) => {}
                    Ok(Applied::Duplicate) => cx.count(Counter::Duplicate),
                    Err(e) => cx.refuse(id.to_string(), &e, meta.event_id, &ack),
                }
                (meta, ack)
            }
            WalletMsg::Player {
                meta,
                machine,
                seq,
                fact,
                ack,
            } => {
                let applied = match fact {
                    // W-11: the machine's word on a carded-in player's cash.
                    PlayerFact::Cash(amount, dir) => {
                        let rules = rules(cx);
                        state.apply_cash(&meta, &machine, seq, amount, dir, &rules, &mut fx)
                    }
                    // M-12: a rated session's points.
                    PlayerFact::Points(points) => state.apply_points(&machine, seq, points),
                    // W-9: the self-exclusion's alert.
                    PlayerFact::CardIn => {
                        state.apply_card_in(&meta, &machine, &mut fx);
                        Applied::Done
                    }
                };
                if applied == Applied::Duplicate {
                    cx.count(Counter::Duplicate);
                }
                (meta, ack)
            }
            WalletMsg::Lapse { meta, ack } => {
                state.apply_lapse(&meta, &mut fx);
                (meta, ack)
            }
        };
        if cfg!(debug_assertions) {
            state.assert_invariants();
        }
        // W-10: a hold still waiting is the sweep's to lapse if nothing else comes.
        if let Some(until) = state.next_lapse() {
            cx.hold_until(id, until);
        }
        let mut alerts = WALLET_ALERT_INDEX;
        for effect in fx.drain(..) {
            match effect {
                WalletEffect::Ggr(d) => {
                    let hall = d.hall.clone();
                    cx.forward(Remote::Hall(hall, HallMsg::Delta(d, ack.clone())));
                }
                WalletEffect::Changed {
                    kind,
                    level,
                    delta,
                    balance,
                    ..
                } => {
                    if let (Some(l), Some(m)) = (&mut self.ledger, Movement::of_wallet(kind)) {
                        l.push(m, level, delta, balance, meta.event_id, 1, meta.time);
                    }
                }
                WalletEffect::Remember(key, record) => self.pending.push((key, record)),
                WalletEffect::PatronCash { dir, amount, at } => {
                    // RULES.md W-11: the patron-cash report's record (level 2, no balance).
                    if let Some(l) = &mut self.ledger {
                        let kind = match dir {
                            CashDir::In => Movement::PatronCashIn,
                            CashDir::Out => Movement::PatronCashOut,
                        };
                        l.push(kind, 2, amount, 0, meta.event_id, 1, at);
                    }
                }
                WalletEffect::Desk(desk, cash) => {
                    // RULES.md D-10: the desk books the cash to its shift.
                    let meta = DeskMeta {
                        event_id: meta.event_id,
                        time: meta.time,
                        hall: meta.hall.clone(),
                    };
                    let source = CashSource::Wallet;
                    let ack = ack.clone();
                    let msg = DeskMsg::Cash {
                        meta,
                        cash,
                        source,
                        ack,
                    };
                    cx.forward(Remote::Desk(desk, msg));
                }
                WalletEffect::Case(case) => cx.emit(Output::AmlCase { case }, &ack),
                WalletEffect::Transfer(settled) => {
                    // Its acknowledgement's id, also when it settles at a later message.
                    let cause = settled.event;
                    cx.emit(
                        Output::Transfer {
                            player: id.clone(),
                            currency: state.currency,
                            settled,
                            cause,
                        },
                        &ack,
                    )
                }
                WalletEffect::TransferAlert(cause, alert) => {
                    // One alert per acknowledgement settled, its index fixed.
                    let out = Output::Alert {
                        alert,
                        cause,
                        index: WALLET_TRANSFER_ALERT_INDEX,
                    };
                    cx.emit(out, &ack);
                }
                WalletEffect::Alert(alert) => {
                    let out = Output::Alert {
                        alert,
                        cause: meta.event_id,
                        index: alerts,
                    };
                    alerts += 1;
                    cx.emit(out, &ack);
                }
                WalletEffect::Answer {
                    key,
                    answered,
                    repeat,
                } => {
                    if repeat {
                        cx.count(Counter::Duplicate);
                    } else if matches!(answered.answer, Answer::Refused(_)) {
                        cx.count(Counter::Refused);
                    }
                    cx.emit(
                        Output::Wallet {
                            player: id.clone(),
                            provider: key.provider,
                            tx: key.tx,
                            kind: answered.op.kind(),
                            status: status(&answered),
                            currency: answered.currency,
                            round: answered.round,
                            cause: answered.cause,
                        },
                        &ack,
                    )
                }
            }
        }
        super::put_scratch(&FX, fx);
    }

    fn snapshot(&self) -> Option<Snapshot> {
        self.state.clone().map(Snapshot::Wallet)
    }

    fn stash(&mut self, _cx: &dyn EntityContext) -> Option<Stash> {
        let snapshot = self.state.clone().map(Snapshot::Wallet)?;
        let mut stash = Ledger::stash(&mut self.ledger, snapshot);
        stash.txs = std::mem::take(&mut self.pending);
        Some(stash)
    }
}

/// The index of a wallet's first alert about an event (RULES.md W-10): a machine's alerts
/// about the same transfer event take 0, 1, ..., a pool's 1000, a voucher's 2000 (the output
/// id is v5 of `<cause> alert <index>`).
pub const WALLET_ALERT_INDEX: u32 = 3000;

/// The index of the alert a wallet raises about a machine's acknowledgement it settled
/// (caused by the acknowledging event, which no other wallet alert names).
pub const WALLET_TRANSFER_ALERT_INDEX: u32 = 3500;
