//! The model's state and the entry point of every input: validate (E-1), then the rules of
//! the machine or the wallet the event is for.

use std::collections::BTreeMap;

use crate::wire::InputEnvelope;

use super::entities::{Machine, Marks, Pool, Wallet};
use super::types::{
    Answer, Draw, HallView, Hit, LevelView, MachineView, ModelConfig, Outcome, Totals, WalletView,
    MICRO, WINDOW_MS,
};
use super::validate::{self, Event};

/// The model: every entity's state and what was published about it.
pub struct Model {
    pub(super) cfg: ModelConfig,
    pub(super) draw: Draw,
    pub(super) machines: BTreeMap<String, Machine>,
    /// Sequence marks per machine and epoch: the EPOCHS_KEPT highest epochs seen (M-1).
    pub(super) marks: BTreeMap<String, BTreeMap<u64, Marks>>,
    pub(super) wallets: BTreeMap<String, Wallet>,
    pub(super) pools: BTreeMap<String, Pool>,
    /// Halls' revenue.
    pub halls: BTreeMap<String, HallView>,
    /// Jackpot hits in the order they happened.
    pub hits: Vec<Hit>,
    /// Every wallet command's answer, by (player, provider, tx).
    pub answers: BTreeMap<(String, String, String), Answer>,
    /// The round each answer echoes, by (player, provider, tx), for commands that named one
    /// (W-6, E-2).
    pub rounds: BTreeMap<(String, String, String), String>,
    /// Alerts by code.
    pub alerts: BTreeMap<&'static str, u64>,
    /// Refusals by code.
    pub refusals: BTreeMap<&'static str, u64>,
    /// Rejections by code.
    pub rejections: BTreeMap<&'static str, u64>,
    /// Repeats recognised.
    pub repeats: u64,
    /// Inputs seen.
    pub inputs: u64,
}

impl Model {
    /// An empty network under `cfg`, with mystery hit points from `draw`.
    pub fn new(cfg: ModelConfig, draw: Draw) -> Self {
        let mut m = Self {
            cfg,
            draw,
            machines: BTreeMap::new(),
            marks: BTreeMap::new(),
            wallets: BTreeMap::new(),
            pools: BTreeMap::new(),
            halls: BTreeMap::new(),
            hits: Vec::new(),
            answers: BTreeMap::new(),
            rounds: BTreeMap::new(),
            alerts: BTreeMap::new(),
            refusals: BTreeMap::new(),
            rejections: BTreeMap::new(),
            repeats: 0,
            inputs: 0,
        };
        // Every configured pool exists from the start, each level at its seed (P-5).
        for spec in m.cfg.pools.clone() {
            let p = Pool::new(&spec, &mut m.draw);
            m.pools.insert(spec.id.clone(), p);
        }
        m
    }

    /// Applies one message as bytes: what does not read as an event is rejected (E-1).
    pub fn apply_bytes(&mut self, bytes: &[u8], kafka_time: Option<i64>) -> Outcome {
        match InputEnvelope::from_bytes(bytes) {
            Ok(env) => self.apply(&env, kafka_time),
            Err(e) => {
                self.inputs += 1;
                let code = if bytes.len() > 64 * 1024 {
                    "oversize"
                } else {
                    // The shape did not parse: a wrong type, a missing field, an unknown kind.
                    match e.code() {
                        "missing_field" => "missing_field",
                        "unsupported_version" => "unsupported_version",
                        "invalid_amount" => "invalid_amount",
                        _ => "malformed",
                    }
                };
                self.count_outcome(Outcome::Rejected(code))
            }
        }
    }

    /// Applies one event; `kafka_time` is the Kafka record's timestamp, if it came from Kafka.
    pub fn apply(&mut self, env: &InputEnvelope, kafka_time: Option<i64>) -> Outcome {
        self.inputs += 1;
        let outcome = match validate::validate(env) {
            Err(code) => Outcome::Rejected(code),
            Ok(Event::Machine(m)) => self.apply_machine(m, kafka_time),
            Ok(Event::Wallet(w)) => self.apply_wallet(w),
        };
        self.count_outcome(outcome)
    }

    fn count_outcome(&mut self, o: Outcome) -> Outcome {
        match &o {
            Outcome::Rejected(c) => *self.rejections.entry(c).or_default() += 1,
            Outcome::Refused(c) => *self.refusals.entry(c).or_default() += 1,
            Outcome::Repeat => self.repeats += 1,
            Outcome::Applied => {}
        }
        o
    }

    /// E-3: the event time, unless it is too far from the receive time. Checked only for an
    /// event that is not a repeat (a repeat changes nothing, so it says nothing new).
    pub(super) fn booked_time(&mut self, t: i64, receive: Option<i64>) -> i64 {
        let Some(r) = receive else {
            return t;
        };
        if t > r + self.cfg.clock_ahead_max_ms || t < r - self.cfg.clock_behind_max_ms {
            self.alert("clock_skew");
            r
        } else {
            t
        }
    }

    pub(super) fn alert(&mut self, code: &'static str) {
        *self.alerts.entry(code).or_default() += 1;
    }

    pub(super) fn book(&mut self, hall: &str, time: i64, delta: Totals) {
        let h = self.halls.entry(hall.to_owned()).or_default();
        h.totals.add(&delta);
        let window = time.div_euclid(WINDOW_MS) * WINDOW_MS;
        h.windows.entry(window).or_default().add(&delta);
    }

    /// The pools a machine standing in `hall` plays for.
    pub(super) fn pools_of(&self, hall: &str) -> Vec<String> {
        self.cfg
            .pools
            .iter()
            .filter(|p| match &p.halls {
                None => true,
                Some(hs) => hs.iter().any(|h| h == hall),
            })
            .map(|p| p.id.clone())
            .collect()
    }

    /// Every machine's state.
    pub fn machines(&self) -> BTreeMap<String, MachineView> {
        self.machines
            .iter()
            .map(|(id, m)| (id.clone(), m.view()))
            .collect()
    }

    /// Every wallet's state.
    pub fn wallets(&self) -> BTreeMap<String, WalletView> {
        self.wallets
            .iter()
            .map(|(id, w)| (id.clone(), w.view()))
            .collect()
    }

    /// Every pool's levels.
    pub fn pools(&self) -> BTreeMap<String, Vec<LevelView>> {
        self.pools
            .iter()
            .map(|(id, p)| (id.clone(), p.levels.clone()))
            .collect()
    }

    /// The conservation equation of `RULES.md`, in micro-units: money in, and money
    /// accounted for. Equal when no unit was lost or invented.
    pub fn conservation(&self) -> (i128, i128) {
        let mut entered: i128 = 0;
        let mut accounted: i128 = 0;
        for m in self.machines.values() {
            let v = m.view();
            let cash_in = v.meters["bills_in"] + v.meters["tickets_in"] + v.meters["cashless_in"];
            // M-10: a jackpot handpay leaves by hand, beside the cash outs.
            let cash_out = v.meters["tickets_out"]
                + v.meters["cashless_out"]
                + v.meters["handpaid"]
                + v.meters["jackpot_handpaid"];
            entered += i128::from(cash_in) * MICRO;
            accounted += i128::from(v.credits + cash_out + v.meters["jackpot_paid"]) * MICRO;
        }
        for w in self.wallets.values() {
            let v = w.view();
            entered += i128::from(v.deposits) * MICRO;
            accounted += i128::from(v.balance + v.withdrawals) * MICRO;
        }
        for levels in self.pools.values() {
            for l in &levels.levels {
                entered += i128::from(l.seeded + l.variance) * MICRO;
                accounted += l.held_micro() - l.contributed_micro;
            }
        }
        for h in self.halls.values() {
            accounted += i128::from(h.totals.ggr()) * MICRO;
        }
        (entered, accounted)
    }
}
