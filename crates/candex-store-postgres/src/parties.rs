//! Hirers, partners and the relationships between them, including the keyset-paged list of
//! the hirers a partner is related to.

use candex_domain::{EventType, ObjectId, RelationshipSet, RelationshipType};
use candex_store::rows;
use candex_store::{
    EventStamp, Hirer, NewHirer, NewPartner, Partner, PartnerCredentials, RelatedHirer, RelatedHirersQuery, StoreError,
    StoreResult,
};
use sqlx::{PgPool, Postgres, Transaction};

use crate::codec::{millis, Db};
use crate::error::map_err;

pub(crate) async fn create_hirer(pool: &PgPool, hirer: NewHirer) -> StoreResult<Hirer> {
    sqlx::query("insert into hirers (id, name, name_folded, created_at) values ($1, $2, $3, $4)")
        .bind(hirer.id.as_str())
        .bind(&hirer.name)
        .bind(hirer.name.to_lowercase())
        .bind(millis(&hirer.created_at))
        .execute(pool)
        .await
        .map_err(map_err)?;
    Ok(Hirer { id: hirer.id, name: hirer.name, created_at: hirer.created_at })
}

pub(crate) async fn get_hirer(pool: &PgPool, id: &ObjectId) -> StoreResult<Option<Hirer>> {
    let row = sqlx::query("select id, name, created_at from hirers where id = $1")
        .bind(id.as_str())
        .fetch_optional(pool)
        .await
        .map_err(map_err)?;
    row.as_ref().map(rows::hirer::<Db>).transpose()
}

pub(crate) async fn list_hirers(pool: &PgPool) -> StoreResult<Vec<Hirer>> {
    let rows = sqlx::query(r#"select id, name, created_at from hirers order by name collate "C", id collate "C""#)
        .fetch_all(pool)
        .await
        .map_err(map_err)?;
    rows.iter().map(rows::hirer::<Db>).collect()
}

pub(crate) async fn create_partner(pool: &PgPool, partner: NewPartner) -> StoreResult<Partner> {
    sqlx::query(
        "insert into partners (id, name, client_id, client_secret_hash, created_at) values ($1, $2, $3, $4, $5)",
    )
    .bind(partner.id.as_str())
    .bind(&partner.name)
    .bind(&partner.client_id)
    .bind(&partner.client_secret_hash)
    .bind(millis(&partner.created_at))
    .execute(pool)
    .await
    .map_err(map_err)?;
    Ok(Partner { id: partner.id, name: partner.name, client_id: partner.client_id, created_at: partner.created_at })
}

pub(crate) async fn get_partner(pool: &PgPool, id: &ObjectId) -> StoreResult<Option<Partner>> {
    let row = sqlx::query("select id, name, client_id, created_at from partners where id = $1")
        .bind(id.as_str())
        .fetch_optional(pool)
        .await
        .map_err(map_err)?;
    row.as_ref().map(rows::partner::<Db>).transpose()
}

pub(crate) async fn find_partner_credentials(
    pool: &PgPool,
    client_id: &str,
) -> StoreResult<Option<PartnerCredentials>> {
    let row =
        sqlx::query("select id, name, client_id, client_secret_hash, created_at from partners where client_id = $1")
            .bind(client_id)
            .fetch_optional(pool)
            .await
            .map_err(map_err)?;
    row.as_ref().map(rows::partner_credentials::<Db>).transpose()
}

pub(crate) async fn list_partners(pool: &PgPool) -> StoreResult<Vec<Partner>> {
    let rows = sqlx::query(
        r#"select id, name, client_id, created_at from partners order by name collate "C", id collate "C""#,
    )
    .fetch_all(pool)
    .await
    .map_err(map_err)?;
    rows.iter().map(rows::partner::<Db>).collect()
}

/// True when `sql` (a `select 1 … where id = $1` of ours) finds a row for `id`.
pub(crate) async fn exists(tx: &mut Transaction<'_, Postgres>, sql: &'static str, id: &ObjectId) -> StoreResult<bool> {
    let row = sqlx::query(sql).bind(id.as_str()).fetch_optional(&mut **tx).await.map_err(map_err)?;
    Ok(row.is_some())
}

/// The relationships a partner holds with a hirer, read through any executor.
async fn read_set<'e>(
    executor: impl sqlx::Executor<'e, Database = Postgres>,
    partner_id: &ObjectId,
    hirer_id: &ObjectId,
) -> StoreResult<RelationshipSet> {
    let codes: Vec<String> =
        sqlx::query_scalar("select type_code from relationships where partner_id = $1 and hirer_id = $2")
            .bind(partner_id.as_str())
            .bind(hirer_id.as_str())
            .fetch_all(executor)
            .await
            .map_err(map_err)?;
    Ok(codes.iter().filter_map(|c| RelationshipType::parse(c)).collect())
}

pub(crate) async fn set_relationships(
    pool: &PgPool,
    partner_id: &ObjectId,
    hirer_id: &ObjectId,
    types: &[RelationshipType],
    event: &EventStamp,
) -> StoreResult<RelationshipSet> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    // The event lock first (see `locks::EVENT_ORDER`), then the partner's row: concurrent
    // changes of one partner's relationships run one after the other, so each compares with
    // the set the previous one left and none is lost. `for no key update` still lets other
    // transactions reference the partner (stream rows of other events).
    crate::locks::lock(&mut tx, crate::locks::EVENT_ORDER).await?;
    if !exists(&mut tx, "select 1 from partners where id = $1 for no key update", partner_id).await? {
        return Err(StoreError::NotFound("partner"));
    }
    if !exists(&mut tx, "select 1 from hirers where id = $1", hirer_id).await? {
        return Err(StoreError::NotFound("hirer"));
    }
    let before = read_set(&mut *tx, partner_id, hirer_id).await?;
    // Through the set, so a type given twice is stored once.
    let set: RelationshipSet = types.iter().copied().collect();
    replace_set(&mut tx, partner_id, hirer_id, set).await?;
    if set != before {
        crate::events::emit(
            &mut tx,
            crate::events::Outbox {
                id: &event.id,
                event_type: EventType::HirerRelationshipChanged,
                hirer_id,
                at: event.at,
                candidate_profile_id: None,
                candidate_id: None,
                position_profile_id: None,
                only_partner: Some(partner_id),
            },
        )
        .await?;
    }
    tx.commit().await.map_err(map_err)?;
    Ok(set)
}

/// Replaces the stored relationships of (partner, hirer) with `set`: one delete, one insert.
async fn replace_set(
    tx: &mut Transaction<'_, Postgres>,
    partner_id: &ObjectId,
    hirer_id: &ObjectId,
    set: RelationshipSet,
) -> StoreResult<()> {
    sqlx::query("delete from relationships where partner_id = $1 and hirer_id = $2")
        .bind(partner_id.as_str())
        .bind(hirer_id.as_str())
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    let codes: Vec<&str> = set.types().into_iter().map(RelationshipType::code).collect();
    sqlx::query(
        "insert into relationships (partner_id, hirer_id, type_code) select $1, $2, code from unnest($3::text[]) code",
    )
    .bind(partner_id.as_str())
    .bind(hirer_id.as_str())
    .bind(codes)
    .execute(&mut **tx)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub(crate) async fn relationships(
    pool: &PgPool,
    partner_id: &ObjectId,
    hirer_id: &ObjectId,
) -> StoreResult<RelationshipSet> {
    read_set(pool, partner_id, hirer_id).await
}

/// The page query in both directions. `$3` is an array of type codes (empty keeps all);
/// `strpos` on the case-folded name is a literal substring test, so `%` and `_` in a search
/// match only themselves and need no LIKE escaping. Keys compare with `collate "C"`, SQLite's
/// binary order.
const RELATED_HIRERS_SQL_HEAD: &str = r#"
    select h.id, h.name, h.created_at, string_agg(r.type_code, ',') as type_codes
    from relationships r
    join hirers h on h.id = r.hirer_id
    where r.partner_id = $1
      and ($2::text is null or strpos(h.name_folded, $2) > 0)
      and (cardinality($3::text[]) = 0 or exists (
            select 1 from relationships t
            where t.partner_id = r.partner_id and t.hirer_id = r.hirer_id and t.type_code = any($3)))
      and ($4::text is null or (h.name collate "C", h.id collate "C") > ($4, $5))
      and ($6::text is null or (h.name collate "C", h.id collate "C") < ($6, $7))
      and ($9::text is null or h.id = $9)
    group by h.id
"#;

pub(crate) async fn page_related_hirers(pool: &PgPool, query: &RelatedHirersQuery) -> StoreResult<Vec<RelatedHirer>> {
    const FORWARD: &str = r#"order by h.name collate "C", h.id collate "C" limit $8"#;
    const BACKWARD: &str = r#"order by h.name collate "C" desc, h.id collate "C" desc limit $8"#;
    let sql = format!("{RELATED_HIRERS_SQL_HEAD}{}", if query.from_end { BACKWARD } else { FORWARD });
    let codes: Vec<&str> = query.types.iter().map(|t| t.code()).collect();
    let rows = sqlx::query(&sql)
        .bind(query.partner_id.as_str())
        .bind(query.name_search.as_ref().map(|s| s.to_lowercase()))
        .bind(codes)
        .bind(query.after.as_ref().map(|k| k.name.as_str()))
        .bind(query.after.as_ref().map(|k| k.id.as_str()))
        .bind(query.before.as_ref().map(|k| k.name.as_str()))
        .bind(query.before.as_ref().map(|k| k.id.as_str()))
        .bind(i64::from(query.limit))
        .bind(query.only_hirer.as_ref().map(|h| h.as_str()))
        .fetch_all(pool)
        .await
        .map_err(map_err)?;
    let mut page = rows.iter().map(rows::related_hirer::<Db>).collect::<StoreResult<Vec<_>>>()?;
    if query.from_end {
        page.reverse();
    }
    Ok(page)
}

#[async_trait::async_trait]
impl candex_store::PartyStore for crate::PgStore {
    #[tracing::instrument(skip_all)]
    async fn create_hirer(&self, hirer: NewHirer) -> StoreResult<Hirer> {
        crate::parties::create_hirer(&self.pool, hirer).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_hirer(&self, id: &ObjectId) -> StoreResult<Option<Hirer>> {
        crate::parties::get_hirer(&self.pool, id).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_hirers(&self) -> StoreResult<Vec<Hirer>> {
        crate::parties::list_hirers(&self.pool).await
    }

    #[tracing::instrument(skip_all)]
    async fn create_partner(&self, partner: NewPartner) -> StoreResult<Partner> {
        crate::parties::create_partner(&self.pool, partner).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_partner(&self, id: &ObjectId) -> StoreResult<Option<Partner>> {
        crate::parties::get_partner(&self.pool, id).await
    }

    #[tracing::instrument(skip_all)]
    async fn find_partner_credentials(&self, client_id: &str) -> StoreResult<Option<PartnerCredentials>> {
        crate::parties::find_partner_credentials(&self.pool, client_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_partners(&self) -> StoreResult<Vec<Partner>> {
        crate::parties::list_partners(&self.pool).await
    }

    #[tracing::instrument(skip_all)]
    async fn set_relationships(
        &self,
        partner_id: &ObjectId,
        hirer_id: &ObjectId,
        types: &[RelationshipType],
        event: &EventStamp,
    ) -> StoreResult<RelationshipSet> {
        crate::parties::set_relationships(&self.pool, partner_id, hirer_id, types, event).await
    }

    #[tracing::instrument(skip_all)]
    async fn relationships(&self, partner_id: &ObjectId, hirer_id: &ObjectId) -> StoreResult<RelationshipSet> {
        crate::parties::relationships(&self.pool, partner_id, hirer_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn page_related_hirers(&self, query: &RelatedHirersQuery) -> StoreResult<Vec<RelatedHirer>> {
        crate::parties::page_related_hirers(&self.pool, query).await
    }
}
