//! Questionnaire submissions: storing a candidate's responses with the application, reading
//! them back with their questionnaire in one statement, and erasing them.

use candex_store::Position;
use std::collections::HashMap;
use std::sync::Arc;

use candex_domain::questionnaire::{ComponentResponse, Questionnaire};
use candex_domain::ObjectId;
use candex_store::rows;
use candex_store::{QuestionnaireSubmission, StoreError, StoreResult};
use sqlx::{PgPool, Postgres, Transaction};

use crate::codec::{cols, id_strs, to_json, Db};
use crate::error::map_err;

/// Stores the responses of one application inside the ingest transaction. `questionnaire_id`
/// is the job ad's (read in the same transaction); responses to a job ad without one are
/// refused.
pub(crate) async fn insert_submission(
    tx: &mut Transaction<'_, Postgres>,
    profile_id: &ObjectId,
    position_profile_id: &ObjectId,
    questionnaire_id: Option<&str>,
    responses: Option<&[ComponentResponse]>,
) -> StoreResult<()> {
    let Some(responses) = responses else { return Ok(()) };
    let Some(questionnaire_id) = questionnaire_id else {
        return Err(StoreError::Rejected(format!(
            "position profile {position_profile_id} has no questionnaire to respond to"
        )));
    };
    sqlx::query("insert into questionnaire_submissions (profile_id, questionnaire_id, responses) values ($1, $2, $3)")
        .bind(profile_id.as_str())
        .bind(questionnaire_id)
        .bind(to_json(&responses)?)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    Ok(())
}

pub(crate) async fn questionnaire_submissions(
    pool: &PgPool,
    profile_ids: &[ObjectId],
) -> StoreResult<Vec<(ObjectId, QuestionnaireSubmission)>> {
    if profile_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "select s.profile_id, pos.profile_id as position_id, s.responses, pos.questionnaire
         from questionnaire_submissions s
         join profiles p on p.profile_id = s.profile_id
         join positions pos on pos.profile_id = p.position_profile_id
         where s.profile_id = any($1)",
    )
    .bind(id_strs(profile_ids))
    .fetch_all(pool)
    .await
    .map_err(map_err)?;
    // Profiles of one job ad share its questionnaire: decode it once.
    let mut questionnaires: HashMap<String, Arc<Questionnaire>> = HashMap::new();
    let mut submissions = Vec::with_capacity(rows.len());
    for row in &rows {
        let questionnaire = match questionnaires.get(&cols(row).text("position_id")?) {
            Some(q) => Arc::clone(q),
            None => {
                let q = Arc::new(rows::submission_questionnaire::<Db>(row)?);
                questionnaires.insert(cols(row).text("position_id")?, Arc::clone(&q));
                q
            }
        };
        let responses: Vec<ComponentResponse> = cols(row).json("responses")?;
        submissions.push((cols(row).id("profile_id")?, QuestionnaireSubmission { questionnaire, responses }));
    }
    Ok(submissions)
}

pub(crate) async fn questionnaire_submission(
    pool: &PgPool,
    profile_id: &ObjectId,
) -> StoreResult<Option<QuestionnaireSubmission>> {
    let row = sqlx::query(
        "select s.responses, pos.questionnaire
         from questionnaire_submissions s
         join profiles p on p.profile_id = s.profile_id
         join positions pos on pos.profile_id = p.position_profile_id
         where s.profile_id = $1",
    )
    .bind(profile_id.as_str())
    .fetch_optional(pool)
    .await
    .map_err(map_err)?;
    let Some(row) = row else { return Ok(None) };
    let responses: Vec<ComponentResponse> = cols(&row).json("responses")?;
    Ok(Some(QuestionnaireSubmission {
        questionnaire: Arc::new(rows::submission_questionnaire::<Db>(&row)?),
        responses,
    }))
}

/// Deletes the responses of every profile of a candidate, inside the erasure transaction.
pub(crate) async fn delete_candidate_submissions(
    tx: &mut Transaction<'_, Postgres>,
    candidate_id: &ObjectId,
) -> StoreResult<()> {
    sqlx::query(
        "delete from questionnaire_submissions
         where profile_id in (select profile_id from profiles where candidate_id = $1)",
    )
    .bind(candidate_id.as_str())
    .execute(&mut **tx)
    .await
    .map_err(map_err)?;
    Ok(())
}

#[async_trait::async_trait]
impl candex_store::QuestionnaireStore for crate::PgStore {
    #[tracing::instrument(skip_all)]
    async fn get_position_by_questionnaire(&self, questionnaire_id: &ObjectId) -> StoreResult<Option<Position>> {
        crate::positions::get_position_by_questionnaire(&self.pool, questionnaire_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn questionnaire_submission(&self, profile_id: &ObjectId) -> StoreResult<Option<QuestionnaireSubmission>> {
        crate::questionnaires::questionnaire_submission(&self.pool, profile_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn questionnaire_submissions(
        &self,
        profile_ids: &[ObjectId],
    ) -> StoreResult<Vec<(ObjectId, QuestionnaireSubmission)>> {
        crate::questionnaires::questionnaire_submissions(&self.pool, profile_ids).await
    }
}
