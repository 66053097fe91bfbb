//! The wire form of every output kind: serde types that borrow from the bytes when read
//! back, so consumers and tests can decode without copying.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// The envelope of every output event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputEnvelope<'a, P> {
    /// Deterministic id (UUID text), see [`crate::wire::output`].
    #[serde(borrow)]
    pub output_id: Cow<'a, str>,
    /// Always [`SCHEMA_VERSION`](crate::wire::SCHEMA_VERSION).
    pub schema_version: u32,
    /// `ggr`, `jackpot_levels`, `jackpot_hit`, `wallet`, `alert`, `refused` or `rejected`.
    #[serde(borrow)]
    pub kind: Cow<'a, str>,
    /// The input event that caused the output (UUID text), if there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause_event_id: Option<Cow<'a, str>>,
    /// The kind's fields.
    pub payload: P,
}

/// A hall's GGR for one window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GgrPayload<'a> {
    #[serde(borrow)]
    pub hall: Cow<'a, str>,
    /// Window start, ms since the Unix epoch (inclusive).
    pub window_start: i64,
    /// Window end, ms since the Unix epoch (exclusive).
    pub window_end: i64,
    /// Wagered, net of rolled-back bets.
    pub bets: i64,
    /// Won.
    pub wins: i64,
    /// Gross gaming revenue: bets - wins.
    pub ggr: i64,
    /// Jackpot awards paid on the hall's machines (progressive and mystery), in the window
    /// of the hit.
    pub jackpots: i64,
    /// Restricted promotional credits played: part of bets, not revenue (RULES.md M-13).
    /// Absent in outputs of a version before M-13: 0.
    #[serde(default)]
    pub promo: i64,
    /// Net win: bets - wins - jackpots - promo (RULES.md H-1, M-13).
    pub net_win: i64,
    /// Games completed.
    pub games: i64,
    /// 0 for the first publication, then 1, 2, ... after late events.
    pub revision: u32,
    /// ISO 4217 code.
    #[serde(borrow)]
    pub currency: Cow<'a, str>,
}

/// One level of a pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelPayload<'a> {
    /// Level index.
    pub level: u8,
    /// Level name.
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    /// Current amount in minor units.
    pub amount: i64,
    pub hits: u64,
}

/// Current levels of a pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JackpotLevelsPayload<'a> {
    #[serde(borrow)]
    pub pool: Cow<'a, str>,
    /// ISO 4217 code.
    #[serde(borrow)]
    pub currency: Cow<'a, str>,
    /// The levels, in index order.
    #[serde(borrow)]
    pub levels: Vec<LevelPayload<'a>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JackpotHitPayload<'a> {
    #[serde(borrow)]
    pub pool: Cow<'a, str>,
    /// Level index.
    pub level: u8,
    /// Level name.
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    /// Amount paid in minor units.
    pub amount: i64,
    /// The machine awarded.
    #[serde(borrow)]
    pub machine: Cow<'a, str>,
    /// The level's hit number (1, 2, ...).
    pub hit_number: u64,
    /// ISO 4217 code.
    #[serde(borrow)]
    pub currency: Cow<'a, str>,
}

/// The answer to a wallet command (RULES.md W-6): `applied` with `delta` and `balance`, or
/// `refused` with `code` and `reason`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletPayload<'a> {
    #[serde(borrow)]
    pub player: Cow<'a, str>,
    /// The sender (`source.server`): with `tx`, the command's idempotency key.
    #[serde(borrow)]
    pub provider: Cow<'a, str>,
    /// The transaction id.
    #[serde(borrow)]
    pub tx: Cow<'a, str>,
    /// The game round the command named (version 2 `round`, RULES.md E-2); absent when it
    /// named none.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub round: Option<Cow<'a, str>>,
    /// `deposit`, `withdrawal`, `bet`, `win` or `rollback`.
    #[serde(borrow)]
    pub kind: Cow<'a, str>,
    /// `applied` or `refused`.
    #[serde(borrow)]
    pub status: Cow<'a, str>,
    /// Applied: signed change in minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta: Option<i64>,
    /// Applied: balance after, in minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance: Option<i64>,
    /// Refused: the stable code (RULES.md).
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub code: Option<Cow<'a, str>>,
    /// Refused: why, in words.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Cow<'a, str>>,
    /// ISO 4217 code of the command.
    #[serde(borrow)]
    pub currency: Cow<'a, str>,
    /// Applied, by a wallet that has had a bonus (RULES.md W-12): the bonus balance's change
    /// by the command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bonus_delta: Option<i64>,
    /// Applied, by a wallet that has had a bonus: the bonus balance after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bonus: Option<i64>,
}

/// A desk command's answer, or a closed shift revised (RULES.md D-7).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftPayload<'a> {
    /// The desk (`source.server` of its commands).
    #[serde(borrow)]
    pub desk: Cow<'a, str>,
    /// The desk's hall.
    #[serde(borrow)]
    pub hall: Cow<'a, str>,
    /// `open`, `fill`, `credit`, `close` or `revise`.
    #[serde(borrow)]
    pub op: Cow<'a, str>,
    /// A command's transaction id (absent from a revision).
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub tx: Option<Cow<'a, str>>,
    /// `applied` or `refused`.
    #[serde(borrow)]
    pub status: Cow<'a, str>,
    /// Refused: the stable code (RULES.md).
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub code: Option<Cow<'a, str>>,
    /// Refused: why, in words.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Cow<'a, str>>,
    /// The amount the command named: the float, the fill or credit, the counted cash (0 for
    /// a revision), minor units.
    pub amount: i64,
    /// The shift after the command (0: the desk never had one).
    pub shift: u32,
    /// The shift's cashier (empty with no shift).
    #[serde(borrow)]
    pub cashier: Cow<'a, str>,
    /// When it opened, ms since the Unix epoch.
    pub opened_at: i64,
    /// When it closed, once closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<i64>,
    pub float: i64,
    /// Cash taken for tickets sold.
    pub cash_in: i64,
    /// Cash paid for tickets.
    pub cash_out: i64,
    pub fills: i64,
    pub credits: i64,
    /// `float + cash_in - cash_out + fills - credits`.
    pub expected: i64,
    /// The cash counted at the close, once closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counted: Option<i64>,
    /// `counted - expected`, once closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variance: Option<i64>,
    /// Cash operations booked to the shift.
    pub operations: u32,
    /// Revisions after the close (D-5).
    pub revision: u32,
    /// When it was booked (event time), ms since the Unix epoch.
    pub time: i64,
    /// ISO 4217 code.
    #[serde(borrow)]
    pub currency: Cow<'a, str>,
}

/// What happened to a voucher (RULES.md V-8): a command's answer, a machine's ticket fact,
/// an expiry or a lapsed hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoucherPayload<'a> {
    /// The validation number (18 digits).
    #[serde(borrow)]
    pub validation: Cow<'a, str>,
    /// `issue`, `redeem`, `commit`, `cancel`, `void`, `printed`, `credited`, `expire` or
    /// `release`.
    #[serde(borrow)]
    pub op: Cow<'a, str>,
    /// `machine` or `desk`: who sent it (for a lapse: the holder or the issuer).
    #[serde(borrow)]
    pub party_kind: Cow<'a, str>,
    /// The machine's or desk's id.
    #[serde(borrow)]
    pub party: Cow<'a, str>,
    /// A command's transaction id.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub tx: Option<Cow<'a, str>>,
    /// `applied` or `refused`.
    #[serde(borrow)]
    pub status: Cow<'a, str>,
    /// Refused: the stable code (RULES.md).
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub code: Option<Cow<'a, str>>,
    /// Refused: why, in words.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Cow<'a, str>>,
    /// The amount the command or fact named (minor units; 0 when it names none).
    pub amount: i64,
    /// Where the voucher stands after it: `unissued`, `issued`, `held`, `redeemed`,
    /// `expired` or `voided`.
    #[serde(borrow)]
    pub voucher_status: Cow<'a, str>,
    /// The voucher's amount, once issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voucher_amount: Option<i64>,
    /// The issuing hall, once issued.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub issuing_hall: Option<Cow<'a, str>>,
    /// When it was booked (event time; a lapse: its own time), ms since the Unix epoch.
    pub time: i64,
    /// ISO 4217 code.
    #[serde(borrow)]
    pub currency: Cow<'a, str>,
}

/// A case for the compliance officers (RULES.md W-11): a patron's cash in a local day
/// reached a threshold, or cash-ins just under the reportable one came close together.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmlCasePayload<'a> {
    #[serde(borrow)]
    pub player: Cow<'a, str>,
    /// `log`, `report` or `structuring`.
    #[serde(borrow)]
    pub case: Cow<'a, str>,
    /// `in` or `out`.
    #[serde(borrow)]
    pub direction: Cow<'a, str>,
    /// The start of the local day counted, ms since the Unix epoch.
    pub day: i64,
    /// The day's total that way when the case opened (structuring: the cited cash-ins' sum).
    pub total: i64,
    /// The threshold reached, minor units.
    pub threshold: i64,
    /// The moves that make the case, oldest first.
    #[serde(borrow)]
    pub evidence: Vec<CashMovePayload<'a>>,
    /// Moves of the day that way beyond those cited.
    pub left_out: u32,
    /// ISO 4217 code.
    #[serde(borrow)]
    pub currency: Cow<'a, str>,
}

/// A compliance officer closed an AML case (RULES.md W-11): published on the compliance
/// topic by the admin API, after the case, keyed by its player.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmlCaseClosedPayload<'a> {
    /// The case's output id.
    #[serde(borrow)]
    pub case_id: Cow<'a, str>,
    #[serde(borrow)]
    pub player: Cow<'a, str>,
    /// Why it was closed (1 to 256 bytes).
    #[serde(borrow)]
    pub reason: Cow<'a, str>,
    /// The admin key's name that closed it.
    #[serde(borrow)]
    pub operator: Cow<'a, str>,
    /// When, ms since the Unix epoch.
    pub closed_at: i64,
}

/// One cash move an AML case cites.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashMovePayload<'a> {
    /// The input event (UUID).
    #[serde(borrow)]
    pub event_id: Cow<'a, str>,
    pub amount: i64,
    /// ms since the Unix epoch (a machine's: the booked time).
    pub time: i64,
    /// `in` or `out`.
    #[serde(borrow)]
    pub direction: Cow<'a, str>,
    /// The machine, absent for the wallet itself.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<Cow<'a, str>>,
}

/// A card session that ended, rated (RULES.md M-12): what the machine applied while the
/// player was carded in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatedSessionPayload<'a> {
    #[serde(borrow)]
    pub machine: Cow<'a, str>,
    /// The carded-in player.
    #[serde(borrow)]
    pub player: Cow<'a, str>,
    /// The hall of the event that ended the session.
    #[serde(borrow)]
    pub hall: Cow<'a, str>,
    /// The card-in's booked time, ms since the Unix epoch.
    pub start: i64,
    /// The ending event's booked time, ms since the Unix epoch.
    pub end: i64,
    /// The card-in event (UUID), or the `comms_restored` / `power_on` that resumed rating the
    /// player still carded in (RULES.md M-12).
    #[serde(borrow)]
    pub started_by: Cow<'a, str>,
    /// `card_out`, `card_in` (another player's card ended it), `comms_lost` or `power_off`
    /// (the machine fell silent or lost power, RULES.md M-12).
    #[serde(borrow)]
    pub ended_by: Cow<'a, str>,
    /// Bets, minor units.
    pub coin_in: i64,
    /// Wins, minor units.
    pub coin_out: i64,
    /// Game ends.
    pub games: u64,
    /// Coin in per game, rounded down (0 without a game), minor units.
    pub average_bet: i64,
    /// Coin in times the theoretical hold, rounded down, minor units.
    pub theoretical_win: i64,
    /// Coin in less coin out: what the machine won from the player, minor units.
    pub actual_win: i64,
    /// The loyalty points the player earned: the theoretical win times the points per
    /// minor unit, rounded down.
    pub points: i64,
    /// ISO 4217 code.
    #[serde(borrow)]
    pub currency: Cow<'a, str>,
}

/// What a machine's acknowledgement of a cashless transfer settled in the player's wallet
/// (RULES.md W-10).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferPayload<'a> {
    #[serde(borrow)]
    pub player: Cow<'a, str>,
    /// The transfer id (the wallet service's `tx` of its request).
    #[serde(borrow)]
    pub transfer: Cow<'a, str>,
    #[serde(borrow)]
    pub machine: Cow<'a, str>,
    /// `to_machine` or `from_machine`.
    #[serde(borrow)]
    pub direction: Cow<'a, str>,
    /// What the machine reported moving, minor units.
    pub amount: i64,
    /// The hold the acknowledgement took (to a machine; 0 without one).
    pub held: i64,
    /// The balance's change at the acknowledgement.
    pub delta: i64,
    /// What no funds of the wallet covered.
    pub unbacked: i64,
    /// The machine had acknowledged this transfer before.
    pub repeated: bool,
    /// The balance after.
    pub balance: i64,
    /// ISO 4217 code.
    #[serde(borrow)]
    pub currency: Cow<'a, str>,
    /// `restricted` for the bonus's credits (RULES.md W-12: then `held` and `delta` are the
    /// bonus's); absent: cashable.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub credit_type: Option<Cow<'a, str>>,
}

/// A hall's gaming day, published at the day's close and again at each revision (RULES.md
/// H-5): the hall row of the gaming-day report (H-4), summed from the hall's stored
/// one-minute GGR windows whose start falls in the day.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GamingDayPayload<'a> {
    #[serde(borrow)]
    pub hall: Cow<'a, str>,
    /// The gaming day's date, `YYYY-MM-DD`.
    #[serde(borrow)]
    pub date: Cow<'a, str>,
    /// The hall's IANA time zone.
    #[serde(borrow)]
    pub time_zone: Cow<'a, str>,
    /// The day's first instant, local time with its offset (RFC 3339).
    #[serde(borrow)]
    pub day_start: Cow<'a, str>,
    /// The next day's first instant (exclusive).
    #[serde(borrow)]
    pub day_end: Cow<'a, str>,
    /// Minutes in the day: 1440, or 1380 / 1500 across a daylight-saving change.
    pub minutes: i64,
    /// Wagered (coin in and wallet bets, net of rolled-back bets), minor units.
    pub handle: i64,
    /// Won, minor units.
    pub wins: i64,
    /// Jackpot awards paid, minor units.
    pub jackpots: i64,
    /// Restricted promotional credits played (part of handle), minor units (RULES.md M-13).
    /// Absent in outputs of a version before M-13: 0.
    #[serde(default)]
    pub promo: i64,
    /// Handle - wins.
    pub ggr: i64,
    /// GGR - jackpots - promo.
    pub net_win: i64,
    /// Games completed.
    pub games: i64,
    /// One-minute windows that booked something.
    pub windows: u64,
    /// The sum of the day's window revisions: it grows with every late correction of a
    /// window of the day, so the highest revision of a hall's day is its current report.
    pub revision: u64,
    /// ISO 4217 code.
    #[serde(borrow)]
    pub currency: Cow<'a, str>,
}

/// The network's gaming day so far (RULES.md H-5): the sum of the closed days of `date` of
/// every hall, published again as more halls close theirs and at each revision.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GamingDayNetworkPayload<'a> {
    /// `YYYY-MM-DD`.
    #[serde(borrow)]
    pub date: Cow<'a, str>,
    /// Halls whose day is closed, summed here.
    pub halls_closed: u64,
    /// Halls with GGR that day whose day is not closed yet (not summed): 0 once every hall
    /// closed its day.
    pub halls_open: u64,
    pub handle: i64,
    pub wins: i64,
    pub jackpots: i64,
    pub promo: i64,
    pub ggr: i64,
    pub net_win: i64,
    pub games: i64,
    pub windows: u64,
    /// The sum of the closed halls' revisions.
    pub revision: u64,
    #[serde(borrow)]
    pub currency: Cow<'a, str>,
}

/// One machine's gaming day (RULES.md H-4, H-5): its row of the report, from its stored
/// ledger, published with its hall's day. Amounts in minor units.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GamingDayMachinePayload<'a> {
    #[serde(borrow)]
    pub machine: Cow<'a, str>,
    #[serde(borrow)]
    pub hall: Cow<'a, str>,
    #[serde(borrow)]
    pub date: Cow<'a, str>,
    pub coin_in: i64,
    pub coin_out: i64,
    pub handpaid_wins: i64,
    pub jackpots: i64,
    pub promo_played: i64,
    pub ggr: i64,
    pub net_win: i64,
    pub bills_in: i64,
    pub tickets_in: i64,
    pub drop: i64,
    pub tickets_out: i64,
    pub cashless_in: i64,
    pub cashless_out: i64,
    pub handpays: i64,
    pub restricted_in: i64,
    pub nonrestricted_in: i64,
    /// Percent, as configured (RULES.md M-12).
    #[serde(borrow)]
    pub theoretical_hold_percent: Cow<'a, str>,
    pub theoretical_win: i64,
    /// Net win / coin in, percent to two places; empty without coin in.
    #[serde(borrow)]
    pub hold_percent: Cow<'a, str>,
    /// Games ended.
    pub games: i64,
    /// Ledger movements of the day counted.
    pub movements: u64,
    #[serde(borrow)]
    pub currency: Cow<'a, str>,
}

/// An operator alert. Which detail fields are present depends on `kind` (its stable code,
/// RULES.md).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertPayload<'a> {
    /// The alert's code: `sequence_gap`, `sequence_reset`, `sequence_stale`,
    /// `credit_variance`, `win_outside_game`, `game_end_without_bet`, `card_session_overlap`,
    /// `card_out_without_session`, `machine_moved`, `clock_skew`, `wrong_currency`,
    /// `overflow`, `large_cash_in`, `door_open`, `tilt`, `comms_lost`, `unknown_level`,
    /// `mystery_claim`, `pool_not_linked`, `jackpot_not_eligible`, `jackpot_variance`,
    /// `meter_variance`, `meter_reset`, `handpay_pending`, `handpay_reset_without_pending` or
    /// `win_above_handpay_threshold`.
    #[serde(borrow)]
    pub kind: Cow<'a, str>,
    /// `info`, `warning` or `critical`.
    #[serde(borrow)]
    pub severity: Cow<'a, str>,
    /// The machine it is about (absent from a `voucher_hold_released` of a desk's hold).
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<Cow<'a, str>>,
    /// `voucher_*`: the validation number.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<Cow<'a, str>>,
    /// `voucher_redeemed_without_hold`, `voucher_hold_released`: who held the voucher.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<Cow<'a, str>>,
    /// `voucher_number_reused`, `voucher_credit_unbacked`: where the voucher stood.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub voucher_status: Option<Cow<'a, str>>,
    /// `voucher_amount_variance`: the voucher's amount (`amount` is what was credited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voucher_amount: Option<i64>,
    /// `sequence_gap`: the sequence number expected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<u64>,
    /// `sequence_gap`: the sequence number received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub got: Option<u64>,
    /// `sequence_reset`: the new epoch; `sequence_stale`: the event's epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<u64>,
    /// `sequence_stale`: the event's sequence number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// `sequence_reset`: the epoch before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_epoch: Option<u64>,
    /// `sequence_reset`: the highest number of the epoch before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_high: Option<u64>,
    /// `credit_variance`: `bet` or `cash_out`.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub op: Option<Cow<'a, str>>,
    /// `large_cash_in`, `win_outside_game`, `credit_variance`: the amount in minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    /// `credit_variance`: the credits pitboss had.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits: Option<i64>,
    /// `credit_variance`: amount - credits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shortfall: Option<i64>,
    /// `card_session_overlap`: the player carding in.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub player: Option<Cow<'a, str>>,
    /// `card_session_overlap`: the player whose session ended.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub previous_player: Option<Cow<'a, str>>,
    /// `machine_moved`: the hall the machine is in now.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub hall: Option<Cow<'a, str>>,
    /// `machine_moved`: the hall it was in.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub previous_hall: Option<Cow<'a, str>>,
    /// `clock_skew`: the event time, ms since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_time: Option<i64>,
    /// `clock_skew`: the receive time the event was booked at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receive_time: Option<i64>,
    /// `wrong_currency`: the event's currency.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Cow<'a, str>>,
    /// `overflow`: the running total that would overflow.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub total: Option<Cow<'a, str>>,
    /// `tilt`: the machine's tilt code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u32>,
    /// Claim alerts (`unknown_level`, `mystery_claim`, `pool_not_linked`,
    /// `jackpot_not_eligible`, `jackpot_variance`): the pool.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<Cow<'a, str>>,
    /// Claim alerts: the level index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<u8>,
    /// `jackpot_variance`: the level's amount the pool paid (`amount`: what the machine
    /// paid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level_amount: Option<i64>,
    /// `meter_variance`: why the machine reported (`periodic`, `door_close`, `day_end`,
    /// `request`).
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Cow<'a, str>>,
    /// `meter_variance`: the input event of the snapshot compared with.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub previous_snapshot: Option<Cow<'a, str>>,
    /// `meter_variance`: that snapshot's booked time, ms since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_snapshot_time: Option<i64>,
    /// `meter_variance`: every meter that moved otherwise on the machine than in pitboss.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub meters: Option<Vec<MeterVarianceRow<'a>>>,
    /// `meter_reset`: the meter found lower than in the previous snapshot.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub meter: Option<Cow<'a, str>>,
    /// `meter_reset`: its value in the previous snapshot (`reported`: its value now).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_value: Option<i64>,
    /// `meter_reset`: the meter's value now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported: Option<i64>,
    /// `handpay_pending`: `cancelled_credits` or `jackpot` (`amount`: how much).
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub handpay_kind: Option<Cow<'a, str>>,
    /// `handpay_reset_without_pending`: who reset the machine.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub attendant: Option<Cow<'a, str>>,
    /// `win_above_handpay_threshold`: the hall's handpay threshold (`amount`: the win).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<i64>,
    /// `machine_silent`: seconds since pitboss last heard from the machine (`event_time`:
    /// its last event's time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silent_secs: Option<i64>,
    /// `location_offline`: the machines the hall has (all silent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machines: Option<u64>,
    /// `transfer_*`: the cashless transfer's id (RULES.md W-10; `player`: its wallet).
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<Cow<'a, str>>,
    /// `transfer_amount_variance`: what the wallet held (`amount`: what the machine took).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<i64>,
    /// `transfer_without_hold`, `transfer_amount_variance`: what the machine took that the
    /// wallet could not pay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unbacked: Option<i64>,
    /// `transfer_acknowledged_twice`: `to_machine` or `from_machine`.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<Cow<'a, str>>,
    /// `self_excluded_card_in`: when the player's self-exclusion ends (exclusive), ms since
    /// the Unix epoch (RULES.md W-9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
    /// `shift_variance`, `desk_cash_without_shift`: the cash desk (RULES.md D).
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub desk: Option<Cow<'a, str>>,
    /// `shift_variance`: the shift's number (`amount`: the expected cash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shift: Option<u32>,
    /// `shift_variance`: the cash counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counted: Option<i64>,
    /// `shift_variance`: counted - expected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variance: Option<i64>,
}

/// One meter of a `meter_variance` alert (RULES.md M-8).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterVarianceRow<'a> {
    /// The meter's name (`coin_in`, `games_played`, ...).
    #[serde(borrow)]
    pub meter: Cow<'a, str>,
    /// How much the machine's meter moved since the previous snapshot.
    pub reported: i64,
    /// How much pitboss's moved (the events it applied in between).
    pub applied: i64,
    /// `reported - applied`.
    pub variance: i64,
}

/// An input event the core refused (valid on the wire, refused by the rules).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedPayload<'a> {
    /// The machine or player the event addressed.
    #[serde(borrow)]
    pub entity: Cow<'a, str>,
    /// Why, as a stable code (RULES.md).
    #[serde(borrow)]
    pub code: Cow<'a, str>,
    /// Why, in words.
    #[serde(borrow)]
    pub reason: Cow<'a, str>,
}

/// An input message that could not be decoded or validated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedPayload<'a> {
    /// Why, in words.
    #[serde(borrow)]
    pub reason: Cow<'a, str>,
    /// Why, one of [`REASON_CODES`](crate::wire::REASON_CODES).
    #[serde(borrow)]
    pub reason_code: Cow<'a, str>,
    /// The message's bytes (MessagePack bin), cut at [`REJECTED_ORIGINAL_BYTES_MAX`](super::REJECTED_ORIGINAL_BYTES_MAX).
    #[serde(borrow)]
    pub original: Bin<'a>,
    /// The message's full length in bytes.
    pub original_len: u64,
    /// The message's Kafka key (bin), nil if it had none.
    #[serde(borrow)]
    pub original_key: Option<Bin<'a>>,
    /// Source partition.
    pub partition: i32,
    /// Source offset.
    pub offset: i64,
}

/// Raw bytes, written as MessagePack bin (serde's byte slices would be arrays of integers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bin<'a>(pub Cow<'a, [u8]>);

impl Serialize for Bin<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Bin<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Bin<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("binary data")
            }
            fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Bin<'de>, E> {
                Ok(Bin(Cow::Borrowed(v)))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Bin<'de>, E> {
                Ok(Bin(Cow::Owned(v.to_vec())))
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Bin<'de>, E> {
                Ok(Bin(Cow::Owned(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Bin<'de>, A::Error> {
                let mut out = Vec::new();
                while let Some(b) = seq.next_element::<u8>()? {
                    out.push(b);
                }
                Ok(Bin(Cow::Owned(out)))
            }
        }
        d.deserialize_bytes(V)
    }
}
