//! The questionnaires area of the store: questionnaires of job ads and the submissions of applications.

use async_trait::async_trait;
use candex_domain::{CandidateProfileId, ObjectId};

use std::collections::HashMap;
use std::sync::Arc;

use candex_domain::questionnaire::{ComponentResponse, Questionnaire};

use crate::rows::{self, StoredRow};
use crate::sql::{to_json, Exec, SqlBackend};
use crate::*;

/// Questionnaires of job ads and the submissions of applications.
#[async_trait]
pub trait QuestionnaireStore: Send + Sync {
    /// Reads the job ad a questionnaire belongs to (its `questionnaire` is set), in one
    /// statement.
    async fn get_position_by_questionnaire(&self, questionnaire_id: &ObjectId) -> StoreResult<Option<Position>>;
    /// A profile's questionnaire submission with its questionnaire, in one statement; `None`
    /// when the application gave no responses (or they were erased) or the profile is unknown.
    async fn questionnaire_submission(
        &self,
        profile_id: &CandidateProfileId,
    ) -> StoreResult<Option<QuestionnaireSubmission>>;
    /// The questionnaire submissions of several profiles in one statement, with their profile
    /// ids; profiles without one are left out.
    async fn questionnaire_submissions(
        &self,
        profile_ids: &[CandidateProfileId],
    ) -> StoreResult<Vec<(CandidateProfileId, QuestionnaireSubmission)>>;
}

#[async_trait]
impl<B: SqlBackend> QuestionnaireStore for B {
    #[tracing::instrument(skip_all)]
    async fn get_position_by_questionnaire(&self, questionnaire_id: &ObjectId) -> StoreResult<Option<Position>> {
        const SQL: &str = concat!(
            "select ",
            position_columns!(),
            " from positions pos join hirers h on h.id = pos.hirer_id where pos.questionnaire_id = $1"
        );
        self.reader().optional(stmt!(SQL, questionnaire_id), rows::position::<B::Db>).await
    }

    #[tracing::instrument(skip_all)]
    async fn questionnaire_submission(
        &self,
        profile_id: &CandidateProfileId,
    ) -> StoreResult<Option<QuestionnaireSubmission>> {
        let select = format!("{SUBMISSIONS} where s.profile_id = $1");
        // One row by primary key, on every export of a profile with answers: a point read.
        let row = self.point_reader().fetch_optional(stmt!(select, profile_id)).await?;
        let Some(row) = row else { return Ok(None) };
        let responses: Vec<ComponentResponse> = StoredRow::<B::PointDb>::new(&row).json("responses")?;
        Ok(Some(QuestionnaireSubmission {
            questionnaire: Arc::new(rows::submission_questionnaire::<B::PointDb>(&row)?),
            responses,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn questionnaire_submissions(
        &self,
        profile_ids: &[CandidateProfileId],
    ) -> StoreResult<Vec<(CandidateProfileId, QuestionnaireSubmission)>> {
        if profile_ids.is_empty() {
            return Ok(Vec::new());
        }
        let select = format!("{SUBMISSIONS} where s.profile_id in ({})", B::list("$1"));
        let rows = self.reader().fetch_all(stmt!(select, profile_ids)).await?;
        // Profiles of one job ad share its questionnaire: decode it once.
        let mut questionnaires: HashMap<String, Arc<Questionnaire>> = HashMap::new();
        let mut submissions = Vec::with_capacity(rows.len());
        for row in &rows {
            let cols = StoredRow::<B::Db>::new(row);
            let position_id = cols.text("position_id")?;
            let questionnaire = match questionnaires.get(&position_id) {
                Some(q) => Arc::clone(q),
                None => {
                    let q = Arc::new(rows::submission_questionnaire::<B::Db>(row)?);
                    questionnaires.insert(position_id, Arc::clone(&q));
                    q
                }
            };
            let responses: Vec<ComponentResponse> = cols.json("responses")?;
            submissions.push((cols.id("profile_id")?, QuestionnaireSubmission { questionnaire, responses }));
        }
        Ok(submissions)
    }
}

/// A profile's submission with its job ad's questionnaire; the caller adds the `where`.
const SUBMISSIONS: &str = "select s.profile_id, pos.profile_id as position_id, s.responses, pos.questionnaire
     from questionnaire_submissions s
     join profiles p on p.profile_id = s.profile_id
     join positions pos on pos.profile_id = p.position_profile_id";

/// Stores the responses of one application inside its ingest transaction. `questionnaire_id`
/// is the job ad's (read in the same transaction); responses to a job ad without one are
/// refused.
pub(crate) async fn insert_submission(
    tx: &mut impl Exec,
    application: &NewApplicationRecord,
    questionnaire_id: Option<&str>,
    responses: Option<&[ComponentResponse]>,
) -> StoreResult<()> {
    let Some(responses) = responses else { return Ok(()) };
    let Some(questionnaire_id) = questionnaire_id else {
        return Err(StoreError::Rejected(format!(
            "position profile {} has no questionnaire to respond to",
            application.position_profile_id
        )));
    };
    let insert = "insert into questionnaire_submissions (profile_id, questionnaire_id, responses) values ($1, $2, $3)";
    tx.execute(stmt!(insert, &application.profile_id, questionnaire_id, to_json(&responses)?)).await?;
    Ok(())
}
