//! The redo log of a CQL checkpoint: its items, encoded and cut into chunks, and what a
//! checkpoint (new, or recovered from its chunks) applies to the tables.

use pitboss_actors::domain::ggr::GgrTotals;
use pitboss_actors::domain::wallet::TxKey;
use pitboss_actors::domain::{DomainError, HallId, MachineId, PlayerId, ServerId, Timestamp, TxId};
use pitboss_actors::shell::{EntityKey, LedgerEntry, Position, Snapshot, StoreError};
use serde::{Deserialize, Serialize};

use crate::store::codec::{self, GgrRow};
use crate::store::writebehind::Batch;

/// Largest redo-log chunk, bytes (a CQL cell should stay well below a megabyte or two).
const CHUNK_BYTES_MAX: usize = 1 << 20;

/// One item of a checkpoint, as written to the redo log.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogItem {
    State {
        key: serde_bytes::ByteBuf,
        record: serde_bytes::ByteBuf,
    },
    Ledger {
        key: serde_bytes::ByteBuf,
        entries: serde_bytes::ByteBuf,
    },
    Ggr {
        hall: String,
        window: i64,
        bets: i64,
        wins: i64,
        games: i64,
        #[serde(default)]
        jackpots: i64,
        /// RULES.md M-13; absent in logs written before: 0.
        #[serde(default)]
        promo: i64,
        revision: u32,
    },
    Position {
        topic: String,
        partition: i32,
        next_offset: i64,
    },
    WalletTx {
        player: String,
        provider: String,
        tx: String,
        record: serde_bytes::ByteBuf,
    },
    MachineLog {
        machine: String,
        number: u64,
        record: serde_bytes::ByteBuf,
    },
    /// The fence this instance held on an input partition whose position the checkpoint
    /// moves: the checkpoint is applied only while it is still the partition's fence.
    Fence {
        topic: String,
        partition: i32,
        fence: i64,
    },
}

/// The fence a checkpoint was written under for one input partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fence {
    pub topic: String,
    pub partition: i32,
    pub fence: i64,
}

/// A machine's event log entry as the table gets it (RULES.md M-9).
pub struct LogRow {
    pub machine: MachineId,
    pub number: u64,
    /// Encoded ([`codec::encode_log`]).
    pub record: Vec<u8>,
}

/// A wallet transaction as the table gets it.
pub struct WalletTxRow {
    pub player: PlayerId,
    pub key: TxKey,
    /// Encoded ([`codec::encode_tx`]).
    pub record: Vec<u8>,
}

/// A checkpoint ready to apply: what the tables get.
#[derive(Default)]
pub struct Apply {
    /// States with their movement counts and encoded records.
    pub states: Vec<(EntityKey, Snapshot, u64, Vec<u8>)>,
    /// Ledger entries.
    pub ledger: Vec<(EntityKey, LedgerEntry)>,
    /// GGR windows.
    pub ggr: Vec<GgrRow>,
    /// Input positions.
    pub positions: Vec<Position>,
    /// Wallet transactions.
    pub txs: Vec<WalletTxRow>,
    /// Machines' event log entries.
    pub log: Vec<LogRow>,
    /// The fences it was written under (not rows: checked before anything is applied).
    pub fences: Vec<Fence>,
}

impl Apply {
    /// Rows the checkpoint writes.
    pub fn rows(&self) -> usize {
        self.states.len()
            + self.ledger.len()
            + self.ggr.len()
            + self.positions.len()
            + self.txs.len()
            + self.log.len()
    }

    /// Adds an item read back from the redo log.
    pub fn add(&mut self, item: LogItem) -> Result<(), StoreError> {
        match item {
            LogItem::State { key, record } => {
                let key = codec::key_from_bytes(&key)?;
                let (snapshot, movements) = codec::decode_record(&record)?;
                self.states
                    .push((key, snapshot, movements, record.into_vec()));
            }
            LogItem::Ledger { key, entries } => {
                let key = codec::key_from_bytes(&key)?;
                for e in codec::decode_entries(&entries)? {
                    self.ledger.push((key.clone(), e));
                }
            }
            LogItem::Ggr {
                hall,
                window,
                bets,
                wins,
                games,
                jackpots,
                promo,
                revision,
            } => self.ggr.push(GgrRow {
                hall: HallId::new(&hall)
                    .map_err(|e| StoreError::permanent(format!("redo log: {e}")))?,
                window: Timestamp(window),
                totals: GgrTotals {
                    bets,
                    wins,
                    games,
                    jackpots,
                    promo,
                },
                revision,
            }),
            LogItem::Position {
                topic,
                partition,
                next_offset,
            } => self.positions.push(Position {
                topic,
                partition,
                next_offset,
            }),
            LogItem::WalletTx {
                player,
                provider,
                tx,
                record,
            } => {
                let bad = |e: DomainError| StoreError::permanent(format!("redo log: {e}"));
                // Decoded to check it, kept as written.
                codec::decode_tx(&record)?;
                self.txs.push(WalletTxRow {
                    player: PlayerId::new(&player).map_err(bad)?,
                    key: TxKey {
                        provider: ServerId::new(&provider).map_err(bad)?,
                        tx: TxId::new(&tx).map_err(bad)?,
                    },
                    record: record.into_vec(),
                });
            }
            LogItem::MachineLog {
                machine,
                number,
                record,
            } => {
                // Decoded to check it, kept as written.
                codec::decode_log(&record)?;
                self.log.push(LogRow {
                    machine: MachineId::new(&machine)
                        .map_err(|e| StoreError::permanent(format!("redo log: {e}")))?,
                    number,
                    record: record.into_vec(),
                });
            }
            LogItem::Fence {
                topic,
                partition,
                fence,
            } => self.fences.push(Fence {
                topic,
                partition,
                fence,
            }),
        }
        Ok(())
    }
}

/// A MessagePack array header.
fn array_header(out: &mut Vec<u8>, len: usize) {
    if len < 16 {
        out.push(0x90 | len as u8);
    } else if len <= u16::MAX as usize {
        out.push(0xdc);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdd);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

/// The checkpoint's items, and the same as redo-log chunks. `fence` gives the fence this
/// instance holds on an input partition (`None`: it claimed none, as in process).
pub fn prepare(
    batch: &Batch,
    ggr: &[GgrRow],
    chunk_len: usize,
    fence: impl Fn(&str, i32) -> Option<i64>,
) -> Result<(Apply, Vec<Vec<u8>>), StoreError> {
    let mut apply = Apply::default();
    let mut items: Vec<LogItem> = Vec::new();
    for (key, (snapshot, movements)) in &batch.entities {
        let record = codec::encode_record(snapshot, *movements)?;
        items.push(LogItem::State {
            key: serde_bytes::ByteBuf::from(codec::key_bytes(key)),
            record: serde_bytes::ByteBuf::from(record.clone()),
        });
        apply
            .states
            .push((key.clone(), snapshot.clone(), *movements, record));
    }
    for (key, entries) in &batch.ledger {
        items.push(LogItem::Ledger {
            key: serde_bytes::ByteBuf::from(codec::key_bytes(key)),
            entries: serde_bytes::ByteBuf::from(codec::encode_entries(entries)?),
        });
        apply
            .ledger
            .extend(entries.iter().map(|e| (key.clone(), *e)));
    }
    for r in ggr {
        items.push(LogItem::Ggr {
            hall: r.hall.to_string(),
            window: r.window.0,
            bets: r.totals.bets,
            wins: r.totals.wins,
            games: r.totals.games,
            jackpots: r.totals.jackpots,
            promo: r.totals.promo,
            revision: r.revision,
        });
        apply.ggr.push(r.clone());
    }
    for ((player, key), record) in &batch.txs {
        let record = codec::encode_tx(record)?;
        items.push(LogItem::WalletTx {
            player: player.to_string(),
            provider: key.provider.to_string(),
            tx: key.tx.to_string(),
            record: serde_bytes::ByteBuf::from(record.clone()),
        });
        apply.txs.push(WalletTxRow {
            player: player.clone(),
            key: key.clone(),
            record,
        });
    }
    for ((machine, number), e) in &batch.log {
        let record = codec::encode_log(e)?;
        items.push(LogItem::MachineLog {
            machine: machine.to_string(),
            number: *number,
            record: serde_bytes::ByteBuf::from(record.clone()),
        });
        apply.log.push(LogRow {
            machine: machine.clone(),
            number: *number,
            record,
        });
    }
    for p in batch.position_list() {
        if let Some(f) = fence(&p.topic, p.partition) {
            items.push(LogItem::Fence {
                topic: p.topic.clone(),
                partition: p.partition,
                fence: f,
            });
            apply.fences.push(Fence {
                topic: p.topic.clone(),
                partition: p.partition,
                fence: f,
            });
        }
        items.push(LogItem::Position {
            topic: p.topic.clone(),
            partition: p.partition,
            next_offset: p.next_offset,
        });
        apply.positions.push(p);
    }
    // Chunks: at most `chunk_len` items and about CHUNK_BYTES_MAX bytes each.
    let mut chunks = Vec::new();
    let mut cur: Vec<Vec<u8>> = Vec::new();
    let mut cur_bytes = 0;
    let flush = |cur: &mut Vec<Vec<u8>>, chunks: &mut Vec<Vec<u8>>| {
        if !cur.is_empty() {
            // An array of already-encoded items: write the array header, then the items.
            let mut body = Vec::with_capacity(cur.iter().map(Vec::len).sum::<usize>() + 5);
            array_header(&mut body, cur.len());
            for i in cur.drain(..) {
                body.extend_from_slice(&i);
            }
            chunks.push(body);
        }
    };
    for item in &items {
        let b = rmp_serde::to_vec_named(item)
            .map_err(|e| StoreError::permanent(format!("encoding the redo log: {e}")))?;
        if !cur.is_empty() && (cur.len() >= chunk_len || cur_bytes + b.len() > CHUNK_BYTES_MAX) {
            flush(&mut cur, &mut chunks);
            cur_bytes = 0;
        }
        cur_bytes += b.len();
        cur.push(b);
    }
    flush(&mut cur, &mut chunks);
    Ok((apply, chunks))
}
