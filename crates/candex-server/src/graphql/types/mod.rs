//! GraphQL object types, one module per area of SEEK's schema. Types mirror
//! `seek-export-subset.graphql` exactly: same names, fields, arguments and nullability.

pub mod common;
pub mod event;
pub mod organization;
pub mod person;
pub mod position;
pub mod process;
pub mod profile;
pub mod questionnaire;
pub mod replay;
pub mod webhook;
pub mod webhook_mutation;
