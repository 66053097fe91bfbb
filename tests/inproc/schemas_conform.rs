//! What the code writes conforms to the contract in schemas/: every input and output kind is
//! encoded with the wire module, its MessagePack read back as a JSON value and validated
//! against the JSON Schema files; the AsyncAPI document names every topic and its
//! references resolve.
//!
//! MessagePack bin (the `original` bytes of a rejection) has no JSON counterpart: the
//! transcoder below turns it into an array of byte values, one of the two forms
//! `common.schema.json#/$defs/bytes` accepts.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use jsonschema::{Resource, Validator};
use pitboss::wire::{decode_input, encode_output, samples, InputPayload, Topic, REASON_CODES};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{json, Value};

const BASE: &str = "https://pitboss.example/schemas/";

fn schemas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

/// Every `*.schema.json` under schemas/, by path relative to it (with `/`).
fn schema_files() -> BTreeMap<String, Value> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, Value>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.to_string_lossy().ends_with(".schema.json") {
                let text = std::fs::read_to_string(&path).expect("read schema");
                let value: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                let rel = path
                    .strip_prefix(root)
                    .expect("under root")
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, value);
            }
        }
    }
    let root = schemas_dir();
    let mut out = BTreeMap::new();
    walk(&root, &root, &mut out);
    out
}

/// A validator for one schema file, with every schema file registered under its `$id` so
/// relative `$ref`s resolve offline.
struct Contract {
    files: BTreeMap<String, Value>,
}

impl Contract {
    fn load() -> Self {
        let files = schema_files();
        for (rel, schema) in &files {
            assert_eq!(
                schema["$id"].as_str(),
                Some(format!("{BASE}{rel}").as_str()),
                "{rel}: $id must be the base URI plus the file's path, so relative $refs match the files"
            );
            assert_eq!(
                schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
                "{rel}: draft 2020-12"
            );
        }
        Self { files }
    }

    fn validator(&self, rel: &str) -> Validator {
        let schema = self
            .files
            .get(rel)
            .unwrap_or_else(|| panic!("no schemas/{rel}"));
        let mut options = jsonschema::options();
        options.should_validate_formats(true);
        for (other, value) in &self.files {
            let resource = Resource::from_contents(value.clone()).expect("schema resource");
            options.with_resource(format!("{BASE}{other}"), resource);
        }
        options
            .build(schema)
            .unwrap_or_else(|e| panic!("schemas/{rel} does not compile: {e}"))
    }

    fn check(&self, rel: &str, instance: &Value) -> Result<(), String> {
        let validator = self.validator(rel);
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|e| format!("  at {}: {e}", e.instance_path))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!("{rel} rejects {instance}:\n{}", errors.join("\n")))
        }
    }
}

/// A MessagePack value read as JSON; bin becomes an array of byte values.
struct Json(Value);

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Json;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any MessagePack value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
                Ok(Json(json!(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
                Ok(Json(json!(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
                Ok(Json(json!(v)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
                Ok(Json(json!(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Json, E> {
                Ok(Json(json!(v)))
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Json, E> {
                Ok(Json(Value::Array(v.iter().map(|b| json!(b)).collect())))
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json(Value::Null))
            }
            fn visit_none<E>(self) -> Result<Json, E> {
                Ok(Json(Value::Null))
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Json, D2::Error> {
                Json::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
                let mut out = Vec::new();
                while let Some(Json(v)) = seq.next_element()? {
                    out.push(v);
                }
                Ok(Json(Value::Array(out)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
                let mut out = serde_json::Map::new();
                while let Some((k, Json(v))) = map.next_entry::<String, Json>()? {
                    out.insert(k, v);
                }
                Ok(Json(Value::Object(out)))
            }
        }
        d.deserialize_any(V)
    }
}

fn to_json(bytes: &[u8]) -> Value {
    rmp_serde::from_slice::<Json>(bytes)
        .expect("MessagePack reads as JSON")
        .0
}

const INPUT_KINDS: usize = 42;
const OUTPUT_KINDS: [&str; 16] = [
    "ggr",
    "jackpot_levels",
    "jackpot_hit",
    "wallet",
    "alert",
    "refused",
    "rejected",
    "voucher",
    "rated_session",
    "aml_case",
    "aml_case_closed",
    "gaming_day",
    "gaming_day_network",
    "gaming_day_machine",
    "transfer",
    "shift",
];

fn output_kind(sample: &str) -> &str {
    if sample.starts_with("alert_") {
        "alert"
    } else if sample.starts_with("wallet_") {
        "wallet"
    } else if sample.starts_with("voucher_") {
        "voucher"
    } else if sample.starts_with("transfer_") {
        "transfer"
    } else if sample.starts_with("shift_") {
        "shift"
    } else {
        sample
    }
}

// ------------------------------------------------------------------ inputs

#[test]
fn every_input_kind_conforms_to_its_schema() {
    let contract = Contract::load();
    let mut problems = Vec::new();
    let inputs = samples::inputs();
    assert_eq!(inputs.len(), INPUT_KINDS);
    for env in &inputs {
        let kind = env.payload.kind();
        let value = to_json(&env.to_bytes());
        for rel in [
            format!("events/{kind}.schema.json"),
            "events/envelope.schema.json".to_owned(),
            "events/event.schema.json".to_owned(),
        ] {
            if let Err(e) = contract.check(&rel, &value) {
                problems.push(e);
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn version_2_wallet_commands_with_a_round_conform_to_their_schemas() {
    // RULES.md E-2: every wallet command kind's schema documents `round` as an id.
    let contract = Contract::load();
    let mut problems = Vec::new();
    let inputs = samples::inputs_with_round();
    assert_eq!(inputs.len(), 5);
    for env in &inputs {
        let kind = env.payload.kind();
        let value = to_json(&env.to_bytes());
        assert_eq!(value["payload"][kind]["round"], json!(samples::ROUND));
        for rel in [
            format!("events/{kind}.schema.json"),
            "events/envelope.schema.json".to_owned(),
            "events/event.schema.json".to_owned(),
        ] {
            if let Err(e) = contract.check(&rel, &value) {
                problems.push(e);
            }
        }
        // An invalid round: the decoder rejects it (invalid_id), and so does the schema.
        let mut bad = value.clone();
        bad["payload"][kind]["round"] = json!("G 1");
        let bytes = rmp_serde::to_vec_named(&bad).expect("serialize");
        assert_eq!(
            decode_input(&bytes).map_err(|e| e.code()).err(),
            Some("invalid_id"),
            "{kind}"
        );
        assert!(
            !contract
                .validator(&format!("events/{kind}.schema.json"))
                .is_valid(&bad),
            "events/{kind}.schema.json accepts an invalid round"
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_kind_schema_accepts_no_other_kind() {
    let contract = Contract::load();
    let inputs = samples::inputs();
    for schema_env in &inputs {
        let rel = format!("events/{}.schema.json", schema_env.payload.kind());
        let validator = contract.validator(&rel);
        for env in &inputs {
            let matches = validator.is_valid(&to_json(&env.to_bytes()));
            assert_eq!(
                matches,
                env.payload.kind() == schema_env.payload.kind(),
                "{rel} vs a {} event",
                env.payload.kind()
            );
        }
    }
}

#[test]
fn there_is_one_input_schema_per_kind_and_the_envelope_lists_them_all() {
    let contract = Contract::load();
    let kinds: BTreeSet<String> = samples::inputs()
        .iter()
        .map(|e| e.payload.kind().to_owned())
        .collect();
    let files: BTreeSet<String> = contract
        .files
        .keys()
        .filter_map(|rel| rel.strip_prefix("events/")?.strip_suffix(".schema.json"))
        .filter(|k| !matches!(*k, "envelope" | "event"))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        files, kinds,
        "schemas/events/<kind>.schema.json for every input kind, and no other"
    );
    let listed: BTreeSet<String> = contract.files["events/envelope.schema.json"]
        .pointer("/properties/payload/propertyNames/enum")
        .and_then(Value::as_array)
        .expect("envelope lists the payload kinds")
        .iter()
        .map(|k| k.as_str().expect("kind name").to_owned())
        .collect();
    assert_eq!(listed, kinds);
}

/// Messages the decoder rejects, and the schema must reject too (the schema is the
/// producers' contract: it may be stricter than the decoder, never looser on these).
#[test]
fn schemas_reject_what_the_decoder_rejects() {
    let contract = Contract::load();
    let bet = to_json(&samples::inputs()[0].to_bytes());
    let deposit = to_json(&samples::inputs()[14].to_bytes());
    assert!(deposit["payload"].get("deposit").is_some());
    let edit = |base: &Value, pointer: &str, new: Value| {
        let mut v = base.clone();
        *v.pointer_mut(pointer)
            .unwrap_or_else(|| panic!("{pointer}")) = new;
        v
    };
    let drop = |base: &Value, parent: &str, field: &str| {
        let mut v = base.clone();
        v.pointer_mut(parent)
            .and_then(Value::as_object_mut)
            .expect("object")
            .remove(field);
        v
    };
    let cases = [
        (
            "negative amount",
            edit(&bet, "/payload/bet/amount", json!(-5)),
        ),
        ("zero amount", edit(&bet, "/payload/bet/amount", json!(0))),
        (
            "amount above the maximum",
            edit(&bet, "/payload/bet/amount", json!(1_000_000_000_001i64)),
        ),
        (
            "amount beyond i64",
            edit(&bet, "/payload/bet/amount", json!(u64::MAX)),
        ),
        (
            "string amount",
            edit(&bet, "/payload/bet/amount", json!("250")),
        ),
        (
            "lower-case currency",
            edit(&bet, "/payload/bet/currency", json!("eur")),
        ),
        ("unknown version", edit(&bet, "/schema_version", json!(7))),
        (
            "event_id not a UUID",
            edit(&bet, "/event_id", json!("not-a-uuid")),
        ),
        (
            "machine id with a space",
            edit(&bet, "/source/machine", json!("M 17")),
        ),
        (
            "unknown payload kind",
            edit(&bet, "/payload", json!({ "jump": {} })),
        ),
        (
            "two payload kinds",
            edit(
                &bet,
                "/payload",
                json!({ "bet": { "amount": 1, "currency": "EUR" }, "win": {} }),
            ),
        ),
        ("empty payload", edit(&bet, "/payload", json!({}))),
        (
            "unknown cash_in kind",
            edit(
                &bet,
                "/payload",
                json!({ "cash_in": { "kind": "coin", "amount": 1, "currency": "EUR" } }),
            ),
        ),
        (
            "level out of range",
            edit(
                &bet,
                "/payload",
                json!({ "jackpot_hit": { "pool": "P", "level": 300 } }),
            ),
        ),
        ("missing seq", drop(&bet, "", "seq")),
        ("missing amount", drop(&bet, "/payload/bet", "amount")),
        ("missing hall", drop(&bet, "/source", "hall")),
        (
            "machine and server",
            edit(
                &bet,
                "/source",
                json!({ "hall": "H-1", "machine": "M-17", "server": "GS-1" }),
            ),
        ),
        (
            "neither machine nor server",
            drop(&bet, "/source", "machine"),
        ),
        (
            "bet from a server",
            edit(&bet, "/source", json!({ "hall": "H-1", "server": "GS-1" })),
        ),
        (
            "deposit from a machine",
            edit(
                &deposit,
                "/source",
                json!({ "hall": "H-1", "machine": "M-17" }),
            ),
        ),
        (
            "deposit without tx",
            drop(&deposit, "/payload/deposit", "tx"),
        ),
        (
            "version 2 deposit with a round that is not an id",
            edit(
                &edit(&deposit, "/schema_version", json!(2)),
                "/payload/deposit",
                json!({ "player": "P-1001", "tx": "T-1", "amount": 1, "currency": "EUR", "round": "G 1" }),
            ),
        ),
    ];
    let any_event = contract.validator("events/event.schema.json");
    for (case, value) in cases {
        let bytes = rmp_serde::to_vec_named(&value).expect("serialize");
        assert!(
            decode_input(&bytes).is_err(),
            "{case}: the decoder accepts it"
        );
        assert!(
            !any_event.is_valid(&value),
            "{case}: events/event.schema.json accepts {value}"
        );
    }
    // And the tolerant reader's latitude is in the schema too: added fields are fine.
    let mut extended = bet.clone();
    extended["trace_id"] = json!("t-1");
    extended["payload"]["bet"]["denomination"] = json!(1);
    assert!(decode_input(&rmp_serde::to_vec_named(&extended).expect("serialize")).is_ok());
    contract
        .check("events/event.schema.json", &extended)
        .expect("added fields are allowed");
}

// ------------------------------------------------------------------ outputs

#[test]
fn every_output_kind_conforms_to_its_schema() {
    let contract = Contract::load();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for (name, rec) in samples::records() {
        let kind = output_kind(name);
        seen.insert(kind);
        let value = to_json(&rec.bytes);
        assert_eq!(value["kind"], kind, "{name}");
        for rel in [
            format!("outputs/{kind}.schema.json"),
            "outputs/envelope.schema.json".to_owned(),
            "outputs/output.schema.json".to_owned(),
        ] {
            if let Err(e) = contract.check(&rel, &value) {
                problems.push(format!("{name}: {e}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(
        seen,
        OUTPUT_KINDS.into_iter().collect::<BTreeSet<_>>(),
        "a sample of every output kind"
    );
}

#[test]
fn output_schemas_are_exact() {
    let contract = Contract::load();
    let outputs: Vec<(&str, Value)> = samples::records()
        .into_iter()
        .map(|(name, rec)| (name, to_json(&rec.bytes)))
        .collect();
    // An output schema lists exactly what pitboss writes: an extra field, a missing one or
    // a wrong kind fails.
    for (name, value) in &outputs {
        let rel = format!("outputs/{}.schema.json", output_kind(name));
        let validator = contract.validator(&rel);
        let mut extra = value.clone();
        extra["payload"]["surprise"] = json!(1);
        assert!(
            !validator.is_valid(&extra),
            "{rel} accepts an undocumented payload field"
        );
        let mut extra = value.clone();
        extra["surprise"] = json!(1);
        assert!(
            !validator.is_valid(&extra),
            "{rel} accepts an undocumented envelope field"
        );
        let mut wrong_cause = value.clone();
        match wrong_cause.get("cause_event_id") {
            Some(_) => {
                wrong_cause
                    .as_object_mut()
                    .expect("object")
                    .remove("cause_event_id");
            }
            None => wrong_cause["cause_event_id"] = json!(samples::event_id(0).to_string()),
        }
        assert!(
            !validator.is_valid(&wrong_cause),
            "{rel}: cause_event_id presence is part of the kind"
        );
        for (other, other_value) in &outputs {
            if output_kind(other) != output_kind(name) {
                assert!(!validator.is_valid(other_value), "{rel} accepts a {other}");
            }
        }
    }
    // Alert details follow the alert kind.
    let gap = outputs
        .iter()
        .find(|(n, _)| *n == "alert_sequence_gap")
        .expect("sample")
        .1
        .clone();
    let mut no_got = gap.clone();
    no_got["payload"]
        .as_object_mut()
        .expect("object")
        .remove("got");
    contract
        .check("outputs/alert.schema.json", &no_got)
        .expect_err("sequence_gap needs got");
    let mut tilt_with_amount = gap;
    tilt_with_amount["payload"] =
        json!({ "kind": "tilt", "machine": "M-1", "code": 3, "amount": 5 });
    contract
        .check("outputs/alert.schema.json", &tilt_with_amount)
        .expect_err("tilt has no amount");
}

#[test]
fn rejected_reason_codes_match_the_schema() {
    let contract = Contract::load();
    let codes: Vec<&str> = contract.files["outputs/rejected.schema.json"]
        .pointer("/properties/payload/properties/reason_code/enum")
        .and_then(Value::as_array)
        .expect("reason_code enum")
        .iter()
        .map(|c| c.as_str().expect("code"))
        .collect();
    assert_eq!(codes, REASON_CODES);
    // The bytes of a rejection: an array of byte values in JSON terms; base64 text is the
    // other accepted rendering.
    let rejected = samples::outputs()
        .into_iter()
        .find(|(n, _)| *n == "rejected")
        .expect("sample")
        .1;
    let mut value = to_json(&encode_output(&rejected).bytes);
    assert_eq!(
        value["payload"]["original"],
        json!([0x81, 0xa3, 98, 97, 100, 0xc0])
    );
    value["payload"]["original"] = json!("gaNiYWTA");
    contract
        .check("outputs/rejected.schema.json", &value)
        .expect("base64 rendering");
    value["payload"]["original"] = json!([256]);
    contract
        .check("outputs/rejected.schema.json", &value)
        .expect_err("not a byte");
}

#[test]
fn there_is_one_output_schema_per_kind() {
    let contract = Contract::load();
    let files: BTreeSet<&str> = contract
        .files
        .keys()
        .filter_map(|rel| rel.strip_prefix("outputs/")?.strip_suffix(".schema.json"))
        .filter(|k| !matches!(*k, "envelope" | "output"))
        .collect();
    assert_eq!(files, OUTPUT_KINDS.into_iter().collect());
    let listed: BTreeSet<&str> = contract.files["outputs/envelope.schema.json"]
        .pointer("/properties/kind/enum")
        .and_then(Value::as_array)
        .expect("kind enum")
        .iter()
        .map(|k| k.as_str().expect("kind"))
        .collect();
    assert_eq!(listed, OUTPUT_KINDS.into_iter().collect());
}

#[test]
fn every_schema_file_compiles_with_its_references() {
    let contract = Contract::load();
    for rel in contract.files.keys() {
        let _ = contract.validator(rel);
    }
    // common + (envelope, any event, every kind) + (envelope, any output, every kind)
    // + the internal topics' batch
    assert_eq!(
        contract.files.len(),
        1 + (2 + INPUT_KINDS) + (2 + OUTPUT_KINDS.len()) + 1
    );
}

// ------------------------------------------------------------------ AsyncAPI

fn asyncapi() -> Value {
    let path = schemas_dir().join("asyncapi.yaml");
    let text = std::fs::read_to_string(&path).expect("schemas/asyncapi.yaml");
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("asyncapi.yaml: {e}"))
}

/// Every `$ref` in a document, with the JSON pointer of where it appears.
fn refs(value: &Value, at: String, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    out.push((at.clone(), v.as_str().expect("$ref is a string").to_owned()));
                } else {
                    refs(v, format!("{at}/{k}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                refs(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn asyncapi_names_every_topic_with_its_key() {
    let doc = asyncapi();
    assert_eq!(doc["asyncapi"], "3.0.0");
    let channels = doc["channels"].as_object().expect("channels");
    let addresses: BTreeSet<&str> = channels
        .values()
        .map(|c| c["address"].as_str().expect("every channel has an address"))
        .collect();
    let mut expected: BTreeSet<&str> = Topic::ALL.iter().map(|t| t.default_name()).collect();
    expected.insert(pitboss::wire::GAME_EVENTS_TOPIC);
    let internal = pitboss::kafka::TopicNames::default();
    expected.extend(internal.internal());
    assert_eq!(addresses, expected);
    for (name, channel) in channels {
        assert_eq!(
            channel["bindings"]["kafka"]["topic"], channel["address"],
            "{name}"
        );
        let messages = channel["messages"].as_object().expect("messages");
        assert!(!messages.is_empty(), "{name} has messages");
        for (m, msg) in messages {
            let target = msg["$ref"].as_str().expect("message by $ref");
            let resolved = doc
                .pointer(target.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("{name}/{m}: {target} does not resolve"));
            let key = &resolved["bindings"]["kafka"]["key"];
            assert_eq!(key["type"], "string", "{name}/{m}: Kafka key");
            assert!(
                key["description"].as_str().is_some_and(|d| !d.is_empty()),
                "{name}/{m}: key described"
            );
            assert!(
                resolved["payload"]["schema"]["$ref"].is_string(),
                "{name}/{m}: payload schema"
            );
        }
    }
    // Every operation points at a channel of this document.
    for (op, operation) in doc["operations"].as_object().expect("operations") {
        let target = operation["channel"]["$ref"].as_str().expect("channel $ref");
        assert!(
            doc.pointer(target.trim_start_matches('#')).is_some(),
            "{op}: {target}"
        );
        assert!(
            matches!(operation["action"].as_str(), Some("send" | "receive")),
            "{op}"
        );
    }
}

#[test]
fn asyncapi_references_resolve_and_cover_every_schema() {
    let doc = asyncapi();
    let contract = Contract::load();
    let mut found = Vec::new();
    refs(&doc, String::new(), &mut found);
    assert!(!found.is_empty());
    let mut referenced_files = BTreeSet::new();
    for (at, target) in &found {
        let (file, fragment) = target.split_once('#').unwrap_or((target.as_str(), ""));
        let base = if file.is_empty() {
            &doc
        } else {
            let rel = file.trim_start_matches("./");
            assert!(
                schemas_dir().join(rel).is_file(),
                "{at}: {target} names no file"
            );
            referenced_files.insert(rel.to_owned());
            contract
                .files
                .get(rel)
                .unwrap_or_else(|| panic!("{at}: {rel} is not a schema file"))
        };
        assert!(
            base.pointer(fragment).is_some(),
            "{at}: {target} does not resolve"
        );
    }
    // Every kind's schema is some message's payload.
    let mut kinds: BTreeSet<String> = samples::inputs()
        .iter()
        .map(|e| format!("events/{}.schema.json", e.payload.kind()))
        .collect();
    kinds.extend(
        OUTPUT_KINDS
            .iter()
            .map(|k| format!("outputs/{k}.schema.json")),
    );
    let missing: Vec<_> = kinds.difference(&referenced_files).collect();
    assert!(missing.is_empty(), "not in asyncapi.yaml: {missing:?}");
}

#[test]
fn asyncapi_keys_match_the_code() {
    let doc = asyncapi();
    let channel = |address: &str| {
        doc["channels"]
            .as_object()
            .expect("channels")
            .values()
            .find(|c| c["address"] == address)
            .unwrap_or_else(|| panic!("no channel {address}"))
            .clone()
    };
    let key_of = |address: &str, message: &str| {
        let target = channel(address)["messages"][message]["$ref"]
            .as_str()
            .expect("$ref")
            .to_owned();
        doc.pointer(target.trim_start_matches('#'))
            .expect("message")["bindings"]["kafka"]["key"]["description"]
            .as_str()
            .expect("key description")
            .to_lowercase()
    };
    for env in samples::inputs() {
        let want = if matches!(
            env.payload,
            InputPayload::Deposit { .. }
                | InputPayload::Withdraw { .. }
                | InputPayload::WalletBet { .. }
                | InputPayload::WalletWin { .. }
                | InputPayload::Rollback { .. }
                | InputPayload::KycStatus { .. }
                | InputPayload::DepositLimit { .. }
                | InputPayload::LossLimit { .. }
                | InputPayload::SessionLimit { .. }
                | InputPayload::SelfExclusion { .. }
                | InputPayload::TransferRequest { .. }
                | InputPayload::TransferCancel { .. }
                | InputPayload::BonusAward { .. }
        ) {
            "player id"
        } else if env.payload.voucher().is_some() {
            "validation number"
        } else if env.payload.is_desk_command() {
            "desk"
        } else {
            "machine id"
        };
        let kind = env.payload.kind();
        assert!(
            key_of("pitboss.game-events", kind).contains(want),
            "{kind}: key is the {want}"
        );
    }
    for (name, rec) in samples::records() {
        let key = key_of(rec.topic.default_name(), output_kind(name));
        let want = match output_kind(name) {
            "ggr" => "hall id",
            "jackpot_levels" | "jackpot_hit" => "pool id",
            "wallet" | "transfer" => "player id",
            "alert" if rec.key == samples::VALIDATION => "validation number",
            "alert" if rec.key == samples::DESK => "desk",
            "shift" => "desk",
            "alert" => "machine id",
            "voucher" => "validation number",
            "rated_session" | "aml_case" | "aml_case_closed" => "player id",
            "gaming_day" => "hall id",
            "gaming_day_network" => "network",
            "gaming_day_machine" => "machine id",
            "refused" => "entity id",
            _ => "original message's key",
        };
        assert!(
            key.contains(want),
            "{name} on {}: key {key:?} should be the {want}",
            rec.topic
        );
    }
}
