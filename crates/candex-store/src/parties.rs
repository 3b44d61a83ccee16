//! The parties area of the store: hirers, partners and the relationships between them.

use async_trait::async_trait;
use candex_domain::{EventType, HirerId, PartnerId, RelationshipSet, RelationshipType};
use chrono::{DateTime, Utc};

use crate::rows::{self, Columns, StoredRow};
use crate::sql::{Exec, Lock, Outbox, SqlBackend, Transaction};
use crate::*;

/// Hirers, partners and the relationships between them.
#[async_trait]
pub trait PartyStore: Send + Sync {
    /// Stores a new hirer.
    async fn create_hirer(&self, hirer: NewHirer) -> StoreResult<Hirer>;
    /// Reads one hirer.
    async fn get_hirer(&self, id: &HirerId) -> StoreResult<Option<Hirer>>;
    /// Lists every hirer by name (operator use).
    async fn list_hirers(&self) -> StoreResult<Vec<Hirer>>;

    /// Stores a new partner with its hashed client secret.
    async fn create_partner(&self, partner: NewPartner) -> StoreResult<Partner>;
    /// Reads one partner.
    async fn get_partner(&self, id: &PartnerId) -> StoreResult<Option<Partner>>;
    /// Finds a partner and its secret hash by client id, for the token endpoint.
    async fn find_partner_credentials(&self, client_id: &str) -> StoreResult<Option<PartnerCredentials>>;
    /// Lists every partner by name (operator use).
    async fn list_partners(&self) -> StoreResult<Vec<Partner>>;
    /// Rotates a partner's client secret: `new_hash` becomes current and the current one
    /// previous, both valid until [`PartyStore::retire_previous_client_secret`]. `NotFound`
    /// for an unknown partner; `Rejected` while a previous secret is still valid (retire it
    /// first: at most two secrets at a time).
    async fn rotate_client_secret(&self, partner_id: &PartnerId, new_hash: &str) -> StoreResult<()>;
    /// Retires the previous client secret; `false` when there was none. `NotFound` for an
    /// unknown partner.
    async fn retire_previous_client_secret(&self, partner_id: &PartnerId) -> StoreResult<bool>;
    /// Revokes every token issued to the partner before `at` (a later revocation moves the
    /// time on; an earlier one changes nothing). `NotFound` for an unknown partner.
    async fn revoke_partner_tokens(&self, partner_id: &PartnerId, at: DateTime<Utc>) -> StoreResult<()>;
    /// The time before which the partner's tokens are revoked (`None`: none revoked, or no
    /// such partner).
    async fn partner_tokens_not_before(&self, partner_id: &PartnerId) -> StoreResult<Option<DateTime<Utc>>>;
    /// Replaces the relationships a partner holds with a hirer; an empty list revokes all.
    /// `NotFound` when either side does not exist.
    ///
    /// When the set changes, the same transaction writes a `HirerRelationshipChanged` event
    /// (stamped `event`) into the partner's stream.
    async fn set_relationships(
        &self,
        partner_id: &PartnerId,
        hirer_id: &HirerId,
        types: &[RelationshipType],
        event: &EventStamp,
    ) -> StoreResult<RelationshipSet>;
    /// The relationships a partner holds with one hirer (empty when none or unknown).
    async fn relationships(&self, partner_id: &PartnerId, hirer_id: &HirerId) -> StoreResult<RelationshipSet>;
    /// One page of the hirers a partner has any relationship with, ordered by (name, id).
    async fn page_related_hirers(&self, query: &RelatedHirersQuery) -> StoreResult<Vec<RelatedHirer>>;
}

/// What PostgreSQL must lock where SQLite's one writer serialises for it: the partner's row,
/// so concurrent changes of one partner's relationships run one after the other and each
/// compares with the set the previous one left. `for no key update` still lets other
/// transactions reference the partner.
pub trait PartySql {
    /// `select 1 from partners where id = $1`, locking the row where needed.
    const LOCK_PARTNER: &'static str;
}

#[async_trait]
impl<B: SqlBackend + PartySql> PartyStore for B {
    #[tracing::instrument(skip_all)]
    async fn create_hirer(&self, hirer: NewHirer) -> StoreResult<Hirer> {
        let insert = "insert into hirers (id, name, name_folded, created_at) values ($1, $2, $3, $4)";
        let folded = hirer.name.to_lowercase();
        self.writer().execute(stmt!(insert, &hirer.id, &hirer.name, folded, hirer.created_at)).await?;
        Ok(Hirer { id: hirer.id, name: hirer.name, created_at: hirer.created_at })
    }

    #[tracing::instrument(skip_all)]
    async fn get_hirer(&self, id: &HirerId) -> StoreResult<Option<Hirer>> {
        let select = "select id, name, created_at from hirers where id = $1";
        self.reader().optional(stmt!(select, id), rows::hirer::<B::Db>).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_hirers(&self) -> StoreResult<Vec<Hirer>> {
        let c = B::BINARY;
        let select = format!("select id, name, created_at from hirers order by name{c}, id{c}");
        self.reader().all(stmt!(select), rows::hirer::<B::Db>).await
    }

    #[tracing::instrument(skip_all)]
    async fn create_partner(&self, partner: NewPartner) -> StoreResult<Partner> {
        let insert =
            "insert into partners (id, name, client_id, client_secret_hash, created_at) values ($1, $2, $3, $4, $5)";
        let p = &partner;
        self.writer().execute(stmt!(insert, &p.id, &p.name, &p.client_id, &p.client_secret_hash, p.created_at)).await?;
        Ok(Partner { id: partner.id, name: partner.name, client_id: partner.client_id, created_at: partner.created_at })
    }

    #[tracing::instrument(skip_all)]
    async fn get_partner(&self, id: &PartnerId) -> StoreResult<Option<Partner>> {
        let select = "select id, name, client_id, created_at from partners where id = $1";
        self.reader().optional(stmt!(select, id), rows::partner::<B::Db>).await
    }

    #[tracing::instrument(skip_all)]
    async fn find_partner_credentials(&self, client_id: &str) -> StoreResult<Option<PartnerCredentials>> {
        let select = "select id, name, client_id, client_secret_hash, previous_client_secret_hash, created_at
                      from partners where client_id = $1";
        self.reader().optional(stmt!(select, client_id), rows::partner_credentials::<B::Db>).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_partners(&self) -> StoreResult<Vec<Partner>> {
        let c = B::BINARY;
        let select = format!("select id, name, client_id, created_at from partners order by name{c}, id{c}");
        self.reader().all(stmt!(select), rows::partner::<B::Db>).await
    }

    #[tracing::instrument(skip_all)]
    async fn rotate_client_secret(&self, partner_id: &PartnerId, new_hash: &str) -> StoreResult<()> {
        let rotate = "update partners set previous_client_secret_hash = client_secret_hash, client_secret_hash = $2
                      where id = $1 and previous_client_secret_hash is null";
        if self.writer().execute(stmt!(rotate, partner_id, new_hash)).await? == 1 {
            return Ok(());
        }
        match self.reader().exists(stmt!("select 1 from partners where id = $1", partner_id)).await? {
            true => Err(StoreError::Rejected(
                "the partner has two client secrets already: retire the previous one before rotating again".into(),
            )),
            false => Err(StoreError::NotFound("partner")),
        }
    }

    #[tracing::instrument(skip_all)]
    async fn retire_previous_client_secret(&self, partner_id: &PartnerId) -> StoreResult<bool> {
        let retire = "update partners set previous_client_secret_hash = null
                      where id = $1 and previous_client_secret_hash is not null";
        if self.writer().execute(stmt!(retire, partner_id)).await? == 1 {
            return Ok(true);
        }
        match self.reader().exists(stmt!("select 1 from partners where id = $1", partner_id)).await? {
            true => Ok(false),
            false => Err(StoreError::NotFound("partner")),
        }
    }

    #[tracing::instrument(skip_all)]
    async fn revoke_partner_tokens(&self, partner_id: &PartnerId, at: DateTime<Utc>) -> StoreResult<()> {
        let revoke = "update partners set tokens_not_before = $2
                      where id = $1 and (tokens_not_before is null or tokens_not_before < $2)";
        if self.writer().execute(stmt!(revoke, partner_id, at)).await? == 1 {
            return Ok(());
        }
        match self.reader().exists(stmt!("select 1 from partners where id = $1", partner_id)).await? {
            true => Ok(()),
            false => Err(StoreError::NotFound("partner")),
        }
    }

    #[tracing::instrument(skip_all)]
    async fn partner_tokens_not_before(&self, partner_id: &PartnerId) -> StoreResult<Option<DateTime<Utc>>> {
        let select = "select tokens_not_before from partners where id = $1";
        let read = self
            .point_reader()
            .optional(stmt!(select, partner_id), |row| StoredRow::<B::PointDb>::new(row).opt_time("tokens_not_before"))
            .await?;
        Ok(read.flatten())
    }

    #[tracing::instrument(skip_all)]
    async fn set_relationships(
        &self,
        partner_id: &PartnerId,
        hirer_id: &HirerId,
        types: &[RelationshipType],
        event: &EventStamp,
    ) -> StoreResult<RelationshipSet> {
        let mut tx = self.begin().await?;
        // The event order first (see `Lock::EventOrder`), then the partner's row.
        tx.lock(Lock::EventOrder).await?;
        if !tx.exists(stmt!(B::LOCK_PARTNER, partner_id)).await? {
            return Err(StoreError::NotFound("partner"));
        }
        if !tx.exists(stmt!("select 1 from hirers where id = $1", hirer_id)).await? {
            return Err(StoreError::NotFound("hirer"));
        }
        let before = read_set::<B::Db>(&mut tx, partner_id, hirer_id).await?;
        tx.execute(stmt!("delete from relationships where partner_id = $1 and hirer_id = $2", partner_id, hirer_id))
            .await?;
        // Through the set, so a type given twice is stored once.
        let set: RelationshipSet = types.iter().copied().collect();
        let codes: Vec<&str> = set.types().into_iter().map(RelationshipType::code).collect();
        let insert = format!(
            "insert into relationships (partner_id, hirer_id, type_code) select $1, $2, value from ({}) as l",
            B::list("$3")
        );
        tx.execute(stmt!(insert, partner_id, hirer_id, codes)).await?;
        if set != before {
            let outbox = Outbox {
                id: &event.id,
                event_type: EventType::HirerRelationshipChanged,
                hirer_id,
                at: event.at,
                candidate_profile_id: None,
                candidate_id: None,
                position_profile_id: None,
                only_partner: Some(partner_id),
            };
            B::emit(&mut tx, outbox).await?;
        }
        tx.commit().await?;
        Ok(set)
    }

    #[tracing::instrument(skip_all)]
    async fn relationships(&self, partner_id: &PartnerId, hirer_id: &HirerId) -> StoreResult<RelationshipSet> {
        read_set::<B::PointDb>(&mut self.point_reader(), partner_id, hirer_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn page_related_hirers(&self, query: &RelatedHirersQuery) -> StoreResult<Vec<RelatedHirer>> {
        let (c, order) = (B::BINARY, if query.from_end { " desc" } else { "" });
        // `$3` is the list of type codes, `$10` whether it is empty (keeps all). Keys compare
        // in binary order on every backend.
        let select = format!(
            "select h.id, h.name, h.created_at, {agg} as type_codes
             from relationships r
             join hirers h on h.id = r.hirer_id
             where r.partner_id = $1
               and ($2 is null or {contains})
               and ($10 or exists (
                     select 1 from relationships t
                     where t.partner_id = r.partner_id and t.hirer_id = r.hirer_id
                       and t.type_code in ({codes})))
               and ($4 is null or (h.name{c}, h.id{c}) > ($4, $5))
               and ($6 is null or (h.name{c}, h.id{c}) < ($6, $7))
               and ($9 is null or h.id = $9)
             group by h.id, h.name, h.created_at
             order by h.name{c}{order}, h.id{c}{order} limit $8",
            agg = B::join_commas("r.type_code"),
            contains = B::contains("h.name_folded", "$2"),
            codes = B::list("$3"),
        );
        let codes: Vec<&str> = query.types.iter().map(|t| t.code()).collect();
        let all_types = codes.is_empty();
        let (after, before) = (query.after.as_ref(), query.before.as_ref());
        let stmt = stmt!(
            select,
            &query.partner_id,
            query.name_search.as_ref().map(|s| s.to_lowercase()),
            codes,
            after.map(|k| k.name.as_str()),
            after.map(|k| k.id.as_str()),
            before.map(|k| k.name.as_str()),
            before.map(|k| k.id.as_str()),
            query.limit,
            query.only_hirer.as_ref(),
            all_types,
        );
        let mut page = self.reader().all(stmt, rows::related_hirer::<B::Db>).await?;
        if query.from_end {
            page.reverse();
        }
        Ok(page)
    }
}

/// The relationships a partner holds with a hirer.
async fn read_set<C: Columns>(
    exec: &mut impl Exec<Row = C::Row>,
    partner_id: &PartnerId,
    hirer_id: &HirerId,
) -> StoreResult<RelationshipSet> {
    let select = "select type_code from relationships where partner_id = $1 and hirer_id = $2";
    let codes = exec.all(stmt!(select, partner_id, hirer_id), |row| StoredRow::<C>::new(row).text("type_code")).await?;
    Ok(codes.iter().filter_map(|c| RelationshipType::parse(c)).collect())
}
