//! Stories about attachments: rows stored atomically with their application, read per profile
//! and one by one with access data, blob references, the retention purge, and the blob leases
//! and lock that keep blob deletion from racing an upload.

use candex_domain::{IdKind, RelationshipType};
use chrono::Duration;

use super::{application, at, hirer, new_id, open_position, partner, person, stamp, t, tag};
use crate::{NewAttachment, Store, StoreError};

/// An attachment row with content hash `sha` (a hex digit repeated).
pub fn new_attachment(sha: char, filename: &str, role: Option<&str>) -> NewAttachment {
    NewAttachment {
        id: new_id(IdKind::Attachment),
        sha256: sha.to_string().repeat(64),
        filename: filename.to_owned(),
        content_type: "application/pdf".to_owned(),
        size: 1234,
        seek_role_code: role.map(str::to_owned),
        descriptions: vec![format!("about {filename}")],
        uploaded_at: t(42),
    }
}

/// Attachments are stored in the application's transaction, read back in order, and looked
/// up one by one with the hirer and the job ad's closing time; a refused batch stores none.
pub async fn attachments_stored_with_their_application(store: &dyn Store) {
    let tag = tag();
    let h = hirer(store, &format!("{tag} hirer")).await;
    let open = open_position(store, &h.id, "Writer").await;
    let closed = open_position(store, &h.id, "Editor").await;
    store.close_position(&closed.profile_id, &stamp()).await.expect("close");

    let mut app = application(&open, person("Ann Attach", &format!("ann.{tag}@example.com")), t(0));
    app.attachments = vec![
        new_attachment('a', "résumé \"final\".pdf", Some("Resume")),
        new_attachment('b', "cover.txt", Some("CoverLetter")),
        new_attachment('a', "copy of resume.pdf", None),
    ];
    app.attachments[1].content_type = "text/plain".to_owned();
    app.attachments[1].descriptions = vec![];
    store.ingest_applications(std::slice::from_ref(&app)).await.expect("ingest");

    let listed = store.profile_attachments(&app.profile_id).await.expect("list");
    assert_eq!(listed.iter().map(|a| a.meta.clone()).collect::<Vec<_>>(), app.attachments, "in order, exactly");
    assert!(listed.iter().all(|a| a.profile_id == app.profile_id));

    let one = store.get_attachment(&app.attachments[1].id).await.expect("get").expect("attachment");
    assert_eq!(one.attachment.meta, app.attachments[1]);
    assert_eq!(one.attachment.profile_id, app.profile_id);
    assert_eq!(one.hirer_id, h.id);
    assert_eq!(one.position_closed_at, None);
    assert!(store.get_attachment(&new_id(IdKind::Attachment)).await.expect("get unknown").is_none());
    assert!(store.profile_attachments(&new_id(IdKind::CandidateProfile)).await.expect("unknown").is_empty());

    // The download's one read: the same row with the partner's grant for its hirer.
    let reader = partner(store, &format!("{tag} reader")).await;
    let bystander = partner(store, &format!("{tag} bystander")).await;
    let held = [RelationshipType::ApplicationExport, RelationshipType::JobPosting];
    let set = store.set_relationships(&reader.id, &h.id, &held, &stamp()).await.expect("relate");
    let elsewhere = hirer(store, &format!("{tag} elsewhere")).await;
    let only_export = [RelationshipType::ApplicationExport];
    store.set_relationships(&bystander.id, &elsewhere.id, &only_export, &stamp()).await.expect("relate elsewhere");
    let id = &app.attachments[1].id;
    let (access, grant) = store.get_attachment_for_partner(id, &reader.id).await.expect("get").expect("attachment");
    assert_eq!(access, one, "the same row as get_attachment");
    assert_eq!((grant.relationships, grant.tokens_not_before), (set, None));
    let (_, none) = store.get_attachment_for_partner(id, &bystander.id).await.expect("get").expect("attachment");
    assert!(none.relationships.is_empty(), "a partner related to another hirer holds nothing here: {none:?}");
    let revoked_at = at(1_700_000_000_456);
    store.revoke_partner_tokens(&reader.id, revoked_at).await.expect("revoke");
    let (_, grant) = store.get_attachment_for_partner(id, &reader.id).await.expect("get").expect("attachment");
    assert_eq!((grant.relationships, grant.tokens_not_before), (set, Some(revoked_at)));
    let unknown = new_id(IdKind::Attachment);
    assert!(store.get_attachment_for_partner(&unknown, &reader.id).await.expect("get unknown").is_none());

    assert!(store.attachment_blob_referenced(&"a".repeat(64)).await.expect("referenced"));
    assert!(!store.attachment_blob_referenced(&"9".repeat(64)).await.expect("unreferenced"));

    // A batch refused for its closed job ad stores no attachment rows either.
    let mut good = application(&open, person("Gil Good", &format!("gil.{tag}@example.com")), t(0));
    good.attachments = vec![new_attachment('c', "good.pdf", Some("Resume"))];
    let mut bad = application(&closed, person("Bea Bad", &format!("bea.{tag}@example.com")), t(0));
    bad.attachments = vec![new_attachment('d', "bad.pdf", None)];
    let refused = store.ingest_applications(&[good.clone(), bad.clone()]).await;
    assert!(matches!(refused, Err(StoreError::Rejected(_))), "{refused:?}");
    for id in [&good.attachments[0].id, &bad.attachments[0].id] {
        assert!(store.get_attachment(id).await.expect("get").is_none(), "no row of a refused batch");
    }
    assert!(!store.attachment_blob_referenced(&"c".repeat(64)).await.expect("referenced"));

    // A profile without attachments lists none.
    let plain = application(&open, person("Pat Plain", &format!("pat.{tag}@example.com")), t(0));
    store.ingest_applications(std::slice::from_ref(&plain)).await.expect("ingest plain");
    assert!(store.profile_attachments(&plain.profile_id).await.expect("list").is_empty());

    // Several profiles at once: each profile's attachments in order, nothing of others.
    let many = store
        .attachments_of_profiles(&[plain.profile_id.clone(), app.profile_id.clone(), new_id(IdKind::CandidateProfile)])
        .await
        .expect("list several");
    assert_eq!(many, listed, "only the one profile with attachments, in upload order");
    assert!(store.attachments_of_profiles(&[]).await.expect("none").is_empty());
}

/// The purge deletes the attachment rows of job ads closed before the cut-off and reports the
/// hashes no remaining row references; other job ads' attachments stay.
pub async fn attachment_retention_purge(store: &dyn Store) {
    let tag = tag();
    let h = hirer(store, &format!("{tag} hirer")).await;
    let open = open_position(store, &h.id, "Keeper").await;
    let closing = open_position(store, &h.id, "Leaver").await;
    // Content hashes unique to this run, so that a shared database does not interfere.
    let unique = |c: char| -> String {
        let mut s: String = tag.bytes().map(|b| format!("{b:02x}")).collect();
        s.truncate(60);
        format!("{s:0<60}{}", c.to_string().repeat(4))
    };
    let (shared, gone) = (unique('e'), unique('f'));

    let mut kept = application(&open, person("Kim Kept", &format!("kim.{tag}@example.com")), t(0));
    kept.attachments = vec![new_attachment('e', "kept.pdf", Some("Resume"))];
    kept.attachments[0].sha256 = shared.clone();
    let mut purged = application(&closing, person("Pim Purged", &format!("pim.{tag}@example.com")), t(0));
    purged.attachments = vec![new_attachment('e', "same.pdf", Some("Resume")), new_attachment('f', "own.pdf", None)];
    purged.attachments[0].sha256 = shared.clone();
    purged.attachments[1].sha256 = gone.clone();
    store.ingest_applications(&[kept.clone(), purged.clone()]).await.expect("ingest");
    let closed = store.close_position(&closing.profile_id, &stamp()).await.expect("close");
    let closed_at = closed.closed_at.expect("closed_at");

    let access = store.get_attachment(&purged.attachments[1].id).await.expect("get").expect("attachment");
    assert_eq!(access.position_closed_at, Some(closed_at));

    let nothing = store.purge_attachments_of_positions_closed_before(closed_at).await.expect("purge early");
    assert_eq!(nothing.rows, 0, "closed exactly at the cut-off: kept");
    assert!(nothing.unreferenced_sha256.is_empty());

    let done =
        store.purge_attachments_of_positions_closed_before(closed_at + Duration::milliseconds(1)).await.expect("purge");
    assert!(done.rows >= 2, "{done:?}");
    assert!(done.unreferenced_sha256.contains(&gone), "{done:?}");
    assert!(!done.unreferenced_sha256.contains(&shared), "still referenced by another job ad: {done:?}");
    assert!(store.profile_attachments(&purged.profile_id).await.expect("list").is_empty());
    for a in &purged.attachments {
        assert!(store.get_attachment(&a.id).await.expect("get").is_none());
    }
    assert!(!store.attachment_blob_referenced(&gone).await.expect("referenced"));
    assert_eq!(store.profile_attachments(&kept.profile_id).await.expect("list").len(), 1, "open job ad untouched");
    assert!(store.get_profile(&purged.profile_id).await.expect("get").is_some(), "the profile itself stays");

    let again =
        store.purge_attachments_of_positions_closed_before(closed_at + Duration::milliseconds(1)).await.expect("again");
    assert!(!again.unreferenced_sha256.contains(&gone));
}

/// Blob deletion is checked under the blob lock: of the candidate hashes, only those no row
/// references and no lease newer than the cut-off claims may be deleted; a lease waits while a
/// deletion holds the lock and is recorded after it; released and expired leases stop
/// claiming their content.
pub async fn blob_leases_guard_deletion(store: &dyn Store) {
    let tag = tag();
    let unique = |c: char| -> String {
        let mut s: String = tag.bytes().map(|b| format!("{b:02x}")).collect();
        s.truncate(60);
        format!("{s:0<60}{}", c.to_string().repeat(4))
    };
    let (referenced, leased, free, late) = (unique('1'), unique('2'), unique('3'), unique('4'));
    let h = hirer(store, &format!("{tag} hirer")).await;
    let open = open_position(store, &h.id, "Leaser").await;
    let mut app = application(&open, person("Lea Lease", &format!("lea.{tag}@example.com")), t(0));
    app.attachments = vec![new_attachment('1', "cv.pdf", Some("Resume"))];
    app.attachments[0].sha256 = referenced.clone();
    store.ingest_applications(std::slice::from_ref(&app)).await.expect("ingest");

    let leased_at = t(10_000);
    let lease = store.lease_blob(&leased, leased_at).await.expect("lease");
    let all = vec![late.clone(), free.clone(), leased.clone(), referenced.clone(), free.clone()];
    let mut sorted_free_late = vec![free.clone(), late.clone()];
    sorted_free_late.sort();

    let mut lock = store.lock_blobs().await.expect("lock");
    let deletable = lock.deletable(&all, leased_at).await.expect("deletable");
    assert_eq!(deletable, sorted_free_late, "neither the referenced nor the leased content, each once");
    let mut with_lapsed = vec![free.clone(), late.clone(), leased.clone()];
    with_lapsed.sort();
    let lapsed = lock.deletable(&all, leased_at + Duration::milliseconds(1)).await.expect("deletable");
    assert_eq!(lapsed, with_lapsed, "a lease older than the cut-off no longer claims its content");
    assert!(lock.deletable(&[], leased_at).await.expect("none").is_empty());

    // While the lock is held, a new lease waits for it.
    let waiting = tokio::time::timeout(std::time::Duration::from_millis(300), store.lease_blob(&late, t(20_000))).await;
    assert!(waiting.is_err(), "a lease was recorded while a deletion held the blob lock");
    lock.release().await.expect("release the lock");
    let late_lease = store.lease_blob(&late, t(20_000)).await.expect("lease after the deletion");

    let mut lock = store.lock_blobs().await.expect("lock again");
    assert_eq!(lock.deletable(&all, leased_at).await.expect("deletable"), vec![free.clone()]);
    lock.release().await.expect("release");

    // Released leases claim nothing; expired ones are deleted.
    store.release_blob_leases(&[lease, late_lease]).await.expect("release leases");
    store.release_blob_leases(&[]).await.expect("release none");
    let mut lock = store.lock_blobs().await.expect("lock once more");
    let mut expected = vec![free.clone(), late.clone(), leased.clone()];
    expected.sort();
    assert_eq!(lock.deletable(&all, leased_at).await.expect("deletable"), expected);
    drop(lock);
    let old = store.lease_blob(&free, t(-1_000_000)).await.expect("an old lease");
    assert!(store.expire_blob_leases(t(-999_999)).await.expect("expire") >= 1);
    store.release_blob_leases(&[old]).await.expect("releasing an expired lease is harmless");
}
