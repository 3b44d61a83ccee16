//! Stories about hirers, partners, relationships and the related-hirer pages.

use candex_domain::{IdKind, RelationshipSet, RelationshipType};

use super::{assert_conflict, assert_not_found, hirer, new_id, partner, stamp, t, tag};
use crate::{Hirer, HirerKey, NewHirer, NewPartner, RelatedHirersQuery, Store, StoreError};

use RelationshipType::{ApplicationExport as Export, JobPosting as Posting, ProactiveSourcing as Sourcing};

/// Hirers read back as created, list by (name, id), and ids are unique.
pub async fn hirers_round_trip_and_list(store: &dyn Store) {
    let tag = tag();
    let b = hirer(store, &format!("{tag} b")).await;
    let a1 = hirer(store, &format!("{tag} a")).await;
    let a2 = hirer(store, &format!("{tag} a")).await;

    assert_eq!(store.get_hirer(&b.id).await.expect("get"), Some(b.clone()));
    assert_eq!(store.get_hirer(&new_id(IdKind::Organization)).await.expect("get unknown"), None);

    let all = store.list_hirers().await.expect("list");
    let keys: Vec<(&str, &str)> = all.iter().map(|h| (h.name.as_str(), h.id.as_str())).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "hirers are listed by (name, id)");
    let mine: Vec<&Hirer> = all.iter().filter(|h| h.name.starts_with(&tag)).collect();
    let (first_a, second_a) = if a1.id < a2.id { (&a1, &a2) } else { (&a2, &a1) };
    assert_eq!(mine, vec![first_a, second_a, &b]);

    let again = NewHirer { id: b.id.clone(), name: "other".to_owned(), created_at: t(1) };
    assert_conflict(store.create_hirer(again).await, "hirers_pkey");
}

/// Partners read back without their secret hash, except through the credentials lookup.
pub async fn partners_round_trip_and_credentials(store: &dyn Store) {
    let tag = tag();
    let p = partner(store, &format!("{tag} ATS")).await;
    assert_eq!(store.get_partner(&p.id).await.expect("get"), Some(p.clone()));
    assert_eq!(store.get_partner(&new_id(IdKind::Partner)).await.expect("get unknown"), None);

    let creds = store.find_partner_credentials(&p.client_id).await.expect("credentials").expect("found");
    assert_eq!(creds.partner, p);
    assert_eq!(creds.client_secret_hash, "ab".repeat(32));
    assert!(store.find_partner_credentials(&format!("nobody-{tag}")).await.expect("unknown client").is_none());

    let listed = store.list_partners().await.expect("list");
    assert!(listed.contains(&p), "list_partners holds the new partner");
    let names: Vec<&str> = listed.iter().map(|p| p.name.as_str()).collect();
    assert!(names.windows(2).all(|w| w[0] <= w[1]), "partners are listed by name");

    let same_client = NewPartner {
        id: new_id(IdKind::Partner),
        name: format!("{tag} copycat"),
        client_id: p.client_id.clone(),
        client_secret_hash: "cd".repeat(32),
        created_at: t(0),
    };
    assert_conflict(store.create_partner(same_client).await, "partners_client_id_key");
}

/// A client secret rotates with an overlap (two valid until the previous one is retired, no
/// third), and a revocation time only moves forward.
pub async fn client_secret_rotation_and_token_revocation(store: &dyn Store) {
    let tag = tag();
    let p = partner(store, &format!("{tag} ATS")).await;
    let creds = store.find_partner_credentials(&p.client_id).await.expect("credentials").expect("found");
    assert_eq!(creds.previous_client_secret_hash, None);

    store.rotate_client_secret(&p.id, &"cd".repeat(32)).await.expect("rotate");
    let creds = store.find_partner_credentials(&p.client_id).await.expect("credentials").expect("found");
    assert_eq!(
        (creds.client_secret_hash.as_str(), creds.previous_client_secret_hash.as_deref()),
        ("cd".repeat(32).as_str(), Some("ab".repeat(32).as_str()))
    );
    match store.rotate_client_secret(&p.id, &"ef".repeat(32)).await {
        Err(StoreError::Rejected(message)) => assert!(message.contains("retire the previous"), "{message}"),
        other => panic!("a third secret was accepted: {other:?}"),
    }
    assert!(store.retire_previous_client_secret(&p.id).await.expect("retire"));
    assert!(!store.retire_previous_client_secret(&p.id).await.expect("retire again"), "nothing left to retire");
    let creds = store.find_partner_credentials(&p.client_id).await.expect("credentials").expect("found");
    assert_eq!((creds.client_secret_hash, creds.previous_client_secret_hash), ("cd".repeat(32), None));
    let unknown = new_id(IdKind::Partner);
    assert_not_found(store.rotate_client_secret(&unknown, &"ef".repeat(32)).await, "partner");
    assert_not_found(store.retire_previous_client_secret(&unknown).await, "partner");

    assert_eq!(store.partner_tokens_not_before(&p.id).await.expect("read"), None);
    store.revoke_partner_tokens(&p.id, t(60)).await.expect("revoke");
    assert_eq!(store.partner_tokens_not_before(&p.id).await.expect("read"), Some(t(60)));
    store.revoke_partner_tokens(&p.id, t(30)).await.expect("revoke earlier");
    assert_eq!(store.partner_tokens_not_before(&p.id).await.expect("read"), Some(t(60)), "never moves back");
    assert_not_found(store.revoke_partner_tokens(&unknown, t(60)).await, "partner");
    assert_eq!(store.partner_tokens_not_before(&unknown).await.expect("read unknown"), None);
}

/// Setting relationships replaces them; an empty list revokes; unknown sides are NotFound.
pub async fn relationships_set_replace_and_revoke(store: &dyn Store) {
    let tag = tag();
    let p = partner(store, &format!("{tag} ATS")).await;
    let h = hirer(store, &format!("{tag} hirer")).await;
    let other = hirer(store, &format!("{tag} other")).await;

    let set = store.set_relationships(&p.id, &h.id, &[Export, Posting, Export], &stamp()).await.expect("set");
    assert_eq!(set.types(), vec![Export, Posting]);
    assert_eq!(store.relationships(&p.id, &h.id).await.expect("read"), set);
    store.set_relationships(&p.id, &other.id, &[Sourcing], &stamp()).await.expect("set other");

    let replaced = store.set_relationships(&p.id, &h.id, &[Sourcing], &stamp()).await.expect("replace");
    assert_eq!(replaced.types(), vec![Sourcing]);
    assert_eq!(store.relationships(&p.id, &h.id).await.expect("read"), replaced);

    let revoked = store.set_relationships(&p.id, &h.id, &[], &stamp()).await.expect("revoke");
    assert!(revoked.is_empty());
    assert_eq!(store.relationships(&p.id, &h.id).await.expect("read"), RelationshipSet::NONE);
    let untouched = store.relationships(&p.id, &other.id).await.expect("read other");
    assert_eq!(untouched.types(), vec![Sourcing], "revoking one hirer leaves the others");

    assert_not_found(store.set_relationships(&new_id(IdKind::Partner), &h.id, &[Export], &stamp()).await, "partner");
    assert_not_found(store.set_relationships(&p.id, &new_id(IdKind::Organization), &[Export], &stamp()).await, "hirer");
    let unknown = store.relationships(&new_id(IdKind::Partner), &h.id).await.expect("unknown partner");
    assert!(unknown.is_empty());

    // `only_hirer` narrows the related hirers to one (a browser token's bound hirer).
    let only_other = RelatedHirersQuery { only_hirer: Some(other.id.clone()), ..query(&p.id, 10) };
    let page = store.page_related_hirers(&only_other).await.expect("only other");
    assert_eq!(page.iter().map(|r| &r.hirer.id).collect::<Vec<_>>(), vec![&other.id]);
    let only_unrelated = RelatedHirersQuery { only_hirer: Some(h.id.clone()), ..query(&p.id, 10) };
    assert!(store.page_related_hirers(&only_unrelated).await.expect("only h").is_empty(), "h was revoked");
}

fn query(partner_id: &candex_domain::PartnerId, limit: u32) -> RelatedHirersQuery {
    RelatedHirersQuery {
        partner_id: partner_id.clone(),
        name_search: None,
        types: vec![],
        after: None,
        before: None,
        limit,
        from_end: false,
        only_hirer: None,
    }
}

fn key(h: &Hirer) -> HirerKey {
    HirerKey { name: h.name.clone(), id: h.id.clone() }
}

async fn page_names(store: &dyn Store, q: &RelatedHirersQuery) -> Vec<String> {
    let page = store.page_related_hirers(q).await.expect("page related hirers");
    page.into_iter().map(|r| r.hirer.name).collect()
}

/// Pages walk (name, id) order forwards with `after` and backwards with `before`/`from_end`,
/// always ascending, and only over hirers related to the asking partner.
pub async fn related_hirers_page_forward_and_backward(store: &dyn Store) {
    let tag = tag();
    let p = partner(store, &format!("{tag} ATS")).await;
    let mut hirers = Vec::new();
    // Created out of order, with a name tie that the id must break.
    for name in ["delta", "alpha", "echo", "charlie", "bravo", "charlie"] {
        let h = hirer(store, &format!("{tag} {name}")).await;
        store.set_relationships(&p.id, &h.id, &[Export], &stamp()).await.expect("relate");
        hirers.push(h);
    }
    let unrelated = hirer(store, &format!("{tag} aaa unrelated")).await;
    let someone_else = partner(store, &format!("{tag} other ATS")).await;
    store.set_relationships(&someone_else.id, &unrelated.id, &[Export], &stamp()).await.expect("relate other");
    hirers.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    let expected: Vec<String> = hirers.iter().map(|h| h.name.clone()).collect();

    // Forward, two at a time.
    let mut seen = Vec::new();
    let mut q = query(&p.id, 2);
    loop {
        let page = store.page_related_hirers(&q).await.expect("page");
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        q.after = Some(key(&last.hirer));
        assert!(page.iter().all(|r| r.relationships.types() == vec![Export]));
        seen.extend(page.into_iter().map(|r| r.hirer));
    }
    assert_eq!(seen, hirers, "forward pages cover every related hirer once, in order");

    // From the end: the last two, still ascending.
    let mut q = query(&p.id, 2);
    q.from_end = true;
    assert_eq!(page_names(store, &q).await, expected[4..].to_vec());
    // Then the two before those.
    q.before = Some(key(&hirers[4]));
    assert_eq!(page_names(store, &q).await, expected[2..4].to_vec());
    // `before` without `from_end` takes from the start of the range.
    q.from_end = false;
    assert_eq!(page_names(store, &q).await, expected[..2].to_vec());
    // Between two keys, with the tie on "charlie" split by id.
    let mut q = query(&p.id, 10);
    q.after = Some(key(&hirers[2]));
    q.before = Some(key(&hirers[5]));
    assert_eq!(page_names(store, &q).await, expected[3..5].to_vec());
    assert!(page_names(store, &query(&p.id, 0)).await.is_empty(), "limit 0 gives nothing");
}

/// `types` keeps hirers with at least one listed type (showing all they hold); `name_search`
/// is a case-insensitive literal substring, where `%` and `_` match only themselves.
pub async fn related_hirers_filters_and_name_search(store: &dyn Store) {
    let tag = tag();
    let p = partner(store, &format!("{tag} ATS")).await;
    let cases: [(&str, &[RelationshipType]); 5] = [
        ("100% Legit", &[Export]),
        ("100 Percent", &[Posting]),
        ("snake_case", &[Export, Sourcing]),
        ("snakeXcase", &[Sourcing]),
        ("MiXeD Case Pty", &[Export]),
    ];
    for (name, types) in cases {
        let h = hirer(store, &format!("{tag} {name}")).await;
        store.set_relationships(&p.id, &h.id, types, &stamp()).await.expect("relate");
    }
    let names = |list: &[&str]| list.iter().map(|n| format!("{tag} {n}")).collect::<Vec<_>>();

    let mut q = query(&p.id, 10);
    q.types = vec![Posting];
    assert_eq!(page_names(store, &q).await, names(&["100 Percent"]));
    q.types = vec![Sourcing];
    let page = store.page_related_hirers(&q).await.expect("page");
    assert_eq!(page.len(), 2);
    assert_eq!(page[0].hirer.name, format!("{tag} snakeXcase"));
    assert_eq!(page[1].relationships.types(), vec![Export, Sourcing], "all types held are returned");
    q.types = vec![Export, Posting];
    assert_eq!(page_names(store, &q).await, names(&["100 Percent", "100% Legit", "MiXeD Case Pty", "snake_case"]));

    let mut q = query(&p.id, 10);
    q.name_search = Some("100%".to_owned());
    assert_eq!(page_names(store, &q).await, names(&["100% Legit"]));
    q.name_search = Some("e_c".to_owned());
    assert_eq!(page_names(store, &q).await, names(&["snake_case"]));
    q.name_search = Some("mixed CASE".to_owned());
    assert_eq!(page_names(store, &q).await, names(&["MiXeD Case Pty"]));
    q.name_search = Some(format!("{} snake", tag.to_uppercase()));
    assert_eq!(page_names(store, &q).await, names(&["snakeXcase", "snake_case"]));
    q.types = vec![Export];
    assert_eq!(page_names(store, &q).await, names(&["snake_case"]), "filters combine");
    q.name_search = Some("no such hirer".to_owned());
    assert!(page_names(store, &q).await.is_empty());
}
