//! Stories about erasing a candidate: everything personal goes in one transaction, ids stay
//! valid, other candidates are untouched, and only blobs nobody else uses are reported.

use candex_domain::{IdKind, Person, Snapshot};

use super::attachments::new_attachment;
use super::questionnaires::{sample_questionnaire, sample_responses};
use super::{application, assert_not_found, hirer, new_id, new_position, person, rich_snapshot, stamp, t, tag};
use crate::Store;

/// Erasure redacts the person, empties every profile of the candidate, deletes its responses
/// and attachment rows, and reports the content hashes no other attachment uses.
pub async fn erasure_redacts_everything_personal(store: &dyn Store) {
    let tag = tag();
    let h = hirer(store, &format!("{tag} erasure hirer")).await;
    let mut new = new_position(&h.id, "Screened", t(0));
    let q = sample_questionnaire();
    new.questionnaire = Some(q.clone());
    let position = store.create_position(new).await.expect("create");

    let email = format!("erase.{tag}@example.com");
    let mut first = application(&position, person("Erin Erase", &email), t(1));
    first.snapshot = rich_snapshot("first");
    first.questionnaire_responses = Some(sample_responses(&q, "free text"));
    first.attachments = vec![new_attachment('d', "mine.pdf", Some("Resume")), new_attachment('e', "shared.pdf", None)];
    let mut second = application(&position, person("Erin Erase", &email), t(2));
    second.snapshot = rich_snapshot("second");
    second.questionnaire_responses = Some(sample_responses(&q, "again"));
    second.attachments = vec![new_attachment('d', "mine again.pdf", Some("Resume"))];
    let mut other = application(&position, person("Olly Other", &format!("olly.{tag}@example.com")), t(3));
    other.snapshot = rich_snapshot("other");
    other.questionnaire_responses = Some(sample_responses(&q, "kept"));
    other.attachments = vec![new_attachment('e', "shared too.pdf", None)];
    let done = store.ingest_applications(&[first.clone(), second.clone(), other.clone()]).await.expect("ingest");
    let candidate = done[0].candidate_id.clone();
    assert_eq!(done[1].candidate_id, candidate, "same email, same candidate");

    let erased = store.erase_candidate(&candidate, &stamp()).await.expect("erase");
    assert_eq!(erased.candidate_id, candidate);
    assert_eq!(erased.profiles, 2);
    assert_eq!(erased.unreferenced_blobs, vec!["d".repeat(64)], "'e' is still used by another candidate");

    for app in [&first, &second] {
        let view = store.get_profile(&app.profile_id).await.expect("read").expect("the id stays valid");
        assert_eq!(view.candidate.person, Person::redacted());
        assert_eq!(*view.snapshot, Snapshot::default());
        assert!(store.profile_attachments(&app.profile_id).await.expect("list").is_empty());
        assert!(store.questionnaire_submission(&app.profile_id).await.expect("submission").is_none());
    }
    assert!(store.get_attachment(&first.attachments[0].id).await.expect("get").is_none());
    assert!(!store.attachment_blob_referenced(&"d".repeat(64)).await.expect("d"));
    assert!(store.attachment_blob_referenced(&"e".repeat(64)).await.expect("e"));

    // The other candidate keeps everything.
    let kept = store.get_profile(&other.profile_id).await.expect("read").expect("other");
    assert_eq!(kept.candidate.person, other.person);
    assert_eq!(*kept.snapshot, other.snapshot);
    assert_eq!(store.profile_attachments(&other.profile_id).await.expect("list").len(), 1);
    assert!(store.questionnaire_submission(&other.profile_id).await.expect("submission").is_some());

    // The erased person's email no longer matches: a new application is a new candidate.
    let again = application(&position, person("Erin Erase", &email), t(4));
    let back = store.ingest_applications(std::slice::from_ref(&again)).await.expect("apply again");
    assert_ne!(back[0].candidate_id, candidate);

    assert_not_found(store.erase_candidate(&new_id(IdKind::Candidate), &stamp()).await, "candidate");
}
