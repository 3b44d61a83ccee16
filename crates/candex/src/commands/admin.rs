//! `candex admin`: the operator use cases run directly on the database, printing JSON in the
//! same shapes as the operator API.

use candex_domain::input::PositionInput;
use candex_domain::Scheme;
use candex_server::operator::dto::{
    ErasedResponse, HirerResponse, PartnerResponse, PositionResponse, RelationshipsResponse,
};
use candex_server::operator::service::{OperatorService, ServiceError};
use serde::Serialize;

use super::Outcome;
use crate::cli::{
    AdminCommand, CandidateCommand, HirerCommand, PartnerCommand, PositionCommand, RelationshipCommand, WebhookCommand,
};
use crate::database;

fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn service_error(e: ServiceError) -> anyhow::Error {
    match e {
        ServiceError::Invalid(fields) => anyhow::anyhow!("invalid input: {fields}"),
        other => anyhow::Error::new(other),
    }
}

async fn service(db: &str, scheme: &str, public_url: &str) -> anyhow::Result<OperatorService> {
    let scheme: Scheme = super::parse_scheme(scheme)?;
    Ok(OperatorService::new(database::open(db).await?, scheme, public_url))
}

/// The operator service with the blob store the command line names (for file deletion).
async fn service_with_blobs(db: &str, blobs: &crate::cli::BlobArgs) -> anyhow::Result<OperatorService> {
    let (location, settings) = crate::blobs::settings(db, blobs)?;
    let store = candex_server::storage::BlobStore::open(&location)?;
    Ok(service(db, candex_domain::Scheme::DEFAULT, "http://127.0.0.1:8080").await?.with_attachments(store, settings))
}

/// Runs an admin command.
pub async fn run(command: AdminCommand) -> anyhow::Result<Outcome> {
    match command {
        AdminCommand::Hirer(HirerCommand::Create { db, name, scheme }) => {
            let svc = service(&db.database, &scheme, "http://127.0.0.1:8080").await?;
            let hirer = svc.create_hirer(Some(name)).await.map_err(service_error)?;
            print_json(&HirerResponse::from(hirer))?;
        }
        AdminCommand::Hirer(HirerCommand::List { db }) => {
            let store = database::open(&db.database).await?;
            let hirers: Vec<HirerResponse> = store.list_hirers().await?.into_iter().map(Into::into).collect();
            print_json(&hirers)?;
        }
        AdminCommand::Partner(PartnerCommand::Create { db, name, scheme }) => {
            let svc = service(&db.database, &scheme, "http://127.0.0.1:8080").await?;
            let created = svc.create_partner(Some(name)).await.map_err(service_error)?;
            eprintln!("note: the client secret is shown only now; store it safely");
            print_json(&PartnerResponse::from_partner(created.partner, Some(created.client_secret)))?;
        }
        AdminCommand::Partner(PartnerCommand::List { db }) => {
            let store = database::open(&db.database).await?;
            let partners: Vec<PartnerResponse> =
                store.list_partners().await?.into_iter().map(|p| PartnerResponse::from_partner(p, None)).collect();
            print_json(&partners)?;
        }
        AdminCommand::Relationship(RelationshipCommand::Set { db, partner, hirer, types }) => {
            let svc = service(&db.database, candex_domain::Scheme::DEFAULT, "http://127.0.0.1:8080").await?;
            let set = svc.set_relationships(&partner, &hirer, Some(types)).await.map_err(service_error)?;
            print_json(&RelationshipsResponse {
                partner_id: partner,
                hirer_id: hirer,
                relationship_type_codes: set.codes(),
            })?;
        }
        AdminCommand::Position(PositionCommand::Create {
            db,
            hirer,
            title,
            reference,
            work_type,
            position_uri,
            public_url,
            scheme,
        }) => {
            let svc = service(&db.database, &scheme, &public_url).await?;
            let input = PositionInput {
                hirer_id: Some(hirer),
                position_title: Some(title),
                seek_hirer_job_reference: reference,
                work_type_code: work_type,
                position_uri,
                ..PositionInput::default()
            };
            let position = svc.create_position(input).await.map_err(service_error)?;
            print_json(&PositionResponse::from(position))?;
        }
        AdminCommand::Position(PositionCommand::Close { db, id }) => {
            let svc = service(&db.database, candex_domain::Scheme::DEFAULT, "http://127.0.0.1:8080").await?;
            let position = svc.close_position(&id).await.map_err(service_error)?;
            print_json(&PositionResponse::from(position))?;
        }
        AdminCommand::Purge { db, blobs, event_retention_days, compact } => {
            let svc = service_with_blobs(&db.database, &blobs).await?;
            let now = chrono::Utc::now();
            let report = svc.purge_expired_attachments(now).await.map_err(service_error)?;
            let orphans = svc.sweep_orphans(now).await.map_err(service_error)?;
            let cutoff = now - chrono::Duration::days(i64::try_from(event_retention_days).unwrap_or(i64::MAX));
            let events = svc.store().purge_events_before(cutoff).await?;
            if compact {
                svc.store().compact().await.map_err(|e| anyhow::anyhow!("failed to compact the database: {e}"))?;
            }
            print_json(&serde_json::json!({
                "attachmentsDeleted": report.attachments,
                "blobsDeleted": report.blobs,
                "orphanBlobsDeleted": orphans.blobs,
                "tempFilesDeleted": orphans.temp_files,
                "eventsDeleted": events.events,
                "webhookRequestsDeleted": events.requests,
                "compacted": compact,
            }))?;
        }
        AdminCommand::Candidate(CandidateCommand::Erase { db, blobs, id }) => {
            let svc = service_with_blobs(&db.database, &blobs).await?;
            let erased = svc.erase_candidate(&id).await.map_err(service_error)?;
            print_json(&ErasedResponse::from(erased))?;
        }
        AdminCommand::Webhooks(WebhookCommand::Deliveries { db, failures, limit }) => {
            let store = database::open(&db.database).await?;
            let requests: Vec<serde_json::Value> = store
                .recent_webhook_requests(limit, failures)
                .await?
                .into_iter()
                .map(|r| {
                    serde_json::json!({
                        "requestId": r.request_id,
                        "createDateTime": candex_domain::time::format_rfc3339_ms(&r.created_at),
                        "partnerId": r.partner_id,
                        "subscriptionId": r.subscription_id,
                        "url": r.url,
                        "statusCode": r.status_code,
                        "descriptionCode": r.code.code(),
                        "latencyMs": r.latency_ms,
                    })
                })
                .collect();
            print_json(&requests)?;
        }
        AdminCommand::Webhooks(WebhookCommand::Queue { db }) => {
            let store = database::open(&db.database).await?;
            let stats = store.webhook_queue_stats().await?;
            let age = stats.oldest_pending.map(|t| (chrono::Utc::now() - t).num_seconds().max(0));
            print_json(&serde_json::json!({
                "pendingDeliveries": stats.pending,
                "oldestPendingEventDateTime": stats.oldest_pending.as_ref().map(candex_domain::time::format_rfc3339_ms),
                "oldestPendingEventAgeSeconds": age,
            }))?;
        }
        AdminCommand::Position(PositionCommand::List { db, hirer }) => {
            let store = database::open(&db.database).await?;
            let hirer = hirer
                .map(|h| candex_domain::HirerId::parse(&h).map_err(|e| anyhow::anyhow!("--hirer: {e}")))
                .transpose()?;
            let positions: Vec<PositionResponse> =
                store.list_positions(hirer.as_ref()).await?.into_iter().map(Into::into).collect();
            print_json(&positions)?;
        }
    }
    Ok(Outcome::Done)
}
