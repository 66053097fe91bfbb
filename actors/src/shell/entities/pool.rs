//! A pool's actor state: its state machine with its source of hit points, the hits it
//! publishes and awards, its throttled level publication and its ledger.

use crate::domain::jackpot::{
    HitPointSource, JackpotHit, LevelConfig, PoolCommand, PoolMeta, PoolState,
};
use crate::domain::{Applied, Carried, DomainError, EntityKind, PoolId};

use crate::shell::ack::AckToken;
use crate::shell::actor::Entity;
use crate::shell::context::EntityContext;
use crate::shell::ledger::{Ledger, PoolLedger};
use crate::shell::messages::{MachineMsg, PoolMsg, Remote};
use crate::shell::ports::sink::{LevelView, Output};
use crate::shell::ports::store::{EntityKey, Snapshot, Stash, Stored};

/// The index of the alert a pool raises about a machine's event (a claim refused or paid
/// with a variance): above any the machine itself raises about that event, so the output
/// ids (`<cause> alert <index>`) never collide.
pub const POOL_ALERT_INDEX: u32 = 1_000;

pub struct PoolEntity {
    state: PoolState,
    rng: Box<dyn HitPointSource>,
    hits: Vec<JackpotHit>,
    dirty: bool,
    /// The commands applied since the levels were last published (their latest cause).
    carried: Carried,
    ledger: Option<PoolLedger>,
}

impl PoolEntity {
    /// An operator's change of a level's configuration, scheduled for the level's next reset
    /// ([`PoolState::schedule_change`]); returns the pool's state before and after.
    pub(crate) fn schedule_change(
        &mut self,
        level: u8,
        config: LevelConfig,
    ) -> Result<PoolChange, DomainError> {
        let before = self.state.clone();
        self.state.schedule_change(level, config)?;
        if cfg!(debug_assertions) {
            self.state.assert_invariants();
        }
        self.dirty = true;
        Ok(PoolChange {
            before,
            after: self.state.clone(),
        })
    }

    pub(crate) fn state(&self) -> &PoolState {
        &self.state
    }
}

/// A pool's state before and after an operator's change.
#[derive(Clone, Debug)]
pub struct PoolChange {
    /// Before the change.
    pub before: PoolState,
    /// After it (the change waits in the level's `pending` until its next reset).
    pub after: PoolState,
}

impl PoolEntity {
    /// Applies one contribution or claim: its refusal, alert, ledger movements, hits and
    /// awards.
    fn apply_one(
        &mut self,
        meta: &PoolMeta,
        cmd: &PoolCommand,
        ack: &AckToken,
        cx: &dyn EntityContext,
    ) {
        self.hits.clear();
        if let Some(l) = &mut self.ledger {
            l.before(&self.state);
        }
        let paid_before = self.state.paid_of(cmd);
        let result = self
            .state
            .apply(meta, cmd, self.rng.as_mut(), &mut self.hits);
        match &result {
            Ok(Applied::Done) => {
                self.dirty = true;
                self.carried.note(meta.cause);
            }
            Ok(Applied::Duplicate) => {}
            Err(e) => {
                let entity = match cmd {
                    PoolCommand::Contribute { machine, .. }
                    | PoolCommand::Claim { machine, .. } => machine.to_string(),
                };
                cx.refuse(entity, e, meta.cause, ack);
            }
        }
        if let Some(alert) = self
            .state
            .claim_alert(cmd, &result, paid_before, &self.hits)
        {
            let out = Output::Alert {
                alert,
                cause: meta.cause,
                index: POOL_ALERT_INDEX,
            };
            cx.emit(out, ack);
        }
        // Whatever the outcome: the comparison with the levels before finds what moved.
        if let Some(l) = &mut self.ledger {
            l.after(&self.state, meta.cause, || cx.now());
        }
        if cfg!(debug_assertions) {
            self.state.assert_invariants();
        }
        for hit in self.hits.drain(..) {
            cx.emit(
                Output::JackpotHit {
                    hit: hit.clone(),
                    currency: self.state.currency,
                },
                ack,
            );
            let machine = hit.machine.clone();
            cx.forward(Remote::Machine(
                machine,
                MachineMsg::Award {
                    hit,
                    ack: ack.clone(),
                },
            ));
        }
    }
}

impl Entity for PoolEntity {
    type Id = PoolId;
    type Msg = PoolMsg;
    const KIND: EntityKind = EntityKind::Pool;

    fn key(id: &PoolId) -> EntityKey {
        EntityKey::Pool(id.clone())
    }

    fn ack(msg: &PoolMsg) -> &AckToken {
        &msg.ack
    }

    fn restore(id: &PoolId, stored: Option<Stored>, cx: &dyn EntityContext) -> Self {
        let mut rng = cx.hit_points(id);
        let ledger = Ledger::new(cx.keeps_ledger(), stored.as_ref());
        let mut created = false;
        let state = match stored.map(|s| s.snapshot) {
            Some(Snapshot::Pool(s)) => s,
            _ => {
                created = true;
                let config = cx
                    .pool_config(id)
                    .unwrap_or_else(|| panic!("pool {id} is not configured"));
                PoolState::new(id.clone(), config, rng.as_mut())
                    .unwrap_or_else(|e| panic!("pool {id}: {e}"))
            }
        };
        // The operator funds every level's first seed when the pool is created.
        let ledger = ledger.map(|l| PoolLedger::new(l, &state, created, cx.now()));
        Self {
            state,
            rng,
            hits: Vec::new(),
            dirty: true,
            carried: Carried::default(),
            ledger,
        }
    }

    fn handle(&mut self, msg: PoolMsg, cx: &dyn EntityContext) {
        let PoolMsg {
            meta,
            cmd,
            ack,
            rest,
        } = msg;
        self.apply_one(&meta, &cmd, &ack, cx);
        for (meta, cmd) in &rest {
            self.apply_one(meta, cmd, &ack, cx);
        }
    }

    fn tick(&mut self, cx: &dyn EntityContext, _all: bool) -> bool {
        if !std::mem::take(&mut self.dirty) {
            return false;
        }
        let levels = self
            .state
            .levels
            .iter()
            .enumerate()
            .map(|(i, l)| LevelView {
                level: i as u8,
                name: l.config.name.clone(),
                amount: l.level,
                hits: l.hits,
            })
            .collect();
        cx.emit(
            Output::JackpotLevels {
                pool: self.state.id.clone(),
                currency: self.state.currency,
                levels,
                carried: self.carried.take(),
            },
            &AckToken::none(),
        );
        // Publishing the levels changes no stored state.
        false
    }

    fn snapshot(&self) -> Option<Snapshot> {
        Some(Snapshot::Pool(self.state.clone()))
    }

    fn stash(&mut self, cx: &dyn EntityContext) -> Option<Stash> {
        Some(match &mut self.ledger {
            Some(l) => l.stash(&self.state, cx.now()),
            None => Stash::state(Snapshot::Pool(self.state.clone())),
        })
    }
}
