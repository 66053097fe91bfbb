//! The stored form of entity states and ledger entries: storage records (DTOs) that derive
//! serde, converted to and from the domain states (which do not). MessagePack with named
//! fields (`rmp_serde::to_vec_named`), like the wire format, so a field added later is
//! skipped by an older reader and defaulted by a newer one.
//!
//! A record carries its format version: a reader refuses a version newer than it knows
//! instead of guessing.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Mutex;

use pitboss_actors::domain::ggr::{GgrTotals, GgrWindow, HallState};
use pitboss_actors::domain::jackpot::{LevelConfig, LevelState, PoolState};
use pitboss_actors::domain::machine::{
    AwardMark, MachineProfile, MachineState, MachineStatus, Meters,
};
use pitboss_actors::domain::wallet::{TxKind, TxRecord, WalletState, WalletTotals};
use pitboss_actors::domain::{
    Currency, DomainError, EventId, HallId, MachineId, PlayerId, PoolId, SourceKey, Timestamp, TxId,
};
use pitboss_actors::shell::{EntityKey, LedgerEntry, Movement, Snapshot, StoreError};
use serde::{Deserialize, Serialize};

/// The record format this build writes (and the newest it reads).
pub const RECORD_VERSION: u32 = 1;

/// The kind of an entity as stored: `machine`, `wallet`, `pool`, `hall`.
pub fn kind_name(key: &EntityKey) -> &'static str {
    match key {
        EntityKey::Machine(_) => "machine",
        EntityKey::Wallet(_) => "wallet",
        EntityKey::Pool(_) => "pool",
        EntityKey::Hall(_) => "hall",
    }
}

/// The id of an entity as text.
pub fn id_str(key: &EntityKey) -> &str {
    match key {
        EntityKey::Machine(id) => id.as_str(),
        EntityKey::Wallet(id) => id.as_str(),
        EntityKey::Pool(id) => id.as_str(),
        EntityKey::Hall(id) => id.as_str(),
    }
}

/// The key of an entity from its stored kind and id.
pub fn entity_key(kind: &str, id: &str) -> Result<EntityKey, StoreError> {
    let bad = |e: DomainError| StoreError(format!("stored {kind} id {id:?}: {e}"));
    Ok(match kind {
        "machine" => EntityKey::Machine(MachineId::new(id).map_err(bad)?),
        "wallet" => EntityKey::Wallet(PlayerId::new(id).map_err(bad)?),
        "pool" => EntityKey::Pool(PoolId::new(id).map_err(bad)?),
        "hall" => EntityKey::Hall(HallId::new(id).map_err(bad)?),
        other => return Err(StoreError(format!("unknown stored entity kind {other:?}"))),
    })
}

/// The key's bytes in the embedded store: one kind byte, then the id (printable ASCII, so a
/// 0x00 after it sorts before any longer id with the same prefix).
pub fn key_bytes(key: &EntityKey) -> Vec<u8> {
    let tag = match key {
        EntityKey::Machine(_) => b'm',
        EntityKey::Wallet(_) => b'w',
        EntityKey::Pool(_) => b'p',
        EntityKey::Hall(_) => b'h',
    };
    let id = id_str(key).as_bytes();
    let mut out = Vec::with_capacity(1 + id.len());
    out.push(tag);
    out.extend_from_slice(id);
    out
}

/// The inverse of [`key_bytes`].
pub fn key_from_bytes(b: &[u8]) -> Result<EntityKey, StoreError> {
    let (tag, id) = b
        .split_first()
        .ok_or_else(|| StoreError("empty stored entity key".into()))?;
    let id = std::str::from_utf8(id)
        .map_err(|_| StoreError(format!("stored entity key {b:?} is not text")))?;
    let kind = match tag {
        b'm' => "machine",
        b'w' => "wallet",
        b'p' => "pool",
        b'h' => "hall",
        other => return Err(StoreError(format!("unknown stored entity tag {other}"))),
    };
    entity_key(kind, id)
}

/// The UTC day (`YYYY-MM-DD`) of an instant: the ledger's partition by day.
pub fn day_of(t: Timestamp) -> String {
    let days = t.0.div_euclid(86_400_000);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}")
}

fn split128(v: i128) -> (i64, u64) {
    ((v >> 64) as i64, v as u64)
}

fn join128(hi: i64, lo: u64) -> i128 {
    ((hi as i128) << 64) | lo as i128
}

/// Static names the domain puts in its errors and transaction kinds. Stored as text, they
/// come back as the same `&'static str`; a name this build does not know (written by another
/// version) is leaked once and reused, so decoding stays exact and bounded.
fn intern(s: &str) -> &'static str {
    const KNOWN: &[&str] = &[
        "bet",
        "win",
        "game end",
        "cash out",
        "withdrawal",
        "deposit",
        "rollback",
        "rolled-back bet",
        "machine id",
        "player id",
        "pool id",
        "hall id",
        "transaction id",
        "server id",
        "credits",
        "coin in meter",
        "coin out meter",
        "cash in meter",
        "cash out meter",
        "jackpot paid meter",
        "wallet balance",
        "wallet deposits",
        "wallet totals",
        "wallet wins",
        "GGR bets",
        "GGR wins",
        "jackpot level",
        "jackpot paid",
        "jackpot seeds",
    ];
    if let Some(k) = KNOWN.iter().find(|k| **k == s) {
        return k;
    }
    static OTHERS: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut others = OTHERS.lock().unwrap_or_else(|p| p.into_inner());
    let set = others.get_or_insert_with(HashSet::new);
    if let Some(k) = set.get(s) {
        return k;
    }
    let leaked: &'static str = Box::leak(s.to_owned().into_boxed_str());
    set.insert(leaked);
    leaked
}

fn bad(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError(format!("stored {what} cannot be decoded: {e}"))
}

fn currency(s: &str) -> Result<Currency, StoreError> {
    Currency::new(s).map_err(|e| bad("currency", e))
}

macro_rules! id {
    ($t:ty, $s:expr) => {
        <$t>::new(&$s).map_err(|e| bad("id", e))
    };
}

/// A stored entity record: format version, movement count, state.
#[derive(Serialize, Deserialize)]
struct Record {
    v: u32,
    movements: u64,
    state: StateDto,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum StateDto {
    Machine(MachineDto),
    Wallet(WalletDto),
    Pool(PoolDto),
    Hall(HallDto),
}

#[derive(Serialize, Deserialize)]
struct MetersDto {
    coin_in: i64,
    coin_out: i64,
    games_played: i64,
    games_won: i64,
    bills_in: i64,
    tickets_in: i64,
    tickets_out: i64,
    cashless_in: i64,
    cashless_out: i64,
    handpaid: i64,
    jackpot_paid: i64,
    doors_opened: i64,
}

#[derive(Serialize, Deserialize)]
struct AwardDto {
    pool: String,
    level: u8,
    hit_number: u64,
}

#[derive(Serialize, Deserialize)]
struct MachineDto {
    id: String,
    hall: String,
    currency: String,
    pools: Vec<String>,
    large_cash_in_alert_minor: i64,
    credits: i64,
    meters: MetersDto,
    last_seq: Option<u64>,
    online: bool,
    door_open: bool,
    tilt: Option<u32>,
    session: Option<String>,
    game_open: bool,
    game_won: bool,
    last_event_time: i64,
    awards: Vec<AwardDto>,
}

impl From<&MachineState> for MachineDto {
    fn from(m: &MachineState) -> Self {
        let t = &m.meters;
        Self {
            id: m.id.to_string(),
            hall: m.profile.hall.to_string(),
            currency: m.profile.currency.to_string(),
            pools: m.profile.pools.iter().map(ToString::to_string).collect(),
            large_cash_in_alert_minor: m.profile.large_cash_in_alert_minor,
            credits: m.credits,
            meters: MetersDto {
                coin_in: t.coin_in,
                coin_out: t.coin_out,
                games_played: t.games_played,
                games_won: t.games_won,
                bills_in: t.bills_in,
                tickets_in: t.tickets_in,
                tickets_out: t.tickets_out,
                cashless_in: t.cashless_in,
                cashless_out: t.cashless_out,
                handpaid: t.handpaid,
                jackpot_paid: t.jackpot_paid,
                doors_opened: t.doors_opened,
            },
            last_seq: m.last_seq,
            online: m.status.online,
            door_open: m.status.door_open,
            tilt: m.status.tilt,
            session: m.session.as_ref().map(ToString::to_string),
            game_open: m.game_open,
            game_won: m.game_won,
            last_event_time: m.last_event_time.0,
            awards: m
                .awards
                .iter()
                .map(|a| AwardDto {
                    pool: a.pool.to_string(),
                    level: a.level,
                    hit_number: a.hit_number,
                })
                .collect(),
        }
    }
}

impl TryFrom<MachineDto> for MachineState {
    type Error = StoreError;

    fn try_from(d: MachineDto) -> Result<Self, StoreError> {
        let t = d.meters;
        Ok(MachineState {
            id: id!(MachineId, d.id)?,
            profile: MachineProfile {
                hall: id!(HallId, d.hall)?,
                currency: currency(&d.currency)?,
                pools: d
                    .pools
                    .iter()
                    .map(|p| id!(PoolId, p))
                    .collect::<Result<_, _>>()?,
                large_cash_in_alert_minor: d.large_cash_in_alert_minor,
            },
            credits: d.credits,
            meters: Meters {
                coin_in: t.coin_in,
                coin_out: t.coin_out,
                games_played: t.games_played,
                games_won: t.games_won,
                bills_in: t.bills_in,
                tickets_in: t.tickets_in,
                tickets_out: t.tickets_out,
                cashless_in: t.cashless_in,
                cashless_out: t.cashless_out,
                handpaid: t.handpaid,
                jackpot_paid: t.jackpot_paid,
                doors_opened: t.doors_opened,
            },
            last_seq: d.last_seq,
            status: MachineStatus {
                online: d.online,
                door_open: d.door_open,
                tilt: d.tilt,
            },
            session: d.session.map(|p| id!(PlayerId, p)).transpose()?,
            game_open: d.game_open,
            game_won: d.game_won,
            last_event_time: Timestamp(d.last_event_time),
            awards: d
                .awards
                .into_iter()
                .map(|a| {
                    Ok(AwardMark {
                        pool: id!(PoolId, a.pool)?,
                        level: a.level,
                        hit_number: a.hit_number,
                    })
                })
                .collect::<Result<_, StoreError>>()?,
        })
    }
}

/// Every [`DomainError`], as stored in a wallet's idempotency window (a repeated transaction
/// gets its first answer, refusals included).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum DomainErrorDto {
    InvalidId {
        what: String,
        value: String,
    },
    NonPositiveAmount(i64),
    AmountTooLarge(i64),
    InvalidCurrency(String),
    WrongCurrency {
        entity: String,
        expected: String,
        got: String,
    },
    InsufficientCredits {
        what: String,
        amount: i64,
        credits: i64,
        machine: String,
    },
    InsufficientFunds {
        what: String,
        amount: i64,
        available: i64,
        player: String,
    },
    BetRolledBack {
        tx: String,
        player: String,
    },
    TxIdReused {
        tx: String,
        player: String,
        first: String,
    },
    RollbackOfNonBet {
        tx: String,
        bet_tx: String,
        player: String,
    },
    UnknownLevel {
        pool: String,
        level: u8,
    },
    MysteryClaim {
        pool: String,
        level: u8,
    },
    PoolNotLinked {
        machine: String,
        pool: String,
    },
    NoGameInProgress {
        what: String,
        machine: String,
    },
    Session(String),
    InvalidPoolConfig(String),
    Overflow(String),
}

impl From<&DomainError> for DomainErrorDto {
    fn from(e: &DomainError) -> Self {
        use DomainError as E;
        use DomainErrorDto as D;
        match e.clone() {
            E::InvalidId { what, value } => D::InvalidId {
                what: what.into(),
                value,
            },
            E::NonPositiveAmount(a) => D::NonPositiveAmount(a),
            E::AmountTooLarge(a) => D::AmountTooLarge(a),
            E::InvalidCurrency(c) => D::InvalidCurrency(c),
            E::WrongCurrency {
                entity,
                expected,
                got,
            } => D::WrongCurrency {
                entity,
                expected,
                got,
            },
            E::InsufficientCredits {
                what,
                amount,
                credits,
                machine,
            } => D::InsufficientCredits {
                what: what.into(),
                amount,
                credits,
                machine,
            },
            E::InsufficientFunds {
                what,
                amount,
                available,
                player,
            } => D::InsufficientFunds {
                what: what.into(),
                amount,
                available,
                player,
            },
            E::BetRolledBack { tx, player } => D::BetRolledBack { tx, player },
            E::TxIdReused { tx, player, first } => D::TxIdReused {
                tx,
                player,
                first: first.into(),
            },
            E::RollbackOfNonBet { tx, bet_tx, player } => {
                D::RollbackOfNonBet { tx, bet_tx, player }
            }
            E::UnknownLevel { pool, level } => D::UnknownLevel { pool, level },
            E::MysteryClaim { pool, level } => D::MysteryClaim { pool, level },
            E::PoolNotLinked { machine, pool } => D::PoolNotLinked { machine, pool },
            E::NoGameInProgress { what, machine } => D::NoGameInProgress {
                what: what.into(),
                machine,
            },
            E::Session(s) => D::Session(s),
            E::InvalidPoolConfig(s) => D::InvalidPoolConfig(s),
            E::Overflow(w) => D::Overflow(w.into()),
        }
    }
}

impl From<DomainErrorDto> for DomainError {
    fn from(d: DomainErrorDto) -> Self {
        use DomainError as E;
        use DomainErrorDto as D;
        match d {
            D::InvalidId { what, value } => E::InvalidId {
                what: intern(&what),
                value,
            },
            D::NonPositiveAmount(a) => E::NonPositiveAmount(a),
            D::AmountTooLarge(a) => E::AmountTooLarge(a),
            D::InvalidCurrency(c) => E::InvalidCurrency(c),
            D::WrongCurrency {
                entity,
                expected,
                got,
            } => E::WrongCurrency {
                entity,
                expected,
                got,
            },
            D::InsufficientCredits {
                what,
                amount,
                credits,
                machine,
            } => E::InsufficientCredits {
                what: intern(&what),
                amount,
                credits,
                machine,
            },
            D::InsufficientFunds {
                what,
                amount,
                available,
                player,
            } => E::InsufficientFunds {
                what: intern(&what),
                amount,
                available,
                player,
            },
            D::BetRolledBack { tx, player } => E::BetRolledBack { tx, player },
            D::TxIdReused { tx, player, first } => E::TxIdReused {
                tx,
                player,
                first: intern(&first),
            },
            D::RollbackOfNonBet { tx, bet_tx, player } => {
                E::RollbackOfNonBet { tx, bet_tx, player }
            }
            D::UnknownLevel { pool, level } => E::UnknownLevel { pool, level },
            D::MysteryClaim { pool, level } => E::MysteryClaim { pool, level },
            D::PoolNotLinked { machine, pool } => E::PoolNotLinked { machine, pool },
            D::NoGameInProgress { what, machine } => E::NoGameInProgress {
                what: intern(&what),
                machine,
            },
            D::Session(s) => E::Session(s),
            D::InvalidPoolConfig(s) => E::InvalidPoolConfig(s),
            D::Overflow(w) => E::Overflow(intern(&w)),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum TxKindDto {
    Other(String),
    Bet { amount: i64, rolled_back: bool },
    Rollback,
    Tombstone,
}

#[derive(Serialize, Deserialize)]
struct TxDto {
    tx: String,
    kind: TxKindDto,
    outcome: Result<i64, DomainErrorDto>,
}

#[derive(Serialize, Deserialize)]
struct WalletDto {
    id: String,
    currency: String,
    balance: i64,
    credit_line: i64,
    deposits: i64,
    withdrawals: i64,
    bets: i64,
    wins: i64,
    refunds: i64,
    ops: u64,
    window_len: usize,
    /// The idempotency window, oldest first.
    window: Vec<TxDto>,
}

impl TryFrom<&WalletState> for WalletDto {
    type Error = StoreError;

    fn try_from(w: &WalletState) -> Result<Self, StoreError> {
        let window = w
            .window_order
            .iter()
            .map(|tx| {
                let rec = w.window.get(tx).ok_or_else(|| {
                    StoreError(format!(
                        "wallet {}: transaction {tx} is in the window order but not in the window",
                        w.id
                    ))
                })?;
                Ok(TxDto {
                    tx: tx.to_string(),
                    kind: match &rec.kind {
                        TxKind::Other(k) => TxKindDto::Other((*k).into()),
                        TxKind::Bet {
                            amount,
                            rolled_back,
                        } => TxKindDto::Bet {
                            amount: *amount,
                            rolled_back: *rolled_back,
                        },
                        TxKind::Rollback => TxKindDto::Rollback,
                        TxKind::Tombstone => TxKindDto::Tombstone,
                    },
                    outcome: rec.outcome.as_ref().map(|b| *b).map_err(Into::into),
                })
            })
            .collect::<Result<_, StoreError>>()?;
        if w.window.len() != w.window_order.len() {
            return Err(StoreError(format!(
                "wallet {}: window holds {} transactions but its order {}",
                w.id,
                w.window.len(),
                w.window_order.len()
            )));
        }
        let t = &w.totals;
        Ok(Self {
            id: w.id.to_string(),
            currency: w.currency.to_string(),
            balance: w.balance,
            credit_line: w.credit_line,
            deposits: t.deposits,
            withdrawals: t.withdrawals,
            bets: t.bets,
            wins: t.wins,
            refunds: t.refunds,
            ops: w.ops,
            window_len: w.window_len,
            window,
        })
    }
}

impl TryFrom<WalletDto> for WalletState {
    type Error = StoreError;

    fn try_from(d: WalletDto) -> Result<Self, StoreError> {
        let mut order = VecDeque::with_capacity(d.window.len());
        let mut window = pitboss_actors::domain::FastMap::default();
        for t in d.window {
            let tx = id!(TxId, t.tx)?;
            let kind = match t.kind {
                TxKindDto::Other(k) => TxKind::Other(intern(&k)),
                TxKindDto::Bet {
                    amount,
                    rolled_back,
                } => TxKind::Bet {
                    amount,
                    rolled_back,
                },
                TxKindDto::Rollback => TxKind::Rollback,
                TxKindDto::Tombstone => TxKind::Tombstone,
            };
            let rec = TxRecord {
                kind,
                outcome: t.outcome.map_err(Into::into),
            };
            if window.insert(tx.clone(), rec).is_some() {
                return Err(StoreError(format!(
                    "wallet {}: transaction {tx} appears twice in the stored window",
                    d.id
                )));
            }
            order.push_back(tx);
        }
        Ok(WalletState {
            id: id!(PlayerId, d.id)?,
            currency: currency(&d.currency)?,
            balance: d.balance,
            credit_line: d.credit_line,
            totals: WalletTotals {
                deposits: d.deposits,
                withdrawals: d.withdrawals,
                bets: d.bets,
                wins: d.wins,
                refunds: d.refunds,
            },
            ops: d.ops,
            window_len: d.window_len,
            window_order: order,
            window,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct LevelConfigDto {
    name: String,
    seed: i64,
    contribution_ppm: i64,
    ceiling: Option<i64>,
    mystery: bool,
}

impl From<&LevelConfig> for LevelConfigDto {
    fn from(c: &LevelConfig) -> Self {
        Self {
            name: c.name.clone(),
            seed: c.seed,
            contribution_ppm: c.contribution_ppm,
            ceiling: c.ceiling,
            mystery: c.mystery,
        }
    }
}

impl From<LevelConfigDto> for LevelConfig {
    fn from(d: LevelConfigDto) -> Self {
        Self {
            name: d.name,
            seed: d.seed,
            contribution_ppm: d.contribution_ppm,
            ceiling: d.ceiling,
            mystery: d.mystery,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct LevelDto {
    config: LevelConfigDto,
    pending: Option<LevelConfigDto>,
    level: i64,
    frac: i64,
    reserve: i64,
    hit_point: Option<i64>,
    hits: u64,
    /// `contributed_micro` (an i128) as its high and low 64 bits.
    contributed_micro_hi: i64,
    contributed_micro_lo: u64,
    seeded: i64,
    paid: i64,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum SourceDto {
    Machine(String),
    Wallet(String),
}

impl From<&SourceKey> for SourceDto {
    fn from(s: &SourceKey) -> Self {
        match s {
            SourceKey::Machine(m) => SourceDto::Machine(m.to_string()),
            SourceKey::Wallet(p) => SourceDto::Wallet(p.to_string()),
        }
    }
}

impl TryFrom<SourceDto> for SourceKey {
    type Error = StoreError;

    fn try_from(d: SourceDto) -> Result<Self, StoreError> {
        Ok(match d {
            SourceDto::Machine(m) => SourceKey::Machine(id!(MachineId, m)?),
            SourceDto::Wallet(p) => SourceKey::Wallet(id!(PlayerId, p)?),
        })
    }
}

fn seqs_to_dto<'a>(it: impl Iterator<Item = (&'a SourceKey, &'a u64)>) -> Vec<(SourceDto, u64)> {
    // Sorted, so one state always encodes to the same bytes.
    let sorted: BTreeMap<&SourceKey, u64> = it.map(|(k, v)| (k, *v)).collect();
    sorted.into_iter().map(|(k, v)| (k.into(), v)).collect()
}

fn seqs_from_dto<M: FromIterator<(SourceKey, u64)>>(
    v: Vec<(SourceDto, u64)>,
) -> Result<M, StoreError> {
    v.into_iter()
        .map(|(k, s)| Ok((SourceKey::try_from(k)?, s)))
        .collect()
}

#[derive(Serialize, Deserialize)]
struct PoolDto {
    id: String,
    currency: String,
    levels: Vec<LevelDto>,
    last_seq: Vec<(SourceDto, u64)>,
}

impl From<&PoolState> for PoolDto {
    fn from(p: &PoolState) -> Self {
        Self {
            id: p.id.to_string(),
            currency: p.currency.to_string(),
            levels: p
                .levels
                .iter()
                .map(|l| {
                    let (hi, lo) = split128(l.contributed_micro);
                    LevelDto {
                        config: (&l.config).into(),
                        pending: l.pending.as_ref().map(Into::into),
                        level: l.level,
                        frac: l.frac,
                        reserve: l.reserve,
                        hit_point: l.hit_point,
                        hits: l.hits,
                        contributed_micro_hi: hi,
                        contributed_micro_lo: lo,
                        seeded: l.seeded,
                        paid: l.paid,
                    }
                })
                .collect(),
            last_seq: seqs_to_dto(p.last_seq.iter()),
        }
    }
}

impl TryFrom<PoolDto> for PoolState {
    type Error = StoreError;

    fn try_from(d: PoolDto) -> Result<Self, StoreError> {
        Ok(PoolState {
            id: id!(PoolId, d.id)?,
            currency: currency(&d.currency)?,
            levels: d
                .levels
                .into_iter()
                .map(|l| LevelState {
                    config: l.config.into(),
                    pending: l.pending.map(Into::into),
                    level: l.level,
                    frac: l.frac,
                    reserve: l.reserve,
                    hit_point: l.hit_point,
                    hits: l.hits,
                    contributed_micro: join128(l.contributed_micro_hi, l.contributed_micro_lo),
                    seeded: l.seeded,
                    paid: l.paid,
                })
                .collect(),
            last_seq: seqs_from_dto(d.last_seq)?,
        })
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Default, PartialEq, Eq, Debug)]
struct TotalsDto {
    bets: i64,
    wins: i64,
    games: i64,
}

impl From<&GgrTotals> for TotalsDto {
    fn from(t: &GgrTotals) -> Self {
        Self {
            bets: t.bets,
            wins: t.wins,
            games: t.games,
        }
    }
}

impl From<TotalsDto> for GgrTotals {
    fn from(t: TotalsDto) -> Self {
        Self {
            bets: t.bets,
            wins: t.wins,
            games: t.games,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct WindowDto {
    start: i64,
    totals: TotalsDto,
    revision: u32,
    closed: bool,
}

#[derive(Serialize, Deserialize)]
struct HallDto {
    id: String,
    totals: TotalsDto,
    windows: Vec<WindowDto>,
    watermark: i64,
    last_seq: Vec<(SourceDto, u64)>,
}

impl From<&HallState> for HallDto {
    fn from(h: &HallState) -> Self {
        Self {
            id: h.id.to_string(),
            totals: (&h.totals).into(),
            windows: h
                .windows
                .iter()
                .map(|(k, w)| WindowDto {
                    start: k.0,
                    totals: (&w.totals).into(),
                    revision: w.revision,
                    closed: w.closed,
                })
                .collect(),
            watermark: h.watermark.0,
            last_seq: seqs_to_dto(h.last_seq.iter()),
        }
    }
}

impl TryFrom<HallDto> for HallState {
    type Error = StoreError;

    fn try_from(d: HallDto) -> Result<Self, StoreError> {
        Ok(HallState {
            id: id!(HallId, d.id)?,
            totals: d.totals.into(),
            windows: d
                .windows
                .into_iter()
                .map(|w| {
                    (
                        Timestamp(w.start),
                        GgrWindow {
                            totals: w.totals.into(),
                            revision: w.revision,
                            closed: w.closed,
                        },
                    )
                })
                .collect(),
            watermark: Timestamp(d.watermark),
            last_seq: seqs_from_dto(d.last_seq)?,
        })
    }
}

/// Encodes an entity's state and movement count as a stored record.
pub fn encode_record(snapshot: &Snapshot, movements: u64) -> Result<Vec<u8>, StoreError> {
    let state = match snapshot {
        Snapshot::Machine(m) => StateDto::Machine(m.into()),
        Snapshot::Wallet(w) => StateDto::Wallet(w.try_into()?),
        Snapshot::Pool(p) => StateDto::Pool(p.into()),
        Snapshot::Hall(h) => StateDto::Hall(h.into()),
    };
    let rec = Record {
        v: RECORD_VERSION,
        movements,
        state,
    };
    rmp_serde::to_vec_named(&rec)
        .map_err(|e| StoreError(format!("encoding the state of {:?}: {e}", snapshot.key())))
}

/// Decodes a stored record: the state and its movement count.
pub fn decode_record(bytes: &[u8]) -> Result<(Snapshot, u64), StoreError> {
    let rec: Record = rmp_serde::from_slice(bytes).map_err(|e| bad("record", e))?;
    if rec.v > RECORD_VERSION {
        return Err(StoreError(format!(
            "stored record version {} is newer than this build reads ({RECORD_VERSION})",
            rec.v
        )));
    }
    let snapshot = match rec.state {
        StateDto::Machine(m) => Snapshot::Machine(m.try_into()?),
        StateDto::Wallet(w) => Snapshot::Wallet(w.try_into()?),
        StateDto::Pool(p) => Snapshot::Pool(p.try_into()?),
        StateDto::Hall(h) => Snapshot::Hall(h.try_into()?),
    };
    Ok((snapshot, rec.movements))
}

/// A ledger entry as stored in the embedded store's ledger pages.
#[derive(Serialize, Deserialize)]
struct EntryDto {
    n: u64,
    kind: String,
    level: u8,
    amount: i64,
    balance: i64,
    cause_hi: u64,
    cause_lo: u64,
    causes: u32,
    time: i64,
}

/// Encodes consecutive ledger entries of one entity (a page of the embedded ledger).
pub fn encode_entries(entries: &[LedgerEntry]) -> Result<Vec<u8>, StoreError> {
    let dto: Vec<EntryDto> = entries
        .iter()
        .map(|e| EntryDto {
            n: e.n,
            kind: e.kind.code().into(),
            level: e.level,
            amount: e.amount,
            balance: e.balance,
            cause_hi: (e.cause.0 >> 64) as u64,
            cause_lo: e.cause.0 as u64,
            causes: e.causes,
            time: e.time.0,
        })
        .collect();
    rmp_serde::to_vec_named(&dto).map_err(|e| StoreError(format!("encoding ledger entries: {e}")))
}

/// Decodes a page of ledger entries.
pub fn decode_entries(bytes: &[u8]) -> Result<Vec<LedgerEntry>, StoreError> {
    let dto: Vec<EntryDto> = rmp_serde::from_slice(bytes).map_err(|e| bad("ledger page", e))?;
    dto.into_iter()
        .map(|d| {
            Ok(LedgerEntry {
                n: d.n,
                kind: Movement::from_code(&d.kind)
                    .ok_or_else(|| StoreError(format!("unknown ledger movement {:?}", d.kind)))?,
                level: d.level,
                amount: d.amount,
                balance: d.balance,
                cause: EventId(((d.cause_hi as u128) << 64) | d.cause_lo as u128),
                causes: d.causes,
                time: Timestamp(d.time),
            })
        })
        .collect()
}

/// One GGR row: a hall's one-minute window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GgrRow {
    /// The hall.
    pub hall: HallId,
    /// The window's start.
    pub window: Timestamp,
    /// Bets, wins and games in the window.
    pub totals: GgrTotals,
    /// Times the window has been published.
    pub revision: u32,
}

#[derive(Serialize, Deserialize)]
struct GgrDto {
    totals: TotalsDto,
    revision: u32,
}

/// Encodes a GGR row's values (the embedded store).
pub fn encode_ggr(row: &GgrRow) -> Result<Vec<u8>, StoreError> {
    rmp_serde::to_vec_named(&GgrDto {
        totals: (&row.totals).into(),
        revision: row.revision,
    })
    .map_err(|e| StoreError(format!("encoding GGR of hall {}: {e}", row.hall)))
}

/// Decodes a GGR row's values: totals and revision.
pub fn decode_ggr(bytes: &[u8]) -> Result<(GgrTotals, u32), StoreError> {
    let d: GgrDto = rmp_serde::from_slice(bytes).map_err(|e| bad("GGR row", e))?;
    Ok((d.totals.into(), d.revision))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_utc_dates() {
        assert_eq!(day_of(Timestamp(0)), "1970-01-01");
        assert_eq!(day_of(Timestamp(86_400_000 - 1)), "1970-01-01");
        assert_eq!(day_of(Timestamp(951_782_400_000)), "2000-02-29");
        assert_eq!(day_of(Timestamp(1_800_000_000_000)), "2027-01-15");
        assert_eq!(day_of(Timestamp(-1)), "1969-12-31");
    }

    #[test]
    fn i128_splits_and_joins() {
        for v in [
            0i128,
            1,
            -1,
            i128::MAX,
            i128::MIN,
            123_456_789_000_000_000_000,
        ] {
            let (hi, lo) = split128(v);
            assert_eq!(join128(hi, lo), v);
        }
    }

    #[test]
    fn interned_names_are_reused() {
        assert_eq!(intern("bet"), "bet");
        let a = intern("a name from a newer build");
        let b = intern("a name from a newer build");
        assert!(std::ptr::eq(a, b));
    }

    #[test]
    fn keys_round_trip() {
        for k in [
            EntityKey::Machine(MachineId::new("M-1").unwrap()),
            EntityKey::Wallet(PlayerId::new("P-9").unwrap()),
            EntityKey::Pool(PoolId::new("WAP-1").unwrap()),
            EntityKey::Hall(HallId::new("H-001").unwrap()),
        ] {
            assert_eq!(key_from_bytes(&key_bytes(&k)).unwrap(), k);
            assert_eq!(entity_key(kind_name(&k), id_str(&k)).unwrap(), k);
        }
    }

    #[test]
    fn newer_records_are_refused() {
        let rec = Record {
            v: RECORD_VERSION + 1,
            movements: 0,
            state: StateDto::Hall(HallDto::from(&HallState::new(HallId::new("H").unwrap()))),
        };
        let bytes = rmp_serde::to_vec_named(&rec).unwrap();
        let e = decode_record(&bytes).unwrap_err();
        assert!(e.to_string().contains("version 2"), "{e}");
    }
}
