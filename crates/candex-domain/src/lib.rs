//! Domain types of candex: opaque identifiers, history dates, live person data, profile
//! snapshots, relationship codes and the validated shapes of operator input. No I/O here:
//! every type is plain data, parsed once at the edge ("parse, don't validate").

pub mod errors;
pub mod event;
pub mod id;
pub mod input;
pub mod person;
pub mod position;
pub mod process;
pub mod questionnaire;
pub mod relationship;
pub mod snapshot;
pub mod time;

pub use errors::FieldErrors;
pub use event::{DeliveryCode, EventType, SigningAlgorithm};
pub use id::{
    AttachmentId, CandidateId, CandidateProfileId, HirerId, IdKind, Identifier, ObjectId, PartnerId, PositionOpeningId,
    PositionProfileId, Scheme,
};
pub use person::Person;
pub use relationship::{RelationshipSet, RelationshipType};
pub use snapshot::{HistoryDate, Snapshot};
