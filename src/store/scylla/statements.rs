//! The prepared statements, and the writes that apply a checkpoint's items to the tables.

use std::collections::HashMap;

use futures::future::BoxFuture as Fut;
use pitboss_actors::domain::Timestamp;
use pitboss_actors::shell::{EntityKey, LedgerEntry, Position, Snapshot, StoreError};
use scylla::client::session::Session;
use scylla::statement::prepared::PreparedStatement;
use scylla::value::CqlTimestamp;

use crate::store::codec::{self, GgrRow};
use crate::store::scylla::errors::{cql_error, Classify};
use crate::store::scylla::redo::{LogRow, WalletTxRow};

/// Every statement the store runs, prepared once per session.
pub struct Statements {
    pub machine: PreparedStatement,
    pub wallet: PreparedStatement,
    pub pool: PreparedStatement,
    pub hall: PreparedStatement,
    pub voucher: PreparedStatement,
    pub ledger: PreparedStatement,
    pub ggr: PreparedStatement,
    pub position: PreparedStatement,
    pub log_chunk: PreparedStatement,
    pub head: PreparedStatement,
    pub read_head: PreparedStatement,
    pub read_chunk: PreparedStatement,
    pub delete_chunk: PreparedStatement,
    pub read_machine: PreparedStatement,
    pub read_wallet: PreparedStatement,
    pub read_pool: PreparedStatement,
    pub read_hall: PreparedStatement,
    pub read_voucher: PreparedStatement,
    pub desk: PreparedStatement,
    pub read_desk: PreparedStatement,
    pub scan_desks: PreparedStatement,
    pub scan_states: [PreparedStatement; 6],
    pub scan_ledger: PreparedStatement,
    pub scan_ggr: PreparedStatement,
    /// One partition (hall, day) of GGR windows (RULES.md H-2 reads a window back).
    pub read_ggr_day: PreparedStatement,
    /// Every hall's state (the halls whose outbox waits, RULES.md H-2).
    pub scan_halls: PreparedStatement,
    pub scan_positions: PreparedStatement,
    pub scan_log: PreparedStatement,
    /// Writes a wallet transaction.
    pub wallet_tx: PreparedStatement,
    /// Reads one wallet transaction by key.
    pub read_wallet_tx: PreparedStatement,
    /// Writes a machine's event log entry (RULES.md M-9).
    pub machine_log: PreparedStatement,
    /// Reads one partition (machine, bucket) of a machine's event log.
    pub read_machine_log: PreparedStatement,
    /// Writes a partition's fence (its newest claim).
    pub fence: PreparedStatement,
    /// Reads a partition's fence.
    pub read_fence: PreparedStatement,
    /// Every partition's fence.
    pub scan_fences: PreparedStatement,
}

/// Entries of a machine's event log per CQL partition (`machine_log.bucket`).
pub const LOG_BUCKET: u64 = 1024;

/// An instant as CQL writes it.
pub fn ts(t: Timestamp) -> CqlTimestamp {
    CqlTimestamp(t.0)
}

/// Writes an entity's state row (its record and the columns reports read).
pub fn upsert_state<'a>(
    s: &'a Session,
    st: &'a Statements,
    key: &'a EntityKey,
    snapshot: &'a Snapshot,
    movements: u64,
    record: &'a [u8],
) -> Fut<'a, Result<(), StoreError>> {
    let mv = movements as i64;
    let v = codec::RECORD_VERSION as i32;
    Box::pin(async move {
        let r = match snapshot {
            Snapshot::Machine(m) => {
                let t = &m.meters;
                s.execute_unpaged(
                    &st.machine,
                    (
                        m.id.as_str(),
                        m.profile.hall.as_str(),
                        m.profile.currency.as_str(),
                        m.credits,
                        HashMap::from([
                            ("coin_in", t.coin_in),
                            ("coin_out", t.coin_out),
                            ("games_played", t.games_played),
                            ("games_won", t.games_won),
                            ("bills_in", t.bills_in),
                            ("tickets_in", t.tickets_in),
                            ("tickets_out", t.tickets_out),
                            ("cashless_in", t.cashless_in),
                            ("cashless_out", t.cashless_out),
                            ("handpaid", t.handpaid),
                            ("jackpot_paid", t.jackpot_paid),
                            ("doors_opened", t.doors_opened),
                            ("restricted_in", t.restricted_in),
                            ("nonrestricted_in", t.nonrestricted_in),
                            ("restricted_played", t.restricted_played),
                        ]),
                        m.last_seq().map(|s| s as i64),
                        m.status.online,
                        ts(m.last_event_time),
                        mv,
                        v,
                        record,
                    ),
                )
                .await
            }
            Snapshot::Wallet(w) => {
                let t = &w.totals;
                s.execute_unpaged(
                    &st.wallet,
                    (
                        w.id.as_str(),
                        w.currency.as_str(),
                        w.balance,
                        t.deposits,
                        t.withdrawals,
                        t.bets,
                        t.wins,
                        t.refunds,
                        w.ops as i64,
                        mv,
                        v,
                        record,
                    ),
                )
                .await
            }
            Snapshot::Pool(p) => {
                let levels: HashMap<String, i64> = p
                    .levels
                    .iter()
                    .map(|l| (l.config.name.clone(), l.level))
                    .collect();
                let hits: HashMap<String, i64> = p
                    .levels
                    .iter()
                    .map(|l| (l.config.name.clone(), l.hits as i64))
                    .collect();
                s.execute_unpaged(
                    &st.pool,
                    (
                        p.id.as_str(),
                        p.currency.as_str(),
                        levels,
                        hits,
                        mv,
                        v,
                        record,
                    ),
                )
                .await
            }
            Snapshot::Hall(h) => {
                s.execute_unpaged(
                    &st.hall,
                    (
                        h.id.as_str(),
                        h.totals.bets,
                        h.totals.wins,
                        h.totals.games,
                        h.totals.bets.checked_sub(h.totals.wins),
                        ts(h.watermark),
                        mv,
                        v,
                        record,
                    ),
                )
                .await
            }
            Snapshot::Desk(d) => {
                let open = d.open.as_ref();
                s.execute_unpaged(
                    &st.desk,
                    (
                        d.id.as_str(),
                        d.hall.as_ref().map(|h| h.as_str()),
                        d.currency.as_str(),
                        d.next as i32,
                        open.map(|o| o.number as i32),
                        open.map(|o| o.cashier.as_str()),
                        d.drawer(),
                        d.unshifted_in,
                        d.unshifted_out,
                        mv,
                        v,
                        record,
                    ),
                )
                .await
            }
            Snapshot::Voucher(t) => {
                let issue = t.issue.as_ref();
                s.execute_unpaged(
                    &st.voucher,
                    (
                        t.number.as_str(),
                        t.status.name(),
                        t.amount(),
                        t.currency.as_str(),
                        issue.map(|i| i.hall.as_str()),
                        issue.map(|i| i.by.to_string()),
                        issue.map(|i| ts(i.at)),
                        issue.and_then(|i| i.expires).map(ts),
                        t.liability(),
                        t.unbacked,
                        t.reprinted,
                        mv,
                        v,
                        record,
                    ),
                )
                .await
            }
        };
        r.map(|_| ())
            .map_err(|e| cql_error(e, format_args!("writing {key:?}")))
    })
}

fn unit(key: &EntityKey) -> &'static str {
    match key {
        EntityKey::Pool(_) => "micro",
        _ => "minor",
    }
}

/// Writes a ledger entry.
pub fn insert_ledger<'a>(
    s: &'a Session,
    st: &'a Statements,
    key: &'a EntityKey,
    e: &'a LedgerEntry,
) -> Fut<'a, Result<(), StoreError>> {
    Box::pin(async move {
        s.execute_unpaged(
            &st.ledger,
            (
                key.kind().name(),
                key.id_str(),
                codec::day_of(e.time),
                e.n as i64,
                e.kind.code(),
                e.level as i32,
                e.amount,
                e.balance,
                unit(key),
                uuid::Uuid::from_u128(e.cause.0),
                e.causes as i32,
                ts(e.time),
            ),
        )
        .await
        .map(|_| ())
        .map_err(|err| cql_error(err, format_args!("writing movement {} of {key:?}", e.n)))
    })
}

/// Writes a hall's GGR window.
pub fn upsert_ggr<'a>(
    s: &'a Session,
    st: &'a Statements,
    r: &'a GgrRow,
) -> Fut<'a, Result<(), StoreError>> {
    Box::pin(async move {
        s.execute_unpaged(
            &st.ggr,
            (
                r.hall.as_str(),
                codec::day_of(r.window),
                ts(r.window),
                r.totals.bets,
                r.totals.wins,
                r.totals.bets.checked_sub(r.totals.wins),
                r.totals.games,
                r.totals.jackpots,
                r.totals.promo,
                r.totals
                    .bets
                    .checked_sub(r.totals.wins)
                    .and_then(|g| g.checked_sub(r.totals.jackpots))
                    .and_then(|g| g.checked_sub(r.totals.promo)),
                r.revision as i32,
            ),
        )
        .await
        .map(|_| ())
        .map_err(|e| {
            cql_error(
                e,
                format_args!("writing GGR of hall {} window {}", r.hall, r.window.0),
            )
        })
    })
}

/// Writes an input position.
pub fn upsert_position<'a>(
    s: &'a Session,
    st: &'a Statements,
    p: &'a Position,
) -> Fut<'a, Result<(), StoreError>> {
    Box::pin(async move {
        s.execute_unpaged(&st.position, (&p.topic, p.partition, p.next_offset))
            .await
            .map(|_| ())
            .map_err(|e| {
                cql_error(
                    e,
                    format_args!("writing the position of {}/{}", p.topic, p.partition),
                )
            })
    })
}

/// Writes a wallet transaction (W-1).
pub fn upsert_wallet_tx<'a>(
    s: &'a Session,
    st: &'a Statements,
    t: &'a WalletTxRow,
) -> Fut<'a, Result<(), StoreError>> {
    Box::pin(async move {
        s.execute_unpaged(
            &st.wallet_tx,
            (
                t.player.as_str(),
                t.key.provider.as_str(),
                t.key.tx.as_str(),
                t.record.as_slice(),
            ),
        )
        .await
        .map(|_| ())
        .map_err(|e| {
            cql_error(
                e,
                format_args!(
                    "writing wallet transaction {} {} of player {}",
                    t.key.provider, t.key.tx, t.player
                ),
            )
        })
    })
}

/// Writes a machine's event log entry (RULES.md M-9).
pub fn upsert_log<'a>(
    s: &'a Session,
    st: &'a Statements,
    r: &'a LogRow,
) -> Fut<'a, Result<(), StoreError>> {
    Box::pin(async move {
        let bucket = (r.number / LOG_BUCKET) as i64;
        s.execute_unpaged(
            &st.machine_log,
            (
                r.machine.as_str(),
                bucket,
                r.number as i64,
                r.record.as_slice(),
            ),
        )
        .await
        .map(|_| ())
        .map_err(|e| {
            cql_error(
                e,
                format_args!("writing log entry {} of machine {}", r.number, r.machine),
            )
        })
    })
}

/// Prepares every statement; a missing table fails here, before anything is written.
/// Wallet transactions are written with a TTL of `retention_days` (RULES.md W-1).
pub async fn prepare_all(
    s: &Session,
    page_len: i32,
    retention_days: u32,
) -> Result<Statements, StoreError> {
    async fn p(s: &Session, q: &str, page_len: i32) -> Result<PreparedStatement, StoreError> {
        let mut st = s.prepare(q).await.map_err(|e| {
            let failure = e.failure();
            let e = cql_error(e, format_args!("preparing {q:?}"));
            StoreError::new(
                failure,
                format!(
                    "{} (has `pitboss migrate` created the tables?)",
                    e.message()
                ),
            )
        })?;
        // Every write is an upsert with a deterministic key: safe to retry.
        st.set_is_idempotent(true);
        st.set_page_size(page_len);
        Ok(st)
    }
    let pl = page_len;
    Ok(Statements {
        machine: p(s, "INSERT INTO machines (machine_id, hall_id, currency, credits, meters, last_seq, online, last_event_time, movements, version, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", pl).await?,
        wallet: p(s, "INSERT INTO wallets (player_id, currency, balance, deposits, withdrawals, bets, wins, refunds, ops, movements, version, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", pl).await?,
        pool: p(s, "INSERT INTO jackpot_pools (pool_id, currency, levels, hits, movements, version, state) VALUES (?, ?, ?, ?, ?, ?, ?)", pl).await?,
        voucher: p(s, "INSERT INTO voucher_states (validation_number, status, amount, currency, hall_id, issued_by, issued_at, expires_at, liability, unbacked, reprinted, movements, version, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", pl).await?,
        hall: p(s, "INSERT INTO halls (hall_id, bets, wins, games, ggr, watermark, movements, version, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", pl).await?,
        ledger: p(s, "INSERT INTO money_ledger (entity_kind, entity_id, day, n, kind, level, amount, balance, unit, cause, causes, event_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", pl).await?,
        ggr: p(s, "INSERT INTO ggr_windows (hall_id, day, window_start, bets, wins, ggr, games, jackpots, promo, net_win, revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", pl).await?,
        position: p(s, "INSERT INTO processor_positions (topic, partition, next_offset) VALUES (?, ?, ?)", pl).await?,
        log_chunk: p(s, "INSERT INTO checkpoint_log (instance, epoch, chunk, body) VALUES (?, ?, ?, ?)", pl).await?,
        head: p(s, "INSERT INTO checkpoint_head (instance, epoch, chunks, applied) VALUES (?, ?, ?, ?)", pl).await?,
        read_head: p(s, "SELECT epoch, chunks, applied FROM checkpoint_head WHERE instance = ?", pl).await?,
        read_chunk: p(s, "SELECT body FROM checkpoint_log WHERE instance = ? AND epoch = ? AND chunk = ?", pl).await?,
        delete_chunk: p(s, "DELETE FROM checkpoint_log WHERE instance = ? AND epoch = ? AND chunk = ?", pl).await?,
        read_machine: p(s, "SELECT state FROM machines WHERE machine_id = ?", pl).await?,
        read_wallet: p(s, "SELECT state FROM wallets WHERE player_id = ?", pl).await?,
        read_pool: p(s, "SELECT state FROM jackpot_pools WHERE pool_id = ?", pl).await?,
        read_hall: p(s, "SELECT state FROM halls WHERE hall_id = ?", pl).await?,
        read_voucher: p(s, "SELECT state FROM voucher_states WHERE validation_number = ?", pl).await?,
        desk: p(s, "INSERT INTO desks (desk_id, hall_id, currency, shifts, open_shift, cashier, drawer, unshifted_in, unshifted_out, movements, version, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", pl).await?,
        read_desk: p(s, "SELECT state FROM desks WHERE desk_id = ?", pl).await?,
        scan_desks: p(s, "SELECT state FROM desks", pl).await?,
        scan_states: [
            p(s, "SELECT state FROM machines", pl).await?,
            p(s, "SELECT state FROM wallets", pl).await?,
            p(s, "SELECT state FROM jackpot_pools", pl).await?,
            p(s, "SELECT state FROM halls", pl).await?,
            p(s, "SELECT state FROM voucher_states", pl).await?,
            p(s, "SELECT state FROM desks", pl).await?,
        ],
        scan_ledger: p(s, "SELECT entity_kind, entity_id, n, kind, level, amount, balance, cause, causes, event_time FROM money_ledger", pl).await?,
        scan_ggr: p(s, "SELECT hall_id, window_start, bets, wins, games, jackpots, promo, revision FROM ggr_windows", pl).await?,
        // By partition key only: the test server (kassandra) reads `window_start = ?` as
        // `>=`, so the window is picked from the partition's rows (at most 1,440).
        read_ggr_day: p(s, "SELECT window_start, bets, wins, games, jackpots, promo, revision FROM ggr_windows WHERE hall_id = ? AND day = ?", pl).await?,
        scan_halls: p(s, "SELECT state FROM halls", pl).await?,
        scan_positions: p(s, "SELECT topic, partition, next_offset FROM processor_positions", pl).await?,
        scan_log: p(s, "SELECT instance, epoch, chunk FROM checkpoint_log", pl).await?,
        // A literal TTL (seconds; at most 20 years in CQL): the retention is fixed for the
        // life of the process.
        wallet_tx: p(s, &format!("INSERT INTO wallet_transactions (player_id, provider, tx, record) VALUES (?, ?, ?, ?) USING TTL {}", u64::from(retention_days.min(7300)) * 86_400), pl).await?,
        read_wallet_tx: p(s, "SELECT provider, tx, record FROM wallet_transactions WHERE player_id = ? AND provider = ? AND tx = ? LIMIT 1", pl).await?,
        machine_log: p(s, "INSERT INTO machine_log (machine_id, bucket, number, record) VALUES (?, ?, ?, ?)", pl).await?,
        read_machine_log: p(s, "SELECT number, record FROM machine_log WHERE machine_id = ? AND bucket = ?", pl).await?,
        fence: p(s, "INSERT INTO partition_fences (topic, partition, fence, instance) VALUES (?, ?, ?, ?)", pl).await?,
        read_fence: p(s, "SELECT topic, partition, fence, instance FROM partition_fences WHERE topic = ? AND partition = ?", pl).await?,
        scan_fences: p(s, "SELECT topic, partition, fence, instance FROM partition_fences", pl).await?,
    })
}

/// A row of `money_ledger` as the audit scans it.
pub type LedgerRow = (
    String,
    String,
    i64,
    String,
    i32,
    i64,
    i64,
    uuid::Uuid,
    i32,
    CqlTimestamp,
);
