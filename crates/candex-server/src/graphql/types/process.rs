//! Candidate process history (proactive sourcing only in SEEK): part of the schema reachable
//! from `CandidateProfile.seekProcessHistory`, which is always null for applications.

use async_graphql::SimpleObject;

use super::common::{ObjectIdentifier, Organization};
use super::person::SpecifiedPerson;
use super::position::PositionProfile;
use super::profile::{CandidateProcessAction, CandidateProfile};
use crate::graphql::relay::PageInfo;
use crate::graphql::scalars::DateTime;

/// `CandidateProcessHistoryItemConnection`.
#[derive(SimpleObject)]
pub struct CandidateProcessHistoryItemConnection {
    /// Edges.
    pub edges: Vec<CandidateProcessHistoryItemEdge>,
    /// Paging.
    pub page_info: PageInfo,
}

/// `CandidateProcessHistoryItemEdge`.
#[derive(SimpleObject)]
pub struct CandidateProcessHistoryItemEdge {
    /// Cursor.
    pub cursor: String,
    /// The item.
    pub node: CandidateProcessHistoryItem,
}

/// `CandidateProcessHistoryItem`.
#[derive(SimpleObject)]
pub struct CandidateProcessHistoryItem {
    /// What happened.
    pub action: CandidateProcessAction,
    /// When.
    pub action_date: DateTime,
    /// The profile.
    pub candidate_profile: CandidateProfile,
    /// Id.
    pub id: ObjectIdentifier,
    /// The job ad.
    pub position_profile: Option<PositionProfile>,
    /// Parties involved.
    pub primary_parties: Vec<CandidateProcessParty>,
    /// Source.
    pub seek_source: Option<SeekProcessHistoryItemSource>,
    /// Status.
    pub status: Option<CandidateProcessStatus>,
}

/// `CandidateProcessParty`.
#[derive(Debug, Clone, SimpleObject)]
pub struct CandidateProcessParty {
    /// An organisation.
    pub organization: Option<Organization>,
    /// A person.
    pub person: Option<SpecifiedPerson>,
}

/// `CandidateProcessStatus`.
#[derive(Debug, Clone, SimpleObject)]
pub struct CandidateProcessStatus {
    /// Status code.
    pub code: String,
}

/// `SeekProcessHistoryItemSource`.
#[derive(Debug, Clone, SimpleObject)]
pub struct SeekProcessHistoryItemSource {
    /// Source name.
    pub name: String,
}
