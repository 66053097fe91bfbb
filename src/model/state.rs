//! The model's state and the entry point of every input: validate (E-1), then the rules of
//! the machine or the wallet the event is for.

use std::collections::BTreeMap;

use crate::wire::InputEnvelope;

use super::entities::{Machine, Marks, Pool, Wallet};
use super::shifts::Desk;
use super::tickets::Voucher;
use super::types::{
    Answer, CaseRow, DeskAlert, DeskView, Draw, HallView, Hit, LevelView, MachineView, ModelConfig,
    Outcome, SessionRow, ShiftRow, Totals, TransferRow, VoucherView, WalletView, MICRO, WINDOW_MS,
};
use super::validate::{self, Event};

/// The model: every entity's state and what was published about it.
pub struct Model {
    pub(super) cfg: ModelConfig,
    pub(super) draw: Draw,
    pub(super) machines: BTreeMap<String, Machine>,
    /// Sequence marks per machine and epoch: the EPOCHS_KEPT highest epochs seen (M-1).
    pub(super) marks: BTreeMap<String, BTreeMap<u64, Marks>>,
    pub(super) wallets: BTreeMap<String, Wallet>,
    pub(super) pools: BTreeMap<String, Pool>,
    /// Vouchers by validation number (V-1): every number a message reached.
    pub(super) vouchers: BTreeMap<String, Voucher>,
    /// V-8: the amounts of the tickets with a validation number machines counted: printed
    /// (cash out) and credited (cash in).
    pub(super) ticket_books: (i64, i64),
    /// Cash desks by id (D): every desk a command or a voucher's cash operation reached.
    pub(super) desks: BTreeMap<String, Desk>,
    /// Every `shift` output (D-7) in the order published: answers (a repeat's again) and
    /// revisions.
    pub shifts: Vec<ShiftRow>,
    /// The desks' alerts (D-3, D-4, D-5) in the order raised (also counted in `alerts`).
    pub desk_alerts: Vec<DeskAlert>,
    /// Desk commands refused, by code (also counted in `refusals`): a repeat of a refused
    /// command is a repeat, not counted again.
    pub desk_refusals: BTreeMap<&'static str, u64>,
    pub halls: BTreeMap<String, HallView>,
    /// Jackpot hits in the order they happened.
    pub hits: Vec<Hit>,
    /// Rated card sessions in the order they ended (M-12).
    pub sessions: Vec<SessionRow>,
    /// What transfer acknowledgements settled, in the order applied (W-10).
    pub transfers: Vec<TransferRow>,
    /// AML cases in the order they opened (W-11).
    pub cases: Vec<CaseRow>,
    /// Every wallet command's answer, by (player, provider, tx).
    pub answers: BTreeMap<(String, String, String), Answer>,
    /// W-12: the bonus part of the applied answers of wallets that have a bonus account:
    /// (`bonus_delta`, `bonus`), by (player, provider, tx).
    pub bonus_answers: BTreeMap<(String, String, String), (i64, i64)>,
    /// W-12: what bonus money did, by what (`bonus_awarded`, `bonus_staked`, `bonus_won`,
    /// `bonus_refunded`, `bonus_converted`, `bonus_expired`, `restricted_settled`, ...).
    pub bonus_events: BTreeMap<&'static str, u64>,
    /// The round each answer echoes, by (player, provider, tx), for commands that named one
    /// (W-6, E-2).
    pub rounds: BTreeMap<(String, String, String), String>,
    /// Alerts by code.
    pub alerts: BTreeMap<&'static str, u64>,
    /// Refusals by code.
    pub refusals: BTreeMap<&'static str, u64>,
    /// Rejections by code.
    pub rejections: BTreeMap<&'static str, u64>,
    /// Wallet commands refused, by code (also counted in `refusals`).
    pub wallet_refusals: BTreeMap<&'static str, u64>,
    /// The vouchers' own alerts by code (also counted in `alerts`).
    pub voucher_alerts: BTreeMap<&'static str, u64>,
    /// Voucher commands refused, by code (also counted in `refusals`): a repeat of a
    /// refused command is a repeat, not counted again.
    pub voucher_refusals: BTreeMap<&'static str, u64>,
    /// Repeats recognised.
    pub repeats: u64,
    /// Inputs seen.
    pub inputs: u64,
}

impl Model {
    /// An empty network under `cfg`, with mystery hit points from `draw`.
    pub fn new(cfg: ModelConfig, draw: Draw) -> Self {
        let mut m = Self {
            cfg,
            draw,
            machines: BTreeMap::new(),
            marks: BTreeMap::new(),
            wallets: BTreeMap::new(),
            pools: BTreeMap::new(),
            vouchers: BTreeMap::new(),
            ticket_books: (0, 0),
            desks: BTreeMap::new(),
            shifts: Vec::new(),
            desk_alerts: Vec::new(),
            desk_refusals: BTreeMap::new(),
            halls: BTreeMap::new(),
            hits: Vec::new(),
            sessions: Vec::new(),
            transfers: Vec::new(),
            cases: Vec::new(),
            answers: BTreeMap::new(),
            bonus_answers: BTreeMap::new(),
            bonus_events: BTreeMap::new(),
            rounds: BTreeMap::new(),
            alerts: BTreeMap::new(),
            refusals: BTreeMap::new(),
            rejections: BTreeMap::new(),
            wallet_refusals: BTreeMap::new(),
            voucher_alerts: BTreeMap::new(),
            voucher_refusals: BTreeMap::new(),
            repeats: 0,
            inputs: 0,
        };
        // Every configured pool exists from the start, each level at its seed (P-5).
        for spec in m.cfg.pools.clone() {
            let p = Pool::new(&spec, &mut m.draw);
            m.pools.insert(spec.id.clone(), p);
        }
        m
    }

    /// Applies one message as bytes: what does not read as an event is rejected (E-1).
    pub fn apply_bytes(&mut self, bytes: &[u8], kafka_time: Option<i64>) -> Outcome {
        match InputEnvelope::from_bytes(bytes) {
            Ok(env) => self.apply(&env, kafka_time),
            Err(e) => {
                self.inputs += 1;
                let code = if bytes.len() > 64 * 1024 {
                    "oversize"
                } else {
                    // The shape did not parse: a wrong type, a missing field, an unknown kind.
                    match e.code() {
                        "missing_field" => "missing_field",
                        "unsupported_version" => "unsupported_version",
                        "invalid_amount" => "invalid_amount",
                        _ => "malformed",
                    }
                };
                self.count_outcome(Outcome::Rejected(code))
            }
        }
    }

    /// Applies one event; `kafka_time` is the Kafka record's timestamp, if it came from Kafka.
    pub fn apply(&mut self, env: &InputEnvelope, kafka_time: Option<i64>) -> Outcome {
        self.inputs += 1;
        let outcome = match validate::validate(env) {
            Err(code) => Outcome::Rejected(code),
            Ok(Event::Machine(m)) => self.apply_machine(m, kafka_time),
            Ok(Event::Wallet(w)) => {
                let o = self.apply_wallet(w);
                if let Outcome::Refused(code) = o {
                    *self.wallet_refusals.entry(code).or_default() += 1;
                }
                o
            }
            Ok(Event::Voucher(v)) => {
                let o = self.apply_voucher(v);
                if let Outcome::Refused(code) = o {
                    *self.voucher_refusals.entry(code).or_default() += 1;
                }
                o
            }
            Ok(Event::Desk(d)) => {
                let o = self.apply_desk(d);
                if let Outcome::Refused(code) = o {
                    *self.desk_refusals.entry(code).or_default() += 1;
                }
                o
            }
        };
        self.count_outcome(outcome)
    }

    fn count_outcome(&mut self, o: Outcome) -> Outcome {
        match &o {
            Outcome::Rejected(c) => *self.rejections.entry(c).or_default() += 1,
            Outcome::Refused(c) => *self.refusals.entry(c).or_default() += 1,
            Outcome::Repeat => self.repeats += 1,
            Outcome::Applied => {}
        }
        o
    }

    /// E-3: the event time, unless it is too far from the receive time. Checked only for an
    /// event that is not a repeat (a repeat changes nothing, so it says nothing new).
    pub(super) fn booked_time(&mut self, t: i64, receive: Option<i64>) -> i64 {
        let Some(r) = receive else {
            return t;
        };
        if t > r + self.cfg.clock_ahead_max_ms || t < r - self.cfg.clock_behind_max_ms {
            self.alert("clock_skew");
            r
        } else {
            t
        }
    }

    pub(super) fn alert(&mut self, code: &'static str) {
        *self.alerts.entry(code).or_default() += 1;
    }

    pub(super) fn book(&mut self, hall: &str, time: i64, delta: Totals) {
        let h = self.halls.entry(hall.to_owned()).or_default();
        h.totals.add(&delta);
        let window = time.div_euclid(WINDOW_MS) * WINDOW_MS;
        h.windows.entry(window).or_default().add(&delta);
    }

    /// The pools a machine standing in `hall` plays for.
    pub(super) fn pools_of(&self, hall: &str) -> Vec<String> {
        self.cfg
            .pools
            .iter()
            .filter(|p| match &p.halls {
                None => true,
                Some(hs) => hs.iter().any(|h| h == hall),
            })
            .map(|p| p.id.clone())
            .collect()
    }

    /// Every machine's state.
    pub fn machines(&self) -> BTreeMap<String, MachineView> {
        self.machines
            .iter()
            .map(|(id, m)| (id.clone(), m.view()))
            .collect()
    }

    /// Every wallet's state.
    pub fn wallets(&self) -> BTreeMap<String, WalletView> {
        self.wallets
            .iter()
            .map(|(id, w)| (id.clone(), w.view()))
            .collect()
    }

    /// Every pool's levels.
    pub fn pools(&self) -> BTreeMap<String, Vec<LevelView>> {
        self.pools
            .iter()
            .map(|(id, p)| (id.clone(), p.levels.clone()))
            .collect()
    }

    /// Every voucher's state, by validation number (V-2..V-6).
    pub fn vouchers(&self) -> BTreeMap<String, VoucherView> {
        self.vouchers
            .iter()
            .map(|(n, v)| (n.clone(), v.view()))
            .collect()
    }

    /// Every desk's state, by id (D).
    pub fn desks(&self) -> BTreeMap<String, DeskView> {
        self.desks
            .iter()
            .map(|(id, d)| (id.clone(), d.view()))
            .collect()
    }

    /// Every desk's remembered answers (D-6), oldest first, as each was published (D-7).
    pub fn desk_answers(&self) -> BTreeMap<String, Vec<ShiftRow>> {
        self.desks
            .iter()
            .map(|(id, d)| {
                (
                    id.clone(),
                    d.answers.iter().map(|a| a.row.clone()).collect(),
                )
            })
            .collect()
    }

    /// D-9's books that do not balance: the vouchers desks issued against the desks' cash
    /// in (booked to shifts, kept or not, plus unshifted) less their wallet deposits, the
    /// vouchers desks paid against their cash out less their wallet withdrawals, and the
    /// wallets' deposits and withdrawals at desks (D-10) against the desks' `wallet_in` and
    /// `wallet_out`, over the network; and per desk, its cash against what its shifts kept
    /// and its unshifted cash account for (equal while it keeps every shift it booked to).
    /// Empty when they balance.
    pub fn desk_books(&self) -> Vec<String> {
        let (sold, paid) = self.vouchers.values().fold((0i64, 0i64), |(s, p), v| {
            (s + v.books.sold, p + v.books.paid)
        });
        let (cash_in, cash_out, wallet_in, wallet_out) =
            self.desks
                .values()
                .fold((0i64, 0i64, 0i64, 0i64), |(i, o, wi, wo), d| {
                    (
                        i + d.cash_in,
                        o + d.cash_out,
                        wi + d.wallet_in,
                        wo + d.wallet_out,
                    )
                });
        let (deposited, withdrawn) = self.wallets.values().fold((0i64, 0i64), |(i, o), w| {
            (i + w.view.desk_deposits, o + w.view.desk_withdrawals)
        });
        let mut out = Vec::new();
        if sold != cash_in - wallet_in {
            out.push(format!(
                "vouchers issued by desks {sold}, desks' cash in and unshifted in {cash_in} \
                 less their wallet deposits {wallet_in}"
            ));
        }
        if paid != cash_out - wallet_out {
            out.push(format!(
                "vouchers paid by desks {paid}, desks' cash out and unshifted out {cash_out} \
                 less their wallet withdrawals {wallet_out}"
            ));
        }
        if (deposited, withdrawn) != (wallet_in, wallet_out) {
            out.push(format!(
                "wallets' deposits/withdrawals at desks {deposited}/{withdrawn}, desks' wallet \
                 in/out {wallet_in}/{wallet_out}"
            ));
        }
        for (id, d) in &self.desks {
            let shifts = d.closed.len() + usize::from(d.open.is_some());
            if u32::try_from(shifts).ok() != Some(d.next) {
                // A shift it no longer keeps took some of its cash.
                continue;
            }
            let (i, o) = d
                .closed
                .iter()
                .chain(&d.open)
                .fold((d.unshifted_in, d.unshifted_out), |(i, o), s| {
                    (i + s.cash_in, o + s.cash_out)
                });
            if (i, o) != (d.cash_in, d.cash_out) {
                out.push(format!(
                    "desk {id}: cash in/out {}/{}, its shifts and unshifted cash {i}/{o}",
                    d.cash_in, d.cash_out
                ));
            }
        }
        out
    }

    /// V-8, per hall: the open vouchers' amounts (the liability), by issuing hall.
    pub fn voucher_liability(&self) -> BTreeMap<String, i64> {
        let mut out = BTreeMap::new();
        for v in self.vouchers.values() {
            if let Some(h) = &v.view().hall {
                *out.entry(h.clone()).or_default() += v.liability();
            }
        }
        out
    }

    /// V-8's machine side: the tickets with a validation number that machines printed and
    /// credited, against what the vouchers booked of them: (printed, issued + reprinted)
    /// and (credited, redeemed at machines + unbacked). Each pair is equal.
    pub fn ticket_books(&self) -> [(i64, i64); 2] {
        let (mut issued, mut credited) = (0, 0);
        for v in self.vouchers.values() {
            let view = v.view();
            issued += v.books.printed + view.reprinted;
            credited += v.books.credited + view.unbacked;
        }
        [
            (self.ticket_books.0, issued),
            (self.ticket_books.1, credited),
        ]
    }

    /// W-12's books that do not balance: per wallet, the bonus account alone (`bonus +
    /// restricted held = awarded - staked + won + refunded - converted - expired -
    /// restricted to machines`), and the halls' `promo` against the machines' restricted
    /// credits played plus the wallets' bonus staked less refunded. Empty when they balance.
    pub fn bonus_books(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut wallets_promo = 0i64;
        for (id, w) in &self.wallets {
            let Some(b) = &w.bonus else {
                if w.restricted_held() != 0 {
                    out.push(format!(
                        "wallet {id}: restricted held without a bonus account"
                    ));
                }
                continue;
            };
            wallets_promo += b.staked - b.refunded;
            let left = b.balance + w.restricted_held();
            let right =
                b.awarded - b.staked + b.won + b.refunded - b.converted - b.expired - b.to_machines;
            if left != right {
                out.push(format!(
                    "wallet {id}: bonus + restricted held = {left}, its books say {right} ({b:?})"
                ));
            }
        }
        let machines_promo: i64 = self
            .machines
            .values()
            .map(|m| m.meters["restricted_played"])
            .sum();
        let halls_promo: i64 = self.halls.values().map(|h| h.totals.promo).sum();
        if halls_promo != machines_promo + wallets_promo {
            out.push(format!(
                "halls' promo {halls_promo}, machines' restricted played {machines_promo} + \
                 wallets' bonus staked less refunded {wallets_promo}"
            ));
        }
        out
    }

    /// The conservation equation of `RULES.md`, in micro-units: money in, and money
    /// accounted for. Equal when no unit was lost or invented.
    ///
    /// Vouchers (V) extend it as follows (a reading: `RULES.md` states the equation without
    /// them). A ticket with a validation number is not money leaving the house or entering
    /// it: it moves a machine's credits into a voucher's liability (printed) and back
    /// (credited). So the part of the machines' `tickets_out` that issued a voucher, and
    /// the part of their `tickets_in` that redeemed one (the voucher's amount), are moved
    /// off the two sides, and the vouchers' own books take their place:
    /// ```text
    /// ... + desk sales                       (cash a desk took in for a ticket: money in)
    ///   == ... + voucher liability            (open vouchers: money the house holds, owes)
    ///        + desk payments                  (a desk's commit: money out)
    ///        + expired + voided               (liability that left unpaid)
    /// ```
    /// What stays in the machines' meters is honest money movement: a reprinted ticket
    /// (owed by nobody) left the house like any cash out, and a credited amount no open
    /// voucher covered (`unbacked`, signed) entered like a cash in. With V-8 (per voucher:
    /// issued - redeemed - expired - voided = liability) the equation balances.
    pub fn conservation(&self) -> (i128, i128) {
        let mut entered: i128 = 0;
        let mut accounted: i128 = 0;
        for m in self.machines.values() {
            let v = m.view();
            // M-13: promotional credits enter a machine like cash.
            let cash_in = v.meters["bills_in"]
                + v.meters["tickets_in"]
                + v.meters["cashless_in"]
                + v.meters["restricted_in"]
                + v.meters["nonrestricted_in"];
            // M-10: a jackpot handpay leaves by hand, beside the cash outs.
            let cash_out = v.meters["tickets_out"]
                + v.meters["cashless_out"]
                + v.meters["handpaid"]
                + v.meters["jackpot_handpaid"];
            entered += i128::from(cash_in) * MICRO;
            accounted += i128::from(v.credits + cash_out + v.meters["jackpot_paid"]) * MICRO;
        }
        for w in self.wallets.values() {
            let v = w.view();
            // W-10: a transfer moves money between a wallet and a machine's cashless meters:
            // held and paid to machines are the wallet's, received from machines came in
            // through a machine's cash-out (what nobody paid, `unbacked`, entered at the
            // machine only).
            // W-12: awards enter, expiries leave; the bonus is the wallet's like the
            // balance (bets, wins, refunds and transfers count both parts whole).
            let (bonus, awarded, expired) = v
                .bonus
                .as_ref()
                .map_or((0, 0, 0), |b| (b.balance, b.awarded, b.expired));
            entered += i128::from(v.deposits + v.from_machines + awarded) * MICRO;
            accounted +=
                i128::from(v.balance + v.withdrawals + v.held + v.to_machines + bonus + expired)
                    * MICRO;
        }
        for levels in self.pools.values() {
            for l in &levels.levels {
                entered += i128::from(l.seeded + l.variance) * MICRO;
                accounted += l.held_micro() - l.contributed_micro;
            }
        }
        for h in self.halls.values() {
            accounted += i128::from(h.totals.ggr()) * MICRO;
        }
        for v in self.vouchers.values() {
            let b = v.books;
            entered += i128::from(b.sold - b.credited) * MICRO;
            accounted +=
                i128::from(v.liability() + b.paid + b.expired + b.voided - b.printed) * MICRO;
        }
        (entered, accounted)
    }
}
