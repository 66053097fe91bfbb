//! The independent recount behind `conservation_ok`: from the state of every entity, check
//! that every unit of money that entered is held, has left, or is GGR.
//!
//! ```text
//! cash in + promo in + deposits + bonus awarded + seeds funded + transfers from machines
//!   == credits + wallet balances + bonus balances + held for transfers + pool holdings
//!    + cash out + withdrawals + bonus expired + jackpots paid + transfers to machines
//!    + GGR (bets - wins, as the halls counted it) - jackpot contributions
//! ```
//!
//! A cashless transfer (RULES.md W-10) is counted where it enters a machine (its cashless
//! cash-in) and where it leaves the wallet (`to_machines`), so it is money that moved, not
//! money that entered twice; what a machine took that no wallet paid (`unbacked`) entered
//! at the machine only, and is reported beside the equation.
//!
//! Vouchers (RULES.md V) are a liability beside it: every voucher issued is still owed
//! (issued or held), redeemed, expired or voided, once:
//!
//! ```text
//! vouchers issued == liability + redeemed + expired + voided
//! ```
//!
//! Promotional credits (RULES.md M-13) enter a machine like cash; the restricted ones played
//! are part of the bets (so of GGR), and the halls' `promo` must equal what the machines
//! played plus what wallets' bonuses staked less what rollbacks gave back (W-12). A bonus
//! award enters a wallet like a deposit; what expired leaves like a withdrawal, and what is
//! still stakeable is held beside the balances.
//!
//! Jackpot contributions are part of the bets (so of GGR) but sit in the pools, hence the
//! subtraction. Pool holdings and contributions are exact in micro-units (10^-6 minor units),
//! so the equation is checked in micro-units with no rounding.

use pitboss_actors::domain::jackpot::MICRO;
use pitboss_actors::shell::Snapshot;
use serde::Serialize;

/// The totals of a recount, in minor units (pool figures also in micro-units).
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct Recount {
    /// Machines seen.
    pub machines: u64,
    /// Wallets seen.
    pub wallets: u64,
    /// Pools seen.
    pub pools: u64,
    /// Halls seen.
    pub halls: u64,
    /// Bills, tickets and cashless transfers into machines.
    pub cash_in: i64,
    /// Promotional credits put on machines, restricted and not (RULES.md M-13).
    pub promo_in: i64,
    /// Restricted promotional credits played, by the machines' meters (M-13).
    pub promo_played: i64,
    /// Restricted promotional credits played, as the halls counted them (M-13).
    pub promo: i64,
    /// Wallet deposits.
    pub deposits: i64,
    /// Seeds funded by the operator for pool levels (initial and after each hit).
    pub seeds_funded: i64,
    /// Credits on machines.
    pub credits: i64,
    /// Wallet balances.
    pub balances: i64,
    /// Pool holdings (levels, reserves, remainders) in micro-units.
    pub pools_held_micro: i128,
    /// Tickets, cashless transfers and handpays out of machines.
    pub cash_out: i64,
    /// Game wins paid by hand (jackpot handpays, RULES.md M-10), summed over machines.
    pub handpaid_wins: i64,
    /// Wallet withdrawals.
    pub withdrawals: i64,
    /// Jackpots paid (machine meters).
    pub jackpots_paid: i64,
    /// Jackpots paid (pool books).
    pub jackpots_paid_by_pools: i64,
    /// What machines paid beyond the levels' amounts on version 2 claims, funded by the
    /// operator (RULES.md P-3, P-6).
    pub jackpot_variances: i64,
    pub jackpot_hits: u64,
    /// GGR summed over halls.
    pub ggr: i64,
    /// GGR recomputed from machine meters and wallet totals.
    pub ggr_from_entities: i64,
    /// Bets summed over halls.
    pub bets: i64,
    /// Wins summed over halls.
    pub wins: i64,
    /// Games summed over halls.
    pub games: i64,
    /// Jackpot contributions, micro-units.
    pub contributions_micro: i128,
    /// Money in (micro-units): cash in + deposits + transfers from machines + seeds.
    pub entered_micro: i128,
    /// Money accounted for (micro-units): held + left + GGR - contributions.
    pub accounted_micro: i128,
    /// Vouchers seen (issued or not: a voucher also answers requests for unknown numbers).
    pub vouchers: u64,
    /// Vouchers issued (RULES.md V-2), and how many of them are now redeemed (at machines or
    /// desks, V-4, V-5), expired or voided (V-6); the rest are open.
    pub vouchers_issued: u64,
    pub vouchers_redeemed: u64,
    pub vouchers_expired: u64,
    pub vouchers_voided: u64,
    /// The amounts of the same vouchers, minor units.
    pub voucher_issued: i64,
    pub voucher_redeemed: i64,
    pub voucher_expired: i64,
    pub voucher_voided: i64,
    /// Still owed: the vouchers issued or held (V-8).
    pub voucher_liability: i64,
    /// Money machines credited on numbers no open voucher covered (V-5).
    pub voucher_unbacked: i64,
    /// Cashless transfers (RULES.md W-10): held in wallets for machines that have not
    /// acknowledged yet, paid by wallets to machines, received by wallets from machines,
    /// and taken by machines beyond what any wallet paid.
    pub transfers_held: i64,
    pub transfers_to_machines: i64,
    pub transfers_from_machines: i64,
    pub transfers_unbacked: i64,
    /// Taken by machines on acknowledgements still waiting for their request (W-10): in
    /// transit, neither paid nor unbacked yet.
    pub transfers_waiting: i64,
    /// Money machines printed under numbers already in use (V-5).
    pub voucher_reprinted: i64,
    /// Wallets' bonus accounts (RULES.md W-12): awarded, still stakeable, expired, and the
    /// bonus parts of bets less those refunded (promotional play, in the halls' `promo`).
    pub bonus_awarded: i64,
    pub bonus_balances: i64,
    pub bonus_expired: i64,
    pub bonus_played: i64,
    /// Bonus money converted into cash (its wagering met, W-12): in the balances.
    pub bonus_converted: i64,
    /// Cash desks (RULES.md D-9): desks, shifts closed, the cash the desks took for tickets
    /// they sold and paid for tickets (shifted or not), and the same from the vouchers'
    /// side: what desks issued and redeemed.
    pub desks: u64,
    pub shifts_closed: u64,
    pub desk_cash_in: i64,
    pub desk_cash_out: i64,
    pub vouchers_sold_by_desks: i64,
    pub vouchers_paid_by_desks: i64,
    /// Wallet cash at cash desks (RULES.md D-10): what the desks took and paid for wallets
    /// (part of their cash in and out), and the wallets' deposits and withdrawals at desks.
    pub desk_wallet_in: i64,
    pub desk_wallet_out: i64,
    pub wallet_desk_deposits: i64,
    pub wallet_desk_withdrawals: i64,
    /// `entered_micro == accounted_micro`, halls agree with machines and wallets, pools agree
    /// with machines, every voucher issued is owed, redeemed, expired or voided, and the
    /// desks booked what desks sold and paid in tickets and what wallets deposited and
    /// withdrew at them.
    pub conservation_ok: bool,
}

/// Recounts the given states.
pub fn recount(states: &[Snapshot]) -> Recount {
    let mut r = Recount::default();
    for s in states {
        match s {
            Snapshot::Machine(m) => {
                r.machines += 1;
                r.cash_in += m.meters.cash_in();
                r.promo_in += m.meters.promo_in();
                r.promo_played += m.meters.restricted_played;
                // Jackpot handpays leave by hand too, never through the credits (M-10).
                r.cash_out += m.meters.cash_out();
                r.handpaid_wins += m.meters.jackpot_handpaid;
                r.credits += m.credits;
                r.jackpots_paid += m.meters.jackpot_paid;
                r.ggr_from_entities +=
                    m.meters.coin_in - m.meters.coin_out - m.meters.jackpot_handpaid;
            }
            Snapshot::Wallet(w) => {
                r.wallets += 1;
                r.deposits += w.totals.deposits;
                r.withdrawals += w.totals.withdrawals;
                r.balances += w.balance;
                r.transfers_held += w.held();
                r.transfers_to_machines += w.totals.to_machines;
                r.transfers_from_machines += w.totals.from_machines;
                r.transfers_unbacked += w.unbacked();
                r.transfers_waiting += w.awaiting_request();
                r.wallet_desk_deposits += w.totals.desk_deposits;
                r.wallet_desk_withdrawals += w.totals.desk_withdrawals;
                r.ggr_from_entities += w.totals.bets - w.totals.refunds - w.totals.wins;
                if let Some(b) = w.bonus.as_deref() {
                    r.bonus_awarded += b.awarded;
                    r.bonus_balances += b.balance;
                    r.bonus_expired += b.expired;
                    r.bonus_played += b.staked - b.refunded;
                    r.bonus_converted += b.converted;
                }
            }
            Snapshot::Pool(p) => {
                r.pools += 1;
                r.pools_held_micro += p.held_micro();
                for l in &p.levels {
                    r.seeds_funded += l.seeded;
                    r.contributions_micro += l.contributed_micro;
                    r.jackpots_paid_by_pools += l.paid;
                    r.jackpot_variances += l.variance;
                    r.jackpot_hits += l.hits;
                }
            }
            Snapshot::Desk(k) => {
                r.desks += 1;
                r.shifts_closed += u64::from(k.next) - u64::from(k.open.is_some());
                r.desk_cash_in += k.cash_in;
                r.desk_cash_out += k.cash_out;
                r.desk_wallet_in += k.wallet_in;
                r.desk_wallet_out += k.wallet_out;
            }
            Snapshot::Voucher(v) => {
                use pitboss_actors::domain::voucher::Party;
                use pitboss_actors::domain::voucher::VoucherStatus as S;
                r.vouchers += 1;
                r.voucher_unbacked += v.unbacked;
                r.voucher_reprinted += v.reprinted;
                let Some(issue) = &v.issue else { continue };
                if matches!(issue.by, Party::Desk(_)) {
                    r.vouchers_sold_by_desks += issue.amount;
                }
                if matches!(
                    v.status,
                    S::Redeemed {
                        by: Party::Desk(_),
                        ..
                    }
                ) {
                    r.vouchers_paid_by_desks += issue.amount;
                }
                r.vouchers_issued += 1;
                r.voucher_issued += issue.amount;
                let (count, bucket) = match v.status {
                    S::Issued | S::Held { .. } => (None, &mut r.voucher_liability),
                    S::Redeemed { .. } => (Some(&mut r.vouchers_redeemed), &mut r.voucher_redeemed),
                    S::Expired { .. } => (Some(&mut r.vouchers_expired), &mut r.voucher_expired),
                    S::Voided { .. } => (Some(&mut r.vouchers_voided), &mut r.voucher_voided),
                    // An issued voucher is never unissued again.
                    S::Unissued => continue,
                };
                *bucket += issue.amount;
                if let Some(c) = count {
                    *c += 1;
                }
            }
            Snapshot::Hall(h) => {
                r.halls += 1;
                r.ggr += h.totals.ggr();
                r.promo += h.totals.promo;
                r.bets += h.totals.bets;
                r.wins += h.totals.wins;
                r.games += h.totals.games;
            }
        }
    }
    let m = MICRO as i128;
    r.entered_micro = (r.cash_in as i128
        + r.promo_in as i128
        + r.deposits as i128
        + r.transfers_from_machines as i128
        + r.seeds_funded as i128
        + r.jackpot_variances as i128
        + r.bonus_awarded as i128)
        * m;
    r.accounted_micro = (r.credits as i128
        + r.balances as i128
        + r.bonus_balances as i128
        + r.bonus_expired as i128
        + r.transfers_held as i128)
        * m
        + r.pools_held_micro
        + (r.cash_out as i128
            + r.handpaid_wins as i128
            + r.withdrawals as i128
            + r.transfers_to_machines as i128
            + r.jackpots_paid as i128)
            * m
        + r.ggr as i128 * m
        - r.contributions_micro;
    r.conservation_ok = r.entered_micro == r.accounted_micro
        && r.ggr == r.ggr_from_entities
        && r.promo == r.promo_played + r.bonus_played
        && r.jackpots_paid == r.jackpots_paid_by_pools + r.jackpot_variances
        && r.voucher_issued
            == r.voucher_liability + r.voucher_redeemed + r.voucher_expired + r.voucher_voided
        && r.desk_cash_in - r.desk_wallet_in == r.vouchers_sold_by_desks
        && r.desk_cash_out - r.desk_wallet_out == r.vouchers_paid_by_desks
        && r.desk_wallet_in == r.wallet_desk_deposits
        && r.desk_wallet_out == r.wallet_desk_withdrawals;
    r
}
