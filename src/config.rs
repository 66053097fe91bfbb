//! Configuration in layers: the defaults embedded from `deploy/pitboss.toml`, then a file,
//! then environment variables `PITBOSS_<SECTION>__<KEY>` (`-` written as `_`). Unknown keys
//! are errors, so a typo never silently falls back to a default.
//!
//! Two `PITBOSS_` variables are not keys: [`CONFIG_FILE_ENV`] names the file (the binary's
//! `--config`) and [`API_KEY_ENV`] holds the admin key `pitboss backup` presents, so the
//! environment layer leaves them out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use pitboss_actors::domain::aml::AmlRules;
use pitboss_actors::domain::jackpot::{LevelConfig, PoolConfig};
use pitboss_actors::domain::voucher::VoucherPolicy;
use pitboss_actors::domain::{Currency, HallId, MachineId, PoolId, ServerId, SkewLimits};
use pitboss_actors::shell::{HoldOverrides, PoolSpec, RuntimeConfig};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub const DEFAULTS: &str = include_str!("../deploy/pitboss.toml");

/// The environment variable that names the configuration file (`--config`).
pub const CONFIG_FILE_ENV: &str = "PITBOSS_CONFIG";

// --- Backups (issue 15) ---
/// The environment variable holding the admin API key `pitboss backup` presents to a
/// running instance: not a configuration key either.
pub const API_KEY_ENV: &str = "PITBOSS_API_KEY";
// --- end of backups ---

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// TOML syntax or a wrong key or type.
    #[error("invalid configuration ({origin}): {message}")]
    Invalid {
        /// Which layer.
        origin: String,
        /// The parser's message.
        message: String,
    },
    /// A value the domain refuses.
    #[error("invalid configuration: {0}")]
    Domain(String),
}

/// The whole configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Network-wide facts.
    pub network: NetworkConfig,
    /// Actor runtime settings.
    pub runtime: RuntimeSection,
    /// Jackpot pools.
    #[serde(default)]
    pub pools: Vec<PoolSection>,
    /// The hall-network simulator.
    pub sim: SimConfig,
    /// Kafka (`pitboss run`, `pitboss topics`).
    #[serde(default)]
    pub kafka: crate::kafka::KafkaConfig,
    /// The HTTP server: metrics, health, jackpot feed and page, read and admin APIs.
    #[serde(default)]
    pub http: crate::http::HttpConfig,
    /// Where entity state is kept (`pitboss demo`, `run`, `migrate`, `audit`).
    #[serde(default)]
    pub store: crate::store::StoreConfig,
    /// TITO vouchers: expiry, redemption holds, halls whose tickets stay at home (RULES.md V).
    #[serde(default)]
    pub vouchers: VoucherSection,
    /// The synchronous gateway for cash desks and game providers (off unless `addr` is set).
    #[serde(default)]
    pub gateway: crate::gateway::GatewayConfig,
    /// Gaming days: the halls' time zones and rollover (issue 13, RULES.md H-4).
    #[serde(default)]
    pub gaming_day: crate::gaming_day::GamingDaySection,
    /// Responsible-gaming limits: the jurisdiction's time zone and the cooling-off (RULES.md
    /// W-9).
    #[serde(default)]
    pub responsible_gaming: crate::calendar::ResponsibleGamingSection,
    /// Patron cash thresholds (RULES.md W-11).
    #[serde(default)]
    pub aml: AmlSection,
}

/// The `[aml]` section (RULES.md W-11): minor units; 0 turns a check off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AmlSection {
    /// A patron's cash in (or out) in a local day at or above this is logged (a `log` case).
    pub log_threshold_minor: i64,
    /// ... at or above this, reportable (a `report` case).
    pub report_threshold_minor: i64,
    /// A cash-in at or above this and below the reportable threshold is near it.
    pub structuring_floor_minor: i64,
    /// This many near-threshold cash-ins within the window are a `structuring` case (0: off).
    pub structuring_count: u32,
    pub structuring_window_hours: u32,
}

impl Default for AmlSection {
    fn default() -> Self {
        Self {
            log_threshold_minor: 300_000,
            report_threshold_minor: 1_000_000,
            structuring_floor_minor: 900_000,
            structuring_count: 3,
            structuring_window_hours: 24,
        }
    }
}

impl AmlSection {
    /// The domain's thresholds.
    pub fn rules(&self) -> Result<AmlRules, ConfigError> {
        let a = self;
        if a.log_threshold_minor < 0
            || a.report_threshold_minor < 0
            || a.structuring_floor_minor < 0
        {
            return Err(ConfigError::Domain(
                "aml thresholds must be 0 (off) or above".into(),
            ));
        }
        if a.structuring_count > 0
            && (a.report_threshold_minor == 0
                || a.structuring_floor_minor >= a.report_threshold_minor)
        {
            return Err(ConfigError::Domain(
                "aml.structuring-floor-minor must be below aml.report-threshold-minor (above 0) when aml.structuring-count is above 0".into(),
            ));
        }
        Ok(AmlRules {
            log_minor: a.log_threshold_minor,
            report_minor: a.report_threshold_minor,
            structuring_floor_minor: a.structuring_floor_minor,
            structuring_count: a.structuring_count,
            structuring_window_ms: i64::from(a.structuring_window_hours) * 3_600_000,
        })
    }
}

/// The `[vouchers]` section (RULES.md V-3, V-6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct VoucherSection {
    /// Days a voucher stays redeemable after its issue (0: never expires).
    pub expiry_days: u32,
    /// How long a redemption request holds a voucher for its redeemer, in seconds.
    pub hold_secs: u64,
    /// Halls with their own expiry, in days (hall id -> days).
    #[serde(default)]
    pub hall_expiry_days: std::collections::BTreeMap<String, u32>,
    /// Halls whose vouchers are redeemed only in the hall itself.
    #[serde(default)]
    pub home_only_halls: Vec<String>,
}

impl Default for VoucherSection {
    /// 30 days, a 60 s hold, every voucher redeemable anywhere (deploy/pitboss.toml).
    fn default() -> Self {
        Self {
            expiry_days: 30,
            hold_secs: 60,
            hall_expiry_days: Default::default(),
            home_only_halls: Vec::new(),
        }
    }
}

impl VoucherSection {
    /// The policy the voucher actors apply.
    pub fn policy(&self) -> Result<VoucherPolicy, ConfigError> {
        let hall =
            |h: &String| HallId::new(h).map_err(|e| ConfigError::Domain(format!("vouchers: {e}")));
        if self.hold_secs == 0 || self.hold_secs > 86_400 {
            return Err(ConfigError::Domain(format!(
                "vouchers.hold-secs must be 1 to 86400, got {}",
                self.hold_secs
            )));
        }
        Ok(VoucherPolicy {
            expiry_days: self.expiry_days,
            hall_expiry_days: self
                .hall_expiry_days
                .iter()
                .map(|(h, d)| Ok((hall(h)?, *d)))
                .collect::<Result<_, ConfigError>>()?,
            hold_ms: self.hold_secs as i64 * 1000,
            home_only: self
                .home_only_halls
                .iter()
                .map(hall)
                .collect::<Result<_, _>>()?,
        })
    }
}

/// Network-wide facts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NetworkConfig {
    /// ISO 4217 currency of the network.
    pub currency: String,
}

fn default_theoretical_hold_percent() -> Decimal {
    Decimal::from(8)
}

/// A theoretical hold in parts per million; `setting` names it in the error.
fn hold_ppm(setting: &str, percent: Decimal) -> Result<i64, ConfigError> {
    LevelConfig::ppm_from_percent(percent).map_err(|_| {
        ConfigError::Domain(format!(
            "{setting} {percent} must be between 0 and 100 in steps of 0.0001"
        ))
    })
}

/// The halls' and machines' own theoretical holds of `[runtime]` (RULES.md M-12).
fn hold_overrides(r: &RuntimeSection) -> Result<HoldOverrides, ConfigError> {
    let mut o = HoldOverrides::default();
    for (hall, percent) in &r.theoretical_hold_percent_halls {
        let setting = format!("runtime.theoretical-hold-percent-halls.{hall}");
        let id = HallId::new(hall).map_err(|e| ConfigError::Domain(format!("{setting}: {e}")))?;
        o.halls.insert(id, hold_ppm(&setting, *percent)?);
    }
    for (machine, percent) in &r.theoretical_hold_percent_machines {
        let setting = format!("runtime.theoretical-hold-percent-machines.{machine}");
        let id =
            MachineId::new(machine).map_err(|e| ConfigError::Domain(format!("{setting}: {e}")))?;
        o.machines.insert(id, hold_ppm(&setting, *percent)?);
    }
    Ok(o)
}

/// RULES.md D-10: `runtime.cash-desks` as desk ids, each a valid server id, none twice.
fn cash_desks(r: &RuntimeSection) -> Result<BTreeSet<ServerId>, ConfigError> {
    let mut desks = BTreeSet::new();
    for d in &r.cash_desks {
        let id = ServerId::new(d)
            .map_err(|e| ConfigError::Domain(format!("runtime.cash-desks: {e}")))?;
        if !desks.insert(id) {
            return Err(ConfigError::Domain(format!(
                "runtime.cash-desks names {d} twice"
            )));
        }
    }
    Ok(desks)
}

fn default_loyalty_points_per_minor_unit() -> Decimal {
    Decimal::new(1, 2)
}

/// RULES.md M-12: points per minor unit in millionths, exactly (0 to 1,000,000 points).
fn micro_points(rate: Decimal) -> Result<i64, ConfigError> {
    let bad = || {
        ConfigError::Domain(format!(
            "runtime.loyalty-points-per-minor-unit {rate} must be between 0 and 1000000 in steps of 0.000001"
        ))
    };
    let micro = rate.checked_mul(Decimal::from(1_000_000)).ok_or_else(bad)?;
    if micro.fract() != Decimal::ZERO
        || micro < Decimal::ZERO
        || micro > Decimal::from(1_000_000_000_000i64)
    {
        return Err(bad());
    }
    i64::try_from(micro.trunc()).map_err(|_| bad())
}

/// `runtime.wallet-bets-draw` (RULES.md W-12).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BetsDrawName {
    /// The cash above zero pays first, then the bonus, then the credit line.
    #[default]
    CashFirst,
    /// The bonus pays first.
    BonusFirst,
}

impl From<BetsDrawName> for pitboss_actors::domain::bonus::BetsDraw {
    fn from(n: BetsDrawName) -> Self {
        match n {
            BetsDrawName::CashFirst => Self::CashFirst,
            BetsDrawName::BonusFirst => Self::BonusFirst,
        }
    }
}

fn default_transfer_hold_secs() -> u32 {
    (pitboss_actors::domain::transfer::TRANSFER_HOLD_MS_DEFAULT / 1000) as u32
}

/// Actor runtime settings (see deploy/pitboss.toml for each key's meaning).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[allow(missing_docs)]
pub struct RuntimeSection {
    pub arbiters: usize,
    pub mailbox_len_max: usize,
    pub inflight_events_max: usize,
    pub wallet_window_len: usize,
    pub wallet_credit_line_minor: i64,
    /// RULES.md W-8: the largest withdrawal a player whose identity is not verified may
    /// make; absent: no such limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet_kyc_withdrawal_max_minor: Option<i64>,
    /// RULES.md W-10: how long a wallet holds a cashless transfer for its machine's
    /// acknowledgement before giving the money back.
    #[serde(default = "default_transfer_hold_secs")]
    pub wallet_transfer_hold_secs: u32,
    /// RULES.md W-12: which of a wallet's cash and bonus pays a bet first.
    #[serde(default)]
    pub wallet_bets_draw: BetsDrawName,
    pub large_cash_in_alert_minor: i64,
    pub handpay_threshold_minor: i64,
    /// RULES.md M-12: a machine's theoretical hold, percent of coin in (exact to 0.0001).
    #[serde(default = "default_theoretical_hold_percent")]
    pub theoretical_hold_percent: Decimal,
    /// RULES.md M-12: loyalty points per minor unit of a rated session's theoretical win
    /// (exact to 0.000001; 0 = none).
    #[serde(default = "default_loyalty_points_per_minor_unit")]
    pub loyalty_points_per_minor_unit: Decimal,
    pub clock_ahead_max_ms: i64,
    pub clock_behind_max_ms: i64,
    pub ggr_grace_windows: i64,
    pub ggr_windows_max: usize,
    pub source_expiry_hours: u32,
    pub passivate_idle_ms: u64,
    pub live_actors_max: usize,
    pub level_publish_interval_ms: u64,
    /// The secret keying mystery hit points. `pitboss run` refuses the shipped placeholder
    /// and anything shorter than [`SECRET_LEN_MIN`] characters (see [`Config::check_secret`]).
    pub hit_point_secret: String,
    /// A file holding the secret (its content, less a trailing newline, replaces
    /// `hit-point-secret`): a mounted Kubernetes or Docker secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hit_point_secret_file: Option<PathBuf>,
    /// RULES.md M-12: halls' own theoretical holds, percent (hall id -> decimal string).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub theoretical_hold_percent_halls: BTreeMap<String, Decimal>,
    /// RULES.md M-12: machines' own theoretical holds, percent (machine id -> decimal
    /// string); a machine's own beats its hall's.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub theoretical_hold_percent_machines: BTreeMap<String, Decimal>,
    /// RULES.md D-10: the cash desks (the `source.server` of their commands) whose wallet
    /// deposits and withdrawals are cash in their drawers, booked to their shifts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cash_desks: Vec<String>,
}

/// Hit-point secrets shorter than this many characters are refused by `pitboss run`: the
/// secret is all that stands between an insider and the mystery hit points.
pub const SECRET_LEN_MIN: usize = 32;

/// The placeholder secret `deploy/pitboss.toml` ships with (the demo runs with it).
pub const SHIPPED_SECRET: &str = "change-me";

/// A jackpot pool.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PoolSection {
    /// Pool id.
    pub id: String,
    /// Linked halls; empty = every hall.
    #[serde(default)]
    pub halls: Vec<String>,
    pub levels: Vec<LevelSection>,
}

/// A level of a pool.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LevelSection {
    /// Display name.
    pub name: String,
    /// Reset value, minor units.
    pub seed_minor: i64,
    /// Share of each bet, percent (decimal string, exact to 0.0001).
    pub contribution_percent: Decimal,
    /// Must-hit-by (mystery) or cap (progressive), minor units.
    #[serde(default)]
    pub ceiling_minor: Option<i64>,
    /// Mystery level (hit point drawn by the controller).
    #[serde(default)]
    pub mystery: bool,
    /// The smallest bet (a game's bets, for a claim) that may win the level, minor units.
    #[serde(default)]
    pub min_bet_minor: i64,
}

/// The hall-network simulator.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[allow(missing_docs)]
pub struct SimConfig {
    pub halls: u32,
    pub machines_per_hall: u32,
    pub players: u32,
    pub online_hall: String,
    pub rate_events_per_sec: u64,
    pub seed: u64,
    pub rtp_percent: Decimal,
    pub online_share_percent: Decimal,
    pub bet_minor: Vec<i64>,
    pub bill_minor: Vec<i64>,
    pub progressive_hit_per_million: u32,
    pub malformed_per_million: u32,
    /// Per million machine steps: the machine stops sending for `silence-secs` (RULES.md
    /// M-11: pitboss notices by itself).
    #[serde(default)]
    pub silence_per_million: u32,
    /// How long a machine that falls silent stays so, seconds.
    #[serde(default)]
    pub silence_secs: u64,
    /// Carded players move money to and from their machines by cashless transfers
    /// (RULES.md W-10).
    #[serde(default = "yes")]
    pub cashless_transfers: bool,
}

fn yes() -> bool {
    true
}

impl Config {
    /// Defaults, then the file (if any), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        Self::load_with_env(file, std::env::vars())
    }

    /// As [`Config::load`], with the environment given (tests).
    pub fn load_with_env(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut value = parse(DEFAULTS, "embedded defaults")?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.display().to_string(),
                source,
            })?;
            let layer = parse(&text, &path.display().to_string())?;
            merge(&mut value, layer);
        }
        for (k, v) in env {
            if k == CONFIG_FILE_ENV || k == API_KEY_ENV {
                continue;
            }
            if let Some(rest) = k.strip_prefix("PITBOSS_") {
                let path: Vec<String> = rest
                    .split("__")
                    .map(|s| s.to_ascii_lowercase().replace('_', "-"))
                    .collect();
                set_path(&mut value, &path, env_value(&v));
            }
        }
        let cfg: Config = value
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid {
                origin: "merged configuration".into(),
                message: e.to_string(),
            })?;
        let mut cfg = cfg;
        if let Some(path) = &cfg.runtime.hit_point_secret_file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.display().to_string(),
                source,
            })?;
            cfg.runtime.hit_point_secret = text.trim_end_matches(['\r', '\n']).to_owned();
        }
        cfg.runtime_config()?;
        cfg.store
            .validate()
            .map_err(|e| ConfigError::Domain(e.message().to_owned()))?;
        cfg.gateway.validate().map_err(ConfigError::Domain)?;
        Ok(cfg)
    }

    /// Refuses a hit-point secret fit only for the demo: the shipped placeholder, or one
    /// shorter than [`SECRET_LEN_MIN`] characters. `pitboss run` calls it before anything
    /// else; the message never contains the secret.
    pub fn check_secret(&self) -> Result<(), ConfigError> {
        let secret = &self.runtime.hit_point_secret;
        if secret == SHIPPED_SECRET {
            return Err(ConfigError::Domain(format!(
                "runtime.hit-point-secret is the shipped placeholder: set a secret of at least \
                 {SECRET_LEN_MIN} characters (PITBOSS_RUNTIME__HIT_POINT_SECRET, or \
                 runtime.hit-point-secret-file naming a file that holds it)"
            )));
        }
        let len = secret.chars().count();
        if len < SECRET_LEN_MIN {
            return Err(ConfigError::Domain(format!(
                "runtime.hit-point-secret has {len} characters; at least {SECRET_LEN_MIN} are \
                 required (whoever guesses it can compute the mystery hit points)"
            )));
        }
        Ok(())
    }

    /// The effective configuration as TOML, for people: the secret replaced by its length.
    pub fn to_display_toml(&self) -> String {
        let mut shown = self.clone();
        shown.runtime.hit_point_secret = format!(
            "<redacted: {} characters>",
            self.runtime.hit_point_secret.chars().count()
        );
        shown.to_toml()
    }

    /// The effective configuration as TOML (the secret included: for files pitboss reads).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render: {e}"))
    }

    /// The runtime's settings, validated.
    /// The halls' gaming-day rules (`[gaming-day]`, RULES.md H-4).
    pub fn gaming_days(&self) -> Result<crate::gaming_day::GamingDays, ConfigError> {
        crate::gaming_day::GamingDays::new(&self.gaming_day).map_err(ConfigError::Domain)
    }

    pub fn runtime_config(&self) -> Result<RuntimeConfig, ConfigError> {
        let d = |e: pitboss_actors::domain::DomainError| ConfigError::Domain(e.to_string());
        // Checked here so that a bad time zone stops `run` and `demo` at start.
        self.gaming_days()?;
        let currency = Currency::new(&self.network.currency).map_err(d)?;
        let rg = &self.responsible_gaming;
        let calendar =
            crate::calendar::ZoneCalendar::new(&rg.time_zone).map_err(ConfigError::Domain)?;
        if rg.session_break_minutes == 0 {
            return Err(ConfigError::Domain(
                "responsible-gaming.session-break-minutes must be above 0".into(),
            ));
        }
        let mut pools = Vec::new();
        for p in &self.pools {
            let id = PoolId::new(&p.id).map_err(d)?;
            let mut levels = Vec::new();
            for l in &p.levels {
                levels.push(LevelConfig {
                    name: l.name.clone(),
                    seed: l.seed_minor,
                    contribution_ppm: LevelConfig::ppm_from_percent(l.contribution_percent)
                        .map_err(d)?,
                    ceiling: l.ceiling_minor,
                    mystery: l.mystery,
                    min_bet: l.min_bet_minor,
                });
            }
            let config = PoolConfig { currency, levels };
            config
                .validate()
                .map_err(|e| ConfigError::Domain(format!("pool {}: {e}", p.id)))?;
            let halls = if p.halls.is_empty() {
                None
            } else {
                Some(
                    p.halls
                        .iter()
                        .map(|h| HallId::new(h))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(d)?,
                )
            };
            pools.push(PoolSpec { id, config, halls });
        }
        let r = &self.runtime;
        let arbiters = if r.arbiters == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            r.arbiters
        };
        if r.clock_ahead_max_ms < 0 || r.clock_behind_max_ms < 0 {
            return Err(ConfigError::Domain(
                "clock-ahead-max-ms and clock-behind-max-ms must not be negative".into(),
            ));
        }
        if r.wallet_kyc_withdrawal_max_minor.is_some_and(|m| m < 0) {
            return Err(ConfigError::Domain(
                "wallet-kyc-withdrawal-max-minor must not be negative (0: an unverified player may not withdraw at all)".into(),
            ));
        }
        if r.mailbox_len_max == 0
            || r.inflight_events_max == 0
            || r.wallet_window_len == 0
            || r.source_expiry_hours == 0
        {
            return Err(ConfigError::Domain(
                "mailbox-len-max, inflight-events-max, wallet-window-len and source-expiry-hours must be above 0".into(),
            ));
        }
        Ok(RuntimeConfig {
            arbiters,
            mailbox_len_max: r.mailbox_len_max,
            wallet_window_len: r.wallet_window_len,
            wallet_credit_line_minor: r.wallet_credit_line_minor,
            wallet_kyc_withdrawal_max_minor: r.wallet_kyc_withdrawal_max_minor,
            wallet_cooling_off_ms: i64::from(rg.cooling_off_hours) * 3_600_000,
            wallet_transfer_hold_ms: i64::from(r.wallet_transfer_hold_secs) * 1000,
            wallet_session_break_ms: i64::from(rg.session_break_minutes) * 60_000,
            wallet_bets_draw: r.wallet_bets_draw.into(),
            cash_desks: std::sync::Arc::new(cash_desks(r)?),
            calendar: std::sync::Arc::new(calendar),
            large_cash_in_alert_minor: r.large_cash_in_alert_minor,
            handpay_threshold_minor: r.handpay_threshold_minor,
            theoretical_hold_ppm: hold_ppm(
                "runtime.theoretical-hold-percent",
                r.theoretical_hold_percent,
            )?,
            hold_overrides: std::sync::Arc::new(hold_overrides(r)?),
            loyalty_micro_points: micro_points(r.loyalty_points_per_minor_unit)?,
            aml: self.aml.rules()?,
            skew: SkewLimits {
                ahead_max_ms: r.clock_ahead_max_ms,
                behind_max_ms: r.clock_behind_max_ms,
            },
            ggr_grace_windows: r.ggr_grace_windows,
            ggr_windows_max: r.ggr_windows_max,
            source_expiry_ms: i64::from(r.source_expiry_hours) * 3_600_000,
            live_actors_max: r.live_actors_max,
            currency,
            pools,
            vouchers: self.vouchers.policy()?,
        })
    }
}

fn parse(text: &str, origin: &str) -> Result<toml::Value, ConfigError> {
    text.parse::<toml::Table>()
        .map(toml::Value::Table)
        .map_err(|e| ConfigError::Invalid {
            origin: origin.into(),
            message: e.to_string(),
        })
}

/// Tables merge key by key; anything else (arrays included) is replaced whole.
fn merge(base: &mut toml::Value, layer: toml::Value) {
    match (base, layer) {
        (toml::Value::Table(b), toml::Value::Table(l)) => {
            for (k, v) in l {
                match b.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, l) => *b = l,
    }
}

fn set_path(value: &mut toml::Value, path: &[String], v: toml::Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = value;
    for p in parents {
        let toml::Value::Table(t) = cur else { return };
        cur = t
            .entry(p.clone())
            .or_insert_with(|| toml::Value::Table(Default::default()));
    }
    if let toml::Value::Table(t) = cur {
        t.insert(last.clone(), v);
    }
}

/// An environment value as TOML if it parses as a TOML value, else as a string.
fn env_value(raw: &str) -> toml::Value {
    format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{HttpConfig, Role};
    use crate::kafka::KafkaConfig;

    #[test]
    fn defaults_load() {
        let c = Config::load_with_env(None, Vec::new()).unwrap();
        assert_eq!(c.network.currency, "EUR");
        assert_eq!(c.pools.len(), 1);
        c.runtime_config().unwrap();
    }

    #[test]
    fn file_overrides_defaults_and_env_overrides_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(
            &path,
            "[network]\ncurrency = \"USD\"\n[runtime]\nmailbox-len-max = 7\n",
        )
        .unwrap();
        let c = Config::load_with_env(Some(&path), Vec::new()).unwrap();
        assert_eq!(c.network.currency, "USD");
        assert_eq!(c.runtime.mailbox_len_max, 7);
        assert_eq!(
            c.runtime.wallet_window_len, 256,
            "untouched keys keep their default"
        );
        let env = vec![
            (
                "PITBOSS_RUNTIME__MAILBOX_LEN_MAX".to_string(),
                "9".to_string(),
            ),
            ("PITBOSS_NETWORK__CURRENCY".to_string(), "GBP".to_string()),
            ("UNRELATED".to_string(), "x".to_string()),
        ];
        let c = Config::load_with_env(Some(&path), env).unwrap();
        assert_eq!(c.runtime.mailbox_len_max, 9);
        assert_eq!(c.network.currency, "GBP");
    }

    /// RULES.md M-12: halls' and machines' own theoretical holds; a machine's beats its
    /// hall's, which beats the network's; a bad one names its setting.
    #[test]
    fn halls_and_machines_may_have_their_own_theoretical_hold() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(
            &path,
            "[runtime]\ntheoretical-hold-percent = \"8\"\n\
             [runtime.theoretical-hold-percent-halls]\n\"H-2\" = \"5.25\"\n\
             [runtime.theoretical-hold-percent-machines]\n\"M-7\" = \"12.3456\"\n",
        )
        .unwrap();
        let rc = Config::load_with_env(Some(&path), Vec::new())
            .unwrap()
            .runtime_config()
            .unwrap();
        let of = |machine: &str, hall: &str| {
            rc.hold_overrides.of(
                &MachineId::new(machine).unwrap(),
                &HallId::new(hall).unwrap(),
                rc.theoretical_hold_ppm,
            )
        };
        assert_eq!(of("M-1", "H-1"), 80_000);
        assert_eq!(of("M-1", "H-2"), 52_500);
        assert_eq!(of("M-7", "H-2"), 123_456);
        assert_eq!(of("M-7", "H-1"), 123_456);
        std::fs::write(
            &path,
            "[runtime.theoretical-hold-percent-halls]\n\"H-2\" = \"101\"\n",
        )
        .unwrap();
        // Refused when the configuration is loaded.
        let e = Config::load_with_env(Some(&path), Vec::new()).unwrap_err();
        assert!(
            e.to_string()
                .contains("runtime.theoretical-hold-percent-halls.H-2 101"),
            "{e}"
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(&path, "[runtime]\nmailbox-len = 7\n").unwrap();
        let e = Config::load_with_env(Some(&path), Vec::new()).unwrap_err();
        assert!(e.to_string().contains("mailbox-len"), "{e}");
        let env = vec![("PITBOSS_NETWORK__CURRENCY".to_string(), "euro".to_string())];
        let e = Config::load_with_env(None, env).unwrap_err();
        assert!(e.to_string().contains("currency"), "{e}");
        let e =
            Config::load_with_env(Some(Path::new("/nonexistent/p.toml")), Vec::new()).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/p.toml"), "{e}");
        // W-1: a retention of 0 days would forget an answer before its retry.
        std::fs::write(&path, "[store]\nwallet-tx-retention-days = 0\n").unwrap();
        let e = Config::load_with_env(Some(&path), Vec::new()).unwrap_err();
        assert!(e.to_string().contains("wallet-tx-retention-days"), "{e}");
    }

    #[test]
    fn the_variable_naming_the_file_is_not_a_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(&path, "[network]\ncurrency = \"USD\"\n").unwrap();
        let env = vec![(CONFIG_FILE_ENV.to_string(), path.display().to_string())];
        let c = Config::load_with_env(Some(&path), env).unwrap();
        assert_eq!(c.network.currency, "USD");
    }

    #[test]
    fn removed_settings_are_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        for (text, key) in [
            ("[kafka]\ntransactional = false\n", "transactional"),
            (
                "[runtime]\nhall-tick-interval-ms = 1000\n",
                "hall-tick-interval-ms",
            ),
        ] {
            std::fs::write(&path, text).unwrap();
            let e = Config::load_with_env(Some(&path), Vec::new()).unwrap_err();
            assert!(
                e.to_string().contains(&format!("unknown field `{key}`")),
                "{e}"
            );
        }
    }

    #[test]
    fn the_embedded_kafka_defaults_match_the_code() {
        let cfg = Config::load_with_env(None, Vec::new()).unwrap();
        assert_eq!(cfg.kafka, KafkaConfig::default());
        cfg.kafka.validate().unwrap();
    }

    #[test]
    fn kafka_client_settings_from_file_and_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(
            &path,
            "[kafka]\nbrokers = \"b1:9092,b2:9092\"\n[kafka.client]\n\"security.protocol\" = \"SASL_SSL\"\n\"socket.timeout.ms\" = 30000\n",
        )
        .unwrap();
        let env = vec![
            (
                "PITBOSS_KAFKA__CLIENT__SASL_PASSWORD".to_string(),
                "s3cret".to_string(),
            ),
            ("PITBOSS_KAFKA__GROUP_ID".to_string(), "g2".to_string()),
        ];
        let cfg = Config::load_with_env(Some(&path), env).unwrap();
        assert_eq!(cfg.kafka.brokers, "b1:9092,b2:9092");
        assert_eq!(cfg.kafka.group_id, "g2");
        let s = cfg.kafka.client_settings(&cfg.kafka.producer);
        assert!(
            s.contains(&("security.protocol".into(), "SASL_SSL".into())),
            "{s:?}"
        );
        assert!(
            s.contains(&("socket.timeout.ms".into(), "30000".into())),
            "{s:?}"
        );
        assert!(
            s.contains(&("sasl.password".into(), "s3cret".into())),
            "{s:?}"
        );
    }

    #[test]
    fn a_config_file_without_a_kafka_section_still_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(&path, "[network]\ncurrency = \"USD\"\n").unwrap();
        let cfg = Config::load_with_env(Some(&path), Vec::new()).unwrap();
        assert_eq!(cfg.kafka, KafkaConfig::default());
    }

    // --- Backups (issue 15) ---
    #[test]
    fn the_backup_schedule_layers_and_is_validated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        let c = Config::load_with_env(None, Vec::new()).unwrap();
        assert_eq!(
            (c.store.backup_interval_secs, c.store.backup_keep),
            (0, 7),
            "off by default"
        );
        std::fs::write(
            &path,
            "[store]\ndata-dir = \"/var/lib/pitboss\"\nbackup-dir = \"/backups/pitboss\"\nbackup-interval-secs = 3600\n",
        )
        .unwrap();
        let env = vec![("PITBOSS_STORE__BACKUP_KEEP".to_string(), "3".to_string())];
        let c = Config::load_with_env(Some(&path), env).unwrap();
        assert_eq!(c.store.backup_dir, PathBuf::from("/backups/pitboss"));
        assert_eq!(
            (c.store.backup_interval_secs, c.store.backup_keep),
            (3600, 3)
        );
        // The admin key for `pitboss backup` is not a configuration key.
        let env = vec![(API_KEY_ENV.to_string(), "k".to_string())];
        Config::load_with_env(Some(&path), env).unwrap();

        for (text, needle) in [
            ("backup-interval-secs = 3600\n", "backup-dir is empty"),
            (
                "backup-dir = \"/b\"\nbackup-interval-secs = 10\n",
                "at least 60",
            ),
            ("backup-keep = 0\n", "backup-keep must be at least 1"),
            (
                "data-dir = \"/data\"\nbackup-dir = \"/data/backups\"\nbackup-interval-secs = 60\n",
                "must not contain each other",
            ),
            (
                "kind = \"scylla\"\nbackup-dir = \"/b\"\nbackup-interval-secs = 60\n",
                "snapshots",
            ),
            ("backup-every = 60\n", "unknown field `backup-every`"),
        ] {
            std::fs::write(&path, format!("[store]\n{text}")).unwrap();
            let e = Config::load_with_env(Some(&path), Vec::new()).unwrap_err();
            assert!(e.to_string().contains(needle), "{text}: {e}");
        }
    }
    // --- end of backups ---

    #[test]
    fn the_embedded_gateway_defaults_match_the_code() {
        let cfg = Config::load_with_env(None, Vec::new()).unwrap();
        assert_eq!(cfg.gateway, crate::gateway::GatewayConfig::default());
    }

    #[test]
    fn the_embedded_http_defaults_match_the_code() {
        let c = Config::load_with_env(None, Vec::new()).unwrap();
        assert_eq!(c.http, HttpConfig::default());
    }

    #[test]
    fn http_keys_and_environment_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(
            &path,
            "[http]\nread-requires-key = true\n[[http.api-keys]]\nname = \"a\"\nkey-sha256 = \"00\"\nrole = \"admin\"\n",
        )
        .unwrap();
        let env = vec![("PITBOSS_HTTP__ADDR".to_string(), "0.0.0.0:9000".to_string())];
        let c = Config::load_with_env(Some(&path), env).unwrap();
        assert_eq!(c.http.addr, "0.0.0.0:9000");
        assert!(c.http.read_requires_key);
        assert_eq!(c.http.api_keys[0].role, Role::Admin);
        assert_eq!(
            c.http.feed_level_interval_ms, 250,
            "untouched keys keep their default"
        );
        std::fs::write(
            &path,
            "[[http.api-keys]]\nname = \"a\"\nkey-sha256 = \"00\"\nrole = \"root\"\n",
        )
        .unwrap();
        let e = Config::load_with_env(Some(&path), Vec::new()).unwrap_err();
        assert!(e.to_string().contains("root"), "{e}");
    }
}
