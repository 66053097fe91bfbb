//! Which entities the processor delivered to through each partition, so that a revocation
//! can hand exactly those to the store before another instance loads them.

use std::collections::HashSet;
use std::sync::Arc;

use pitboss_actors::domain::{HallId, MachineId, PlayerId, PoolId, ServerId, ValidationNo};
use pitboss_actors::shell::{
    DeskEntity, EntityKey, HallEntity, MachineEntity, PoolEntity, Runtime, VoucherEntity,
    WalletEntity,
};

use crate::kafka::router::MachinePartitions;

/// Entities delivered to through one partition: machines and wallets from the input topic,
/// pools, halls and machines from the internal topics.
#[derive(Default)]
pub(super) struct Owned {
    pub machines: HashSet<MachineId>,
    pub wallets: HashSet<PlayerId>,
    pub pools: HashSet<PoolId>,
    pub halls: HashSet<HallId>,
    pub vouchers: HashSet<ValidationNo>,
    pub desks: HashSet<ServerId>,
}

impl Owned {
    pub fn merge(&mut self, o: Owned) {
        self.machines.extend(o.machines);
        self.wallets.extend(o.wallets);
        self.pools.extend(o.pools);
        self.halls.extend(o.halls);
        self.vouchers.extend(o.vouchers);
        self.desks.extend(o.desks);
    }

    pub fn len(&self) -> usize {
        self.machines.len()
            + self.wallets.len()
            + self.pools.len()
            + self.halls.len()
            + self.vouchers.len()
            + self.desks.len()
    }

    /// The store keys of every entity.
    pub fn keys(&self) -> Vec<EntityKey> {
        let mut k = Vec::with_capacity(self.len());
        k.extend(self.machines.iter().cloned().map(EntityKey::Machine));
        k.extend(self.wallets.iter().cloned().map(EntityKey::Wallet));
        k.extend(self.pools.iter().cloned().map(EntityKey::Pool));
        k.extend(self.halls.iter().cloned().map(EntityKey::Hall));
        k.extend(self.vouchers.iter().cloned().map(EntityKey::Voucher));
        k.extend(self.desks.iter().cloned().map(EntityKey::Desk));
        k
    }

    /// Passivates every entity now: their state goes to the store.
    pub async fn passivate(self, rt: &Arc<Runtime>) {
        let Owned {
            machines,
            wallets,
            pools,
            halls,
            vouchers,
            desks,
        } = self;
        rt.passivate_now::<MachineEntity>(&machines.into_iter().collect::<Vec<_>>())
            .await;
        rt.passivate_now::<WalletEntity>(&wallets.into_iter().collect::<Vec<_>>())
            .await;
        rt.passivate_now::<PoolEntity>(&pools.into_iter().collect::<Vec<_>>())
            .await;
        rt.passivate_now::<HallEntity>(&halls.into_iter().collect::<Vec<_>>())
            .await;
        rt.passivate_now::<VoucherEntity>(&vouchers.into_iter().collect::<Vec<_>>())
            .await;
        rt.passivate_now::<DeskEntity>(&desks.into_iter().collect::<Vec<_>>())
            .await;
    }
}

/// Inserts without cloning the id when it is already there (the common case).
pub(super) fn note<T: std::hash::Hash + Eq + Clone>(set: &mut HashSet<T>, id: &T) {
    if !set.contains(id) {
        set.insert(id.clone());
    }
}

/// Records the input partition of a machine's events, where its awards must be sent.
pub(super) fn note_partition(map: &MachinePartitions, machine: &MachineId, partition: i32) {
    if map.get(machine).map(|p| *p) != Some(partition) {
        map.insert(machine.clone(), partition);
    }
}
