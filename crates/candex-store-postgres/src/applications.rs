//! Applications: ingesting them (candidate matched per hirer on email, plus the profile
//! snapshot), reading profiles with their live candidate and job ad in one statement, and the
//! candidate and job-ad views over them.

use candex_domain::{EventType, ObjectId, Person, RelationshipSet};
use candex_store::rows::{self, ViewBuilder};
use candex_store::{candidate_columns, profile_select};
use candex_store::{
    ApplicationSummary, Candidate, IngestedApplication, NewApplicationRecord, PositionStatus, ProfileView, StoreError,
    StoreResult,
};
use sqlx::{PgPool, Postgres, Transaction};

use crate::codec::{cols, id_strs, millis, to_json, Db};
use crate::error::map_err;

pub(crate) async fn ingest_applications(
    pool: &PgPool,
    applications: &[NewApplicationRecord],
) -> StoreResult<Vec<IngestedApplication>> {
    if applications.is_empty() {
        return Ok(Vec::new());
    }
    // One transaction for the batch: an error returns early and dropping `tx` rolls back,
    // so nothing of the batch is stored. The event lock comes first (see
    // `locks::EVENT_ORDER`): profiles then get their `seq` in commit order, so a job ad's
    // application pages never skip one committed late.
    let mut tx = pool.begin().await.map_err(map_err)?;
    crate::locks::lock(&mut tx, crate::locks::EVENT_ORDER).await?;
    let mut ingested = Vec::with_capacity(applications.len());
    for application in applications {
        ingested.push(ingest_one(&mut tx, application).await?);
    }
    tx.commit().await.map_err(map_err)?;
    Ok(ingested)
}

/// The job ad an application is for: its hirer and questionnaire, once checked open. The row
/// stays share-locked until commit, so the ad cannot close under the application.
async fn open_position_for(
    tx: &mut Transaction<'_, Postgres>,
    application: &NewApplicationRecord,
) -> StoreResult<(ObjectId, Option<String>)> {
    let row = sqlx::query("select hirer_id, status, questionnaire_id from positions where profile_id = $1 for share")
        .bind(application.position_profile_id.as_str())
        .fetch_optional(&mut **tx)
        .await
        .map_err(map_err)?
        .ok_or(StoreError::NotFound("position profile"))?;
    let position = cols(&row);
    if PositionStatus::from_code(&position.text("status")?) == PositionStatus::Closed {
        return Err(StoreError::Rejected(format!("position profile {} is closed", application.position_profile_id)));
    }
    Ok((position.id("hirer_id")?, position.opt_text("questionnaire_id")?))
}

/// The candidate of the application's person at the hirer: created with the minted id, or,
/// when the hirer has one with the same email key, that one with its live person data
/// replaced (keeping its id and creation time). One upsert, so concurrent instances agree.
async fn upsert_candidate(
    tx: &mut Transaction<'_, Postgres>,
    application: &NewApplicationRecord,
    hirer_id: &ObjectId,
) -> StoreResult<ObjectId> {
    let candidate_id: String = sqlx::query_scalar(
        "insert into candidates (id, hirer_id, email_key, person, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $5)
         on conflict (hirer_id, email_key)
         do update set person = excluded.person, updated_at = excluded.updated_at
         returning id",
    )
    .bind(application.candidate_id.as_str())
    .bind(hirer_id.as_str())
    .bind(application.person.email_key())
    .bind(to_json(&application.person)?)
    .bind(millis(&application.created_at))
    .fetch_one(&mut **tx)
    .await
    .map_err(map_err)?;
    Ok(ObjectId::from_trusted(candidate_id))
}

async fn insert_profile(
    tx: &mut Transaction<'_, Postgres>,
    application: &NewApplicationRecord,
    candidate_id: &ObjectId,
    hirer_id: &ObjectId,
) -> StoreResult<()> {
    sqlx::query(
        "insert into profiles (profile_id, candidate_id, position_profile_id, hirer_id, snapshot,
             candidate_sources, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(application.profile_id.as_str())
    .bind(candidate_id.as_str())
    .bind(application.position_profile_id.as_str())
    .bind(hirer_id.as_str())
    .bind(to_json(&application.snapshot)?)
    .bind(to_json(&application.candidate_sources)?)
    .bind(millis(&application.created_at))
    .execute(&mut **tx)
    .await
    .map_err(map_err)?;
    Ok(())
}

async fn ingest_one(
    tx: &mut Transaction<'_, Postgres>,
    application: &NewApplicationRecord,
) -> StoreResult<IngestedApplication> {
    let (hirer_id, questionnaire_id) = open_position_for(tx, application).await?;
    let candidate_id = upsert_candidate(tx, application, &hirer_id).await?;
    insert_profile(tx, application, &candidate_id, &hirer_id).await?;
    crate::attachments::insert_attachments(tx, &application.profile_id, &application.attachments).await?;
    crate::questionnaires::insert_submission(
        tx,
        &application.profile_id,
        &application.position_profile_id,
        questionnaire_id.as_deref(),
        application.questionnaire_responses.as_deref(),
    )
    .await?;
    crate::events::emit(
        tx,
        crate::events::Outbox {
            id: &application.event.id,
            event_type: EventType::CandidateApplicationCreated,
            hirer_id: &hirer_id,
            at: application.event.at,
            candidate_profile_id: Some(&application.profile_id),
            candidate_id: Some(&candidate_id),
            position_profile_id: None,
            only_partner: None,
        },
    )
    .await?;
    Ok(IngestedApplication {
        profile_id: application.profile_id.clone(),
        candidate_id,
        hirer_id,
        created_at: application.created_at,
    })
}

pub(crate) async fn get_profile(pool: &PgPool, profile_id: &ObjectId) -> StoreResult<Option<ProfileView>> {
    const SQL: &str = profile_select!("where p.profile_id = $1");
    let row = sqlx::query(SQL).bind(profile_id.as_str()).fetch_optional(pool).await.map_err(map_err)?;
    row.map(|row| ViewBuilder::default().view::<Db>(&row)).transpose()
}

pub(crate) async fn get_profile_for_partner(
    pool: &PgPool,
    profile_id: &ObjectId,
    partner_id: &ObjectId,
) -> StoreResult<Option<(ProfileView, RelationshipSet)>> {
    const SQL: &str = profile_select!(
        columns: ", (select string_agg(r.type_code, ',') from relationships r \
                    where r.partner_id = $2 and r.hirer_id = pos.hirer_id) as rel_codes",
        "where p.profile_id = $1"
    );
    let row = sqlx::query(SQL)
        .bind(profile_id.as_str())
        .bind(partner_id.as_str())
        .fetch_optional(pool)
        .await
        .map_err(map_err)?;
    row.map(|row| rows::view_with_relationships::<Db>(&row)).transpose()
}

pub(crate) async fn get_profiles(pool: &PgPool, profile_ids: &[ObjectId]) -> StoreResult<Vec<ProfileView>> {
    if profile_ids.is_empty() {
        return Ok(Vec::new());
    }
    const SQL: &str = profile_select!("where p.profile_id = any($1)");
    let rows = sqlx::query(SQL).bind(id_strs(profile_ids)).fetch_all(pool).await.map_err(map_err)?;
    let mut builder = ViewBuilder::default();
    rows.iter().map(|row| builder.view::<Db>(row)).collect()
}

pub(crate) async fn get_candidate(pool: &PgPool, candidate_id: &ObjectId) -> StoreResult<Option<Candidate>> {
    const SQL: &str = concat!("select ", candidate_columns!(), " from candidates c where c.id = $1");
    let row = sqlx::query(SQL).bind(candidate_id.as_str()).fetch_optional(pool).await.map_err(map_err)?;
    row.as_ref().map(rows::candidate::<Db>).transpose()
}

pub(crate) async fn candidate_profiles(
    pool: &PgPool,
    candidate_id: &ObjectId,
    last: u32,
) -> StoreResult<Vec<ProfileView>> {
    // Newest first to apply the limit, then turned around: the result is oldest first.
    const SQL: &str = profile_select!("where p.candidate_id = $1 order by p.created_at desc, p.seq desc limit $2");
    let rows =
        sqlx::query(SQL).bind(candidate_id.as_str()).bind(i64::from(last)).fetch_all(pool).await.map_err(map_err)?;
    let mut builder = ViewBuilder::default();
    let mut views = rows.iter().map(|row| builder.view::<Db>(row)).collect::<StoreResult<Vec<_>>>()?;
    views.reverse();
    Ok(views)
}

pub(crate) async fn update_candidate_person(
    pool: &PgPool,
    candidate_id: &ObjectId,
    person: &Person,
) -> StoreResult<Candidate> {
    const SQL: &str = concat!(
        "update candidates c set person = $2, email_key = $3, updated_at = $4 where c.id = $1 returning ",
        candidate_columns!()
    );
    let row = sqlx::query(SQL)
        .bind(candidate_id.as_str())
        .bind(to_json(person)?)
        .bind(person.email_key())
        .bind(millis(&candex_domain::time::now_ms()))
        .fetch_optional(pool)
        .await
        .map_err(map_err)?;
    row.as_ref().map(rows::candidate::<Db>).transpose()?.ok_or(StoreError::NotFound("candidate"))
}

pub(crate) async fn page_position_applications(
    pool: &PgPool,
    position_profile_id: &ObjectId,
    after_seq: Option<i64>,
    limit: u32,
) -> StoreResult<Vec<ApplicationSummary>> {
    let rows = sqlx::query(
        "select p.seq, p.profile_id, p.candidate_id, p.created_at,
                c.person::json -> 'name' ->> 'formattedName' as formatted_name
         from profiles p join candidates c on c.id = p.candidate_id
         where p.position_profile_id = $1 and ($2::bigint is null or p.seq > $2)
         order by p.seq
         limit $3",
    )
    .bind(position_profile_id.as_str())
    .bind(after_seq)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(map_err)?;
    rows.iter().map(rows::application_summary::<Db>).collect()
}

#[async_trait::async_trait]
impl candex_store::ApplicationStore for crate::PgStore {
    #[tracing::instrument(skip_all)]
    async fn ingest_applications(
        &self,
        applications: &[NewApplicationRecord],
    ) -> StoreResult<Vec<IngestedApplication>> {
        crate::applications::ingest_applications(&self.pool, applications).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_profile(&self, profile_id: &ObjectId) -> StoreResult<Option<ProfileView>> {
        crate::applications::get_profile(&self.pool, profile_id).await
    }

    async fn get_profile_for_partner(
        &self,
        profile_id: &ObjectId,
        partner_id: &ObjectId,
    ) -> StoreResult<Option<(ProfileView, RelationshipSet)>> {
        crate::applications::get_profile_for_partner(&self.pool, profile_id, partner_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_profiles(&self, profile_ids: &[ObjectId]) -> StoreResult<Vec<ProfileView>> {
        crate::applications::get_profiles(&self.pool, profile_ids).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_candidate(&self, candidate_id: &ObjectId) -> StoreResult<Option<Candidate>> {
        crate::applications::get_candidate(&self.pool, candidate_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn candidate_profiles(&self, candidate_id: &ObjectId, last: u32) -> StoreResult<Vec<ProfileView>> {
        crate::applications::candidate_profiles(&self.pool, candidate_id, last).await
    }

    #[tracing::instrument(skip_all)]
    async fn update_candidate_person(&self, candidate_id: &ObjectId, person: &Person) -> StoreResult<Candidate> {
        crate::applications::update_candidate_person(&self.pool, candidate_id, person).await
    }

    #[tracing::instrument(skip_all)]
    async fn page_position_applications(
        &self,
        position_profile_id: &ObjectId,
        after_seq: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<ApplicationSummary>> {
        crate::applications::page_position_applications(&self.pool, position_profile_id, after_seq, limit).await
    }
}
