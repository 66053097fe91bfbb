//! The decoder's fast path must agree with the serde path on every message it accepts, and
//! accept the messages pitboss's own producers write.

use pitboss::config::Config;
use pitboss::sim::Simulator;
use pitboss::wire::{self, samples};
use proptest::prelude::*;

fn same(bytes: &[u8]) {
    let fast = wire::decode_input(bytes);
    let serde = wire::decode_input_serde(bytes);
    match (&fast, &serde) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!("paths disagree on {bytes:02x?}: fast {fast:?}, serde {serde:?}"),
    }
}

#[test]
fn every_sample_and_simulated_event_takes_the_fast_path_and_agrees() {
    for env in samples::inputs()
        .into_iter()
        .chain(samples::inputs_with_round())
    {
        let bytes = env.to_bytes();
        assert!(wire::fast_path_accepts(&bytes), "{env:?}");
        same(&bytes);
    }
    let mut cfg = Config::load_with_env(None, Vec::new()).expect("defaults");
    cfg.sim.malformed_per_million = 0;
    let mut sim = Simulator::new(&cfg).expect("sim");
    for i in 0..20_000 {
        let m = sim.next(1_800_000_000_000 + i);
        assert!(wire::fast_path_accepts(&m.bytes));
        same(&m.bytes);
    }
}

/// Turns an encoded sample into a map with an extra field, keys reordered or a field
/// dropped, re-encoded through serde_json::Value-like manipulation of rmpv.
fn variants(bytes: &[u8]) -> Vec<Vec<u8>> {
    let v: rmpv::Value = rmpv::decode::read_value(&mut &bytes[..]).expect("sample decodes");
    let rmpv::Value::Map(entries) = v else {
        panic!("a sample is a map")
    };
    let enc = |entries: Vec<(rmpv::Value, rmpv::Value)>| {
        let mut out = Vec::new();
        rmpv::encode::write_value(&mut out, &rmpv::Value::Map(entries)).expect("encode");
        out
    };
    let mut out = Vec::new();
    let mut rev = entries.clone();
    rev.reverse();
    out.push(enc(rev));
    let mut extra = entries.clone();
    extra.push((
        "x-extra".into(),
        rmpv::Value::Array(vec![1.into(), "a".into(), rmpv::Value::Nil]),
    ));
    out.push(enc(extra));
    for i in 0..entries.len() {
        let mut dropped = entries.clone();
        dropped.remove(i);
        out.push(enc(dropped));
        let mut dup = entries.clone();
        dup.push(entries[i].clone());
        out.push(enc(dup));
        let mut nil = entries.clone();
        nil[i].1 = rmpv::Value::Nil;
        out.push(enc(nil));
        let mut float = entries.clone();
        float[i].1 = rmpv::Value::F64(1.5);
        out.push(enc(float));
    }
    let mut trailing = enc(entries);
    trailing.push(0xc0);
    out.push(trailing);
    out
}

#[test]
fn perturbed_messages_get_the_same_answer_from_both_paths() {
    for env in samples::inputs()
        .into_iter()
        .chain(samples::inputs_with_round())
    {
        for v in variants(&env.to_bytes()) {
            same(&v);
        }
    }
}

/// A wallet command's `round` (RULES.md E-2), valid or not, in version 1 and 2, on every
/// wallet kind: both paths give the same answer.
#[test]
fn both_paths_agree_on_the_round() {
    let rounds = [
        rmpv::Value::from("G-1"),
        rmpv::Value::from("G 1"),
        rmpv::Value::from(""),
        rmpv::Value::from("G".repeat(65).as_str()),
        rmpv::Value::from(7),
        rmpv::Value::Nil,
        rmpv::Value::Array(vec![]),
    ];
    let mut accepted = 0;
    for env in samples::inputs_with_round() {
        for version in [1, 2] {
            let mut env = env.clone();
            env.schema_version = version;
            let v: rmpv::Value =
                rmpv::decode::read_value(&mut &env.to_bytes()[..]).expect("sample decodes");
            for round in &rounds {
                for duplicate in [false, true] {
                    let mut v = v.clone();
                    let payload = map_get(&mut v, "payload");
                    let rmpv::Value::Map(kinds) = payload else {
                        panic!("a payload map")
                    };
                    let rmpv::Value::Map(fields) = &mut kinds[0].1 else {
                        panic!("the kind's fields")
                    };
                    for f in fields.iter_mut() {
                        if f.0.as_str() == Some("round") {
                            f.1 = round.clone();
                        }
                    }
                    if duplicate {
                        fields.push(("round".into(), round.clone()));
                    }
                    let mut bytes = Vec::new();
                    rmpv::encode::write_value(&mut bytes, &v).expect("encode");
                    same(&bytes);
                    accepted += usize::from(wire::decode_input(&bytes).is_ok());
                }
            }
        }
    }
    assert!(accepted > 0, "some variants are valid events");
}

fn map_get<'v>(v: &'v mut rmpv::Value, key: &str) -> &'v mut rmpv::Value {
    let rmpv::Value::Map(entries) = v else {
        panic!("a map")
    };
    &mut entries
        .iter_mut()
        .find(|(k, _)| k.as_str() == Some(key))
        .unwrap_or_else(|| panic!("no {key}"))
        .1
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn random_and_corrupted_bytes_get_the_same_answer(
        sample in 0usize..24,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
        garbage in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let inputs: Vec<_> = samples::inputs()
            .into_iter()
            .chain(samples::inputs_with_round())
            .collect();
        let mut bytes = inputs[sample % inputs.len()].to_bytes();
        for (i, b) in flips {
            let i = i.index(bytes.len());
            bytes[i] = b;
        }
        same(&bytes);
        let c = cut.index(bytes.len() + 1);
        same(&bytes[..c]);
        same(&garbage);
    }
}
