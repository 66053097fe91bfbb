//! The configuration of the pitboss under test, typed: pitboss's own [`Config`] with the
//! scenario's settings, serialised to TOML for `pitboss run --config`. One mapping from
//! scenario to configuration, checked by the compiler, serves both the file the harness
//! writes and the traffic settings it applies to a configuration it is given.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;

use anyhow::Context;
use pitboss::config::Config;

use crate::scenario::Scenario;

/// pitboss's defaults with the scenario's network, play, pools and pitboss settings; topics
/// and group under `prefix`; HTTP on a loopback port the system picks (`127.0.0.1:0`; with
/// `--spawn` the harness writes a [`free_loopback_addr`] instead, to read `/metrics`); the
/// store and the audit log in `data_dir`.
pub fn pitboss_config(
    scn: &Scenario,
    brokers: &str,
    prefix: &str,
    data_dir: &Path,
    rate: f64,
) -> anyhow::Result<Config> {
    // Not `Config::load`: the file must not capture the harness's own PITBOSS_* variables
    // (pitboss applies them itself when it loads the file).
    let mut cfg = Config::load_with_env(None, Vec::new()).context("pitboss's defaults")?;
    let pb = &scn.pitboss;
    cfg.network.currency = scn.network.currency.clone();
    cfg.runtime.arbiters = pb.arbiters;
    cfg.runtime.hit_point_secret = pb.hit_point_secret.clone();
    if let Some(pools) = &scn.pools {
        cfg.pools = pools.clone();
    }
    apply_sim(&mut cfg, scn, rate)?;
    let k = &mut cfg.kafka;
    k.brokers = brokers.to_string();
    testkit::names::prefix_topics(k, prefix);
    k.internal_topics = pb.internal_topics;
    k.commit_interval_ms = pb.commit_interval_ms;
    k.partitions.input = pb.input_partitions;
    k.partitions.outputs = pb.output_partitions;
    k.partitions.internal = pb.input_partitions;
    testkit::names::quick_group(k);
    for (key, v) in &pb.kafka_consumer {
        k.consumer
            .insert(key.clone(), toml::Value::String(v.clone()));
    }
    for (key, v) in &pb.kafka_producer {
        k.producer
            .insert(key.clone(), toml::Value::String(v.clone()));
    }
    cfg.http.addr = "127.0.0.1:0".into();
    cfg.http.audit_log = data_dir.join("audit.jsonl").display().to_string();
    cfg.store.kind = pb.store;
    cfg.store.data_dir = data_dir.to_path_buf();
    cfg.store.flush_interval_ms = pb.commit_interval_ms;
    Ok(cfg)
}

/// A loopback address with a port that is free now: bound on `127.0.0.1:0`, read, and
/// released for pitboss to bind (another process could take it meanwhile; pitboss would then
/// fail to start, which the harness reports).
pub fn free_loopback_addr() -> anyhow::Result<SocketAddr> {
    let l = TcpListener::bind("127.0.0.1:0").context("binding a free loopback port")?;
    l.local_addr().context("reading the bound port")
}

/// The scenario's traffic settings (`[sim]`) over a configuration.
pub fn apply_sim(cfg: &mut Config, scn: &Scenario, rate: f64) -> anyhow::Result<()> {
    let s = &mut cfg.sim;
    let n = &scn.network;
    let p = &scn.play;
    s.halls = n.halls;
    s.machines_per_hall = n.machines_per_hall;
    s.players = n.players;
    s.online_hall = n.online_hall.clone();
    s.seed = scn.seed;
    s.rate_events_per_sec = rate.round() as u64;
    s.bet_minor = p.bet_minor.clone();
    s.bill_minor = p.bill_minor.clone();
    s.progressive_hit_per_million = p.progressive_hit_per_million;
    s.malformed_per_million = p.malformed_per_million;
    s.rtp_percent = p
        .rtp_percent
        .parse()
        .with_context(|| format!("play.rtp-percent {:?}", p.rtp_percent))?;
    s.online_share_percent = p
        .online_share_percent
        .parse()
        .with_context(|| format!("play.online-share-percent {:?}", p.online_share_percent))?;
    Ok(())
}

/// Writes `cfg` to `path` as a complete pitboss configuration and checks that pitboss
/// loads it.
pub fn write(path: &Path, scn: &Scenario, cfg: &Config) -> anyhow::Result<()> {
    let mut text = format!(
        "# pitboss configuration written by pitboss-load for scenario {:?}:\n\
         # pitboss's defaults with the scenario's settings.\n",
        scn.name
    );
    text.push_str(&toml::to_string_pretty(cfg).context("rendering the configuration")?);
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    Config::load(Some(path)).context("the written configuration does not load")?;
    Ok(())
}
