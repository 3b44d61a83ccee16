//! Stories about applications: candidate matching, atomic batches, profile reads, candidate
//! updates and a job ad's application pages.

use candex_domain::{IdKind, RelationshipType};

use super::{
    application, assert_conflict, assert_not_found, at, hirer, new_id, open_position, partner, person, stamp, t, tag,
};
use crate::{Store, StoreError};

/// The same email (in any case) at the same hirer reuses the candidate and replaces its live
/// person data, leaving earlier snapshots alone; at another hirer it is another candidate.
pub async fn ingest_matches_candidates_per_hirer(store: &dyn Store) {
    let tag = tag();
    let h1 = hirer(store, &format!("{tag} one")).await;
    let h2 = hirer(store, &format!("{tag} two")).await;
    let p1 = open_position(store, &h1.id, "Barista").await;
    let p1b = open_position(store, &h1.id, "Chef").await;
    let p2 = open_position(store, &h2.id, "Barista").await;
    let email = format!("Jane.{tag}@Example.com");

    let first = application(&p1, person("Jane Citizen", &email), t(0));
    let done = store.ingest_applications(std::slice::from_ref(&first)).await.expect("ingest first");
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].profile_id, first.profile_id);
    assert_eq!(done[0].candidate_id, first.candidate_id, "a new email creates the candidate with the minted id");
    assert_eq!(done[0].hirer_id, h1.id);
    assert_eq!(done[0].created_at, first.created_at);

    let renamed = person("Jane Doe", &format!("  {}  ", email.to_uppercase()));
    let second = application(&p1b, renamed.clone(), t(1_000));
    let done = store.ingest_applications(std::slice::from_ref(&second)).await.expect("ingest second");
    assert_eq!(done[0].candidate_id, first.candidate_id, "same email at the same hirer: same candidate");
    assert_ne!(second.candidate_id, first.candidate_id);
    assert!(store.get_candidate(&second.candidate_id).await.expect("get").is_none(), "unused id stays unused");

    let candidate = store.get_candidate(&first.candidate_id).await.expect("get").expect("candidate");
    assert_eq!(candidate.person, renamed, "the live person data is the latest");
    assert_eq!(candidate.hirer_id, h1.id);
    assert_eq!(candidate.created_at, first.created_at);
    assert_eq!(candidate.updated_at, second.created_at);

    let old = store.get_profile(&first.profile_id).await.expect("get").expect("first profile");
    assert_eq!(*old.snapshot, first.snapshot, "the first snapshot is unchanged");
    assert_eq!(old.candidate.person, renamed, "earlier profiles show the live person");

    let elsewhere = application(&p2, person("Jane Citizen", &email), t(2_000));
    let done = store.ingest_applications(std::slice::from_ref(&elsewhere)).await.expect("ingest elsewhere");
    assert_eq!(done[0].candidate_id, elsewhere.candidate_id, "another hirer: another candidate");
    assert_eq!(done[0].hirer_id, h2.id);
    let unchanged = store.get_candidate(&first.candidate_id).await.expect("get").expect("candidate");
    assert_eq!(unchanged.person, renamed, "another hirer's application leaves this candidate alone");

    // Within one batch, too, a repeated email matches the candidate created earlier in it.
    let email2 = format!("sam.{tag}@example.com");
    let a = application(&p1, person("Sam One", &email2), t(3_000));
    let b = application(&p1b, person("Sam Two", &email2.to_uppercase()), t(4_000));
    let done = store.ingest_applications(&[a.clone(), b.clone()]).await.expect("ingest batch");
    let ids: Vec<_> = done.iter().map(|d| d.profile_id.clone()).collect();
    assert_eq!(ids, vec![a.profile_id.clone(), b.profile_id.clone()], "one result per input, in order");
    assert_eq!(done[0].candidate_id, a.candidate_id);
    assert_eq!(done[1].candidate_id, a.candidate_id);
}

/// A batch with a closed or unknown job ad is refused whole: nothing of it is stored.
pub async fn ingest_is_all_or_nothing(store: &dyn Store) {
    let tag = tag();
    let h = hirer(store, &format!("{tag} hirer")).await;
    let open = open_position(store, &h.id, "Open").await;
    let closed = open_position(store, &h.id, "Closed").await;
    store.close_position(&closed.profile_id, &stamp()).await.expect("close");

    let bad = application(&closed, person("Late Comer", &format!("late.{tag}@example.com")), t(0));
    match store.ingest_applications(std::slice::from_ref(&bad)).await {
        Err(StoreError::Rejected(message)) => assert!(message.contains("closed"), "{message}"),
        other => panic!("expected Rejected, got {other:?}"),
    }

    let good = application(&open, person("On Time", &format!("good.{tag}@example.com")), t(0));
    let result = store.ingest_applications(&[good.clone(), bad.clone()]).await;
    assert!(matches!(result, Err(StoreError::Rejected(_))), "{result:?}");

    let mut ghost = application(&open, person("No Where", &format!("ghost.{tag}@example.com")), t(0));
    ghost.position_profile_id = new_id(IdKind::PositionProfile);
    assert_not_found(store.ingest_applications(&[good.clone(), ghost]).await, "position profile");

    for refused in [&good, &bad] {
        assert!(store.get_profile(&refused.profile_id).await.expect("get").is_none(), "no profile stored");
        assert!(store.get_candidate(&refused.candidate_id).await.expect("get").is_none(), "no candidate stored");
    }
    assert!(store.page_position_applications(&open.profile_id, None, 10).await.expect("page").is_empty());
    assert!(store.ingest_applications(&[]).await.expect("empty batch").is_empty());

    // The refused email is still free: a later good application creates its candidate.
    let done = store.ingest_applications(std::slice::from_ref(&good)).await.expect("ingest good");
    assert_eq!(done[0].candidate_id, good.candidate_id);
}

/// A profile reads back with exactly what was ingested, its live candidate and its job ad.
pub async fn get_profile_returns_what_was_ingested(store: &dyn Store) {
    let tag = tag();
    let h = hirer(store, &format!("{tag} hirer")).await;
    let position = open_position(store, &h.id, "Sommelier").await;
    let mut app = application(&position, person("Ada Lovelace", &format!("ada.{tag}@example.com")), t(7));
    app.candidate_sources
        .push(candex_domain::snapshot::CandidateSource { name: "Referral".into(), kind: "Other".into() });
    store.ingest_applications(std::slice::from_ref(&app)).await.expect("ingest");

    let view = store.get_profile(&app.profile_id).await.expect("get").expect("profile");
    assert_eq!(view.profile_id, app.profile_id);
    assert_eq!(view.created_at, app.created_at);
    assert_eq!(view.updated_at, app.created_at);
    assert_eq!(*view.snapshot, app.snapshot);
    assert!(view.snapshot.employment.len() >= 2 && view.snapshot.education.len() >= 2);
    assert_eq!(view.candidate_sources, app.candidate_sources);
    assert_eq!(view.candidate.id, app.candidate_id);
    assert_eq!(view.candidate.hirer_id, h.id);
    assert_eq!(view.candidate.person, app.person);
    assert_eq!(*view.position, position);
    assert_eq!(view.position.hirer_name, h.name);
    assert_eq!(view.hirer_id(), &h.id);
    assert!(store.get_profile(&new_id(IdKind::CandidateProfile)).await.expect("get unknown").is_none());
    assert!(store.get_candidate(&new_id(IdKind::Candidate)).await.expect("get unknown").is_none());

    // The same view with the reader's relationships to its hirer, and only that reader's.
    let reader = partner(store, &format!("{tag} reader")).await;
    let bystander = partner(store, &format!("{tag} bystander")).await;
    let set = store
        .set_relationships(
            &reader.id,
            &h.id,
            &[RelationshipType::ApplicationExport, RelationshipType::JobPosting],
            &stamp(),
        )
        .await
        .expect("relate");
    let elsewhere = hirer(store, &format!("{tag} elsewhere")).await;
    store
        .set_relationships(&bystander.id, &elsewhere.id, &[RelationshipType::ApplicationExport], &stamp())
        .await
        .expect("relate elsewhere");
    let (with, grant) =
        store.get_profile_for_partner(&app.profile_id, &reader.id).await.expect("get for partner").expect("profile");
    assert_eq!(with, view, "the same view as get_profile");
    assert_eq!(grant.relationships, set);
    assert_eq!(grant.tokens_not_before, None, "no tokens revoked yet");
    let (_, none) =
        store.get_profile_for_partner(&app.profile_id, &bystander.id).await.expect("get for other").expect("profile");
    assert!(none.relationships.is_empty(), "a partner related to another hirer holds nothing here: {none:?}");
    // A revocation travels with the same read.
    let revoked_at = at(1_700_000_000_123);
    store.revoke_partner_tokens(&reader.id, revoked_at).await.expect("revoke");
    let (_, grant) =
        store.get_profile_for_partner(&app.profile_id, &reader.id).await.expect("get for partner").expect("profile");
    assert_eq!((grant.relationships, grant.tokens_not_before), (set, Some(revoked_at)));
    let unknown = new_id(IdKind::CandidateProfile);
    assert!(store.get_profile_for_partner(&unknown, &reader.id).await.expect("get unknown").is_none());

    // Several at once: the same views, unknown ids left out.
    let other = application(&position, person("Grace Hopper", &format!("grace.{tag}@example.com")), t(8));
    store.ingest_applications(std::slice::from_ref(&other)).await.expect("ingest other");
    let unknown = new_id(IdKind::CandidateProfile);
    let mut views =
        store.get_profiles(&[other.profile_id.clone(), unknown, app.profile_id.clone()]).await.expect("get several");
    views.sort_by_key(|v| v.created_at);
    assert_eq!(views.len(), 2);
    assert_eq!(views[0], view);
    assert_eq!(views[1].profile_id, other.profile_id);
    assert_eq!(views[1].candidate.person, other.person);
    assert!(store.get_profiles(&[]).await.expect("none").is_empty());
}

/// `candidate_profiles` returns the `last` most recent profiles, oldest first.
pub async fn candidate_profiles_order_and_limit(store: &dyn Store) {
    let tag = tag();
    let h = hirer(store, &format!("{tag} hirer")).await;
    let p = open_position(store, &h.id, "Cook").await;
    let q = open_position(store, &h.id, "Porter").await;
    let email = format!("max.{tag}@example.com");
    // Ingested out of time order (an import of older applications comes later).
    let apps = [
        application(&p, person("Max Three", &email), t(3_000)),
        application(&q, person("Max One", &email), t(1_000)),
        application(&p, person("Max Four", &email), t(4_000)),
        application(&q, person("Max Two", &email), t(2_000)),
    ];
    let mut candidate_id = None;
    for app in &apps {
        let done = store.ingest_applications(std::slice::from_ref(app)).await.expect("ingest");
        candidate_id.get_or_insert(done[0].candidate_id.clone());
    }
    let candidate_id = candidate_id.expect("a candidate");
    let ids = |order: &[usize]| order.iter().map(|&i| apps[i].profile_id.clone()).collect::<Vec<_>>();

    let all = store.candidate_profiles(&candidate_id, 10).await.expect("all");
    assert_eq!(all.iter().map(|v| v.profile_id.clone()).collect::<Vec<_>>(), ids(&[1, 3, 0, 2]));
    assert!(all.iter().all(|v| v.candidate.id == candidate_id && v.candidate.person == apps[3].person));
    assert_eq!(*all[0].snapshot, apps[1].snapshot);
    assert_eq!(all[1].position.profile_id, q.profile_id);

    let last_two = store.candidate_profiles(&candidate_id, 2).await.expect("last two");
    assert_eq!(last_two.iter().map(|v| v.profile_id.clone()).collect::<Vec<_>>(), ids(&[0, 2]));
    assert!(store.candidate_profiles(&candidate_id, 0).await.expect("none").is_empty());
    assert!(store.candidate_profiles(&new_id(IdKind::Candidate), 5).await.expect("unknown").is_empty());
}

/// Person updates replace the live data, and a first email taken by another candidate of
/// the same hirer is a conflict.
pub async fn update_candidate_person_rules(store: &dyn Store) {
    let tag = tag();
    let h = hirer(store, &format!("{tag} hirer")).await;
    let elsewhere = hirer(store, &format!("{tag} elsewhere")).await;
    let p = open_position(store, &h.id, "Clerk").await;
    let pe = open_position(store, &elsewhere.id, "Clerk").await;
    let (a_mail, b_mail, e_mail) =
        (format!("a.{tag}@example.com"), format!("b.{tag}@example.com"), format!("e.{tag}@example.com"));
    let a = application(&p, person("Alex A", &a_mail), t(0));
    let b = application(&p, person("Blair B", &b_mail), t(0));
    let e = application(&pe, person("Eli E", &e_mail), t(0));
    store.ingest_applications(&[a.clone(), b.clone(), e.clone()]).await.expect("ingest");

    let renamed = person("Alexandra A", &a_mail);
    let updated = store.update_candidate_person(&a.candidate_id, &renamed).await.expect("update");
    assert_eq!(updated.person, renamed);
    assert_eq!(updated.id, a.candidate_id);
    assert_eq!(updated.created_at, a.created_at);
    assert!(updated.updated_at >= a.created_at);
    assert_eq!(store.get_candidate(&a.candidate_id).await.expect("get"), Some(updated.clone()));
    let view = store.get_profile(&a.profile_id).await.expect("get").expect("profile");
    assert_eq!(view.candidate.person, renamed, "profiles show the updated person");
    assert_eq!(*view.snapshot, a.snapshot);

    let taken = person("Alex A", &b_mail.to_uppercase());
    assert_conflict(store.update_candidate_person(&a.candidate_id, &taken).await, "candidates_hirer_email_key");
    assert_eq!(store.get_candidate(&a.candidate_id).await.expect("get"), Some(updated), "a conflict changes nothing");

    // An email used at another hirer is free here; later applications match on the new email.
    let moved = person("Alex A", &e_mail);
    store.update_candidate_person(&a.candidate_id, &moved).await.expect("take another hirer's email");
    let again = application(&p, person("Alex Again", &e_mail), t(5_000));
    let done = store.ingest_applications(std::slice::from_ref(&again)).await.expect("ingest");
    assert_eq!(done[0].candidate_id, a.candidate_id);

    assert_not_found(store.update_candidate_person(&new_id(IdKind::Candidate), &renamed).await, "candidate");
}

/// A job ad's applications page in ingest order by `seq`, with current names.
pub async fn position_applications_paging(store: &dyn Store) {
    let tag = tag();
    let h = hirer(store, &format!("{tag} hirer")).await;
    let p = open_position(store, &h.id, "Driver").await;
    let other = open_position(store, &h.id, "Loader").await;
    let apps: Vec<_> = (0..5)
        .map(|i| application(&p, person(&format!("Driver {i}"), &format!("d{i}.{tag}@example.com")), t(10 - i)))
        .collect();
    store.ingest_applications(&apps[..3]).await.expect("ingest three");
    let noise = application(&other, person("Noise", &format!("noise.{tag}@example.com")), t(0));
    store.ingest_applications(&[noise]).await.expect("ingest noise");
    store.ingest_applications(&apps[3..]).await.expect("ingest two");

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.page_position_applications(&p.profile_id, after, 2).await.expect("page");
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        after = Some(last.seq);
        seen.extend(page);
    }
    let ids: Vec<_> = seen.iter().map(|s| s.profile_id.clone()).collect();
    assert_eq!(ids, apps.iter().map(|a| a.profile_id.clone()).collect::<Vec<_>>(), "ingest order");
    assert!(seen.windows(2).all(|w| w[0].seq < w[1].seq), "seq increases");
    for (summary, app) in seen.iter().zip(&apps) {
        assert_eq!(summary.candidate_id, app.candidate_id);
        assert_eq!(summary.formatted_name, app.person.name.formatted_name);
        assert_eq!(summary.created_at, app.created_at);
    }

    store
        .update_candidate_person(&apps[0].candidate_id, &person("Renamed Driver", &format!("d0.{tag}@example.com")))
        .await
        .expect("rename");
    let first = store.page_position_applications(&p.profile_id, None, 1).await.expect("first");
    assert_eq!(first[0].formatted_name, "Renamed Driver", "names are the candidates' current ones");
    assert!(store
        .page_position_applications(&new_id(IdKind::PositionProfile), None, 5)
        .await
        .expect("unknown")
        .is_empty());
}
