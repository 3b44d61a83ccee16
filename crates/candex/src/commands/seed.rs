//! `candex seed --profiles N`: deterministic synthetic data (hirers, one partner with
//! `ApplicationExport` on all of them, job ads, applications) for benchmarks and load tests.

use std::io::IsTerminal;
use std::time::Instant;

use anyhow::Context;
use candex_server::auth::secrets;
use candex_server::operator::service::{OperatorService, ServiceError};
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;

use super::Outcome;
use crate::cli::SeedArgs;
use crate::database;
use crate::synth::Synth;

const BATCH: usize = 1_000;

fn invalid(e: ServiceError) -> anyhow::Error {
    match e {
        ServiceError::Invalid(fields) => anyhow::anyhow!("generated data was invalid (a bug): {fields}"),
        other => anyhow::Error::new(other),
    }
}

/// Runs the seeding.
pub async fn run(args: SeedArgs) -> anyhow::Result<Outcome> {
    let scheme = super::parse_scheme(&args.scheme)?;
    let store = database::open(&args.db.database, database::Create::IfMissing).await?;
    let svc = OperatorService::deterministic(store.clone(), scheme.clone(), &args.public_url, args.seed);
    // The first minted id is the first hirer's; if it exists, this seed was already loaded.
    let mut probe = rand::rngs::StdRng::seed_from_u64(args.seed);
    let first_hirer = candex_domain::HirerId::mint(&scheme, &mut probe);
    if store.get_hirer(&first_hirer).await?.is_some() {
        anyhow::bail!(
            "data of --seed {} is already in this database; use another --seed or an empty database",
            args.seed
        );
    }
    let started = Instant::now();
    let mut hirers = Vec::new();
    for i in 0..args.hirers {
        hirers.push(
            svc.create_hirer(Some(format!("Seed Hirer {:04} (seed {})", i + 1, args.seed))).await.map_err(invalid)?,
        );
    }
    let creds = secrets::generate(&mut rand::rngs::StdRng::seed_from_u64(args.seed.wrapping_add(0x5EED)));
    let partner = svc
        .create_partner_with_credentials(Some(format!("Seed ATS (seed {})", args.seed)), creds)
        .await
        .map_err(invalid)?;
    let mut synth = Synth::new(args.seed);
    let mut positions = Vec::new();
    for hirer in &hirers {
        svc.set_relationships(partner.partner.id.as_str(), hirer.id.as_str(), Some(vec!["ApplicationExport".into()]))
            .await
            .map_err(invalid)?;
        for _ in 0..args.positions_per_hirer {
            positions.push(svc.create_position(synth.position(hirer.id.as_str())).await.map_err(invalid)?.profile_id);
        }
    }
    let progress = if std::io::stderr().is_terminal() {
        ProgressBar::new(args.profiles).with_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} profiles {per_sec} ({eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        )
    } else {
        ProgressBar::hidden()
    };
    let mut done: u64 = 0;
    let mut first_profile = None;
    while done < args.profiles {
        let n = BATCH.min((args.profiles - done) as usize);
        let apps = (0..n)
            .map(|i| {
                let position = &positions[(done as usize + i) % positions.len()];
                svc.validate_application(synth.application(position.as_str()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(invalid)?;
        let stored =
            svc.ingest_validated(apps).await.map_err(invalid).context("failed to store generated applications")?;
        if first_profile.is_none() {
            first_profile = stored.first().map(|a| a.profile_id.to_string());
        }
        done += n as u64;
        progress.set_position(done);
    }
    progress.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    let summary = serde_json::json!({
        "seed": args.seed,
        "hirers": hirers.iter().map(|h| h.id.to_string()).collect::<Vec<_>>(),
        "positions": positions.len(),
        "profiles": done,
        "firstProfileId": first_profile,
        "partner": {"id": partner.partner.id.to_string(), "clientId": partner.partner.client_id, "clientSecret": partner.client_secret},
        "elapsedSeconds": (secs * 1000.0).round() / 1000.0,
        "profilesPerSecond": if secs > 0.0 { (done as f64 / secs).round() } else { 0.0 },
    });
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(Outcome::Done)
}
