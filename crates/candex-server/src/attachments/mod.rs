//! Attachments over HTTP: the accepted types and limits (`policy`), multipart ingest of
//! applications with files (`multipart`), and downloads (`download`).

pub mod download;
pub mod multipart;
pub mod policy;

pub use policy::{AcceptedType, AttachmentSettings};
