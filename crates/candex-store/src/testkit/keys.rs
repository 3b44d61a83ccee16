//! Stories about signing keys and about times surviving storage exactly.

use candex_domain::IdKind;

use super::{application, at, new_id, new_position, partner, person, tag};
use crate::{NewHirer, SigningKey, Store};

fn key(kid: &str) -> SigningKey {
    SigningKey {
        kid: kid.to_owned(),
        algorithm: "HS256".to_owned(),
        secret: kid.as_bytes().repeat(4),
        created_at: at(0),
    }
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
