//! Stories about signing keys and about times surviving storage exactly.

use candex_domain::IdKind;

use super::{application, at, new_id, new_position, partner, person, tag};
use crate::{NewHirer, SecretKind, SecretUpdate, SigningKey, Store, StoreError};

fn key(kid: &str) -> SigningKey {
    SigningKey::new(kid.to_owned(), "HS256".to_owned(), kid.as_bytes().repeat(4), at(0))
}

/// A rotation supersedes the current key (which verifies until its `retire_at`), the new key
/// signs; retiring wipes due keys' secrets but keeps their rows, and a key never comes back.
pub async fn signing_key_rotation_supersedes_and_retires(store: &dyn Store) {
    let tag = tag();
    let first = store.rotate_signing_key(key(&format!("r1-{tag}")), at(1_000)).await.expect("rotate to r1");
    assert_eq!(store.signing_key().await.expect("read").expect("current").kid, first.kid);
    let mut second = key(&format!("r2-{tag}"));
    second.created_at = at(500);
    store.rotate_signing_key(second.clone(), at(2_000)).await.expect("rotate to r2");
    let current = store.signing_key().await.expect("read").expect("current");
    assert_eq!((current.kid.as_str(), current.superseded_at), (second.kid.as_str(), None));
    let keys = store.signing_keys().await.expect("list");
    let old = keys.iter().find(|k| k.kid == first.kid).expect("r1 still listed");
    assert_eq!((old.superseded_at, old.retire_at, old.retired_at), (Some(at(500)), Some(at(2_000)), None));
    assert_eq!(old.secret, first.secret, "a superseded key keeps its secret: it still verifies");
    assert_eq!(keys.iter().filter(|k| k.superseded_at.is_none() && k.retired_at.is_none()).count(), 1, "one signs");

    // Not due yet: nothing of ours retires; then due.
    assert!(!store.retire_signing_keys(at(1_999)).await.expect("retire early").contains(&first.kid));
    let retired = store.retire_signing_keys(at(2_000)).await.expect("retire");
    assert!(retired.contains(&first.kid), "{retired:?}");
    let keys = store.signing_keys().await.expect("list");
    let old = keys.iter().find(|k| k.kid == first.kid).expect("a retired key keeps its row");
    assert_eq!((old.retired_at, old.secret.is_empty()), (Some(at(2_000)), true));
    assert!(!store.stored_secrets().await.expect("secrets").iter().any(|s| s.row == first.kid));
    assert_eq!(store.signing_key().await.expect("read").expect("current").kid, second.kid);

    // A retired (or any known) key id cannot be rotated in again.
    match store.rotate_signing_key(key(&first.kid), at(3_000)).await {
        Err(StoreError::Conflict { constraint }) => assert_eq!(constraint, "signing_keys_pkey"),
        other => panic!("a retired key came back: {other:?}"),
    }
    assert_eq!(store.signing_key().await.expect("read").expect("current").kid, second.kid);
}

/// Secrets at rest are listed with their rows and replaced only where unchanged since read.
pub async fn stored_secrets_replace_only_unchanged_values(store: &dyn Store) {
    let tag = tag();
    let mine = store.rotate_signing_key(key(&format!("s-{tag}")), at(10_000)).await.expect("rotate");
    let secrets = store.stored_secrets().await.expect("secrets");
    let stored = secrets.iter().find(|s| s.row == mine.kid).expect("listed").clone();
    assert_eq!((stored.kind, stored.value.as_slice()), (SecretKind::SigningKey, mine.secret.as_slice()));
    let update = SecretUpdate { old: stored.clone(), new: b"sealed-1".to_vec() };
    assert_eq!(store.replace_secrets(std::slice::from_ref(&update)).await.expect("replace"), 1);
    // The same update again: the value changed meanwhile, so it stays.
    let stale = SecretUpdate { old: stored, new: b"sealed-2".to_vec() };
    assert_eq!(store.replace_secrets(&[stale]).await.expect("replace stale"), 0);
    let current = store.signing_key().await.expect("read").expect("current");
    assert_eq!((current.kid, current.secret), (mine.kid, b"sealed-1".to_vec()));
}

/// The first key stored stays current: later inserts, concurrent ones too, return it.
///
/// Keys are global, so on a shared database another story (or run) may have stored the first
/// key already; the story then checks that every call agrees on that one.
pub async fn signing_key_insert_if_absent(store: &dyn Store) {
    let tag = tag();
    let before = store.signing_key().await.expect("read key");
    let first = key(&format!("first-{tag}"));
    let current = store.insert_signing_key_if_absent(first.clone()).await.expect("insert first");
    match &before {
        None => {
            assert_eq!(current.kid, first.kid, "an empty store takes the key");
            assert_eq!(current.secret, first.secret);
            assert_eq!(current.algorithm, first.algorithm);
            assert_eq!(current.created_at, first.created_at);
        }
        Some(existing) => assert_eq!(current.kid, existing.kid, "an existing key stays current"),
    }

    let (a, b) = tokio::join!(
        store.insert_signing_key_if_absent(key(&format!("second-{tag}"))),
        store.insert_signing_key_if_absent(key(&format!("third-{tag}"))),
    );
    assert_eq!(a.expect("insert second").kid, current.kid);
    assert_eq!(b.expect("insert third").kid, current.kid);
    let read = store.signing_key().await.expect("read key").expect("a key");
    assert_eq!(read.kid, current.kid);
    assert_eq!(read.secret, current.secret);
}

/// Millisecond times, before and after the epoch, read back equal everywhere they are stored.
pub async fn timestamps_round_trip_exactly(store: &dyn Store) {
    let tag = tag();
    let times = [at(1_568_412_970_593), at(-1), at(-2_208_988_800_001), at(4_102_444_800_999)];
    for (i, created_at) in times.into_iter().enumerate() {
        let h = store
            .create_hirer(NewHirer { id: new_id(IdKind::Organization), name: format!("{tag} {i}"), created_at })
            .await
            .expect("create hirer");
        assert_eq!(store.get_hirer(&h.id).await.expect("get").map(|h| h.created_at), Some(created_at));
        let position = store.create_position(new_position(&h.id, "Timer", created_at)).await.expect("position");
        let read = store.get_position(&position.profile_id).await.expect("get").expect("position");
        assert_eq!(read.created_at, created_at);
        let app = application(&position, person("Tim Stamp", &format!("t{i}.{tag}@example.com")), created_at);
        store.ingest_applications(std::slice::from_ref(&app)).await.expect("ingest");
        let view = store.get_profile(&app.profile_id).await.expect("get").expect("profile");
        assert_eq!((view.created_at, view.updated_at), (created_at, created_at));
        assert_eq!((view.candidate.created_at, view.candidate.updated_at), (created_at, created_at));
    }
    let p = partner(store, &format!("{tag} ATS")).await;
    assert_eq!(store.get_partner(&p.id).await.expect("get").map(|p| p.created_at), Some(p.created_at));
}
