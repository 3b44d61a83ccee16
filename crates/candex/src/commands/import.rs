//! `candex import FILE.ndjson`: bulk ingest. Good lines are stored in batches (one transaction
//! each); rejected lines are reported with their line number and reason and stored nowhere.
//! Attachments name files by `path` (relative to the NDJSON file's folder, or absolute); each
//! is streamed from disk into blob storage as its line is read.

use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::path::{Path, PathBuf};

use anyhow::Context;
use candex_domain::input::{ApplicationInput, AttachmentSource};
use candex_server::error::ApiError;
use candex_server::operator::json;
use candex_server::operator::service::{OperatorService, ServiceError};
use candex_server::operator::uploads::PreparedApplication;
use indicatif::{ProgressBar, ProgressStyle};

use super::Outcome;
use crate::cli::ImportArgs;
use crate::database;
use candex_export::progress::plural;

/// Totals of one import.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    /// Applications stored.
    pub imported: u64,
    /// Lines rejected.
    pub rejected: u64,
}

/// Runs the import.
pub async fn run(args: ImportArgs) -> anyhow::Result<Outcome> {
    let scheme = super::parse_scheme(&args.scheme)?;
    // The database first: a command run in the wrong folder says so before anything else.
    let store = database::open(&args.db.database, database::Create::No).await?;
    let (blobs, attachments) = crate::blobs::open(&args.db.database, &args.blobs)?;
    // Applications name existing job ads, so no URL is ever built from the public URL here.
    let svc = OperatorService::new(store, scheme, "http://127.0.0.1:8080").with_attachments(blobs, attachments);
    let (reader, size): (Box<dyn Read>, Option<u64>) = if args.file.as_os_str() == "-" {
        (Box::new(std::io::stdin()), None)
    } else {
        let file = std::fs::File::open(&args.file).with_context(|| format!("cannot open {}", args.file.display()))?;
        let size = file.metadata().ok().map(|m| m.len());
        (Box::new(file), size)
    };
    let base_dir = match args.file.parent() {
        Some(dir) if args.file.as_os_str() != "-" && !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let progress = progress_bar(size);
    let summary = import(&svc, BufReader::new(reader), args.batch_size as usize, &progress, &base_dir).await?;
    progress.finish_and_clear();
    eprintln!(
        "imported {}, rejected {}",
        plural(summary.imported, "application", "applications"),
        plural(summary.rejected, "line", "lines")
    );
    Ok(if summary.rejected == 0 { Outcome::Done } else { Outcome::Partial })
}

fn progress_bar(size: Option<u64>) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    match size {
        Some(len) => ProgressBar::new(len).with_style(
            ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg} ({eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        None => ProgressBar::new_spinner(),
    }
}

/// Imports NDJSON from `reader`, reporting rejected lines on stderr. Attachment paths are
/// relative to `base_dir`.
pub async fn import(
    svc: &OperatorService,
    reader: impl BufRead,
    batch_size: usize,
    progress: &ProgressBar,
    base_dir: &Path,
) -> anyhow::Result<ImportSummary> {
    let mut summary = ImportSummary::default();
    let mut batch: Vec<(usize, PreparedApplication)> = Vec::with_capacity(batch_size);
    for (index, line) in reader.split(b'\n').enumerate() {
        let line_no = index + 1;
        let line = line.with_context(|| format!("failed to read line {line_no}"))?;
        progress.inc(line.len() as u64 + 1);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match parse_line(svc, &line, base_dir).await {
            Ok(app) => batch.push((line_no, app)),
            Err(reason) => {
                summary.rejected += 1;
                progress.suspend(|| eprintln!("line {line_no}: {reason}"));
            }
        }
        if batch.len() >= batch_size {
            store_batch(svc, std::mem::take(&mut batch), &mut summary, progress).await?;
            progress.set_message(format!("{} imported, {} rejected", summary.imported, summary.rejected));
        }
    }
    store_batch(svc, batch, &mut summary, progress).await?;
    Ok(summary)
}

fn service_reason(e: ServiceError) -> String {
    match e {
        ServiceError::Invalid(fields) | ServiceError::TooLarge(fields) => fields.to_string(),
        other => other.to_string(),
    }
}

async fn parse_line(svc: &OperatorService, line: &[u8], base_dir: &Path) -> Result<PreparedApplication, String> {
    let input: ApplicationInput = json::parse(line).map_err(|e| match e {
        ApiError::Invalid(fields) => fields.to_string(),
        other => other.to_string(),
    })?;
    let app = svc.validate_application(input).map_err(service_reason)?;
    let mut attachments = Vec::with_capacity(app.attachments.len());
    for (i, spec) in app.attachments.iter().enumerate() {
        let uploaded = match &spec.source {
            AttachmentSource::Path(path) => svc
                .upload_file(&format!("/attachments/{i}/path"), spec, &base_dir.join(path))
                .await
                .map_err(service_reason),
            AttachmentSource::Part(_) => {
                Err(format!("/attachments/{i}/file: candex import reads files from `path`, not multipart parts"))
            }
        };
        match uploaded {
            Ok(u) => attachments.push(u),
            Err(reason) => {
                svc.discard_uploads(&attachments).await;
                return Err(reason);
            }
        }
    }
    Ok(PreparedApplication { app, attachments })
}

/// Stores a batch in one transaction; when the store rejects it (an unknown or closed job ad),
/// stores the lines one by one so that only the bad lines are rejected, each named.
async fn store_batch(
    svc: &OperatorService,
    batch: Vec<(usize, PreparedApplication)>,
    summary: &mut ImportSummary,
    progress: &ProgressBar,
) -> anyhow::Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let apps: Vec<PreparedApplication> = batch.iter().map(|(_, a)| a.clone()).collect();
    match svc.ingest_prepared(apps).await {
        Ok(stored) => {
            summary.imported += stored.len() as u64;
            Ok(())
        }
        Err(ServiceError::Invalid(_)) => {
            for (line_no, app) in batch {
                let uploads = app.attachments.clone();
                match svc.ingest_prepared(vec![app]).await {
                    Ok(_) => summary.imported += 1,
                    Err(ServiceError::Invalid(fields)) => {
                        svc.discard_uploads(&uploads).await;
                        summary.rejected += 1;
                        progress.suspend(|| eprintln!("line {line_no}: {fields}"));
                    }
                    Err(other) => {
                        return Err(anyhow::Error::new(other).context(format!("failed to store line {line_no}")))
                    }
                }
            }
            Ok(())
        }
        Err(other) => Err(anyhow::Error::new(other).context("failed to store applications")),
    }
}
