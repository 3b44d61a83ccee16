//! The applications area of the store: applications: candidates, their profile snapshots, and the reads behind `candidateProfile`.

use async_trait::async_trait;
use candex_domain::{CandidateId, CandidateProfileId, EventType, PartnerId, Person, PositionProfileId};

use crate::rows::{self, StoredRow, ViewBuilder};
use crate::sql::{to_json, Exec, Lock, Outbox, SqlBackend, Transaction};
use crate::*;

/// Applications: candidates, their profile snapshots, and the reads behind `candidateProfile`.
#[async_trait]
pub trait ApplicationStore: Send + Sync {
    /// Stores applications atomically: for each, the candidate (matched per hirer on the first
    /// email, its live person data replaced by the latest) and the profile snapshot. All or
    /// nothing: `NotFound` for an unknown position, `Rejected` for a closed one. Each writes
    /// its `CandidateApplicationCreated` event in the same transaction (the outbox).
    async fn ingest_applications(&self, applications: &[NewApplicationRecord])
        -> StoreResult<Vec<IngestedApplication>>;
    /// Reads one profile with its live candidate and its job ad, in one round trip.
    async fn get_profile(&self, profile_id: &CandidateProfileId) -> StoreResult<Option<ProfileView>>;
    /// Reads one profile as [`ApplicationStore::get_profile`] does, together with what
    /// `partner_id` holds with its hirer (its relationships, empty when none, and the time
    /// before which its tokens are revoked), in one statement: the read behind
    /// `candidateProfile`, which must authenticate and authorise before it answers.
    async fn get_profile_for_partner(
        &self,
        profile_id: &CandidateProfileId,
        partner_id: &PartnerId,
    ) -> StoreResult<Option<(ProfileView, PartnerGrant)>>;
    /// Reads several profiles in one statement (a page of events fetching theirs inline), in
    /// no particular order; unknown ids are left out.
    async fn get_profiles(&self, profile_ids: &[CandidateProfileId]) -> StoreResult<Vec<ProfileView>>;
    /// Reads one candidate.
    async fn get_candidate(&self, candidate_id: &CandidateId) -> StoreResult<Option<Candidate>>;
    /// The `last` most recent profiles of a candidate, oldest first.
    async fn candidate_profiles(&self, candidate_id: &CandidateId, last: u32) -> StoreResult<Vec<ProfileView>>;
    /// Replaces a candidate's live person data. `NotFound` when unknown; `Conflict` when the
    /// new first email belongs to another candidate of the same hirer.
    async fn update_candidate_person(&self, candidate_id: &CandidateId, person: &Person) -> StoreResult<Candidate>;
    /// One page of a job ad's applications in ingest order, after `after_seq`.
    async fn page_position_applications(
        &self,
        position_profile_id: &PositionProfileId,
        after_seq: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<ApplicationSummary>>;
}

/// Where the backends' application SQL differs.
pub trait ApplicationSql {
    /// The job ad an application is for (`$1`): `hirer_id, status, questionnaire_id`.
    /// PostgreSQL share-locks the row until commit, so the ad cannot close under the
    /// application; SQLite's one writer already excludes that.
    const POSITION_FOR_APPLY: &'static str;
    /// The candidate's formatted name from `c.person` (JSON text), as `formatted_name`.
    const FORMATTED_NAME: &'static str;
    /// The read behind `candidateProfile`: `profile_select!` for profile `$1` with the
    /// relationships partner `$2` holds with its hirer joined by commas as `rel_codes`, and
    /// the partner's `tokens_not_before`. A constant, not built per call: it runs on every
    /// `candidateProfile` request.
    const PROFILE_FOR_PARTNER: &'static str;
}

#[async_trait]
impl<B: SqlBackend + ApplicationSql> ApplicationStore for B {
    #[tracing::instrument(skip_all)]
    async fn ingest_applications(
        &self,
        applications: &[NewApplicationRecord],
    ) -> StoreResult<Vec<IngestedApplication>> {
        if applications.is_empty() {
            return Ok(Vec::new());
        }
        // One transaction for the batch: an error returns early and dropping `tx` rolls back,
        // so nothing of the batch is stored. The event lock comes first (see
        // `Lock::EventOrder`): profiles then get their `seq` in commit order, so a job ad's
        // application pages never skip one committed late.
        let mut tx = self.begin().await?;
        tx.lock(Lock::EventOrder).await?;
        let mut ingested = Vec::with_capacity(applications.len());
        for application in applications {
            ingested.push(ingest_one::<B>(&mut tx, application).await?);
        }
        tx.commit().await?;
        Ok(ingested)
    }

    #[tracing::instrument(skip_all)]
    async fn get_profile(&self, profile_id: &CandidateProfileId) -> StoreResult<Option<ProfileView>> {
        const SQL: &str = profile_select!("where p.profile_id = $1");
        self.reader().optional(stmt!(SQL, profile_id), |row| ViewBuilder::default().view::<B::Db>(row)).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_profile_for_partner(
        &self,
        profile_id: &CandidateProfileId,
        partner_id: &PartnerId,
    ) -> StoreResult<Option<(ProfileView, PartnerGrant)>> {
        let stmt = stmt!(B::PROFILE_FOR_PARTNER, profile_id, partner_id);
        self.point_reader().optional(stmt, rows::view_with_relationships::<B::PointDb>).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_profiles(&self, profile_ids: &[CandidateProfileId]) -> StoreResult<Vec<ProfileView>> {
        if profile_ids.is_empty() {
            return Ok(Vec::new());
        }
        const SQL: &str = profile_select!("where p.profile_id in ({ids})");
        let select = SQL.replacen("{ids}", &B::list("$1"), 1);
        let rows = self.reader().fetch_all(stmt!(select, profile_ids)).await?;
        let mut builder = ViewBuilder::default();
        rows.iter().map(|row| builder.view::<B::Db>(row)).collect()
    }

    #[tracing::instrument(skip_all)]
    async fn get_candidate(&self, candidate_id: &CandidateId) -> StoreResult<Option<Candidate>> {
        const SQL: &str = concat!("select ", candidate_columns!(), " from candidates c where c.id = $1");
        self.reader().optional(stmt!(SQL, candidate_id), rows::candidate::<B::Db>).await
    }

    #[tracing::instrument(skip_all)]
    async fn candidate_profiles(&self, candidate_id: &CandidateId, last: u32) -> StoreResult<Vec<ProfileView>> {
        // Newest first to apply the limit, then turned around: the result is oldest first.
        const SQL: &str = profile_select!("where p.candidate_id = $1 order by p.created_at desc, p.seq desc limit $2");
        let rows = self.reader().fetch_all(stmt!(SQL, candidate_id, last)).await?;
        let mut builder = ViewBuilder::default();
        let mut views = rows.iter().map(|row| builder.view::<B::Db>(row)).collect::<StoreResult<Vec<_>>>()?;
        views.reverse();
        Ok(views)
    }

    #[tracing::instrument(skip_all)]
    async fn update_candidate_person(&self, candidate_id: &CandidateId, person: &Person) -> StoreResult<Candidate> {
        const SQL: &str = concat!(
            "update candidates set person = $2, email_key = $3, updated_at = $4 where id = $1 returning ",
            // RETURNING takes no table qualifiers (SQLite), so the aliases are spelled out here.
            "id as c_id, hirer_id as c_hirer_id, person as c_person, created_at as c_created_at, ",
            "updated_at as c_updated_at"
        );
        let stmt = stmt!(SQL, candidate_id, to_json(person)?, person.email_key(), candex_domain::time::now_ms());
        let candidate = self.writer().optional(stmt, rows::candidate::<B::Db>).await?;
        candidate.ok_or(StoreError::NotFound("candidate"))
    }

    #[tracing::instrument(skip_all)]
    async fn page_position_applications(
        &self,
        position_profile_id: &PositionProfileId,
        after_seq: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<ApplicationSummary>> {
        let select = format!(
            "select p.seq, p.profile_id, p.candidate_id, p.created_at, {} as formatted_name
             from profiles p join candidates c on c.id = p.candidate_id
             where p.position_profile_id = $1 and ($2 is null or p.seq > $2)
             order by p.seq
             limit $3",
            B::FORMATTED_NAME
        );
        let stmt = stmt!(select, position_profile_id, after_seq, limit);
        self.reader().all(stmt, rows::application_summary::<B::Db>).await
    }
}

/// One application of an ingest: the candidate matched per hirer on the email key (created
/// with the minted id, or the existing one with its live person data replaced, keeping its id
/// and creation time; one upsert, so concurrent instances agree), the profile, its attachment
/// rows and questionnaire responses, and its event.
async fn ingest_one<B: SqlBackend + ApplicationSql>(
    tx: &mut B::Tx,
    application: &NewApplicationRecord,
) -> StoreResult<IngestedApplication> {
    let a = application;
    let row = tx.fetch_optional(stmt!(B::POSITION_FOR_APPLY, &a.position_profile_id)).await?;
    let row = row.ok_or(StoreError::NotFound("position profile"))?;
    let position = StoredRow::<B::Db>::new(&row);
    if PositionStatus::from_code(&position.text("status")?) == PositionStatus::Closed {
        return Err(StoreError::Rejected(format!("position profile {} is closed", a.position_profile_id)));
    }
    let (hirer_id, questionnaire_id) = (position.id("hirer_id")?, position.opt_text("questionnaire_id")?);
    let upsert = "insert into candidates (id, hirer_id, email_key, person, created_at, updated_at)
                  values ($1, $2, $3, $4, $5, $5)
                  on conflict (hirer_id, email_key)
                  do update set person = excluded.person, updated_at = excluded.updated_at
                  returning id";
    let stmt = stmt!(upsert, &a.candidate_id, &hirer_id, a.person.email_key(), to_json(&a.person)?, a.created_at);
    let candidate_id = tx.optional(stmt, |row| StoredRow::<B::Db>::new(row).id("id")).await?;
    let candidate_id = candidate_id.ok_or_else(|| rows::corrupt("candidate", "the upsert returned no row"))?;
    let insert = "insert into profiles (profile_id, candidate_id, position_profile_id, hirer_id, snapshot,
                      candidate_sources, created_at, updated_at)
                  values ($1, $2, $3, $4, $5, $6, $7, $7)";
    let (snapshot, sources) = (to_json(&a.snapshot)?, to_json(&a.candidate_sources)?);
    let stmt =
        stmt!(insert, &a.profile_id, &candidate_id, &a.position_profile_id, &hirer_id, snapshot, sources, a.created_at);
    tx.execute(stmt).await?;
    crate::attachments::insert_attachments(tx, &a.profile_id, &a.attachments).await?;
    let responses = a.questionnaire_responses.as_deref();
    crate::questionnaires::insert_submission(tx, a, questionnaire_id.as_deref(), responses).await?;
    let outbox = Outbox {
        id: &a.event.id,
        event_type: EventType::CandidateApplicationCreated,
        hirer_id: &hirer_id,
        at: a.event.at,
        candidate_profile_id: Some(&a.profile_id),
        candidate_id: Some(&candidate_id),
        position_profile_id: None,
        only_partner: None,
    };
    B::emit(tx, outbox).await?;
    Ok(IngestedApplication { profile_id: a.profile_id.clone(), candidate_id, hirer_id, created_at: a.created_at })
}
