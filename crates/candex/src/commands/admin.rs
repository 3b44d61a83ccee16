//! `candex admin`: the operator use cases run directly on the database, printing JSON in the
//! same shapes as the operator API.

use anyhow::Context;
use candex_domain::input::PositionInput;
use candex_domain::Scheme;
use candex_server::auth::master_key::{self, MasterKey};
use candex_server::auth::tokens;
use candex_server::operator::dto::{
    ClientSecretResponse, ErasedResponse, HirerResponse, PartnerResponse, PositionResponse, RelationshipsResponse,
    RetiredSecretResponse, RevokedTokensResponse,
};
use candex_server::operator::service::{OperatorService, ServiceError};
use serde::Serialize;

use super::Outcome;
use crate::cli::{
    AdminCommand, CandidateCommand, HirerCommand, MasterKeyArgs, MasterKeyCommand, PartnerCommand, PositionCommand,
    RelationshipCommand, SigningKeyCommand, WebhookCommand,
};
use crate::database;

/// The public URL of commands that never build a URL from it.
const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

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
    Ok(OperatorService::new(database::open(db, database::Create::No).await?, scheme, public_url))
}

/// The operator service with the blob store the command line names (for file deletion).
async fn service_with_blobs(db: &str, blobs: &crate::cli::BlobArgs) -> anyhow::Result<OperatorService> {
    let (location, settings) = crate::blobs::settings(db, blobs)?;
    // The database first: a missing one is refused before the blob folder is created.
    let service = service(db, candex_domain::Scheme::DEFAULT, DEFAULT_PUBLIC_URL).await?;
    let store = candex_server::storage::BlobStore::open(&location)?;
    Ok(service.with_attachments(store, settings))
}

/// The master key the arguments name, if any.
pub fn master_key(args: &MasterKeyArgs) -> anyhow::Result<Option<MasterKey>> {
    match (&args.master_key_file, &args.master_key) {
        (Some(path), _) => MasterKey::from_file(path).map(Some),
        (None, Some(text)) => MasterKey::from_base64(text).context("bad CANDEX_MASTER_KEY / --master-key").map(Some),
        (None, None) => Ok(None),
    }
}

/// What to do without a master key.
pub const NO_MASTER_KEY: &str = "no master key configured. candex keeps its token signing keys and webhook secrets \
sealed with a master key you supply, so that a copy of the database alone mints no tokens. Create one and keep a copy \
apart from the database and its backups:\n\n    candex admin master-key generate --out /etc/candex/master.key\n    \
(or: umask 077; openssl rand -base64 32 > /etc/candex/master.key)\n\nthen pass --master-key-file /etc/candex/master.key \
(or CANDEX_MASTER_KEY_FILE, or the key itself in CANDEX_MASTER_KEY). `candex serve --demo` makes one by itself.";

fn require_master_key(args: &MasterKeyArgs) -> anyhow::Result<MasterKey> {
    master_key(args)?.ok_or_else(|| anyhow::anyhow!(NO_MASTER_KEY))
}

/// Runs an admin command.
pub async fn run(command: AdminCommand) -> anyhow::Result<Outcome> {
    match command {
        AdminCommand::Hirer(HirerCommand::Create { db, name, scheme }) => {
            let svc = service(&db.database, &scheme, DEFAULT_PUBLIC_URL).await?;
            let hirer = svc.create_hirer(Some(name)).await.map_err(service_error)?;
            print_json(&HirerResponse::from(hirer))?;
        }
        AdminCommand::Hirer(HirerCommand::List { db }) => {
            let store = database::open(&db.database, database::Create::No).await?;
            let hirers: Vec<HirerResponse> = store.list_hirers().await?.into_iter().map(Into::into).collect();
            print_json(&hirers)?;
        }
        AdminCommand::Partner(PartnerCommand::Create { db, name, scheme }) => {
            let svc = service(&db.database, &scheme, DEFAULT_PUBLIC_URL).await?;
            let created = svc.create_partner(Some(name)).await.map_err(service_error)?;
            eprintln!("note: the client secret is shown only now; store it safely");
            print_json(&PartnerResponse::from_partner(created.partner, Some(created.client_secret)))?;
        }
        AdminCommand::Partner(PartnerCommand::List { db }) => {
            let store = database::open(&db.database, database::Create::No).await?;
            let partners: Vec<PartnerResponse> =
                store.list_partners().await?.into_iter().map(|p| PartnerResponse::from_partner(p, None)).collect();
            print_json(&partners)?;
        }
        AdminCommand::Partner(PartnerCommand::RotateSecret { db, id }) => {
            let svc = service(&db.database, candex_domain::Scheme::DEFAULT, DEFAULT_PUBLIC_URL).await?;
            let client_secret = svc.rotate_client_secret(&id).await.map_err(service_error)?;
            eprintln!("note: the new client secret is shown only now; the previous one works until retire-secret");
            print_json(&ClientSecretResponse { partner_id: id, client_secret })?;
        }
        AdminCommand::Partner(PartnerCommand::RetireSecret { db, id }) => {
            let svc = service(&db.database, candex_domain::Scheme::DEFAULT, DEFAULT_PUBLIC_URL).await?;
            let retired = svc.retire_client_secret(&id).await.map_err(service_error)?;
            print_json(&RetiredSecretResponse { partner_id: id, retired })?;
        }
        AdminCommand::Partner(PartnerCommand::RevokeTokens { db, id }) => {
            let svc = service(&db.database, candex_domain::Scheme::DEFAULT, DEFAULT_PUBLIC_URL).await?;
            let at = svc.revoke_tokens(&id).await.map_err(service_error)?;
            print_json(&RevokedTokensResponse {
                partner_id: id,
                tokens_not_before: candex_domain::time::format_rfc3339_ms(&at),
            })?;
        }
        AdminCommand::MasterKey(MasterKeyCommand::Generate { out }) => match out {
            Some(path) => {
                let key = master_key::write_new_key_file(&path)?;
                eprintln!("wrote a new master key (id {}) to {} (mode 0600)", key.id(), path.display());
            }
            None => println!("{}", MasterKey::generate().1.as_str()),
        },
        AdminCommand::MasterKey(MasterKeyCommand::Rotate { db, key, new_key_file }) => {
            let old = require_master_key(&key)?;
            let new = MasterKey::from_file(&new_key_file)?;
            let store = database::open(&db.database, database::Create::No).await?;
            let resealed = master_key::reseal_secrets(store.as_ref(), &old, &new).await?;
            eprintln!(
                "resealed {resealed} secrets: start every instance with --master-key-file {}",
                new_key_file.display()
            );
            print_json(&serde_json::json!({"masterKeyId": new.id(), "resealed": resealed}))?;
        }
        AdminCommand::SigningKey(SigningKeyCommand::Rotate { db, key, token_lifetime }) => {
            let master = require_master_key(&key)?;
            let store = database::open(&db.database, database::Create::No).await?;
            // The current key must open with this master key: a rotation under the wrong one
            // would leave a key no server can use.
            master_key::seal_plaintext_secrets(store.as_ref(), &master).await?;
            let new = tokens::new_signing_key(&master);
            let window = tokens::verify_window(std::time::Duration::from_secs(token_lifetime));
            let retire_at = chrono::Utc::now() + window;
            let rotated = store.rotate_signing_key(new, retire_at).await?;
            print_json(&serde_json::json!({
                "signingKeyId": rotated.kid,
                "previousKeysVerifyUntil": candex_domain::time::format_rfc3339_ms(&retire_at),
            }))?;
        }
        AdminCommand::SigningKey(SigningKeyCommand::List { db }) => {
            let store = database::open(&db.database, database::Create::No).await?;
            let time =
                |t: Option<chrono::DateTime<chrono::Utc>>| t.as_ref().map(candex_domain::time::format_rfc3339_ms);
            let keys: Vec<serde_json::Value> = store
                .signing_keys()
                .await?
                .into_iter()
                .map(|k| {
                    let state = match (k.superseded_at, k.retired_at) {
                        (_, Some(_)) => "retired",
                        (Some(_), None) => "verifying",
                        (None, None) => "signing",
                    };
                    serde_json::json!({
                        "kid": k.kid,
                        "state": state,
                        "createDateTime": candex_domain::time::format_rfc3339_ms(&k.created_at),
                        "supersededDateTime": time(k.superseded_at),
                        "verifiesUntil": time(k.retire_at),
                        "retiredDateTime": time(k.retired_at),
                    })
                })
                .collect();
            print_json(&keys)?;
        }
        AdminCommand::Relationship(RelationshipCommand::Set { db, partner, hirer, types }) => {
            let svc = service(&db.database, candex_domain::Scheme::DEFAULT, DEFAULT_PUBLIC_URL).await?;
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
            let store = database::open(&db.database, database::Create::No).await?;
            let public_url = match (public_url, position_uri.is_some()) {
                (Some(url), _) => url,
                (None, true) => DEFAULT_PUBLIC_URL.to_owned(), // not used: the ad has its URL
                (None, false) => store.recorded_public_url().await?.ok_or_else(|| {
                    anyhow::anyhow!(
                        "no public URL to give the job ad one under: pass --public-url (or CANDEX_PUBLIC_URL) or \
                         --position-uri, or start `candex serve` on this database once (it records its own)"
                    )
                })?,
            };
            let svc = OperatorService::new(store, super::parse_scheme(&scheme)?, &public_url);
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
            let svc = service(&db.database, candex_domain::Scheme::DEFAULT, DEFAULT_PUBLIC_URL).await?;
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
            let store = database::open(&db.database, database::Create::No).await?;
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
            let store = database::open(&db.database, database::Create::No).await?;
            let stats = store.webhook_queue_stats().await?;
            let age = stats.oldest_pending.map(|t| (chrono::Utc::now() - t).num_seconds().max(0));
            print_json(&serde_json::json!({
                "pendingDeliveries": stats.pending,
                "oldestPendingEventDateTime": stats.oldest_pending.as_ref().map(candex_domain::time::format_rfc3339_ms),
                "oldestPendingEventAgeSeconds": age,
            }))?;
        }
        AdminCommand::Position(PositionCommand::List { db, hirer }) => {
            let store = database::open(&db.database, database::Create::No).await?;
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
