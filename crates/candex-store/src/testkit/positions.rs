//! Stories about job ads: create, read by either id, list, close.

use candex_domain::IdKind;

use super::{assert_conflict, assert_not_found, hirer, new_id, new_position, stamp, t, tag};
use crate::{PositionStatus, Store};

/// A job ad reads back as created by either id, lists newest first, and closes once.
pub async fn positions_lifecycle(store: &dyn Store) {
    let tag = tag();
    let h = hirer(store, &format!("{tag} hirer")).await;
    let other = hirer(store, &format!("{tag} other")).await;

    let new = new_position(&h.id, "Barista", t(0));
    let older = store.create_position(new.clone()).await.expect("create");
    assert_eq!(older.profile_id, new.profile_id);
    assert_eq!(older.hirer_name, h.name);
    assert_eq!(older.details, new.details);
    assert_eq!(older.status, PositionStatus::Open);
    assert_eq!(older.closed_at, None);
    assert_eq!(store.get_position(&older.profile_id).await.expect("get"), Some(older.clone()));
    assert_eq!(store.get_position_by_opening(&older.opening_id).await.expect("by opening"), Some(older.clone()));
    assert_eq!(store.get_position(&new_id(IdKind::PositionProfile)).await.expect("unknown"), None);
    assert_eq!(store.get_position_by_opening(&new_id(IdKind::PositionOpening)).await.expect("unknown"), None);

    let mut bare = new_position(&h.id, "Chef", t(60_000));
    bare.seek_hirer_job_reference = None;
    bare.details = Default::default();
    bare.location_id = None;
    bare.job_category_id = None;
    let newer = store.create_position(bare).await.expect("create bare");
    assert_eq!(store.get_position(&newer.profile_id).await.expect("get bare"), Some(newer.clone()));
    let theirs = store.create_position(new_position(&other.id, "Waiter", t(30_000))).await.expect("create");

    // Several at once, across hirers; unknown ids left out.
    let mut several = store
        .get_positions(&[theirs.profile_id.clone(), new_id(IdKind::PositionProfile), older.profile_id.clone()])
        .await
        .expect("get several");
    several.sort_by_key(|p| p.created_at);
    assert_eq!(several, vec![older.clone(), theirs.clone()]);
    assert!(store.get_positions(&[]).await.expect("none").is_empty());

    let listed = store.list_positions(Some(&h.id)).await.expect("list");
    assert_eq!(listed, vec![newer.clone(), older.clone()], "one hirer's ads, newest first");
    let all = store.list_positions(None).await.expect("list all");
    assert!(all.contains(&older) && all.contains(&newer) && all.contains(&theirs));
    assert!(all.windows(2).all(|w| w[0].created_at >= w[1].created_at), "newest first");

    let closed = store.close_position(&older.profile_id, &stamp()).await.expect("close");
    assert_eq!(closed.status, PositionStatus::Closed);
    let closed_at = closed.closed_at.expect("closing time");
    let again = store.close_position(&older.profile_id, &stamp()).await.expect("close again");
    assert_eq!(again.closed_at, Some(closed_at), "closing twice keeps the first closing time");
    assert_eq!(store.get_position(&older.profile_id).await.expect("get closed"), Some(closed.clone()));
    assert_eq!(
        store.get_position(&newer.profile_id).await.expect("get").map(|p| p.status),
        Some(PositionStatus::Open),
        "closing one ad leaves the others open"
    );
    assert_not_found(store.close_position(&new_id(IdKind::PositionProfile), &stamp()).await, "position profile");

    assert_not_found(store.create_position(new_position(&new_id(IdKind::Organization), "Ghost", t(0))).await, "hirer");
    let mut same_opening = new_position(&h.id, "Copy", t(0));
    same_opening.opening_id = older.opening_id.clone();
    assert_conflict(store.create_position(same_opening).await, "positions_opening_id_key");
}

/// The server's public URL: recorded at each start, the latest one read back.
pub async fn public_url_is_recorded_and_replaced(store: &dyn Store) {
    let tag = tag();
    let first = format!("https://{tag}.example.com");
    store.record_public_url(&first, t(0)).await.expect("record");
    assert_eq!(store.recorded_public_url().await.expect("read"), Some(first));
    let second = format!("http://{tag}.internal:8080");
    store.record_public_url(&second, t(1_000)).await.expect("record again");
    assert_eq!(store.recorded_public_url().await.expect("read again"), Some(second));
}
