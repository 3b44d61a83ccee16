//! Operator use cases: validate input, mint identifiers, call the store. Shared by the HTTP
//! routes and the `candex admin`/`import`/`seed` commands, so both behave identically.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use candex_domain::input::{
    validate_application, validate_name, validate_person, validate_position, ApplicationInput, NewApplication,
    PersonInput, PositionInput,
};
use candex_domain::questionnaire::{resolve_responses, ComponentResponse, Questionnaire};
use candex_domain::{
    CandidateId, FieldErrors, HirerId, IdKind, Identifier, ObjectId, PartnerId, PositionProfileId, RelationshipSet,
    RelationshipType, Scheme,
};
use candex_store::{
    ApplicationSummary, Candidate, ErasedCandidate, EventStamp, Hirer, IngestedApplication, NewApplicationRecord,
    NewHirer, NewPartner, NewPosition, Partner, Position, Store, StoreError,
};
use rand::{RngCore, SeedableRng};

use super::uploads::{PreparedApplication, UploadedAttachment};
use crate::auth::secrets;

/// Why an operator use case failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Invalid input; every field named by JSON pointer.
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    /// The object named in the request path does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The change conflicts with stored data.
    #[error("{0}")]
    Conflict(String),
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
    /// An attachment file exceeds the size limit; the field is named by JSON pointer.
    #[error("file too large: {0}")]
    TooLarge(FieldErrors),
    /// Attachment blob storage failed.
    #[error(transparent)]
    Blobs(crate::storage::BlobError),
}

/// A partner just created, with its secret (shown once).
#[derive(Debug)]
pub struct CreatedPartner {
    /// The partner.
    pub partner: Partner,
    /// The client secret; not stored anywhere.
    pub client_secret: String,
}

/// The operator use cases over one store.
pub struct OperatorService {
    store: Arc<dyn Store>,
    scheme: Scheme,
    public_url: String,
    rng: Mutex<Box<dyn RngCore + Send>>,
    /// Event ids come from their own generator, so adding events did not shift the ids the
    /// deterministic demo mints for everything else (the README quotes them).
    event_rng: Mutex<Box<dyn RngCore + Send>>,
    /// Wakes this process's webhook dispatcher after a write queues deliveries.
    waker: crate::webhooks::Waker,
    /// Attachment blob storage; `None` refuses applications with files.
    pub(crate) blobs: Option<crate::storage::BlobStore>,
    /// Attachment limits and retention.
    pub(crate) attachments: crate::attachments::AttachmentSettings,
    /// Ingests and erasures, for the serving process's metrics.
    counters: crate::metrics::OperatorCounters,
}

impl OperatorService {
    /// Creates the service; ids are minted from the OS random source.
    pub fn new(store: Arc<dyn Store>, scheme: Scheme, public_url: &str) -> Self {
        Self::with_rng(
            store,
            scheme,
            public_url,
            Box::new(rand::rngs::StdRng::from_entropy()),
            Box::new(rand::rngs::StdRng::from_entropy()),
        )
    }

    /// Creates a service whose ids and secrets come from a seeded generator, for the
    /// deterministic demo and synthetic data. Never use it for real data.
    pub fn deterministic(store: Arc<dyn Store>, scheme: Scheme, public_url: &str, seed: u64) -> Self {
        Self::with_rng(
            store,
            scheme,
            public_url,
            Box::new(rand::rngs::StdRng::seed_from_u64(seed)),
            Box::new(rand::rngs::StdRng::seed_from_u64(seed.wrapping_add(1))),
        )
    }

    fn with_rng(
        store: Arc<dyn Store>,
        scheme: Scheme,
        public_url: &str,
        rng: Box<dyn RngCore + Send>,
        event_rng: Box<dyn RngCore + Send>,
    ) -> Self {
        Self {
            store,
            scheme,
            public_url: public_url.trim_end_matches('/').to_owned(),
            rng: Mutex::new(rng),
            event_rng: Mutex::new(event_rng),
            waker: crate::webhooks::Waker::default(),
            blobs: None,
            attachments: crate::attachments::AttachmentSettings::default(),
            counters: crate::metrics::OperatorCounters::default(),
        }
    }

    /// The store behind the service.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub(crate) fn mint<I: Identifier>(&self, kind: IdKind) -> I {
        let mut rng = self.rng.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        I::mint_kind(&self.scheme, kind, &mut *rng)
    }

    fn mint_event(&self) -> ObjectId {
        let mut rng = self.event_rng.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        ObjectId::mint(&self.scheme, IdKind::Event, &mut *rng)
    }

    fn stamp(&self) -> EventStamp {
        EventStamp { id: self.mint_event(), at: candex_domain::time::now_ms() }
    }

    /// Counts ingests and erasures into `counters` (the serving process's metrics).
    pub fn with_counters(mut self, counters: crate::metrics::OperatorCounters) -> Self {
        self.counters = counters;
        self
    }

    /// Wakes `waker` (the serving process's dispatcher) whenever a write queues webhooks.
    pub fn with_waker(mut self, waker: crate::webhooks::Waker) -> Self {
        self.waker = waker;
        self
    }

    /// Creates a hirer.
    pub async fn create_hirer(&self, name: Option<String>) -> Result<Hirer, ServiceError> {
        let name = validate_name(name).map_err(ServiceError::Invalid)?;
        let hirer = NewHirer { id: self.mint(IdKind::Organization), name, created_at: candex_domain::time::now_ms() };
        self.store.create_hirer(hirer).await.map_err(ServiceError::Store)
    }

    /// Creates a partner with fresh client credentials.
    pub async fn create_partner(&self, name: Option<String>) -> Result<CreatedPartner, ServiceError> {
        let creds = {
            let mut rng = self.rng.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            secrets::generate(&mut *rng)
        };
        self.create_partner_with_credentials(name, creds).await
    }

    /// Creates a partner with the given credentials (the deterministic demo derives its own).
    pub async fn create_partner_with_credentials(
        &self,
        name: Option<String>,
        creds: secrets::GeneratedCredentials,
    ) -> Result<CreatedPartner, ServiceError> {
        let name = validate_name(name).map_err(ServiceError::Invalid)?;
        let id = self.mint(IdKind::Partner);
        let partner = self
            .store
            .create_partner(NewPartner {
                id,
                name,
                client_id: creds.client_id,
                client_secret_hash: creds.client_secret_hash,
                created_at: candex_domain::time::now_ms(),
            })
            .await
            .map_err(|e| match e {
                StoreError::Conflict { .. } => {
                    ServiceError::Conflict("a partner with this client id already exists".into())
                }
                other => ServiceError::Store(other),
            })?;
        Ok(CreatedPartner { partner, client_secret: creds.client_secret })
    }

    /// Gives a partner a new client secret, returned once; the previous one stays valid
    /// until [`OperatorService::retire_client_secret`]. `Conflict` while a previous secret is
    /// still valid.
    pub async fn rotate_client_secret(&self, partner_id: &str) -> Result<String, ServiceError> {
        let partner_id = PartnerId::parse(partner_id).map_err(|_| ServiceError::NotFound("partner"))?;
        let creds = {
            let mut rng = self.rng.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            secrets::generate(&mut *rng)
        };
        self.store.rotate_client_secret(&partner_id, &creds.client_secret_hash).await.map_err(|e| match e {
            StoreError::Rejected(message) => ServiceError::Conflict(message),
            other => not_found_or_store(other),
        })?;
        Ok(creds.client_secret)
    }

    /// Retires a partner's previous client secret; `false` when there was none.
    pub async fn retire_client_secret(&self, partner_id: &str) -> Result<bool, ServiceError> {
        let partner_id = PartnerId::parse(partner_id).map_err(|_| ServiceError::NotFound("partner"))?;
        self.store.retire_previous_client_secret(&partner_id).await.map_err(not_found_or_store)
    }

    /// Revokes every token issued to a partner until now; returns the revocation time. The
    /// partner gets new tokens with its client credentials as usual.
    pub async fn revoke_tokens(&self, partner_id: &str) -> Result<chrono::DateTime<chrono::Utc>, ServiceError> {
        let partner_id = PartnerId::parse(partner_id).map_err(|_| ServiceError::NotFound("partner"))?;
        let now = chrono::Utc::now();
        self.store.revoke_partner_tokens(&partner_id, now).await.map_err(not_found_or_store)?;
        Ok(now)
    }

    /// Replaces the relationships a partner holds with a hirer; an empty list revokes.
    pub async fn set_relationships(
        &self,
        partner_id: &str,
        hirer_id: &str,
        codes: Option<Vec<String>>,
    ) -> Result<RelationshipSet, ServiceError> {
        let partner_id = PartnerId::parse(partner_id).map_err(|_| ServiceError::NotFound("partner"))?;
        let hirer_id = HirerId::parse(hirer_id).map_err(|_| ServiceError::NotFound("hirer"))?;
        let Some(codes) = codes else {
            return Err(ServiceError::Invalid(FieldErrors::single(
                "/relationshipTypeCodes",
                "is required (an empty list revokes)",
            )));
        };
        let mut errors = FieldErrors::new();
        let types: Vec<RelationshipType> = codes
            .iter()
            .enumerate()
            .filter_map(|(i, code)| {
                RelationshipType::parse(code).or_else(|| {
                    errors.add(
                        format!("/relationshipTypeCodes/{i}"),
                        "must be one of ApplicationExport, JobPosting, ProactiveSourcing",
                    );
                    None
                })
            })
            .collect();
        let types = errors.into_result(types).map_err(ServiceError::Invalid)?;
        let set = self
            .store
            .set_relationships(&partner_id, &hirer_id, &types, &self.stamp())
            .await
            .map_err(not_found_or_store)?;
        self.waker.wake();
        Ok(set)
    }

    /// Creates a job ad.
    pub async fn create_position(&self, input: PositionInput) -> Result<Position, ServiceError> {
        let input = validate_position(input).map_err(ServiceError::Invalid)?;
        let profile_id: PositionProfileId = self.mint(IdKind::PositionProfile);
        let position_uri =
            input.position_uri.unwrap_or_else(|| format!("{}/jobs/{}", self.public_url, profile_id.value_segment()));
        let location_id = input.details.location.as_ref().map(|_| self.mint(IdKind::Location));
        let job_category_id = input.details.job_category_name.as_ref().map(|_| self.mint(IdKind::JobCategory));
        let questionnaire = input.questionnaire.map(|draft| draft.mint_ids(|kind| self.mint(kind)));
        let position = NewPosition {
            opening_id: self.mint(IdKind::PositionOpening),
            profile_id,
            hirer_id: input.hirer_id,
            title: input.position_title,
            position_uri,
            seek_hirer_job_reference: input.seek_hirer_job_reference,
            details: input.details,
            location_id,
            job_category_id,
            created_at: candex_domain::time::now_ms(),
            questionnaire,
            event_id: self.mint_event(),
        };
        let position = self.store.create_position(position).await.map_err(|e| match e {
            StoreError::NotFound(_) => ServiceError::Invalid(FieldErrors::single("/hirerId", "no hirer has this id")),
            other => ServiceError::Store(other),
        })?;
        self.waker.wake();
        Ok(position)
    }

    /// Closes a job ad (idempotent).
    pub async fn close_position(&self, id: &str) -> Result<Position, ServiceError> {
        let id = PositionProfileId::parse(id).map_err(|_| ServiceError::NotFound("position profile"))?;
        let position = self.store.close_position(&id, &self.stamp()).await.map_err(not_found_or_store)?;
        self.waker.wake();
        Ok(position)
    }

    /// Reads a job ad.
    pub async fn get_position(&self, id: &str) -> Result<Position, ServiceError> {
        let id = PositionProfileId::parse(id).map_err(|_| ServiceError::NotFound("position profile"))?;
        self.store
            .get_position(&id)
            .await
            .map_err(ServiceError::Store)?
            .ok_or(ServiceError::NotFound("position profile"))
    }

    /// Validates one application without storing it.
    pub fn validate_application(&self, input: ApplicationInput) -> Result<NewApplication, ServiceError> {
        validate_application(input).map_err(ServiceError::Invalid)
    }

    /// Ingests one application atomically.
    pub async fn ingest(&self, input: ApplicationInput) -> Result<IngestedApplication, ServiceError> {
        let app = self.validate_application(input)?;
        let mut stored = self.ingest_validated(vec![app]).await?;
        stored.pop().ok_or_else(|| ServiceError::Store(StoreError::Rejected("nothing was stored".into())))
    }

    /// Ingests validated applications in one transaction: all or nothing. Applications that
    /// name attachment files need [`Self::ingest_prepared`] with their files uploaded.
    pub async fn ingest_validated(&self, apps: Vec<NewApplication>) -> Result<Vec<IngestedApplication>, ServiceError> {
        let apps = apps.into_iter().map(|app| PreparedApplication { app, attachments: Vec::new() }).collect();
        self.ingest_prepared(apps).await
    }

    /// Ingests applications with their uploaded attachment files in one transaction: all or
    /// nothing. Once the rows are committed the uploads' leases are released (the rows keep
    /// the blobs now); on failure the caller still owns the uploads (see
    /// [`Self::discard_uploads`]).
    pub async fn ingest_prepared(
        &self,
        prepared: Vec<PreparedApplication>,
    ) -> Result<Vec<IngestedApplication>, ServiceError> {
        if prepared.iter().any(|p| p.app.attachments.len() != p.attachments.len()) {
            return Err(ServiceError::Invalid(FieldErrors::single("/attachments", super::uploads::NEEDS_MULTIPART)));
        }
        let (apps, uploads): (Vec<NewApplication>, Vec<Vec<UploadedAttachment>>) =
            prepared.into_iter().map(|p| (p.app, p.attachments)).unzip();
        let leases: Vec<candex_store::BlobLeaseId> = uploads.iter().flatten().map(|u| u.lease).collect();
        let mut uploads = uploads.into_iter();
        let mut questionnaire_responses = self.match_questionnaire_responses(&apps).await?.into_iter();
        let now = candex_domain::time::now_ms();
        let records: Vec<NewApplicationRecord> = apps
            .into_iter()
            .map(|app| NewApplicationRecord {
                profile_id: self.mint(IdKind::CandidateProfile),
                candidate_id: self.mint(IdKind::Candidate),
                position_profile_id: app.position_profile_id,
                person: app.person,
                snapshot: app.snapshot,
                candidate_sources: app.candidate_sources,
                created_at: app.create_date_time.unwrap_or(now),
                attachments: self.attachment_records(uploads.next().unwrap_or_default(), now),
                questionnaire_responses: questionnaire_responses.next().flatten(),
                event: EventStamp { id: self.mint_event(), at: now },
            })
            .collect();
        let ingested = self.store.ingest_applications(&records).await.map_err(|e| match e {
            StoreError::NotFound(_) => {
                ServiceError::Invalid(FieldErrors::single("/positionProfileId", "no position profile has this id"))
            }
            StoreError::Rejected(_) => ServiceError::Invalid(FieldErrors::single(
                "/positionProfileId",
                "the position profile is closed and takes no applications",
            )),
            other => ServiceError::Store(other),
        })?;
        self.counters.ingested.inc_by(ingested.len() as u64);
        self.release_leases(&leases).await;
        self.waker.wake();
        Ok(ingested)
    }

    /// Matches each application's questionnaire responses against its job ad's questionnaire,
    /// loading each distinct job ad once. The questionnaire never changes once posted, so
    /// checking before the ingest transaction is as good as checking inside it. Unknown job
    /// ads are left to the store, which reports them.
    async fn match_questionnaire_responses(
        &self,
        apps: &[NewApplication],
    ) -> Result<Vec<Option<Vec<ComponentResponse>>>, ServiceError> {
        const POINTER: &str = "/questionnaireResponses";
        let mut questionnaires: HashMap<&ObjectId, Option<Option<Arc<Questionnaire>>>> = HashMap::new();
        let mut errors = FieldErrors::new();
        let mut matched = Vec::with_capacity(apps.len());
        for app in apps {
            let Some(drafts) = &app.questionnaire_responses else {
                matched.push(None);
                continue;
            };
            let position = match questionnaires.entry(&app.position_profile_id) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => {
                    let position =
                        self.store.get_position(&app.position_profile_id).await.map_err(ServiceError::Store)?;
                    e.insert(position.map(|p| p.questionnaire.clone()))
                }
            };
            matched.push(match position {
                None => None,
                Some(None) if drafts.is_empty() => None,
                Some(None) => {
                    errors.add(POINTER, "the job ad has no questionnaire, so it takes no responses");
                    None
                }
                Some(Some(questionnaire)) => Some(resolve_responses(&mut errors, POINTER, questionnaire, drafts)),
            });
        }
        errors.into_result(matched).map_err(ServiceError::Invalid)
    }

    /// Replaces a candidate's live person data.
    pub async fn update_person(&self, candidate_id: &str, input: PersonInput) -> Result<Candidate, ServiceError> {
        let id = CandidateId::parse(candidate_id).map_err(|_| ServiceError::NotFound("candidate"))?;
        let person = validate_person(input).map_err(ServiceError::Invalid)?;
        self.store.update_candidate_person(&id, &person).await.map_err(|e| match e {
            StoreError::Conflict { .. } => {
                ServiceError::Conflict("another candidate of this hirer already has that first email address".into())
            }
            other => not_found_or_store(other),
        })
    }

    /// Erases a candidate as SEEK redacts deleted candidates: person redacted, profiles
    /// emptied, answers and attachments deleted, then the blobs nobody else uses. Ids stay
    /// valid; erasing twice is harmless. Partners that may hold the candidate's applications
    /// are told with a `CandidateErased` event (a candex extension), written with the erasure.
    pub async fn erase_candidate(&self, candidate_id: &str) -> Result<ErasedCandidate, ServiceError> {
        let id = CandidateId::parse(candidate_id).map_err(|_| ServiceError::NotFound("candidate"))?;
        let erased = self.store.erase_candidate(&id, &self.stamp()).await.map_err(not_found_or_store)?;
        self.counters.erasures.inc();
        self.waker.wake();
        // The rows are gone and committed: a blob that fails to delete here is only an orphan
        // (never served again), so it is logged rather than failing the erasure.
        if let Err(e) = self.delete_unreferenced_blobs(&erased.unreferenced_blobs).await {
            tracing::error!(candidate.id = %id, error.cause_chain = ?e, "erased candidate `{id}` but could not delete its files");
        }
        Ok(erased)
    }

    /// One page of a job ad's applications.
    pub async fn list_applications(
        &self,
        position_id: &str,
        after_seq: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ApplicationSummary>, ServiceError> {
        let position = self.get_position(position_id).await?;
        self.store.page_position_applications(&position.profile_id, after_seq, limit).await.map_err(ServiceError::Store)
    }

    /// One page of a candidate profile's process history in recording order, after `after_seq`
    /// (what partners recorded with `--process-history-on-applications`). `NotFound` for an
    /// unknown profile.
    pub async fn list_process_history(
        &self,
        profile_id: &str,
        after_seq: Option<i64>,
        limit: u32,
    ) -> Result<Vec<candex_store::ProcessHistoryItem>, ServiceError> {
        let id = candex_domain::CandidateProfileId::parse(profile_id)
            .map_err(|_| ServiceError::NotFound("candidate profile"))?;
        if self.store.get_profile(&id).await.map_err(ServiceError::Store)?.is_none() {
            return Err(ServiceError::NotFound("candidate profile"));
        }
        self.store.page_process_history(&id, after_seq, limit).await.map_err(ServiceError::Store)
    }
}

fn not_found_or_store(e: StoreError) -> ServiceError {
    match e {
        StoreError::NotFound(what) => ServiceError::NotFound(what),
        other => ServiceError::Store(other),
    }
}
