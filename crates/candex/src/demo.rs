//! `candex serve --demo`: loads the deterministic demo world into an empty database and
//! prints credentials and a ready-to-paste seed query. Ids and secrets come from fixed seeds,
//! so a fresh demo always has the same credentials and can print them again on restart.

use std::sync::Arc;

use anyhow::Context;
use candex_domain::input::ApplicationInput;
use candex_domain::questionnaire::{AnswerInput, Component, ResponseInput};
use candex_domain::Scheme;
use candex_server::attachments::AttachmentSettings;
use candex_server::auth::secrets::{self, GeneratedCredentials};
use candex_server::operator::service::OperatorService;
use candex_server::operator::uploads::PreparedApplication;
use candex_server::storage::BlobStore;
use candex_store::{Position, Store};
use rand::SeedableRng;

use crate::synth::{demo_world, DemoAnswer, DemoWorld};

/// Seed of the demo's ids.
pub const DEMO_SEED: u64 = 0x00C4_DE40;

use candex_server::graphql::SEED_QUERY;

/// A demo partner and its credentials.
#[derive(Debug)]
pub struct DemoPartnerInfo {
    /// Name.
    pub name: String,
    /// Relationships, as `hirer name: codes`.
    pub relationships: Vec<String>,
    /// Client credentials.
    pub credentials: GeneratedCredentials,
}

/// What the demo looks like.
#[derive(Debug)]
pub struct DemoInfo {
    /// The partners.
    pub partners: Vec<DemoPartnerInfo>,
    /// A profile the first partner can read (the fully populated first application).
    pub example_profile_id: String,
    /// Whether the data was loaded now (false: it already was).
    pub loaded_now: bool,
}

fn partner_credentials(index: usize) -> GeneratedCredentials {
    let mut rng = rand::rngs::StdRng::seed_from_u64(DEMO_SEED ^ (index as u64 + 1));
    secrets::generate(&mut rng)
}

/// Loads the demo into an empty database, or recognises an already loaded demo.
pub async fn ensure(
    store: Arc<dyn Store>,
    scheme: Scheme,
    public_url: &str,
    blobs: BlobStore,
) -> anyhow::Result<DemoInfo> {
    let world = demo_world();
    let partners: Vec<DemoPartnerInfo> = world
        .partners
        .iter()
        .enumerate()
        .map(|(i, p)| DemoPartnerInfo {
            name: p.name.clone(),
            relationships: p
                .relationships
                .iter()
                .map(|(h, types)| {
                    let codes: Vec<&str> = types.iter().map(|t| t.code()).collect();
                    format!("{}: {}", world.hirers[*h], codes.join(", "))
                })
                .collect(),
            credentials: partner_credentials(i),
        })
        .collect();
    let existing = store.list_hirers().await.context("failed to read hirers")?;
    if existing.is_empty() {
        let example_profile_id = load(&store, scheme, public_url, &world, blobs).await?;
        return Ok(DemoInfo { partners, example_profile_id, loaded_now: true });
    }
    // Already loaded? The demo partners' client ids are deterministic.
    let first = &partners[0].credentials.client_id;
    if store.find_partner_credentials(first).await?.is_none() {
        anyhow::bail!(
            "--demo loads demo data only into an empty database, and this one holds other data; \
             use another --database (for example sqlite://candex-demo.db)"
        );
    }
    let example_profile_id = find_example_profile(&store, &world).await?;
    Ok(DemoInfo { partners, example_profile_id, loaded_now: false })
}

async fn load(
    store: &Arc<dyn Store>,
    scheme: Scheme,
    public_url: &str,
    world: &DemoWorld,
    blobs: BlobStore,
) -> anyhow::Result<String> {
    let svc = OperatorService::deterministic(store.clone(), scheme, public_url, DEMO_SEED)
        .with_attachments(blobs, AttachmentSettings::default());
    let mut hirer_ids = Vec::new();
    for name in &world.hirers {
        hirer_ids.push(svc.create_hirer(Some(name.clone())).await?.id);
    }
    for (i, p) in world.partners.iter().enumerate() {
        let created = svc.create_partner_with_credentials(Some(p.name.clone()), partner_credentials(i)).await?;
        for (h, types) in &p.relationships {
            let codes = types.iter().map(|t| t.code().to_owned()).collect();
            svc.set_relationships(created.partner.id.as_str(), hirer_ids[*h].as_str(), Some(codes)).await?;
        }
    }
    let mut positions = Vec::new();
    for p in &world.positions {
        let mut input = p.input.clone();
        input.hirer_id = Some(hirer_ids[p.hirer].to_string());
        positions.push(svc.create_position(input).await?);
    }
    let position_ids: Vec<_> = positions.iter().map(|p| p.profile_id.clone()).collect();
    let apps = world
        .applications
        .iter()
        .map(|a| {
            let questionnaire_responses = match &a.answers {
                Some(answers) => Some(responses(&positions[a.position], answers)?),
                None => None,
            };
            let input = ApplicationInput {
                position_profile_id: Some(position_ids[a.position].to_string()),
                questionnaire_responses,
                attachments: a.files.iter().enumerate().map(|(i, f)| f.input(&format!("file{i}"))).collect(),
                ..a.input.clone()
            };
            Ok(svc.validate_application(input)?)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    // The files go through the same upload path as multipart parts.
    let mut prepared = Vec::with_capacity(apps.len());
    for (app, demo) in apps.into_iter().zip(&world.applications) {
        let mut attachments = Vec::with_capacity(demo.files.len());
        for (i, (spec, file)) in app.attachments.iter().zip(&demo.files).enumerate() {
            let pointer = format!("/attachments/{i}/file");
            let mut upload = svc.begin_upload(&pointer, spec, Some(&file.filename), Some(&file.content_type))?;
            upload.write(bytes::Bytes::from(file.bytes.clone())).await?;
            attachments.push(upload.finish().await?);
        }
        prepared.push(PreparedApplication { app, attachments });
    }
    let stored = svc.ingest_prepared(prepared).await?;
    for (p, id) in world.positions.iter().zip(&position_ids) {
        if p.closed {
            svc.close_position(id.as_str()).await?;
        }
    }
    tracing::info!(profiles = stored.len(), "loaded the demo data");
    stored.first().map(|a| a.profile_id.to_string()).context("the demo world has no applications")
}

/// Turns demo answers (by component and choice position) into `questionnaireResponses` with
/// the ids the created job ad's questionnaire got.
fn responses(position: &Position, answers: &[DemoAnswer]) -> anyhow::Result<Vec<ResponseInput>> {
    let questionnaire =
        position.questionnaire.as_deref().context("demo answers to a job ad without a questionnaire")?;
    questionnaire
        .components
        .iter()
        .zip(answers)
        .map(|(component, answer)| {
            let component_id = Some(component.id().to_string());
            Ok(match (component, answer) {
                (Component::PrivacyConsent(_), DemoAnswer::Consent(given)) => {
                    ResponseInput { component_id, consent_given_indicator: Some(*given), answers: None }
                }
                (Component::Question(_), DemoAnswer::FreeText(text)) => ResponseInput {
                    component_id,
                    consent_given_indicator: None,
                    answers: Some(vec![AnswerInput { choice_id: None, answer: Some(text.clone()) }]),
                },
                (Component::Question(q), DemoAnswer::Choices(indexes)) => {
                    let answers = indexes
                        .iter()
                        .map(|&k| {
                            let choice = q.response_choice.get(k).context("demo answer names no such choice")?;
                            Ok(AnswerInput { choice_id: Some(choice.id.to_string()), answer: None })
                        })
                        .collect::<anyhow::Result<Vec<_>>>()?;
                    ResponseInput { component_id, consent_given_indicator: None, answers: Some(answers) }
                }
                _ => anyhow::bail!("a demo answer does not fit its questionnaire component"),
            })
        })
        .collect()
}

async fn find_example_profile(store: &Arc<dyn Store>, world: &DemoWorld) -> anyhow::Result<String> {
    let first = world.applications.first().context("the demo world has no applications")?;
    let position = &world.positions[first.position];
    let hirer_name = &world.hirers[position.hirer];
    let title = position.input.position_title.as_deref().unwrap_or_default();
    for p in store.list_positions(None).await? {
        if p.hirer_name == *hirer_name && p.title == title {
            if let Some(app) = store.page_position_applications(&p.profile_id, None, 1).await?.first() {
                return Ok(app.profile_id.to_string());
            }
        }
    }
    anyhow::bail!("the demo's first application is missing from the database")
}

/// Prints the demo banner to stdout.
pub fn print(info: &DemoInfo, public_url: &str, operator_key: &str) {
    let mut out = String::new();
    let state = if info.loaded_now { "loaded" } else { "already loaded" };
    out.push_str(&format!("\ncandex demo ({state}) at {public_url}\n\n"));
    out.push_str(&format!("  operator key (Authorization: Bearer for /operator/v1): {operator_key}\n\n"));
    for p in &info.partners {
        out.push_str(&format!("  partner \"{}\"\n", p.name));
        for r in &p.relationships {
            out.push_str(&format!("    relationship  {r}\n"));
        }
        out.push_str(&format!(
            "    client_id     {}\n    client_secret {}\n\n",
            p.credentials.client_id, p.credentials.client_secret
        ));
    }
    let first = &info.partners[0].credentials;
    let token_body = serde_json::json!({
        "grant_type": "client_credentials", "client_id": first.client_id, "client_secret": first.client_secret,
    });
    let query = SEED_QUERY.lines().map(|l| l.strip_prefix("      ").unwrap_or(l)).collect::<Vec<_>>().join("\n");
    let query_body = serde_json::json!({"query": query, "variables": {"id": info.example_profile_id}});
    out.push_str("Run the seed query as the first partner:\n\n");
    out.push_str(&format!(
        "  TOKEN=$(curl -s {public_url}/oauth/token -H 'Content-Type: application/json' -d '{token_body}' | sed -E 's/.*\"access_token\":\"([^\"]+)\".*/\\1/')\n"
    ));
    out.push_str(&format!(
        "  curl -s {public_url}/graphql -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' -d '{}'\n\n",
        query_body.to_string().replace('\'', "'\\''")
    ));
    out.push_str(&format!(
        "GraphQL explorer: {public_url}/graphql   Operator API: {public_url}/operator/v1/reference (OpenAPI: {public_url}/operator/v1/openapi.json)\n"
    ));
    print!("{out}");
}
