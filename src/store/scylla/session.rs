//! The driver session: contact points, consistency, token-aware load balancing with an
//! optional preferred datacenter, request timeout, password authentication and TLS.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use pitboss_actors::shell::StoreError;
use scylla::client::execution_profile::ExecutionProfile;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::policies::load_balancing::DefaultPolicy;
use scylla::statement::Consistency;

use crate::store::config::ScyllaConfig;
use crate::store::scylla::errors::cql_error;

fn consistency(name: &str) -> Result<Consistency, StoreError> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "one" => Consistency::One,
        "two" => Consistency::Two,
        "three" => Consistency::Three,
        "quorum" => Consistency::Quorum,
        "all" => Consistency::All,
        "local_quorum" => Consistency::LocalQuorum,
        "each_quorum" => Consistency::EachQuorum,
        "local_one" => Consistency::LocalOne,
        other => {
            return Err(StoreError::permanent(format!(
                "store.scylla.consistency {other:?} is not one of one, two, three, quorum, all, local_quorum, each_quorum, local_one"
            )))
        }
    })
}

fn tls_config(cfg: &ScyllaConfig) -> Result<Arc<rustls::ClientConfig>, StoreError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let read_certs = |path: &Path| -> Result<Vec<CertificateDer<'static>>, StoreError> {
        CertificateDer::pem_file_iter(path)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| {
                StoreError::permanent(format!("TLS certificates in {}: {e}", path.display()))
            })
    };
    if cfg.tls_ca_file.as_os_str().is_empty() {
        return Err(StoreError::permanent(
            "store.scylla.tls is on but store.scylla.tls-ca-file is empty: name the PEM file of the CA that signed the nodes' certificates",
        ));
    }
    let mut roots = rustls::RootCertStore::empty();
    for c in read_certs(&cfg.tls_ca_file)? {
        roots.add(c).map_err(|e| {
            StoreError::permanent(format!(
                "TLS CA certificate in {}: {e}",
                cfg.tls_ca_file.display()
            ))
        })?;
    }
    let builder = rustls::ClientConfig::builder().with_root_certificates(roots);
    let config = if cfg.tls_cert_file.as_os_str().is_empty() {
        builder.with_no_client_auth()
    } else {
        let chain = read_certs(&cfg.tls_cert_file)?;
        let key = PrivateKeyDer::from_pem_file(&cfg.tls_key_file).map_err(|e| {
            StoreError::permanent(format!(
                "TLS private key in {}: {e}",
                cfg.tls_key_file.display()
            ))
        })?;
        builder
            .with_client_auth_cert(chain, key)
            .map_err(|e| StoreError::permanent(format!("TLS client certificate: {e}")))?
    };
    Ok(Arc::new(config))
}

/// A session on `cfg`'s nodes, in `keyspace` if given.
pub async fn session(cfg: &ScyllaConfig, keyspace: Option<&str>) -> Result<Session, StoreError> {
    let c = consistency(&cfg.consistency)?;
    let mut policy = DefaultPolicy::builder().token_aware(true);
    if !cfg.local_dc.is_empty() {
        policy = policy.prefer_datacenter(cfg.local_dc.clone());
    }
    let profile = ExecutionProfile::builder()
        .consistency(c)
        .request_timeout(Some(Duration::from_millis(cfg.request_timeout_ms.max(1))))
        .load_balancing_policy(policy.build())
        .build()
        .into_handle();
    let mut b = SessionBuilder::new()
        .known_nodes(&cfg.nodes)
        .default_execution_profile_handle(profile)
        .refresh_metadata_on_auto_schema_agreement(cfg.refresh_metadata_on_schema_agreement);
    if !cfg.username.is_empty() {
        b = b.user(cfg.username.clone(), cfg.password.clone());
    }
    if cfg.tls {
        b = b.tls_context(Some(tls_config(cfg)?));
    }
    if let Some(ks) = keyspace {
        b = b.use_keyspace(ks, false);
    }
    b.build().await.map_err(|e| {
        let what = format!(
            "connecting to {} (keyspace {})",
            cfg.nodes.join(","),
            keyspace.unwrap_or("-")
        );
        cql_error(e, what)
    })
}
