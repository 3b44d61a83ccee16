//! Attachment storage settings from `--blobs` and friends: the location (by default a `blobs`
//! folder beside the SQLite file) and the accepted types, size limit and retention.

use std::path::PathBuf;

use anyhow::Context;
use candex_server::attachments::{policy, AttachmentSettings};
use candex_server::storage::{BlobLocation, BlobStore};

use crate::cli::BlobArgs;

/// The default blob folder for a database URL: `blobs` beside an SQLite file, else `./blobs`
/// (for PostgreSQL, several instances need a shared folder or bucket: see docs/deploy.md).
pub fn default_location(database: &str) -> PathBuf {
    let parsed = crate::database::DatabaseUrl::parse(database).ok();
    match parsed.as_ref().and_then(|url| url.sqlite_path()).and_then(std::path::Path::parent) {
        Some(parent) if !parent.as_os_str().is_empty() => parent.join("blobs"),
        _ => PathBuf::from("blobs"),
    }
}

/// The blob location and attachment settings of `args`.
pub fn settings(database: &str, args: &BlobArgs) -> anyhow::Result<(BlobLocation, AttachmentSettings)> {
    let location = match &args.blobs {
        Some(value) => BlobLocation::parse(value, args.blobs_endpoint.as_deref()).context("--blobs")?,
        None => {
            anyhow::ensure!(args.blobs_endpoint.is_none(), "--blobs-endpoint needs --blobs s3://bucket/prefix");
            BlobLocation::Local(default_location(database))
        }
    };
    anyhow::ensure!(args.attachment_max_bytes > 0, "--attachment-max-bytes must be positive");
    let types = policy::parse_types(&args.attachment_types).map_err(|e| anyhow::anyhow!("--attachment-types: {e}"))?;
    let settings = AttachmentSettings {
        max_bytes: args.attachment_max_bytes,
        types,
        retention_days: args.attachment_retention_days,
        orphan_grace: std::time::Duration::from_secs(args.orphan_grace_secs),
    };
    Ok((location, settings))
}

/// Opens the blob store of `args`.
pub fn open(database: &str, args: &BlobArgs) -> anyhow::Result<(BlobStore, AttachmentSettings)> {
    let (location, settings) = settings(database, args)?;
    let store = BlobStore::open(&location).with_context(|| format!("failed to open attachment storage {location}"))?;
    Ok((store, settings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_default_beside_the_database_file() {
        assert_eq!(default_location("sqlite://data/candex.db"), PathBuf::from("data/blobs"));
        assert_eq!(default_location("sqlite:///var/lib/candex.db"), PathBuf::from("/var/lib/blobs"));
        assert_eq!(default_location("sqlite://candex.db"), PathBuf::from("blobs"));
        assert_eq!(default_location("sqlite::memory:"), PathBuf::from("blobs"));
        assert_eq!(default_location("postgres://u:p@db.example.com:5432/candex"), PathBuf::from("blobs"));
    }
}
