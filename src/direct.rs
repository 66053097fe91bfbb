//! The reference processor: the same state machines as the actors, applied one event at a
//! time in one thread, with effects routed by direct calls. It is the ceiling the benchmarks
//! compare the actor pipeline with, and an oracle for tests (the actors must end in the same
//! state for the same input).

use std::collections::{BTreeMap, HashMap};

use pitboss_actors::domain::aml::{AmlCase, CashDir};
use pitboss_actors::domain::desk::{
    CashSource, DeskEffect, DeskMeta, DeskState, Reply as DeskReply, ShiftNote,
};
use pitboss_actors::domain::ggr::{GgrDelta, HallState};
use pitboss_actors::domain::jackpot::{JackpotHit, PoolCommand, PoolMeta, PoolState};
use pitboss_actors::domain::machine::{
    Alert, MachineEffect, MachineEnv, MachineState, RatedSession,
};
use pitboss_actors::domain::transfer::TransferFact;
use pitboss_actors::domain::voucher::{
    Reply, VoucherEffect, VoucherMeta, VoucherPolicy, VoucherState,
};
use pitboss_actors::domain::wallet::{
    Answer, Answered, Recalled, TransferSettled, TxKey, TxRecord, WalletEffect, WalletMeta,
    WalletState,
};
use pitboss_actors::domain::{
    DomainError, HallId, MachineId, PlayerId, PoolId, ServerId, SourceKey, ValidationNo,
};
use pitboss_actors::shell::{
    Directory, EntityKey, HitPointFactory, Input, RuntimeConfig, Snapshot,
};

use crate::rng::KeyedHitPoints;

/// Counts of what the reference processor did.
#[derive(Debug, Default, Clone, Copy)]
pub struct DirectStats {
    /// Events applied (including refused and duplicate ones).
    pub events: u64,
    /// Events refused by the core.
    pub refused: u64,
    /// Outputs that would be published (alerts, wallet changes, hits).
    pub outputs: u64,
}

/// A wallet command's answer, as the reference processor published it (W-6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletAnswer {
    /// The wallet.
    pub player: PlayerId,
    /// The command's key.
    pub key: TxKey,
    /// The answer (for a repeat: the first one).
    pub answered: Answered,
    /// True when this republished an earlier answer.
    pub repeat: bool,
}

/// A single-threaded processor without actors.
pub struct Direct {
    config: RuntimeConfig,
    directory: Directory,
    hit_points: KeyedHitPoints,
    machines: HashMap<MachineId, MachineState>,
    wallets: HashMap<PlayerId, WalletState>,
    pools: HashMap<PoolId, PoolState>,
    halls: HashMap<HallId, HallState>,
    vouchers: HashMap<ValidationNo, VoucherState>,
    desks: HashMap<ServerId, DeskState>,
    vfx: Vec<VoucherEffect>,
    mfx: Vec<MachineEffect>,
    wfx: Vec<WalletEffect>,
    hits: Vec<JackpotHit>,
    /// Every jackpot hit, in the order they happened.
    hit_log: Vec<JackpotHit>,
    /// Every wallet record ever made: the store the wallets' memory falls back on (W-1).
    wallet_txs: HashMap<(PlayerId, TxKey), TxRecord>,
    /// Whether `answers` and `conflicts` are kept ([`Direct::keeping_answers`]).
    keep_answers: bool,
    /// The entities the last input's effects were delivered to, when traced
    /// ([`Direct::tracing_deliveries`]).
    delivered: Option<Vec<EntityKey>>,
    /// Every wallet answer published, in order (when kept).
    pub answers: Vec<WalletAnswer>,
    /// Every conflicting repeat refused (`tx_conflict`), in order: player, key, code.
    pub conflicts: Vec<(PlayerId, TxKey, &'static str)>,
    /// Counts.
    pub stats: DirectStats,
    /// Alerts raised, by code (machines and pools).
    pub alerts: BTreeMap<&'static str, u64>,
    /// Refusals, by code.
    pub refusals: BTreeMap<&'static str, u64>,
    /// Rated card sessions, as the machines ended them (RULES.md M-12).
    pub sessions: Vec<(MachineId, RatedSession)>,
    /// AML cases, as the wallets opened them (RULES.md W-11).
    pub cases: Vec<AmlCase>,
    /// What machines' transfer acknowledgements settled, per player, as the wallets
    /// published it (RULES.md W-10).
    pub transfers: Vec<(PlayerId, TransferSettled)>,
    /// Every desk answer and revised shift, in order, as the desks published them (RULES.md
    /// D-7).
    pub shifts: Vec<(ServerId, ShiftNote)>,
    /// Every alert a desk raised, in order (RULES.md D-3..D-5), with its details.
    pub desk_alerts: Vec<Alert>,
}

impl Direct {
    /// A processor for a configuration, with hit points keyed by `secret`.
    pub fn new(config: RuntimeConfig, secret: &str) -> Self {
        Self {
            directory: Directory::new(&config),
            config,
            hit_points: KeyedHitPoints::new(secret),
            machines: HashMap::new(),
            wallets: HashMap::new(),
            pools: HashMap::new(),
            halls: HashMap::new(),
            vouchers: HashMap::new(),
            desks: HashMap::new(),
            vfx: Vec::new(),
            mfx: Vec::new(),
            wfx: Vec::new(),
            hits: Vec::new(),
            hit_log: Vec::new(),
            wallet_txs: HashMap::new(),
            keep_answers: false,
            delivered: None,
            answers: Vec::new(),
            conflicts: Vec::new(),
            stats: DirectStats::default(),
            alerts: BTreeMap::new(),
            refusals: BTreeMap::new(),
            sessions: Vec::new(),
            transfers: Vec::new(),
            cases: Vec::new(),
            shifts: Vec::new(),
            desk_alerts: Vec::new(),
        }
    }

    /// Keeps every wallet answer and conflict (tests comparing answers one by one).
    pub fn keeping_answers(mut self) -> Self {
        self.keep_answers = true;
        self
    }

    /// Records, for each input, the entities its effects are delivered to
    /// ([`Direct::delivered`]).
    pub fn tracing_deliveries(mut self) -> Self {
        self.delivered = Some(Vec::new());
        self
    }

    /// The entities the effects of the last input applied were delivered to, one per
    /// delivery, in order: in the actor pipeline, the messages between actors that input
    /// caused (GGR deltas to halls, contributions and claims to pools, awards to machines).
    /// Empty unless [`Direct::tracing_deliveries`].
    pub fn delivered(&self) -> &[EntityKey] {
        self.delivered.as_deref().unwrap_or_default()
    }

    /// Notes a delivery to the entity `key` gives (when traced).
    fn deliver(&mut self, key: impl FnOnce() -> EntityKey) {
        if let Some(d) = &mut self.delivered {
            d.push(key());
        }
    }

    /// Applies one input event and everything it causes.
    pub fn apply(&mut self, input: Input) {
        self.stats.events += 1;
        if let Some(d) = &mut self.delivered {
            d.clear();
        }
        match input {
            Input::Machine {
                machine,
                hall,
                meta,
                cmd,
                currency,
            } => {
                let directory = &self.directory;
                let state = self.machines.entry(machine.clone()).or_insert_with(|| {
                    MachineState::new(machine.clone(), directory.machine_profile(&hall))
                });
                self.mfx.clear();
                let profile_of = |h: &HallId| directory.machine_profile(h);
                let env = MachineEnv {
                    skew: self.config.skew,
                    profile_of: &profile_of,
                    hold_of: &|h| {
                        self.config
                            .hold_overrides
                            .of(&machine, h, self.config.theoretical_hold_ppm)
                    },
                    loyalty_micro_points: self.config.loyalty_micro_points,
                };
                if let Err(e) = state.apply(&hall, &meta, &cmd, currency, &env, &mut self.mfx) {
                    self.stats.refused += 1;
                    *self.refusals.entry(e.code()).or_default() += 1;
                }
                let effect_seq = state.effect_seq;
                let fx = std::mem::take(&mut self.mfx);
                for effect in &fx {
                    match effect {
                        MachineEffect::Ggr(d) => self.ggr(d),
                        MachineEffect::Alert(a) => {
                            self.stats.outputs += 1;
                            *self.alerts.entry(a.code()).or_default() += 1;
                        }
                        MachineEffect::Voucher(t) => {
                            self.deliver(|| EntityKey::Voucher(t.validation));
                            let meta = VoucherMeta {
                                event_id: meta.event_id,
                                time: t.at,
                                hall: t.hall.clone(),
                            };
                            self.voucher(t.validation, &meta, |v, policy, fx| {
                                v.apply_fact(&meta, &t.fact, policy, fx)
                            });
                        }
                        MachineEffect::Transfer(t) => {
                            self.deliver(|| EntityKey::Wallet(t.player.clone()));
                            let meta = WalletMeta {
                                event_id: meta.event_id,
                                time: t.at,
                                hall: t.hall.clone(),
                            };
                            self.wallet_transfer(&t.player, &meta, &t.fact);
                        }
                        MachineEffect::Rated(r) => {
                            self.stats.outputs += 1;
                            self.sessions.push((machine.clone(), (**r).clone()));
                            if r.points > 0 {
                                // RULES.md M-12: the player's points.
                                self.deliver(|| EntityKey::Wallet(r.player.clone()));
                                wallet_of(&mut self.wallets, &self.config, &r.player)
                                    .apply_points(&machine, effect_seq, r.points);
                            }
                        }
                        MachineEffect::Cash(c) => {
                            // RULES.md W-11: the carded-in player's cash.
                            self.deliver(|| EntityKey::Wallet(c.player.clone()));
                            let meta = WalletMeta {
                                event_id: meta.event_id,
                                time: c.at,
                                hall: c.hall.clone(),
                            };
                            self.wallet_cash(
                                &c.player, &meta, &machine, effect_seq, c.amount, c.dir,
                            );
                        }
                        MachineEffect::CardIn(c) => {
                            self.deliver(|| EntityKey::Wallet(c.player.clone()));
                            let meta = WalletMeta {
                                event_id: meta.event_id,
                                time: c.at,
                                hall: c.hall.clone(),
                            };
                            self.wallet_card_in(&c.player, &meta, &machine);
                        }
                        pooled => {
                            if let Some((pool, cmd)) = PoolCommand::of_effect(pooled, &machine) {
                                self.deliver(|| EntityKey::Pool(pool.clone()));
                                self.pool_apply(pool, &machine, effect_seq, meta.event_id, cmd);
                            }
                        }
                    }
                }
                self.mfx = fx;
            }
            Input::Wallet {
                player,
                meta,
                cmd,
                currency,
            } => {
                let state = wallet_of(&mut self.wallets, &self.config, &player);
                // W-1: what is not in memory is read back from the "store".
                let recalled: Recalled = state
                    .missing(&cmd)
                    .into_iter()
                    .map(|k| {
                        let r = self.wallet_txs.get(&(player.clone(), k.clone())).cloned();
                        (k, r)
                    })
                    .collect();
                self.wfx.clear();
                let rules = self.config.wallet_rules();
                let result = state.apply(&meta, &cmd, currency, &rules, &recalled, &mut self.wfx);
                let fx = std::mem::take(&mut self.wfx);
                for effect in &fx {
                    match effect {
                        WalletEffect::Ggr(d) => self.ggr(d),
                        WalletEffect::Changed { .. } | WalletEffect::PatronCash { .. } => {}
                        WalletEffect::Desk(desk, c) => {
                            // RULES.md D-10: the desk books the wallet's cash.
                            self.deliver(|| EntityKey::Desk(desk.clone()));
                            let meta = DeskMeta {
                                event_id: meta.event_id,
                                time: meta.time,
                                hall: meta.hall.clone(),
                            };
                            let (desk, c) = (desk.clone(), *c);
                            self.desk(desk, |d, fx| d.apply_cash(&meta, c, CashSource::Wallet, fx));
                        }
                        // An acknowledgement that waited settles at a command too (RULES.md
                        // W-10: its request, or any message after its wait).
                        WalletEffect::Alert(_)
                        | WalletEffect::TransferAlert(..)
                        | WalletEffect::Case(_)
                        | WalletEffect::Transfer(_) => {
                            self.count_wallet_output(&player, effect);
                        }
                        WalletEffect::Remember(k, r) => {
                            self.wallet_txs
                                .insert((player.clone(), k.clone()), r.clone());
                        }
                        WalletEffect::Answer {
                            key,
                            answered,
                            repeat,
                        } => {
                            self.stats.outputs += 1;
                            if !repeat && matches!(answered.answer, Answer::Refused(_)) {
                                self.stats.refused += 1;
                            }
                            if self.keep_answers {
                                self.answers.push(WalletAnswer {
                                    player: player.clone(),
                                    key: key.clone(),
                                    answered: answered.clone(),
                                    repeat: *repeat,
                                });
                            }
                        }
                    }
                }
                if let Err(e @ DomainError::TxConflict { .. }) = &result {
                    // W-2: a conflict is answered by a `refused` output of its own.
                    self.stats.refused += 1;
                    self.stats.outputs += 1;
                    if self.keep_answers {
                        self.conflicts.push((player.clone(), cmd.key(), e.code()));
                    }
                }
                self.wfx = fx;
            }
            Input::Voucher {
                validation,
                meta,
                cmd,
                currency,
            } => {
                self.voucher(validation, &meta, |v, policy, fx| {
                    let currency = currency.unwrap_or(v.currency);
                    v.apply(&meta, &cmd, currency, policy, fx)
                });
            }
            Input::Desk {
                desk,
                meta,
                cmd,
                currency,
            } => self.desk(desk, |d, fx| d.apply(&meta, &cmd, currency, fx)),
        }
    }

    /// Applies a command or a cash operation to a desk and counts what it published
    /// (RULES.md D).
    fn desk(
        &mut self,
        desk: ServerId,
        f: impl FnOnce(&mut DeskState, &mut Vec<DeskEffect>) -> Result<DeskReply, DomainError>,
    ) {
        let network = self.config.currency;
        let state = self
            .desks
            .entry(desk.clone())
            .or_insert_with(|| DeskState::new(desk.clone(), network));
        let mut fx = Vec::new();
        let result = f(state, &mut fx);
        if let Err(e) = &result {
            // A conflicting repeat (D-6) or a total beyond the bounds: a `refused` output.
            self.stats.refused += 1;
            self.stats.outputs += 1;
            *self.refusals.entry(e.code()).or_default() += 1;
        }
        let repeat = matches!(result, Ok(DeskReply::Repeat));
        for effect in fx {
            match effect {
                DeskEffect::Moved { .. } => {}
                DeskEffect::Note(n) => {
                    self.stats.outputs += 1;
                    if let (Some(e), false) = (&n.refused, repeat) {
                        self.stats.refused += 1;
                        *self.refusals.entry(e.code()).or_default() += 1;
                    }
                    self.shifts.push((desk.clone(), *n));
                }
                DeskEffect::Alert(a) => {
                    self.stats.outputs += 1;
                    *self.alerts.entry(a.code()).or_default() += 1;
                    self.desk_alerts.push(a);
                }
            }
        }
    }

    /// Applies a command or fact to a voucher and counts what it published (RULES.md V).
    /// A machine's transfer fact applied to its wallet (RULES.md W-10).
    fn wallet_transfer(&mut self, player: &PlayerId, meta: &WalletMeta, fact: &TransferFact) {
        let state = wallet_of(&mut self.wallets, &self.config, player);
        let mut fx = std::mem::take(&mut self.wfx);
        fx.clear();
        if let Err(e) = state.apply_transfer(meta, fact, &self.config.wallet_rules(), &mut fx) {
            self.stats.refused += 1;
            *self.refusals.entry(e.code()).or_default() += 1;
        }
        fx.iter().for_each(|e| self.count_wallet_output(player, e));
        self.wfx = fx;
    }

    /// RULES.md W-11: a machine's cash fact reaches the player's wallet (made if need be).
    fn wallet_cash(
        &mut self,
        player: &PlayerId,
        meta: &WalletMeta,
        machine: &MachineId,
        seq: u64,
        amount: i64,
        dir: CashDir,
    ) {
        let rules = self.config.wallet_rules();
        let state = wallet_of(&mut self.wallets, &self.config, player);
        let mut fx = std::mem::take(&mut self.wfx);
        fx.clear();
        state.apply_cash(meta, machine, seq, amount, dir, &rules, &mut fx);
        fx.iter().for_each(|e| self.count_wallet_output(player, e));
        self.wfx = fx;
    }

    /// A wallet's alert (counted by code), AML case (RULES.md W-11, kept) or settled
    /// transfer (W-10, kept): an output each; other effects are the caller's.
    fn count_wallet_output(&mut self, player: &PlayerId, effect: &WalletEffect) {
        match effect {
            WalletEffect::Alert(a) | WalletEffect::TransferAlert(_, a) => {
                self.stats.outputs += 1;
                *self.alerts.entry(a.code()).or_default() += 1;
            }
            WalletEffect::Case(c) => {
                self.stats.outputs += 1;
                self.cases.push((**c).clone());
            }
            WalletEffect::Transfer(t) => {
                self.stats.outputs += 1;
                self.transfers.push((player.clone(), (**t).clone()));
            }
            _ => {}
        }
    }

    /// RULES.md W-9: a card-in reaches the player's wallet, if there is one (a card-in
    /// creates none).
    fn wallet_card_in(&mut self, player: &PlayerId, meta: &WalletMeta, machine: &MachineId) {
        let Some(state) = self.wallets.get(player) else {
            return;
        };
        let mut fx = std::mem::take(&mut self.wfx);
        fx.clear();
        state.apply_card_in(meta, machine, &mut fx);
        fx.iter().for_each(|e| self.count_wallet_output(player, e));
        self.wfx = fx;
    }

    fn voucher(
        &mut self,
        validation: ValidationNo,
        cause: &VoucherMeta,
        f: impl FnOnce(
            &mut VoucherState,
            &VoucherPolicy,
            &mut Vec<VoucherEffect>,
        ) -> Result<Reply, DomainError>,
    ) {
        let network = self.config.currency;
        let state = self
            .vouchers
            .entry(validation)
            .or_insert_with(|| VoucherState::new(validation, network));
        let mut fx = std::mem::take(&mut self.vfx);
        fx.clear();
        let result = f(state, &self.config.vouchers, &mut fx);
        if let Err(e) = &result {
            // A conflicting repeat (V-7) or a total beyond the bounds: a `refused` output.
            self.stats.refused += 1;
            self.stats.outputs += 1;
            *self.refusals.entry(e.code()).or_default() += 1;
        }
        let repeat = matches!(result, Ok(Reply::Repeat));
        let mut cash = Vec::new();
        for effect in &fx {
            match effect {
                VoucherEffect::Moved { .. } => {}
                VoucherEffect::Desk(desk, c) => cash.push((desk.clone(), *c)),
                VoucherEffect::Note(n) => {
                    self.stats.outputs += 1;
                    if let (Some(e), false) = (&n.refused, repeat) {
                        self.stats.refused += 1;
                        *self.refusals.entry(e.code()).or_default() += 1;
                    }
                }
                VoucherEffect::Alert(a) => {
                    self.stats.outputs += 1;
                    *self.alerts.entry(a.code()).or_default() += 1;
                }
            }
        }
        self.vfx = fx;
        // RULES.md D-3: the desk books what its voucher command moved.
        for (desk, c) in cash {
            self.deliver(|| EntityKey::Desk(desk.clone()));
            let meta = DeskMeta {
                event_id: cause.event_id,
                time: cause.time,
                hall: cause.hall.clone(),
            };
            self.desk(desk, |d, fx| d.apply_cash(&meta, c, CashSource::Ticket, fx));
        }
    }

    /// Delivers a GGR delta to its hall.
    fn ggr(&mut self, d: &GgrDelta) {
        self.deliver(|| EntityKey::Hall(d.hall.clone()));
        self.hall(&d.hall)
            .apply(d)
            .map(|_| ())
            .expect("GGR totals overflow")
    }

    fn hall(&mut self, id: &HallId) -> &mut HallState {
        self.halls
            .entry(id.clone())
            .or_insert_with(|| HallState::new(id.clone()))
    }

    fn pool_apply(
        &mut self,
        pool: &PoolId,
        machine: &MachineId,
        seq: u64,
        cause: pitboss_actors::domain::EventId,
        cmd: PoolCommand,
    ) {
        let hit_points = &self.hit_points;
        let config = &self.config;
        let state = self.pools.entry(pool.clone()).or_insert_with(|| {
            let spec = config
                .pools
                .iter()
                .find(|p| &p.id == pool)
                .unwrap_or_else(|| panic!("pool {pool} is not configured"));
            PoolState::new(
                pool.clone(),
                spec.config.clone(),
                hit_points.for_pool(pool).as_mut(),
            )
            .unwrap_or_else(|e| panic!("pool {pool}: {e}"))
        });
        let meta = PoolMeta {
            source: SourceKey::Machine(machine.clone()),
            seq,
            cause,
        };
        self.hits.clear();
        let mut rng = hit_points.for_pool(pool);
        let paid_before = state.paid_of(&cmd);
        let result = state.apply(&meta, &cmd, rng.as_mut(), &mut self.hits);
        if let Err(e) = &result {
            self.stats.refused += 1;
            *self.refusals.entry(e.code()).or_default() += 1;
        }
        if let Some(a) = state.claim_alert(&cmd, &result, paid_before, &self.hits) {
            self.stats.outputs += 1;
            *self.alerts.entry(a.code()).or_default() += 1;
        }
        let hits = std::mem::take(&mut self.hits);
        self.hit_log.extend(hits.iter().cloned());
        for hit in &hits {
            self.stats.outputs += 1;
            self.deliver(|| EntityKey::Machine(hit.machine.clone()));
            let m = self
                .machines
                .get_mut(&hit.machine)
                .expect("a hit follows the machine's event");
            let mut fx = Vec::new();
            m.apply_award(
                &hit.pool,
                hit.level,
                hit.hit_number,
                hit.amount,
                hit.cause,
                &mut fx,
            )
            .expect("jackpot paid meter overflow");
            for effect in fx {
                if let MachineEffect::Ggr(d) = effect {
                    self.ggr(&d);
                }
            }
        }
        self.hits = hits;
    }

    /// Every jackpot hit so far, in the order they happened.
    pub fn hit_log(&self) -> &[JackpotHit] {
        &self.hit_log
    }

    /// Every entity's state.
    pub fn snapshots(&self) -> Vec<Snapshot> {
        let mut v: Vec<Snapshot> = Vec::new();
        v.extend(self.machines.values().cloned().map(Snapshot::Machine));
        v.extend(self.wallets.values().cloned().map(Snapshot::Wallet));
        v.extend(self.pools.values().cloned().map(Snapshot::Pool));
        v.extend(self.halls.values().cloned().map(Snapshot::Hall));
        v.extend(self.vouchers.values().cloned().map(Snapshot::Voucher));
        v.extend(self.desks.values().cloned().map(Snapshot::Desk));
        v
    }
}

/// A player's wallet, made (in the network's currency) if it is not there yet.
fn wallet_of<'a>(
    wallets: &'a mut HashMap<PlayerId, WalletState>,
    config: &RuntimeConfig,
    player: &PlayerId,
) -> &'a mut WalletState {
    wallets.entry(player.clone()).or_insert_with(|| {
        WalletState::new(
            player.clone(),
            config.currency,
            config.wallet_credit_line_minor,
            config.wallet_window_len,
        )
    })
}
