//! RULES.md W-11: the AML case book of `pitboss run` is read from the compliance topic, from
//! its beginning (the listener `pitboss run` starts), so an instance started after a case
//! was opened and closed (another instance's, or its own before a restart) lists it, closed.

use crate::support;

use std::sync::Arc;
use std::time::Duration;

use pitboss::gateway::ReplyListener;
use pitboss::http::cases::{CaseBook, Status};
use pitboss::wire::{encode_case_closed, encode_output, samples, AmlCaseClosedPayload};
use support::Broker;

#[actix_rt::test]
async fn a_book_started_later_reads_every_case_and_its_closing_from_the_topic() {
    let _serial = support::serial();
    let broker = Broker::start();
    let cfg = support::config(&broker, "cases");
    pitboss::run::create_topics(&cfg).await.unwrap();
    // A case and its closing, already on the topic (as another instance published them).
    let case = samples::outputs()
        .into_iter()
        .find(|(name, _)| *name == "aml_case")
        .map(|(_, out)| encode_output(&out))
        .expect("the sample case");
    let closing = encode_case_closed(&AmlCaseClosedPayload {
        case_id: case.id.to_string().into(),
        player: case.key.clone().into(),
        reason: "documented".into(),
        operator: "compliance-1".into(),
        closed_at: 1,
    });
    let recs: Vec<(String, Vec<u8>)> = [&case, &closing]
        .iter()
        .map(|r| (r.key.clone(), r.bytes.clone()))
        .collect();
    let (b, t) = (
        cfg.kafka.brokers.clone(),
        cfg.kafka.topics.compliance.clone(),
    );
    tokio::task::spawn_blocking(move || support::produce(&b, &t, &recs))
        .await
        .unwrap();

    let book = Arc::new(CaseBook::new(100));
    let (k, topic, fed) = (
        cfg.kafka.clone(),
        cfg.kafka.topics.compliance.clone(),
        book.clone(),
    );
    let listener = tokio::task::spawn_blocking(move || {
        ReplyListener::start_with(&k, &[topic], true, "aml-cases", move |b| fed.offer(b))
    })
    .await
    .unwrap()
    .expect("the listener starts");
    let id = case.id.to_string();
    let b2 = book.clone();
    let listed = tokio::task::spawn_blocking(move || {
        testkit::wait::wait_for("the case, closed", Duration::from_secs(30), || {
            b2.get(&id).filter(|c| c.status == "closed")
        })
    })
    .await
    .unwrap();
    let closed = listed.closed.expect("its closing");
    assert_eq!(
        (closed.reason.as_str(), closed.operator.as_str(), closed.id),
        ("documented", "compliance-1", closing.id.to_string())
    );
    let page = book.page(None, Status::All, 10);
    assert_eq!((page.total, page.opened, page.closed), (1, 1, 1));
    tokio::task::spawn_blocking(move || listener.stop())
        .await
        .unwrap();
}
