//! Stories about process history: items recorded per profile with an idempotency key,
//! paged in recording order, changed and deleted, bounded per profile, kept to the profile's
//! hirer's job ads, and deleted when the candidate is erased.

use candex_domain::person::{Communication, Email, PersonName};
use candex_domain::process::{ProcessAction, ProcessDetails, ProcessParty, SpecifiedPerson};
use candex_domain::snapshot::Organization;
use candex_domain::{CandidateProfileId, IdKind, ObjectId, PartnerId};

use super::{application, assert_not_found, hirer, new_id, open_position, partner, person, t, tag};
use crate::{NewProcessHistoryItem, ProcessHistoryUpdate, ProcessHistoryWrite, Store, StoreError};

/// Details with every field set, labelled by `status`.
pub fn sample_details(status: &str) -> ProcessDetails {
    ProcessDetails {
        action: ProcessAction {
            code: "StatusChange".to_owned(),
            name: Some(format!("Moved to {status}")),
            description: Some("after the phone screen".to_owned()),
            seek_url: Some("https://ats.example/candidates/1".to_owned()),
        },
        status: Some(status.to_owned()),
        primary_parties: vec![ProcessParty {
            organization: Some(Organization { name: "Acme Recruiting".to_owned() }),
            person: Some(SpecifiedPerson {
                name: PersonName {
                    given: Some("Rita".to_owned()),
                    family: Some("Recruiter".to_owned()),
                    formatted_name: "Rita Recruiter".to_owned(),
                },
                communication: Communication {
                    email: vec![Email { address: "rita@acme.example".to_owned() }],
                    ..Communication::default()
                },
                role_code: Some("Recruiter".to_owned()),
            }),
        }],
        seek_source: Some("SEEK".to_owned()),
    }
}

/// An item for `profile_id` recorded by `partner_id` under `key`.
pub fn new_item(
    profile_id: &CandidateProfileId,
    partner_id: &PartnerId,
    key: &str,
    status: &str,
) -> NewProcessHistoryItem {
    NewProcessHistoryItem {
        id: new_id(IdKind::CandidateProcessHistoryItem),
        profile_id: profile_id.clone(),
        partner_id: partner_id.clone(),
        idempotency_id: key.to_owned(),
        action_date: t(10),
        position_profile_id: None,
        details: sample_details(status),
        created_at: t(20),
    }
}

/// Items are recorded once per idempotency key, read back exactly, paged in recording order,
/// replaced, deleted, bounded per profile, and refer only to job ads of the profile's hirer.
pub async fn process_history_lifecycle(store: &dyn Store) {
    let tag = tag();
    let h = hirer(store, &format!("{tag} history hirer")).await;
    let other_hirer = hirer(store, &format!("{tag} other hirer")).await;
    let p = partner(store, &format!("{tag} history partner")).await;
    let position = open_position(store, &h.id, "Tracked").await;
    let foreign_position = open_position(store, &other_hirer.id, "Elsewhere").await;
    let app = application(&position, person("Hana History", &format!("hana.{tag}@example.com")), t(1));
    let other_app = application(&position, person("Otto Other", &format!("otto.{tag}@example.com")), t(2));
    store.ingest_applications(&[app.clone(), other_app.clone()]).await.expect("ingest");

    // Recorded and read back exactly, with the profile's hirer.
    let mut first = new_item(&app.profile_id, &p.id, "key-1", "HirerShortlist");
    first.position_profile_id = Some(position.profile_id.clone());
    let written = match store.create_process_history_item(&first, 3).await.expect("create") {
        ProcessHistoryWrite::Written(item) => item,
        other => panic!("expected Written, got {other:?}"),
    };
    assert_eq!(written.id, first.id);
    assert_eq!(written.profile_id, app.profile_id);
    assert_eq!(written.hirer_id, h.id);
    assert_eq!(written.partner_id, p.id);
    assert_eq!(written.idempotency_id, "key-1");
    assert_eq!(written.action_date, t(10));
    assert_eq!(written.position_profile_id.as_ref(), Some(&position.profile_id));
    assert_eq!(written.details, first.details);
    assert_eq!((written.created_at, written.updated_at), (t(20), t(20)));
    assert_eq!(store.get_process_history_item(&first.id).await.expect("get"), Some(written.clone()));

    // The same key on the same profile is a conflict naming the first item, whatever else differs.
    let retry = new_item(&app.profile_id, &p.id, "key-1", "Interview");
    match store.create_process_history_item(&retry, 3).await.expect("retry") {
        ProcessHistoryWrite::Conflict(existing) => assert_eq!(existing, written),
        other => panic!("expected Conflict, got {other:?}"),
    }
    assert_eq!(store.get_process_history_item(&retry.id).await.expect("get"), None, "nothing written");
    // ... but the same key on another profile is another item.
    let elsewhere = new_item(&other_app.profile_id, &p.id, "key-1", "Interview");
    assert!(matches!(
        store.create_process_history_item(&elsewhere, 3).await.expect("other profile"),
        ProcessHistoryWrite::Written(_)
    ));

    // A job ad of another hirer is refused like an unknown one; so is an unknown profile.
    let mut foreign = new_item(&app.profile_id, &p.id, "key-foreign", "Interview");
    foreign.position_profile_id = Some(foreign_position.profile_id.clone());
    assert_not_found(store.create_process_history_item(&foreign, 3).await, "position profile");
    foreign.position_profile_id = Some(new_id(IdKind::PositionProfile));
    assert_not_found(store.create_process_history_item(&foreign, 3).await, "position profile");
    let unknown = new_item(&new_id(IdKind::CandidateProfile), &p.id, "key-x", "Interview");
    assert_not_found(store.create_process_history_item(&unknown, 3).await, "candidate profile");

    // Recording order, paged; and the bound per profile.
    let second = new_item(&app.profile_id, &p.id, "key-2", "Interview");
    let third = new_item(&app.profile_id, &p.id, "key-3", "Offer");
    for item in [&second, &third] {
        store.create_process_history_item(item, 3).await.expect("create");
    }
    let fourth = new_item(&app.profile_id, &p.id, "key-4", "Successful");
    match store.create_process_history_item(&fourth, 3).await {
        Err(StoreError::Rejected(_)) => {}
        other => panic!("expected Rejected beyond 3 items, got {other:?}"),
    }
    let ids = |items: &[crate::ProcessHistoryItem]| items.iter().map(|i| i.id.clone()).collect::<Vec<_>>();
    let page = store.page_process_history(&app.profile_id, None, 2).await.expect("page");
    assert_eq!(ids(&page), vec![first.id.clone(), second.id.clone()]);
    let rest = store.page_process_history(&app.profile_id, Some(page[1].seq), 2).await.expect("page 2");
    assert_eq!(ids(&rest), vec![third.id.clone()]);
    assert!(store.page_process_history(&app.profile_id, Some(rest[0].seq), 2).await.expect("end").is_empty());
    // The first page of several profiles at once: each profile's first items, profile by profile.
    let mut both = vec![app.profile_id.clone(), other_app.profile_id.clone()];
    both.sort();
    let pages = store.first_process_history_pages(&both, 2).await.expect("pages");
    let mut expected = vec![
        (app.profile_id.clone(), vec![first.id.clone(), second.id.clone()]),
        (other_app.profile_id.clone(), vec![elsewhere.id.clone()]),
    ];
    expected.sort();
    let expected: Vec<ObjectId> = expected.into_iter().flat_map(|(_, ids)| ids).collect();
    assert_eq!(ids(&pages), expected);
    assert!(store.first_process_history_pages(&[], 2).await.expect("none").is_empty());

    // An update replaces date, job ad and details, and keeps the rest.
    let update = ProcessHistoryUpdate {
        action_date: t(30),
        position_profile_id: None,
        details: sample_details("Unsuccessful"),
        updated_at: t(40),
    };
    let updated = store.update_process_history_item(&first.id, &update).await.expect("update").expect("known");
    assert_eq!(updated.action_date, t(30));
    assert_eq!(updated.position_profile_id, None);
    assert_eq!(updated.details, update.details);
    assert_eq!((updated.created_at, updated.updated_at), (t(20), t(40)));
    assert_eq!((updated.seq, &updated.idempotency_id), (written.seq, &written.idempotency_id));
    let mut bad = update.clone();
    bad.position_profile_id = Some(foreign_position.profile_id.clone());
    assert_not_found(store.update_process_history_item(&first.id, &bad).await, "position profile");
    let missing = new_id(IdKind::CandidateProcessHistoryItem);
    assert_eq!(store.update_process_history_item(&missing, &update).await.expect("unknown"), None);

    // Deleting returns the item as it was; afterwards it is gone and its slot is free.
    let deleted = store.delete_process_history_item(&first.id).await.expect("delete").expect("known");
    assert_eq!(deleted, updated);
    assert_eq!(store.get_process_history_item(&first.id).await.expect("get"), None);
    assert_eq!(store.delete_process_history_item(&first.id).await.expect("again"), None);
    assert!(matches!(
        store.create_process_history_item(&fourth, 3).await.expect("room again"),
        ProcessHistoryWrite::Written(_)
    ));
}

/// Erasing a candidate deletes the process history of every profile of theirs, and only theirs.
pub async fn erasure_deletes_process_history(store: &dyn Store) {
    let tag = tag();
    let h = hirer(store, &format!("{tag} erased history hirer")).await;
    let p = partner(store, &format!("{tag} erased history partner")).await;
    let position = open_position(store, &h.id, "Erased").await;
    let email = format!("gone.{tag}@example.com");
    let first = application(&position, person("Gus Gone", &email), t(1));
    let second = application(&position, person("Gus Gone", &email), t(2));
    let kept = application(&position, person("Kim Kept", &format!("kim.{tag}@example.com")), t(3));
    let done = store.ingest_applications(&[first.clone(), second.clone(), kept.clone()]).await.expect("ingest");
    let items: Vec<_> =
        [&first, &second, &kept].iter().map(|a| new_item(&a.profile_id, &p.id, "k", "Interview")).collect();
    for item in &items {
        store.create_process_history_item(item, 10).await.expect("create");
    }

    store.erase_candidate(&done[0].candidate_id, &crate::testkit::stamp()).await.expect("erase");
    for (item, app) in items[..2].iter().zip([&first, &second]) {
        assert_eq!(store.get_process_history_item(&item.id).await.expect("get"), None, "erased");
        assert!(store.page_process_history(&app.profile_id, None, 10).await.expect("page").is_empty());
    }
    assert!(store.get_process_history_item(&items[2].id).await.expect("get").is_some(), "another candidate's stays");
}
