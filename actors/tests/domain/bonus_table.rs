//! RULES.md W-12: a wallet's bonus account, its wagering, conversion and expiry, bets drawing
//! on cash and bonus, and restricted transfers to machines.

use pitboss_actors::domain::bonus::BetsDraw;
use pitboss_actors::domain::transfer::{CreditType, Direction, TransferFact};
use pitboss_actors::domain::wallet::{
    Answer, BonusAnswer, WalletCommand, WalletEffect, WalletMeta, WalletOp, WalletRules,
    WalletState,
};
use pitboss_actors::domain::{
    Amount, Currency, EventId, HallId, KycStatus, MachineId, PlayerId, ServerId, Timestamp, TxId,
    WalletOpKind,
};

const T0: i64 = 1_700_000_000_000;
const DAY: i64 = 86_400_000;

fn amount(minor: i64) -> Amount {
    Amount::new(minor).expect("valid test amount")
}

fn tx(id: &str) -> TxId {
    TxId::new(id).unwrap()
}

fn wallet(credit_line: i64) -> WalletState {
    WalletState::new(
        PlayerId::new("P-1").unwrap(),
        Currency::new("EUR").unwrap(),
        credit_line,
        64,
    )
}

fn meta(t: i64, event: u128) -> WalletMeta {
    WalletMeta {
        event_id: EventId(event),
        time: Timestamp(t),
        hall: HallId::new("BRAND-1").unwrap(),
    }
}

fn rules(draw: BetsDraw) -> WalletRules<'static> {
    WalletRules {
        bets_draw: draw,
        ..WalletRules::default()
    }
}

fn award(a: i64, wagering: u32, expires: i64) -> WalletOp {
    WalletOp::BonusAward {
        amount: amount(a),
        wagering,
        expires: Timestamp(expires),
    }
}

fn bet(a: i64) -> WalletOp {
    WalletOp::Bet(amount(a))
}

fn win(a: i64, bet_tx: &str) -> WalletOp {
    WalletOp::Win {
        amount: amount(a),
        bet_tx: Some(tx(bet_tx)),
    }
}

fn request(a: i64, credit: CreditType) -> WalletOp {
    WalletOp::TransferRequest {
        machine: MachineId::new("EGM-1").unwrap(),
        amount: amount(a),
        credit,
    }
}

/// A wallet and the rules it is applied under; every step checks the invariants.
struct W {
    w: WalletState,
    rules: WalletRules<'static>,
    fx: Vec<WalletEffect>,
    n: u128,
}

impl W {
    fn new(draw: BetsDraw) -> Self {
        // A player the KYC service verified: known, so a bonus may reach them (W-12).
        let mut w = wallet(0);
        w.kyc = KycStatus::Verified;
        Self {
            w,
            rules: rules(draw),
            fx: Vec::new(),
            n: 0,
        }
    }

    /// Applies a command at `t`; the answer, with the bonus part of it.
    fn at(&mut self, t: i64, id: &str, op: WalletOp) -> (Answer, Option<BonusAnswer>) {
        self.fx.clear();
        self.n += 1;
        let cmd = WalletCommand {
            provider: ServerId::new("GS-1").unwrap(),
            tx: tx(id),
            op,
            round: None,
        };
        let _ = self.w.apply(
            &meta(t, self.n),
            &cmd,
            None,
            &self.rules,
            &Vec::new(),
            &mut self.fx,
        );
        self.w.assert_invariants();
        self.fx
            .iter()
            .find_map(|e| match e {
                WalletEffect::Answer { answered, .. } => {
                    Some((answered.answer.clone(), answered.bonus.as_deref().copied()))
                }
                _ => None,
            })
            .expect("every command is answered")
    }

    fn ok(&mut self, t: i64, id: &str, op: WalletOp) -> (i64, i64, Option<BonusAnswer>) {
        match self.at(t, id, op) {
            (Answer::Applied { delta, balance }, b) => (delta, balance, b),
            (Answer::Refused(e), _) => panic!("{id} refused: {e}"),
        }
    }

    fn refused(&mut self, t: i64, id: &str, op: WalletOp) -> &'static str {
        match self.at(t, id, op) {
            (Answer::Refused(e), _) => e.code(),
            other => panic!("{id} applied: {other:?}"),
        }
    }

    /// The ledger movements of the last step: (kind, level, delta).
    fn ledger(&self) -> Vec<(WalletOpKind, u8, i64)> {
        self.fx
            .iter()
            .filter_map(|e| match e {
                WalletEffect::Changed {
                    kind, level, delta, ..
                } => Some((*kind, *level, *delta)),
                _ => None,
            })
            .collect()
    }

    /// The promotional part of the last step's GGR deltas.
    fn promo(&self) -> Vec<(i64, i64)> {
        self.fx
            .iter()
            .filter_map(|e| match e {
                WalletEffect::Ggr(d) => Some((d.bets, d.promo)),
                _ => None,
            })
            .collect()
    }

    fn bonus(&self) -> (i64, i64) {
        let b = self.w.bonus.as_deref().cloned().unwrap_or_default();
        (b.balance, b.wagering_left)
    }

    fn fact(&mut self, t: i64, transfer: &str, a: i64, credit: CreditType) {
        self.fx.clear();
        self.n += 1;
        let f = TransferFact {
            transfer: tx(transfer),
            machine: MachineId::new("EGM-1").unwrap(),
            direction: Direction::ToMachine,
            amount: amount(a),
            credit,
            seq: 0,
        };
        self.w
            .apply_transfer(&meta(t, self.n), &f, &self.rules, &mut self.fx)
            .expect("a machine's fact is never refused");
        self.w.assert_invariants();
    }

    fn alerts(&self) -> Vec<&'static str> {
        self.fx
            .iter()
            .filter_map(|e| match e {
                WalletEffect::Alert(a) | WalletEffect::TransferAlert(_, a) => Some(a.code()),
                _ => None,
            })
            .collect()
    }
}

fn deposit(a: i64) -> WalletOp {
    WalletOp::Deposit(amount(a))
}

#[test]
fn w12_bets_draw_cash_then_bonus_wins_split_like_their_bet_and_the_wagered_bonus_converts() {
    let mut w = W::new(BetsDraw::CashFirst);
    w.ok(T0, "D-1", deposit(100));
    // Awarded: 500 to stake, 2 × 500 to wager.
    let (delta, balance, b) = w.ok(T0, "A-1", award(500, 2, T0 + DAY));
    assert_eq!((delta, balance), (0, 100));
    assert_eq!(
        b,
        Some(BonusAnswer {
            delta: 500,
            balance: 500
        })
    );
    assert_eq!(w.ledger(), vec![(WalletOpKind::BonusAward, 1, 500)]);
    assert_eq!(w.bonus(), (500, 1_000));
    // Cash first: the 100 of cash, then 200 of bonus; the whole bet is wagered.
    let (delta, balance, b) = w.ok(T0 + 1, "B-1", bet(300));
    assert_eq!((delta, balance), (-100, 0));
    assert_eq!(b.map(|b| (b.delta, b.balance)), Some((-200, 300)));
    assert_eq!(
        w.ledger(),
        vec![(WalletOpKind::Bet, 0, -100), (WalletOpKind::Bet, 1, -200)]
    );
    assert_eq!(
        w.promo(),
        vec![(300, 200)],
        "the bonus part is promotional play"
    );
    assert_eq!(w.bonus(), (300, 700));
    // The win is split as its bet was: floor(600 × 200 / 300) = 400 to the bonus.
    let (delta, balance, b) = w.ok(T0 + 2, "W-1", win(600, "B-1"));
    assert_eq!((delta, balance), (200, 200));
    assert_eq!(b.map(|b| (b.delta, b.balance)), Some((400, 700)));
    assert_eq!(w.promo(), vec![(0, 0)]);
    // A bet that meets the wagering: 200 cash, 500 bonus, then the 200 left converts.
    let (delta, balance, b) = w.ok(T0 + 3, "B-2", bet(700));
    assert_eq!((delta, balance), (0, 200), "-200 staked, +200 converted");
    assert_eq!(b.map(|b| (b.delta, b.balance)), Some((-700, 0)));
    assert_eq!(
        w.ledger(),
        vec![
            (WalletOpKind::Bet, 0, -200),
            (WalletOpKind::Bet, 1, -500),
            (WalletOpKind::BonusConvert, 1, -200),
            (WalletOpKind::BonusConvert, 0, 200),
        ]
    );
    let acct = w.w.bonus.as_deref().cloned().unwrap();
    assert_eq!(
        (acct.awarded, acct.staked, acct.won, acct.converted),
        (500, 700, 400, 200)
    );
    // The converted bonus is cash: it may be withdrawn.
    w.ok(T0 + 4, "WD-1", WalletOp::Withdraw(amount(200)));
    // A repeat answers as the first time, the bonus included.
    assert_eq!(
        w.at(T0 + 5, "B-2", bet(700)),
        (
            Answer::Applied {
                delta: 0,
                balance: 200
            },
            Some(BonusAnswer {
                delta: -700,
                balance: 0
            })
        )
    );
}

#[test]
fn w12_bonus_first_draws_the_bonus_and_withdrawals_never_take_it() {
    let mut w = W::new(BetsDraw::BonusFirst);
    w.ok(T0, "D-1", deposit(1_000));
    w.ok(T0, "A-1", award(300, 10, T0 + DAY));
    let (delta, _, b) = w.ok(T0, "B-1", bet(500));
    assert_eq!((delta, b.map(|b| b.delta)), (-200, Some(-300)));
    assert_eq!(w.promo(), vec![(500, 300)]);
    // 800 of cash: a withdrawal of 900 is refused although cash and bonus would cover it.
    w.ok(T0, "A-2", award(100, 10, T0 + DAY));
    assert_eq!(
        w.refused(T0, "WD-1", WalletOp::Withdraw(amount(900))),
        "insufficient_funds"
    );
    // A bet may use both: 800 cash and 100 bonus.
    assert_eq!(w.refused(T0, "B-2", bet(901)), "insufficient_funds");
    w.ok(T0, "B-3", bet(900));
    assert_eq!((w.w.balance, w.bonus().0), (0, 0));
}

#[test]
fn w12_a_rollback_gives_each_part_back_and_the_wagering_it_counted() {
    let mut w = W::new(BetsDraw::CashFirst);
    w.ok(T0, "D-1", deposit(50));
    w.ok(T0, "A-1", award(200, 1, T0 + DAY));
    w.ok(T0, "B-1", bet(150));
    assert_eq!((w.w.balance, w.bonus()), (0, (100, 50)));
    let (delta, balance, b) = w.ok(T0, "R-1", WalletOp::Rollback { bet_tx: tx("B-1") });
    assert_eq!((delta, balance), (50, 50));
    assert_eq!(b.map(|b| (b.delta, b.balance)), Some((100, 200)));
    assert_eq!(
        w.bonus(),
        (200, 200),
        "the wagering it counted is owed again"
    );
    assert_eq!(w.promo(), vec![(-150, -100)]);
    assert_eq!(
        w.ledger(),
        vec![
            (WalletOpKind::Rollback, 0, 50),
            (WalletOpKind::Rollback, 1, 100)
        ]
    );
}

#[test]
fn w12_a_bonus_expires_before_anything_at_its_time_and_the_sweep_finds_it() {
    let mut w = W::new(BetsDraw::CashFirst);
    w.ok(T0, "A-1", award(400, 5, T0 + 1_000));
    assert_eq!(w.w.next_lapse(), Some(Timestamp(T0 + 999)));
    // Before its time it is stakeable ...
    w.ok(T0 + 999, "B-1", bet(100));
    // ... at its time it is gone, before the command is applied.
    assert_eq!(w.refused(T0 + 1_000, "B-2", bet(100)), "insufficient_funds");
    assert_eq!(w.ledger(), vec![(WalletOpKind::BonusExpire, 1, -300)]);
    assert_eq!(w.bonus(), (0, 0));
    assert_eq!(w.w.next_lapse(), None);
    // The sweep's lapse expires it as a message at that time would.
    let mut w = W::new(BetsDraw::CashFirst);
    w.ok(T0, "A-1", award(400, 5, T0 + 1_000));
    w.fx.clear();
    w.w.apply_lapse(&meta(T0 + 1_000, 99), &mut w.fx);
    w.w.assert_invariants();
    assert_eq!(w.ledger(), vec![(WalletOpKind::BonusExpire, 1, -400)]);
    let acct = w.w.bonus.as_deref().cloned().unwrap();
    assert_eq!((acct.balance, acct.expired), (0, 400));
    // A second award extends the account's expiry.
    w.ok(T0 + 2_000, "A-2", award(100, 1, T0 + 3_000));
    w.ok(T0 + 2_000, "A-3", award(100, 1, T0 + 2_500));
    assert_eq!(w.w.next_lapse(), Some(Timestamp(T0 + 2_999)));
}

#[test]
fn w12_a_spent_bonus_leaves_no_requirement_and_an_award_without_wagering_is_cash() {
    let mut w = W::new(BetsDraw::CashFirst);
    w.ok(T0, "A-1", award(100, 10, T0 + DAY));
    w.ok(T0, "B-1", bet(100));
    assert_eq!(w.bonus(), (0, 900));
    w.ok(T0, "A-2", award(50, 1, T0 + DAY));
    assert_eq!(w.bonus(), (50, 50), "the spent bonus's 900 is not owed");
    // No wagering: cash at once.
    let (delta, balance, b) = w.ok(T0, "A-3", award(70, 0, T0 + DAY));
    assert_eq!(
        (delta, balance),
        (0, 0),
        "the 50 still wagers, so nothing converts"
    );
    assert_eq!(b.map(|b| b.balance), Some(120));
    let mut w = W::new(BetsDraw::CashFirst);
    let (delta, balance, b) = w.ok(T0, "A-1", award(70, 0, T0 + DAY));
    assert_eq!((delta, balance), (70, 70));
    assert_eq!(b.map(|b| (b.delta, b.balance)), Some((0, 0)));
}

#[test]
fn w12_no_promotion_reaches_a_blocked_or_self_excluded_player() {
    let mut w = W::new(BetsDraw::CashFirst);
    w.ok(T0, "K-1", WalletOp::Kyc(KycStatus::Blocked));
    assert_eq!(
        w.refused(T0, "A-1", award(100, 1, T0 + DAY)),
        "player_blocked"
    );
    let mut w = W::new(BetsDraw::CashFirst);
    w.ok(
        T0,
        "X-1",
        WalletOp::SelfExclude {
            until: Timestamp(T0 + DAY),
        },
    );
    assert_eq!(
        w.refused(T0, "A-1", award(100, 1, T0 + DAY)),
        "self_excluded"
    );
    assert!(w.w.bonus.is_none());
}

#[test]
fn w12_a_restricted_transfer_holds_bonus_and_only_a_restricted_acknowledgement_takes_it() {
    let mut w = W::new(BetsDraw::CashFirst);
    w.ok(T0, "D-1", deposit(1_000));
    w.ok(T0, "A-1", award(500, 3, T0 + DAY));
    // Held from the bonus, not the cash.
    let (delta, balance, b) = w.ok(T0, "T-1", request(300, CreditType::Restricted));
    assert_eq!((delta, balance), (0, 1_000));
    assert_eq!(b.map(|b| (b.delta, b.balance)), Some((-300, 200)));
    assert_eq!((w.w.held(), w.w.restricted_held()), (300, 300));
    assert_eq!(
        w.refused(T0, "T-2", request(201, CreditType::Restricted)),
        "insufficient_funds"
    );
    // The machine took 350 restricted credits: the hold and 50 of the bonus pay.
    w.fact(T0 + 1, "T-1", 350, CreditType::Restricted);
    assert_eq!(
        (w.w.restricted_held(), w.bonus().0, w.w.balance),
        (0, 150, 1_000)
    );
    assert_eq!(w.ledger(), vec![(WalletOpKind::TransferSettle, 1, -50)]);
    assert_eq!(w.alerts(), vec!["transfer_amount_variance"]);
    let acct = w.w.bonus.as_deref().cloned().unwrap();
    assert_eq!((acct.to_machines, w.w.totals.to_machines), (350, 350));
    // A cashable acknowledgement does not take a restricted hold: the hold stays, the cash
    // pays it as one without a hold.
    w.ok(T0 + 2, "T-3", request(100, CreditType::Restricted));
    w.fact(T0 + 3, "T-3", 100, CreditType::Cashable);
    assert_eq!(w.alerts(), vec!["transfer_without_hold"]);
    assert_eq!((w.w.restricted_held(), w.w.balance), (100, 900));
    // Cancelled, the restricted hold goes back to the bonus.
    let (delta, _, b) = w.ok(
        T0 + 4,
        "C-1",
        WalletOp::TransferCancel {
            transfer: tx("T-3"),
        },
    );
    assert_eq!((delta, b.map(|b| b.delta)), (0, Some(100)));
    assert_eq!((w.w.restricted_held(), w.bonus().0), (0, 150));
    // Lapsed, too.
    w.ok(T0 + 5, "T-4", request(150, CreditType::Restricted));
    let lapse = T0 + 5 + 60_001;
    w.ok(lapse, "D-2", deposit(1));
    assert_eq!(
        w.ledger()[0],
        (WalletOpKind::TransferRelease, 1, 150),
        "{:?}",
        w.ledger()
    );
    assert_eq!(w.bonus().0, 150);
}

#[test]
fn w12_a_restricted_acknowledgement_beyond_the_bonus_is_unbacked() {
    let mut w = W::new(BetsDraw::CashFirst);
    w.ok(T0, "D-1", deposit(1_000));
    w.ok(T0, "A-1", award(100, 3, T0 + DAY));
    w.ok(T0, "T-1", request(100, CreditType::Restricted));
    // 400 restricted credits: 100 held, the bonus has none left, the cash never pays them.
    w.fact(T0 + 1, "T-1", 400, CreditType::Restricted);
    assert_eq!((w.w.unbacked(), w.w.balance), (300, 1_000));
    // An award already past its expiry (the wire rejects one, RULES.md W-12) is gone at
    // once: booked in and out, never stakeable.
    // (The account's expiry is the later of its awards': a fresh wallet's.)
    let mut w = W::new(BetsDraw::CashFirst);
    let (_, _, b) = w.ok(T0 + 2, "A-2", award(60, 0, T0 + 2));
    assert_eq!(b.map(|b| (b.delta, b.balance)), Some((0, 0)));
    assert_eq!(
        w.ledger(),
        vec![
            (WalletOpKind::BonusAward, 1, 60),
            (WalletOpKind::BonusExpire, 1, -60)
        ]
    );
}

#[test]
fn w12_a_request_answers_its_hold_when_it_settles_a_waiting_acknowledgement() {
    let mut w = W::new(BetsDraw::CashFirst);
    w.ok(T0, "A-1", award(500, 3, T0 + DAY));
    // The machine's 120 restricted credits reach the wallet before the request for 100.
    w.fact(T0 + 1, "T-1", 120, CreditType::Restricted);
    assert!(w.ledger().is_empty(), "it waits for its request");
    let (delta, _, b) = w.ok(T0 + 2, "T-1", request(100, CreditType::Restricted));
    // The answer's change is the hold's; the balance is after the settlement (100 held,
    // 20 more from the bonus).
    assert_eq!(
        (delta, b.map(|b| (b.delta, b.balance))),
        (0, Some((-100, 380)))
    );
    assert_eq!(w.alerts(), vec!["transfer_amount_variance"]);
    // A wallet that never had a bonus keeps none: a restricted take it cannot pay is
    // unbacked.
    let mut w = W::new(BetsDraw::CashFirst);
    w.ok(T0, "D-1", deposit(100));
    w.fact(T0 + 1, "T-2", 50, CreditType::Restricted);
    w.ok(T0 + 100_000, "D-2", deposit(1));
    assert!(w.w.bonus.is_none());
    assert_eq!((w.w.unbacked(), w.w.balance), (50, 101));
}

#[test]
fn w12_what_a_settlement_gives_back_to_a_wagered_bonus_converts_at_once() {
    let mut w = W::new(BetsDraw::CashFirst);
    w.ok(T0, "D-1", deposit(1_000));
    w.ok(T0, "A-1", award(100, 1, T0 + DAY));
    w.ok(T0, "T-1", request(100, CreditType::Restricted));
    // Cash meets the wagering while the whole bonus is held: nothing to convert yet.
    w.ok(T0 + 1, "B-1", bet(100));
    assert_eq!((w.bonus(), w.w.restricted_held()), ((0, 0), 100));
    // The machine took 60: the 40 back to the bonus has nothing left to wager.
    w.fact(T0 + 2, "T-1", 60, CreditType::Restricted);
    assert_eq!(
        w.ledger(),
        vec![
            (WalletOpKind::TransferSettle, 1, 40),
            (WalletOpKind::BonusConvert, 1, -40),
            (WalletOpKind::BonusConvert, 0, 40),
        ]
    );
    let settled = w.fx.iter().find_map(|e| match e {
        WalletEffect::Transfer(s) => Some((s.delta, s.balance)),
        _ => None,
    });
    assert_eq!(settled, Some((40, 940)), "the balance after the conversion");
    assert_eq!((w.w.balance, w.bonus().0), (940, 0));
}

#[test]
fn w12_no_bonus_reaches_an_unknown_player() {
    let mut w = W::new(BetsDraw::CashFirst);
    w.w.kyc = KycStatus::Unverified;
    assert!(w.w.unknown());
    assert_eq!(
        w.refused(T0, "A-1", award(400, 5, T0 + 60_000)),
        "player_unknown"
    );
    // A refused command does not make the player known ...
    assert_eq!(
        w.refused(T0 + 1, "A-2", award(400, 5, T0 + 60_000)),
        "player_unknown"
    );
    assert_eq!(w.bonus(), (0, 0));
    // ... a KYC status or a money operation does.
    w.ok(T0 + 2, "K-1", WalletOp::Kyc(KycStatus::Unverified));
    assert!(w.w.unknown(), "unverified is no news");
    w.ok(T0 + 3, "D-1", WalletOp::Deposit(Amount::new(100).unwrap()));
    assert!(!w.w.unknown());
    w.ok(T0 + 4, "A-3", award(400, 5, T0 + 60_000));
    assert_eq!(w.bonus().0, 400);
}
