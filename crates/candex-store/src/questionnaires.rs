//! The questionnaires area of the store: questionnaires of job ads and the submissions of applications.

use async_trait::async_trait;
use candex_domain::ObjectId;

use crate::*;

/// Questionnaires of job ads and the submissions of applications.
#[async_trait]
pub trait QuestionnaireStore: Send + Sync {
    /// Reads the job ad a questionnaire belongs to (its `questionnaire` is set), in one
    /// statement.
    async fn get_position_by_questionnaire(&self, questionnaire_id: &ObjectId) -> StoreResult<Option<Position>>;
    /// A profile's questionnaire submission with its questionnaire, in one statement; `None`
    /// when the application gave no responses (or they were erased) or the profile is unknown.
    async fn questionnaire_submission(&self, profile_id: &ObjectId) -> StoreResult<Option<QuestionnaireSubmission>>;
    /// The questionnaire submissions of several profiles in one statement, with their profile
    /// ids; profiles without one are left out.
    async fn questionnaire_submissions(
        &self,
        profile_ids: &[ObjectId],
    ) -> StoreResult<Vec<(ObjectId, QuestionnaireSubmission)>>;
}
