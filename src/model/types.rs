//! What the rules are about, in plain data: the configuration they read, what they decide
//! ([`Outcome`], [`Answer`]) and the views of machines, wallets, halls and pools they produce.

use std::collections::{BTreeMap, BTreeSet};

/// One minute, the GGR window (H-1).
pub const WINDOW_MS: i64 = 60_000;
/// Micro-units per minor unit (P-1).
pub const MICRO: i128 = 1_000_000;
/// Largest amount of one event (E-5).
pub const AMOUNT_MAX: i64 = 1_000_000_000_000;
/// Epochs whose marks a machine keeps (M-1).
pub const EPOCHS_KEPT: usize = 4;
/// Hole ranges a machine keeps per epoch (M-1).
pub const HOLES_KEPT: usize = 64;
/// One day, the unit of a voucher's expiry (V-6).
pub const DAY_MS: i64 = 86_400_000;
/// Answers a voucher remembers, the newest (V-7).
pub const VOUCHER_ANSWERS_KEPT: usize = 32;
/// Causes of the machine facts a voucher applied that it remembers, the newest (V-7).
pub const VOUCHER_FACTS_KEPT: usize = 16;
/// Machine acknowledgements of transfers a wallet remembers, the newest (W-10).
pub const TRANSFER_ACKS_KEPT: usize = 32;

/// Draws a mystery hit point: `(pool, level, reset count, lo, hi) -> point in lo..=hi`.
pub type Draw = Box<dyn FnMut(&str, u8, u64, i64, i64) -> i64 + Send>;

/// One level of a pool's configuration (P-5).
#[derive(Clone, Debug)]
pub struct LevelSpec {
    /// Display name.
    pub name: String,
    /// Reset value, minor units.
    pub seed: i64,
    /// Share of each bet, parts per million.
    pub ppm: i64,
    /// Must-hit-by (mystery) or cap (progressive).
    pub ceiling: Option<i64>,
    /// The controller decides hits.
    pub mystery: bool,
    /// Smallest bet that may win the level.
    pub min_bet: i64,
}

/// A pool's configuration.
#[derive(Clone, Debug)]
pub struct PoolSpec {
    /// The pool.
    pub id: String,
    /// Linked halls; `None` = every hall.
    pub halls: Option<Vec<String>>,
    /// Levels in index order.
    pub levels: Vec<LevelSpec>,
}

/// What the rules need to know of the configuration.
#[derive(Clone, Debug)]
pub struct ModelConfig {
    /// The network's currency (E-4).
    pub currency: String,
    /// How far below zero a wallet's bets may take it (W-3).
    pub credit_line: i64,
    /// W-8: the largest withdrawal a player not verified may make; `None`: no such limit.
    pub kyc_withdrawal_max: Option<i64>,
    /// W-9: how long a raised or removed deposit limit waits, in ms.
    pub cooling_off_ms: i64,
    /// W-9: the jurisdiction's time zone (IANA) deposit limits count days, weeks, months in.
    pub limits_time_zone: String,
    /// Cash-in at or above this raises an alert; 0 = never (M-7).
    pub large_cash_in: i64,
    /// A credited win at or above this raises an alert; 0 = never (M-10).
    pub handpay_threshold: i64,
    /// E-3.
    pub clock_ahead_max_ms: i64,
    /// E-3.
    pub clock_behind_max_ms: i64,
    /// The jackpot pools.
    pub pools: Vec<PoolSpec>,
    /// V-6: days a voucher stays redeemable after its issue (`vouchers.expiry-days`,
    /// default 30; 0 = never).
    pub voucher_expiry_days: u32,
    /// V-6: the issuing halls with an expiry of their own (`vouchers.hall-expiry-days`).
    pub voucher_hall_expiry_days: BTreeMap<String, u32>,
    /// V-3: how long a redemption request holds a voucher (`vouchers.hold-secs`, default
    /// 60 s), in milliseconds; whole seconds, since the configuration counts in seconds.
    pub voucher_hold_ms: i64,
    /// V-3: halls whose vouchers are redeemed only by senders in the hall itself
    /// (`vouchers.home-only-halls`).
    pub voucher_home_only_halls: BTreeSet<String>,
    /// W-10: how long a transfer request holds its amount
    /// (`runtime.wallet-transfer-hold-secs`, default 60 s), in milliseconds.
    pub transfer_hold_ms: i64,
    /// W-9: the longest break that keeps a playing session going
    /// (`responsible-gaming.session-break-minutes`, default 30), in milliseconds.
    pub session_break_ms: i64,
    /// M-12: a machine's theoretical hold, parts per million of coin in
    /// (`runtime.theoretical-hold-percent`, default 8).
    pub theoretical_hold_ppm: i64,
    /// M-12: halls' own holds (`runtime.theoretical-hold-percent-halls`), parts per million.
    pub hall_holds_ppm: BTreeMap<String, i64>,
    /// M-12: machines' own holds (`runtime.theoretical-hold-percent-machines`), which beat
    /// their hall's.
    pub machine_holds_ppm: BTreeMap<String, i64>,
    /// M-12: loyalty points per minor unit of theoretical win, in millionths
    /// (`runtime.loyalty-points-per-minor-unit`, default 0.01).
    pub loyalty_micro_points: i64,
    /// W-11: the patron-cash thresholds (`[aml]`).
    pub aml: AmlModel,
    /// W-12: `runtime.wallet-bets-draw = "bonus-first"` (the bonus pays a bet before the
    /// cash); `false`: `"cash-first"`, the default.
    pub bonus_first: bool,
    /// D-10: the cash desks (`runtime.cash-desks`, default none): a wallet deposit or
    /// withdrawal applied whose provider (`source.server`) is one of them is cash into or
    /// out of that desk's drawer.
    pub cash_desks: BTreeSet<String>,
}

impl ModelConfig {
    /// V-6: when a voucher issued at `at` in `hall` expires, if it does.
    pub fn voucher_expiry(&self, hall: &str, at: i64) -> Option<i64> {
        let days = self
            .voucher_hall_expiry_days
            .get(hall)
            .copied()
            .unwrap_or(self.voucher_expiry_days);
        (days > 0).then(|| at.saturating_add(i64::from(days) * DAY_MS))
    }
}

/// What became of one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Not a valid event (E-1), with its code.
    Rejected(&'static str),
    /// Applied.
    Applied,
    /// Already applied: nothing changed (M-1, W-2).
    Repeat,
    /// Refused by a rule, with its code.
    Refused(&'static str),
}

/// A machine as the rules see it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MachineView {
    /// The hall it stands in (M-5).
    pub hall: String,
    /// Derived credits, may be negative (M-2).
    pub credits: i64,
    /// Meters by name (`coin_in`, `coin_out`, `games_played`, `games_won`, `bills_in`,
    /// `tickets_in`, `tickets_out`, `cashless_in`, `cashless_out`, `handpaid`,
    /// `jackpot_paid`, `jackpot_handpaid`, `doors_opened`).
    pub meters: BTreeMap<&'static str, i64>,
    /// Carded-in player.
    pub session: Option<String>,
    /// Online.
    pub online: bool,
    /// Door open.
    pub door_open: bool,
    /// Tilt code.
    pub tilt: Option<u32>,
    /// M-8: the meter variance not explained, by snapshot meter name (only those not zero).
    pub meter_variance: BTreeMap<&'static str, i64>,
}

/// A wallet as the rules see it (W-7).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WalletView {
    /// Balance.
    pub balance: i64,
    /// Deposited.
    pub deposits: i64,
    /// Withdrawn.
    pub withdrawals: i64,
    /// Wagered (gross).
    pub bets: i64,
    /// Won.
    pub wins: i64,
    /// Refunded.
    pub refunds: i64,
    /// W-8: `unverified` until a KYC status names the player, then the last one applied.
    pub kyc: String,
    /// W-10: held for transfers to machines not acknowledged yet.
    pub held: i64,
    /// W-10: paid to machines by their acknowledgements.
    pub to_machines: i64,
    /// W-10: received from machines.
    pub from_machines: i64,
    /// W-10: what machines took that the wallet could not pay (counted at the machine).
    pub unbacked: i64,
    /// M-12: the loyalty points of the player's rated sessions.
    pub points: i64,
    /// W-12: the bonus account, once the wallet has had a bonus.
    pub bonus: Option<BonusView>,
    /// W-12: held for restricted transfers (part of `held`), paid from the bonus.
    pub restricted_held: i64,
    /// D-10: deposited in cash at a cash desk (part of `deposits`).
    pub desk_deposits: i64,
    /// D-10: withdrawn in cash at a cash desk (part of `withdrawals`).
    pub desk_withdrawals: i64,
}

/// A wallet's bonus account (W-12). The totals count the bonus parts only.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BonusView {
    /// Promotional money the player may only stake.
    pub balance: i64,
    /// What the player must still stake before the bonus becomes cash.
    pub wagering_left: i64,
    /// When the bonus expires (ms): at or after it, it is gone.
    pub expires: i64,
    /// Awarded.
    pub awarded: i64,
    /// The bets' bonus parts (net of nothing: a rollback counts in `refunded`).
    pub staked: i64,
    /// The wins' bonus parts.
    pub won: i64,
    /// The refunds' bonus parts.
    pub refunded: i64,
    /// Moved to the cash balance once its wagering was met.
    pub converted: i64,
    /// Gone at its expiry.
    pub expired: i64,
    /// Paid to machines as restricted credits.
    pub to_machines: i64,
}

/// Totals of a hall or of one of its windows (H-1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Bets net of rollbacks.
    pub bets: i64,
    /// Wins.
    pub wins: i64,
    /// Jackpot awards paid on the hall's machines.
    pub jackpots: i64,
    /// Games.
    pub games: i64,
    /// Restricted promotional credits played (part of bets, M-13).
    pub promo: i64,
}

impl Totals {
    /// Gross gaming revenue.
    pub fn ggr(&self) -> i64 {
        self.bets - self.wins
    }

    /// Net win.
    pub fn net_win(&self) -> i64 {
        self.bets - self.wins - self.jackpots - self.promo
    }

    pub(super) fn add(&mut self, other: &Totals) {
        self.bets += other.bets;
        self.wins += other.wins;
        self.jackpots += other.jackpots;
        self.games += other.games;
        self.promo += other.promo;
    }
}

/// A hall's revenue: all time and per window start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HallView {
    /// All time.
    pub totals: Totals,
    /// Per one-minute window, by start (ms).
    pub windows: BTreeMap<i64, Totals>,
}

/// A pool level's books (P-6).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LevelView {
    /// Current level, minor units.
    pub level: i64,
    /// Fractional remainder, micro-units.
    pub frac: i64,
    /// Held back above the cap.
    pub reserve: i64,
    /// Contributions, micro-units.
    pub contributed_micro: i128,
    /// Seeds funded.
    pub seeded: i64,
    /// Paid by the pool.
    pub paid: i64,
    /// Hits.
    pub hits: u64,
    /// Differences between what machines paid and the level (P-3).
    pub variance: i64,
    /// The mystery hit point in force.
    pub hit_point: Option<i64>,
}

impl LevelView {
    /// Level, reserve and remainder in micro-units.
    pub fn held_micro(&self) -> i128 {
        (i128::from(self.level) + i128::from(self.reserve)) * MICRO + i128::from(self.frac)
    }
}

/// W-11: the patron-cash thresholds, minor units (0: off).
#[derive(Clone, Copy, Debug, Default)]
pub struct AmlModel {
    pub log_minor: i64,
    pub report_minor: i64,
    pub structuring_floor_minor: i64,
    pub structuring_count: u32,
    pub structuring_window_ms: i64,
}

/// A patron's cash move (W-11).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MoveRow {
    /// The input event (UUID text).
    pub event_id: String,
    pub amount: i64,
    /// Its time (a machine's: booked).
    pub time: i64,
    /// `in` or `out`.
    pub dir: &'static str,
    /// The machine; `None` for the wallet.
    pub machine: Option<String>,
}

/// A case for the compliance officers (W-11).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseRow {
    pub player: String,
    /// `log`, `report` or `structuring`.
    pub kind: &'static str,
    pub dir: &'static str,
    /// The local day's start.
    pub day: i64,
    pub total: i64,
    pub threshold: i64,
    pub evidence: Vec<MoveRow>,
    pub left_out: u32,
    pub currency: String,
}

/// What a machine's acknowledgement of a cashless transfer settled in a wallet (W-10).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TransferRow {
    pub player: String,
    pub transfer: String,
    pub to_machine: bool,
    /// What the machine reported.
    pub amount: i64,
    /// The hold it took.
    pub held: i64,
    /// The balance's change.
    pub delta: i64,
    pub unbacked: i64,
    /// A second acknowledgement of the transfer.
    pub repeated: bool,
    /// The balance after.
    pub balance: i64,
    /// W-12: the machine took restricted credits (`held` and `delta` are then the bonus's).
    pub restricted: bool,
}

/// A card session that ended, rated (M-12).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SessionRow {
    pub machine: String,
    pub player: String,
    /// The hall of the event that ended it.
    pub hall: String,
    /// The card-in's booked time.
    pub start: i64,
    /// The ending event's booked time.
    pub end: i64,
    /// `card_out`, `card_in`, `comms_lost` or `power_off`.
    pub ended_by: &'static str,
    pub coin_in: i64,
    pub coin_out: i64,
    pub games: u64,
    pub theoretical_win: i64,
    /// The player's loyalty points for it.
    pub points: i64,
}

/// A jackpot hit (P-4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// Pool.
    pub pool: String,
    /// Level index.
    pub level: u8,
    /// The level's hit number.
    pub number: u64,
    /// The machine paid.
    pub machine: String,
    /// What the machine was paid.
    pub amount: i64,
    /// A mystery hit (decided by the pool), else a progressive claim.
    pub mystery: bool,
}

/// A voucher as the rules see it (V-2..V-6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoucherView {
    /// `unissued`, `issued`, `held`, `redeemed`, `expired` or `voided`.
    pub status: &'static str,
    /// Its amount (0 while unissued).
    pub amount: i64,
    /// The issuing hall (`None` while unissued).
    pub hall: Option<String>,
    /// What machines credited on it beyond what it owed (V-5), signed.
    pub unbacked: i64,
    /// What machines printed under its number once it was in use (V-2).
    pub reprinted: i64,
    /// Who issued it (V-2): `machine <id>` or `desk <id>`; `None` while unissued.
    pub issuer: Option<String>,
}

/// The answer a wallet command got (W-6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Applied: the signed change and the balance after.
    Applied {
        /// Signed change of the balance.
        delta: i64,
        /// Balance after.
        balance: i64,
    },
    /// Refused, with the code.
    Refused(&'static str),
}

/// Answers a desk remembers, the newest (D-6).
pub const DESK_ANSWERS_KEPT: usize = 64;
/// Closed shifts a desk keeps, the newest (D-5).
pub const DESK_SHIFTS_KEPT: usize = 100;
/// Event ids of the cash operations a desk booked that it keeps, the newest (D-3).
pub const DESK_OPS_KEPT: usize = 256;
/// Unshifted cash operations a desk keeps for a shift that opens later, the newest (D-3).
pub const DESK_UNSHIFTED_KEPT: usize = 64;

/// A cash operation booked `unshifted` that the desk keeps (D-3): a shift that opens at or
/// before its time takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnshiftedOp {
    /// The operation's time (the voucher's or, D-10, the wallet's command's event time).
    pub time: i64,
    /// In (a ticket sold, a deposit) or out (a ticket paid, a withdrawal).
    pub cash_in: bool,
    /// > 0.
    pub amount: i64,
}

/// A shift's figures as the rules name them (D-1..D-5, D-7); all zeros (number 0) for a
/// desk that never had a shift.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShiftView {
    /// 1, 2, ... per desk.
    pub number: u32,
    pub cashier: String,
    /// The opening command's event time.
    pub opened_at: i64,
    /// The closing command's event time, once closed.
    pub closed_at: Option<i64>,
    pub float: i64,
    /// D-3: vouchers the desk sold (cash the players paid in), D-10: and the wallet
    /// deposits it took.
    pub cash_in: i64,
    /// D-3: vouchers the desk paid, D-10: and the wallet withdrawals it paid.
    pub cash_out: i64,
    /// D-2: cash from the vault.
    pub fills: i64,
    /// D-2: cash to the vault.
    pub credits: i64,
    /// D-4: what the cashier counted at the close.
    pub counted: Option<i64>,
    /// D-3: the cash operations booked to it.
    pub operations: u32,
    /// D-5: how often it was revised after its close.
    pub revision: u32,
}

impl ShiftView {
    /// D-4: the cash the drawer should hold.
    pub fn expected(&self) -> i64 {
        self.float + self.cash_in - self.cash_out + self.fills - self.credits
    }

    /// D-4: counted less expected, once closed.
    pub fn variance(&self) -> Option<i64> {
        self.counted.map(|c| c - self.expected())
    }
}

/// A desk as the rules see it (D-1..D-6, D-9).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeskView {
    /// Shifts opened so far (the last one's number).
    pub next: u32,
    /// The shift open, if one is.
    pub open: Option<ShiftView>,
    /// The newest closed shifts kept (D-5), oldest first.
    pub closed: Vec<ShiftView>,
    /// D-3: cash operations no shift covered.
    pub unshifted_in: i64,
    pub unshifted_out: i64,
    /// D-3: the newest unshifted operations kept, oldest first (not those a shift took).
    pub unshifted_ops: Vec<UnshiftedOp>,
    /// D-9: every cash operation booked, to a shift or not.
    pub cash_in: i64,
    pub cash_out: i64,
    /// D-10: of those, the wallet deposits and withdrawals at the desk.
    pub wallet_in: i64,
    pub wallet_out: i64,
    /// D-3: the event ids of the newest operations booked, oldest first.
    pub booked: Vec<String>,
    /// D-6: the newest answers, oldest first: the tx and the refusal's code (`None`:
    /// applied).
    pub answers: Vec<(String, Option<&'static str>)>,
}

impl DeskView {
    /// D-9: the ledger's level 0, the open shift's expected cash (0 with none open).
    pub fn level_0(&self) -> i64 {
        self.open.as_ref().map_or(0, ShiftView::expected)
    }

    /// D-9: the ledger's level 1, the unshifted net.
    pub fn level_1(&self) -> i64 {
        self.unshifted_in - self.unshifted_out
    }
}

/// One `shift` output (D-7): a desk command's answer, or a revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShiftRow {
    pub desk: String,
    /// `open`, `fill`, `credit`, `close` or `revise`.
    pub op: &'static str,
    /// The command's tx (`None` for a revision).
    pub tx: Option<String>,
    /// The float, amount or counted the command named (0 for a revision).
    pub amount: i64,
    /// The refusal's code.
    pub refused: Option<&'static str>,
    pub hall: String,
    /// The shift as it is after the command.
    pub shift: ShiftView,
    /// The event id of the command, or of the cash operation a revision booked.
    pub cause: String,
    /// Its event time.
    pub time: i64,
}

/// A desk's alert (D-3, D-4, D-5), with what it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeskAlert {
    /// `shift_variance`.
    ShiftVariance {
        desk: String,
        shift: u32,
        expected: i64,
        counted: i64,
        variance: i64,
    },
    /// `desk_cash_without_shift`: signed, + cash in, - cash out.
    CashWithoutShift { desk: String, amount: i64 },
}
