//! What the runtime is configured with: its bounds, the network's currency, the pools and
//! which halls play for them.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crate::domain::aml::AmlRules;
use crate::domain::bonus::BetsDraw;
use crate::domain::jackpot::PoolConfig;
use crate::domain::limits::Calendar;
use crate::domain::machine::MachineProfile;
use crate::domain::voucher::VoucherPolicy;
use crate::domain::wallet::WalletRules;
use crate::domain::{Currency, HallId, MachineId, PoolId, ServerId, SkewLimits};

/// Halls' and machines' own theoretical holds, parts per million of coin in (RULES.md
/// M-12): a machine's own, else its hall's, else the network's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HoldOverrides {
    pub halls: HashMap<HallId, i64>,
    pub machines: HashMap<MachineId, i64>,
}

impl HoldOverrides {
    /// The theoretical hold of `machine` standing in `hall`; `network` without an override.
    pub fn of(&self, machine: &MachineId, hall: &HallId, network: i64) -> i64 {
        if let Some(p) = self.machines.get(machine) {
            return *p;
        }
        self.halls.get(hall).copied().unwrap_or(network)
    }
}

/// A jackpot pool and the halls whose machines play for it.
#[derive(Clone, Debug)]
pub struct PoolSpec {
    pub id: PoolId,
    pub config: PoolConfig,
    /// Halls linked to it; `None` links every hall (a wide-area pool).
    pub halls: Option<Vec<HallId>>,
}

/// Settings of the runtime. Every bound has its unit in its name.
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    /// Threads (actix arbiters) the actors are spread over.
    pub arbiters: usize,
    /// Capacity of an actor's mailbox for messages from the ingest side.
    pub mailbox_len_max: usize,
    /// Transaction ids a wallet remembers for idempotency.
    pub wallet_window_len: usize,
    /// How far below zero a wallet may go.
    pub wallet_credit_line_minor: i64,
    /// The largest withdrawal an unverified player may make (RULES.md W-8; `None`: no limit).
    pub wallet_kyc_withdrawal_max_minor: Option<i64>,
    /// How long a raised or removed deposit limit waits (RULES.md W-9).
    pub wallet_cooling_off_ms: i64,
    /// How long a transfer's hold waits for its machine (RULES.md W-10).
    pub wallet_transfer_hold_ms: i64,
    /// The longest break that keeps a playing session going (RULES.md W-9).
    pub wallet_session_break_ms: i64,
    /// Which of cash and bonus pays a bet first (RULES.md W-12).
    pub wallet_bets_draw: BetsDraw,
    /// The cash desks whose wallet deposits and withdrawals are cash in their drawers
    /// (RULES.md D-10).
    pub cash_desks: Arc<BTreeSet<ServerId>>,
    /// Where days, weeks and months start for deposit limits: the jurisdiction's local time
    /// (RULES.md W-9).
    pub calendar: Arc<dyn Calendar>,
    /// Cash in at or above this raises an AML alert (0 = never).
    pub large_cash_in_alert_minor: i64,
    /// A win credited at or above this should have been a handpay: alerted (0 = never,
    /// RULES.md M-10).
    pub handpay_threshold_minor: i64,
    /// The network's theoretical hold, parts per million of coin in (RULES.md M-12).
    pub theoretical_hold_ppm: i64,
    /// Halls' and machines' own theoretical holds.
    pub hold_overrides: Arc<HoldOverrides>,
    /// Loyalty points per minor unit of a rated session's theoretical win, in millionths
    /// (RULES.md M-12).
    pub loyalty_micro_points: i64,
    /// Patron-cash thresholds (RULES.md W-11).
    pub aml: AmlRules,
    /// Windows a hall keeps open behind its newest one before publishing them.
    pub ggr_grace_windows: i64,
    /// Windows a hall keeps in memory.
    pub ggr_windows_max: usize,
    /// A source a hall has not heard from for this long (its booked time) is forgotten
    /// (RULES.md H-3).
    pub source_expiry_ms: i64,
    /// Live actors of one kind at most after an idle sweep (0: no bound): beyond it, the
    /// sweep also passivates the least used of those active since the previous sweep.
    pub live_actors_max: usize,
    /// The network's currency (machines and halls).
    pub currency: Currency,
    /// How far event times may stray from receive times (RULES.md E-3).
    pub skew: SkewLimits,
    pub pools: Vec<PoolSpec>,
    /// Voucher expiry, holds and where a hall's tickets may be redeemed (RULES.md V).
    pub vouchers: VoucherPolicy,
}

impl RuntimeConfig {
    /// The wallets' rules of this configuration (RULES.md W-3 to W-12).
    pub fn wallet_rules(&self) -> WalletRules<'_> {
        WalletRules {
            kyc_withdrawal_max: self.wallet_kyc_withdrawal_max_minor,
            cooling_off_ms: self.wallet_cooling_off_ms,
            transfer_hold_ms: self.wallet_transfer_hold_ms,
            session_break_ms: self.wallet_session_break_ms,
            calendar: self.calendar.as_ref(),
            aml: self.aml,
            bets_draw: self.wallet_bets_draw,
            cash_desks: &self.cash_desks,
        }
    }
}

/// The part of the configuration entities read when they create or tick a state.
#[derive(Clone, Debug)]
pub struct EntitySettings {
    /// The network's currency (halls publish GGR in it).
    pub currency: Currency,
    /// Transaction ids a wallet remembers for idempotency.
    pub wallet_window_len: usize,
    /// How far below zero a wallet may go.
    pub wallet_credit_line_minor: i64,
    /// The largest withdrawal an unverified player may make (RULES.md W-8; `None`: no limit).
    pub wallet_kyc_withdrawal_max_minor: Option<i64>,
    /// How long a raised or removed deposit limit waits (RULES.md W-9).
    pub wallet_cooling_off_ms: i64,
    /// How long a transfer's hold waits for its machine (RULES.md W-10).
    pub wallet_transfer_hold_ms: i64,
    /// The longest break that keeps a playing session going (RULES.md W-9).
    pub wallet_session_break_ms: i64,
    /// Which of cash and bonus pays a bet first (RULES.md W-12).
    pub wallet_bets_draw: BetsDraw,
    /// The cash desks whose wallet deposits and withdrawals are cash (RULES.md D-10).
    pub cash_desks: Arc<BTreeSet<ServerId>>,
    /// Windows a hall keeps open behind its newest one before publishing them.
    pub ggr_grace_windows: i64,
    /// Windows a hall keeps in memory.
    pub ggr_windows_max: usize,
    /// A source a hall has not heard from for this long is forgotten (RULES.md H-3).
    pub source_expiry_ms: i64,
    /// How far event times may stray from receive times (RULES.md E-3).
    pub skew: SkewLimits,
    /// The network's theoretical hold, parts per million of coin in (RULES.md M-12).
    pub theoretical_hold_ppm: i64,
    /// Halls' and machines' own theoretical holds.
    pub hold_overrides: Arc<HoldOverrides>,
    /// Loyalty points per minor unit of a rated session's theoretical win, in millionths
    /// (RULES.md M-12).
    pub loyalty_micro_points: i64,
    /// Patron-cash thresholds (RULES.md W-11).
    pub aml: AmlRules,
}

impl EntitySettings {
    /// The theoretical hold of `machine` standing in `hall` (RULES.md M-12).
    pub fn theoretical_hold_ppm_of(&self, machine: &MachineId, hall: &HallId) -> i64 {
        self.hold_overrides
            .of(machine, hall, self.theoretical_hold_ppm)
    }
}

impl From<&RuntimeConfig> for EntitySettings {
    fn from(c: &RuntimeConfig) -> Self {
        Self {
            currency: c.currency,
            wallet_window_len: c.wallet_window_len,
            wallet_credit_line_minor: c.wallet_credit_line_minor,
            wallet_kyc_withdrawal_max_minor: c.wallet_kyc_withdrawal_max_minor,
            wallet_cooling_off_ms: c.wallet_cooling_off_ms,
            wallet_transfer_hold_ms: c.wallet_transfer_hold_ms,
            wallet_session_break_ms: c.wallet_session_break_ms,
            wallet_bets_draw: c.wallet_bets_draw,
            cash_desks: c.cash_desks.clone(),
            ggr_grace_windows: c.ggr_grace_windows,
            ggr_windows_max: c.ggr_windows_max,
            source_expiry_ms: c.source_expiry_ms,
            skew: c.skew,
            theoretical_hold_ppm: c.theoretical_hold_ppm,
            hold_overrides: c.hold_overrides.clone(),
            loyalty_micro_points: c.loyalty_micro_points,
            aml: c.aml,
        }
    }
}

/// Which pools the machines of a hall play for, from the configuration.
#[derive(Clone, Debug)]
pub struct Directory {
    currency: Currency,
    large_cash_in_alert_minor: i64,
    handpay_threshold_minor: i64,
    pools_by_hall: HashMap<HallId, Vec<PoolId>>,
    wide_area_pools: Vec<PoolId>,
}

impl Directory {
    /// The directory of a configuration.
    pub fn new(config: &RuntimeConfig) -> Self {
        let mut dir = Self {
            currency: config.currency,
            large_cash_in_alert_minor: config.large_cash_in_alert_minor,
            handpay_threshold_minor: config.handpay_threshold_minor,
            pools_by_hall: HashMap::new(),
            wide_area_pools: Vec::new(),
        };
        for p in &config.pools {
            dir.add_pool(p);
        }
        dir
    }

    /// Links a pool to its halls (or to every hall).
    pub fn add_pool(&mut self, p: &PoolSpec) {
        match &p.halls {
            None => self.wide_area_pools.push(p.id.clone()),
            Some(halls) => {
                for h in halls {
                    self.pools_by_hall
                        .entry(h.clone())
                        .or_default()
                        .push(p.id.clone());
                }
            }
        }
    }

    /// The profile of a machine standing in `hall`.
    pub fn machine_profile(&self, hall: &HallId) -> MachineProfile {
        let mut pools = self.pools_by_hall.get(hall).cloned().unwrap_or_default();
        pools.extend(self.wide_area_pools.iter().cloned());
        MachineProfile {
            hall: hall.clone(),
            currency: self.currency,
            pools,
            large_cash_in_alert_minor: self.large_cash_in_alert_minor,
            handpay_threshold_minor: self.handpay_threshold_minor,
        }
    }
}
