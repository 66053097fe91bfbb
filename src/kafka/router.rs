//! `KafkaRouter`: the [`EffectRouter`] that sends messages between entities through the
//! internal topics, so that an entity lives on the instance its partition is assigned to.
//!
//! - `Remote::Pool` (contribution, claim) -> pool-commands, partition murmur2(pool id);
//! - `Remote::Hall` (GGR delta) -> ggr-deltas, partition murmur2(hall id);
//! - `Remote::Machine` (award) -> machine-awards, on the partition number of the machine's
//!   input events (carried in the pool command as `machine_partition`), so the instance that
//!   owns the machine's input partition also owns its awards (range assignment, equal
//!   partition counts: checked at start);
//! - `Remote::Voucher` (a voucher command from the input topic, or a machine's ticket fact)
//!   -> voucher-facts, partition murmur2(validation number): whichever instance received it,
//!   one instance owns each voucher (RULES.md V);
//! - `Remote::Wallet` (a wallet command from the input topic, a machine's cashless transfer,
//!   the sweep's lapse of a hold; RULES.md W-10) -> wallet-transfers, partition
//!   murmur2(player id): the wallet lives with that partition, which orders its commands and
//!   its machines' transfers once, the same on every replay.
//! - `Remote::Desk` (a desk's shift command from the input topic, a voucher's cash operation
//!   for the desk; RULES.md D) -> desk-ops, partition murmur2(desk id).
//!
//! Effects are buffered per (topic, partition) in an outbox and sent as one Kafka message
//! holding many of them (keyed by the first one's entity), when `outbox-items-max` are waiting or every
//! `outbox-flush-interval-ms`. Each effect's completion token is held until the broker has
//! acknowledged its message. An outbox is sent under its lock, so the effects of one source
//! reach a partition in the order the source emitted them (the idempotent producer keeps
//! that order through retries); downstream deduplication by sequence number relies on it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dashmap::DashMap;
use pitboss_actors::domain::jackpot::PoolCommand;
use pitboss_actors::domain::{HallId, MachineId};
use pitboss_actors::shell::{
    AckToken, DeskMsg, EffectRouter, HallMsg, MachineMsg, Remote, VoucherMsg, WalletMsg,
};
use serde::Serialize;

use super::internal::{
    award_item, desk_item, event_id_text, ggr_item, pool_item, voucher_item, wallet_command_item,
    wallet_player_item, wallet_transfer_item, BatchBuf, Kind,
};
use super::partition::partition_for;
use super::producer::{Delivery, Produce};
use super::stats::RunStats;

/// A message never grows beyond this many bytes (Kafka's default limit is 1 MB).
const OUTBOX_BYTES_MAX: usize = 512 * 1024;

struct Outbox {
    buf: BatchBuf,
    acks: Vec<AckToken>,
    /// The Kafka key: the entity of the first item.
    key: String,
}

struct Lane {
    topic: Arc<str>,
    parts: Vec<Mutex<Outbox>>,
}

/// Where machines' input events come from, by machine: awards go to the same partition
/// number of the machine-awards topic. Filled by the ingest side (input events) and by the
/// delivery of pool commands (which carry it).
pub type MachinePartitions = Arc<DashMap<MachineId, i32>>;

pub struct KafkaRouter {
    produce: Arc<Produce>,
    stats: Arc<RunStats>,
    lanes: [Lane; 6],
    machine_partitions: MachinePartitions,
    input_partitions: i32,
    items_max: usize,
    stop: Arc<AtomicBool>,
    flusher: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// Topic names and partition counts of the internal topics.
pub struct RouterTopics {
    /// pool-commands: name, partitions.
    pub pool_commands: (String, i32),
    /// ggr-deltas: name, partitions.
    pub ggr_deltas: (String, i32),
    /// machine-awards: name, partitions (equal to the input topic's).
    pub machine_awards: (String, i32),
    /// voucher-facts: name, partitions.
    pub voucher_facts: (String, i32),
    /// wallet-transfers: name, partitions.
    pub wallet_transfers: (String, i32),
    /// desk-ops: name, partitions.
    pub desk_ops: (String, i32),
}

impl KafkaRouter {
    /// Starts the router and its outbox flusher thread.
    pub fn start(
        produce: Arc<Produce>,
        stats: Arc<RunStats>,
        topics: RouterTopics,
        machine_partitions: MachinePartitions,
        items_max: usize,
        flush_interval: Duration,
    ) -> Arc<Self> {
        let lane = |(name, n): (String, i32), kind: Kind| Lane {
            topic: Arc::from(name.as_str()),
            parts: (0..n.max(1))
                .map(|_| {
                    Mutex::new(Outbox {
                        buf: BatchBuf::new(kind),
                        acks: Vec::new(),
                        key: String::new(),
                    })
                })
                .collect(),
        };
        let input_partitions = topics.machine_awards.1;
        let r = Arc::new(Self {
            produce,
            stats,
            lanes: [
                lane(topics.pool_commands, Kind::PoolCommands),
                lane(topics.ggr_deltas, Kind::GgrDeltas),
                lane(topics.machine_awards, Kind::MachineAwards),
                lane(topics.voucher_facts, Kind::VoucherFacts),
                lane(topics.wallet_transfers, Kind::WalletTransfers),
                lane(topics.desk_ops, Kind::DeskOps),
            ],
            machine_partitions,
            input_partitions,
            items_max: items_max.max(1),
            stop: Arc::new(AtomicBool::new(false)),
            flusher: Mutex::new(None),
        });
        let weak = Arc::downgrade(&r);
        let stop = r.stop.clone();
        let every = flush_interval.max(Duration::from_millis(1));
        let handle = std::thread::Builder::new()
            .name("pitboss-outbox".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(every);
                    match weak.upgrade() {
                        Some(r) => r.flush_all(),
                        None => return,
                    }
                }
            })
            .expect("spawn the outbox flusher");
        *r.flusher.lock().expect("flusher lock") = Some(handle);
        r
    }

    /// Sends every non-empty outbox now.
    pub fn flush_all(&self) {
        for lane in &self.lanes {
            for (p, ob) in lane.parts.iter().enumerate() {
                let mut ob = ob.lock().expect("outbox lock");
                if !ob.buf.is_empty() {
                    self.send_locked(lane, p as i32, &mut ob);
                }
            }
        }
    }

    /// Sends what is waiting and stops the flusher thread.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.flusher.lock().expect("flusher lock").take() {
            let _ = h.join();
        }
        self.flush_all();
    }

    fn send_locked(&self, lane: &Lane, partition: i32, ob: &mut Outbox) {
        let acks = std::mem::replace(&mut ob.acks, Vec::with_capacity(64));
        let Outbox { buf, key, .. } = ob;
        self.produce.send(
            &lane.topic,
            Some(partition),
            Some(key.as_bytes()),
            buf.message(),
            None,
            Box::new(Delivery::Many(acks)),
        );
        self.stats.internal_sent.fetch_add(1, Ordering::Relaxed);
        ob.buf.clear();
    }

    fn push<T: Serialize>(&self, lane: usize, partition: i32, key: &str, item: &T, ack: AckToken) {
        let lane = &self.lanes[lane];
        let mut ob = lane.parts[partition as usize].lock().expect("outbox lock");
        if ob.buf.is_empty() {
            ob.key.clear();
            ob.key.push_str(key);
        }
        ob.buf.push(item);
        ob.acks.push(ack);
        if ob.buf.len() >= self.items_max || ob.buf.byte_len() >= OUTBOX_BYTES_MAX {
            self.send_locked(lane, partition, &mut ob);
        }
    }

    fn machine_partition(&self, machine: &MachineId) -> i32 {
        match self.machine_partitions.get(machine) {
            Some(p) => *p,
            None => {
                // Cannot happen: a pool command names its machine's partition, and an award
                // follows a pool command. Fall back to the default partitioner's choice.
                tracing::warn!(%machine, "no input partition known for machine; using murmur2 of its id");
                partition_for(machine.as_str().as_bytes(), self.input_partitions)
            }
        }
    }

    /// The partition of the ggr-deltas topic a hall's deltas go to (its owner's).
    pub fn hall_partition(&self, hall: &HallId) -> i32 {
        self.partition_of(1, hall.as_str())
    }

    fn partition_of(&self, lane: usize, key: &str) -> i32 {
        partition_for(key.as_bytes(), self.lanes[lane].parts.len() as i32)
    }
}

impl EffectRouter for KafkaRouter {
    fn route(&self, msg: Remote) -> Option<Remote> {
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        match msg {
            Remote::Pool(pool, m) => {
                let p = self.partition_of(0, pool.as_str());
                let rest = m.rest.iter().map(|(meta, cmd)| (meta, cmd));
                for (meta, cmd) in std::iter::once((&m.meta, &m.cmd)).chain(rest) {
                    let (PoolCommand::Contribute { machine, .. }
                    | PoolCommand::Claim { machine, .. }) = cmd;
                    let mp = self.machine_partition(machine);
                    let cause = event_id_text(meta.cause, &mut text);
                    let item = pool_item(&pool, meta, cmd, mp, cause);
                    self.push(0, p, pool.as_str(), &item, m.ack.clone());
                }
            }
            Remote::Hall(hall, HallMsg::Delta(d, ack)) => {
                let p = self.partition_of(1, hall.as_str());
                self.push(1, p, hall.as_str(), &ggr_item(&d), ack);
            }
            Remote::Hall(hall, HallMsg::Deltas(ds, ack)) => {
                let p = self.partition_of(1, hall.as_str());
                for d in &ds {
                    self.push(1, p, hall.as_str(), &ggr_item(d), ack.clone());
                }
            }
            Remote::Machine(machine, MachineMsg::Award { hit, ack }) => {
                let p = self
                    .machine_partition(&machine)
                    .clamp(0, self.lanes[2].parts.len() as i32 - 1);
                let cause = event_id_text(hit.cause, &mut text);
                self.push(2, p, machine.as_str(), &award_item(&hit, cause), ack);
            }
            Remote::Voucher(validation, m) => {
                // Every voucher message, command or fact, goes to the voucher's owner: the
                // instance with its partition of voucher-facts (RULES.md V).
                let p = self.partition_of(3, validation.as_str());
                let cause = match &m {
                    VoucherMsg::Command { meta, .. }
                    | VoucherMsg::Fact { meta, .. }
                    | VoucherMsg::Lapse { meta, .. } => event_id_text(meta.event_id, &mut text),
                };
                let item = voucher_item(&validation, &m, cause);
                let ack = m.ack().clone();
                self.push(3, p, validation.as_str(), &item, ack);
            }
            Remote::Wallet(player, m @ (WalletMsg::Transfer { .. } | WalletMsg::Lapse { .. })) => {
                // RULES.md W-10: a machine's transfer, or the sweep's lapse of a hold, to the
                // owner of the player's wallet commands.
                let (meta, fact) = match &m {
                    WalletMsg::Transfer { meta, fact, .. } => (meta, Some(fact)),
                    WalletMsg::Lapse { meta, .. }
                    | WalletMsg::Command { meta, .. }
                    | WalletMsg::Player { meta, .. } => (meta, None),
                };
                let p = self.partition_of(4, player.as_str());
                let cause = event_id_text(meta.event_id, &mut text);
                let item = wallet_transfer_item(&player, meta, fact, cause);
                self.push(4, p, player.as_str(), &item, m.ack().clone());
            }
            Remote::Wallet(
                player,
                WalletMsg::Player {
                    meta,
                    machine,
                    seq,
                    fact,
                    ack,
                },
            ) => {
                // RULES.md W-9, M-12, W-11: a card-in, a rated session's points or a
                // carded-in player's cash, to the owner of the player's wallet.
                let p = self.partition_of(4, player.as_str());
                let cause = event_id_text(meta.event_id, &mut text);
                let item = wallet_player_item(&player, &meta, &machine, seq, fact, cause);
                self.push(4, p, player.as_str(), &item, ack);
            }
            Remote::Wallet(
                player,
                WalletMsg::Command {
                    meta,
                    cmd,
                    currency,
                    ack,
                    ..
                },
            ) => {
                // A wallet command goes the same way as its machines' transfers, so that the
                // wallet applies both in one order, the internal partition's (RULES.md W-10).
                let p = self.partition_of(4, player.as_str());
                let cause = event_id_text(meta.event_id, &mut text);
                let item = wallet_command_item(&player, &meta, &cmd, currency.as_ref(), cause);
                self.push(4, p, player.as_str(), &item, ack);
            }
            Remote::Desk(desk, m) => {
                // RULES.md D: a desk command or a voucher's cash operation, to the desk's
                // owner (one instance per desk, whichever partition the message came from).
                let p = self.partition_of(5, desk.as_str());
                let cause = match &m {
                    DeskMsg::Command { meta, .. } | DeskMsg::Cash { meta, .. } => {
                        event_id_text(meta.event_id, &mut text)
                    }
                };
                let item = desk_item(&desk, &m, cause);
                self.push(5, p, desk.as_str(), &item, m.ack().clone());
            }
            other @ (Remote::Machine(_, MachineMsg::Event { .. })
            | Remote::Hall(
                _,
                HallMsg::Recalled(..) | HallMsg::RecalledDeltas(..) | HallMsg::Wake(_),
            )) => return Some(other),
        }
        None
    }
}
