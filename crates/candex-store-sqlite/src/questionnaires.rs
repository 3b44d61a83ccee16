//! Questionnaire submissions: storing a candidate's responses with the application, reading
//! them back with their questionnaire in one statement, and erasing them.

use candex_store::Position;
use std::sync::Arc;

use candex_domain::questionnaire::{ComponentResponse, Questionnaire};
use candex_domain::ObjectId;
use candex_store::rows;
use candex_store::{QuestionnaireSubmission, StoreError, StoreResult};
use sqlx::{Sqlite, SqlitePool, Transaction};

use crate::codec::{cols, to_json, Db};
use crate::error::map_err;

/// Stores the responses of one application inside the ingest transaction. `questionnaire_id`
/// is the job ad's (read in the same transaction); responses to a job ad without one are
/// refused.
pub(crate) async fn insert_submission(
    tx: &mut Transaction<'_, Sqlite>,
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
    sqlx::query("insert into questionnaire_submissions (profile_id, questionnaire_id, responses) values (?1, ?2, ?3)")
        .bind(profile_id.as_str())
        .bind(questionnaire_id)
        .bind(to_json(&responses)?)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    Ok(())
}

pub(crate) async fn questionnaire_submissions(
    reader: &SqlitePool,
    profile_ids: &[ObjectId],
) -> StoreResult<Vec<(ObjectId, QuestionnaireSubmission)>> {
    if profile_ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = profile_ids.iter().map(ObjectId::as_str).collect();
    let rows = sqlx::query(
        "select s.profile_id, pos.profile_id as position_id, s.responses, pos.questionnaire
         from questionnaire_submissions s
         join profiles p on p.profile_id = s.profile_id
         join positions pos on pos.profile_id = p.position_profile_id
         where s.profile_id in (select value from json_each(?1))",
    )
    .bind(crate::codec::to_json(&ids)?)
    .fetch_all(reader)
    .await
    .map_err(map_err)?;
    // Profiles of one job ad share its questionnaire: decode it once.
    let mut questionnaires: std::collections::HashMap<String, Arc<Questionnaire>> = std::collections::HashMap::new();
    let mut submissions = Vec::with_capacity(rows.len());
    for row in &rows {
        let position: String = cols(row).text("position_id")?;
        let questionnaire = match questionnaires.get(&position) {
            Some(q) => q.clone(),
            None => {
                let q = Arc::new(rows::submission_questionnaire::<Db>(row)?);
                questionnaires.insert(position, q.clone());
                q
            }
        };
        let responses: Vec<ComponentResponse> = cols(row).json("responses")?;
        submissions.push((cols(row).id("profile_id")?, QuestionnaireSubmission { questionnaire, responses }));
    }
    Ok(submissions)
}

pub(crate) async fn questionnaire_submission(
    reader: &SqlitePool,
    profile_id: &ObjectId,
) -> StoreResult<Option<QuestionnaireSubmission>> {
    let row = sqlx::query(
        "select s.responses, pos.questionnaire
         from questionnaire_submissions s
         join profiles p on p.profile_id = s.profile_id
         join positions pos on pos.profile_id = p.position_profile_id
         where s.profile_id = ?1",
    )
    .bind(profile_id.as_str())
    .fetch_optional(reader)
    .await
    .map_err(map_err)?;
    let Some(row) = row else { return Ok(None) };
    let responses: Vec<ComponentResponse> = cols(&row).json("responses")?;
    Ok(Some(QuestionnaireSubmission {
        questionnaire: Arc::new(rows::submission_questionnaire::<Db>(&row)?),
        responses,
    }))
}

#[async_trait::async_trait]
impl candex_store::QuestionnaireStore for crate::SqliteStore {
    #[tracing::instrument(skip_all)]
    async fn get_position_by_questionnaire(&self, questionnaire_id: &ObjectId) -> StoreResult<Option<Position>> {
        crate::positions::get_position_by_questionnaire(&self.reader, questionnaire_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn questionnaire_submission(
        &self,
        profile_id: &ObjectId,
    ) -> StoreResult<Option<candex_store::QuestionnaireSubmission>> {
        crate::questionnaires::questionnaire_submission(&self.reader, profile_id).await
    }

    async fn questionnaire_submissions(
        &self,
        profile_ids: &[ObjectId],
    ) -> StoreResult<Vec<(ObjectId, candex_store::QuestionnaireSubmission)>> {
        crate::questionnaires::questionnaire_submissions(&self.reader, profile_ids).await
    }
}
