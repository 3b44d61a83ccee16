//! Questionnaire submissions: storing a candidate's responses with the application, reading
//! them back with their questionnaire in one statement, and erasing them.

use std::sync::Arc;

use candex_domain::questionnaire::{ComponentResponse, Questionnaire};
use candex_domain::ObjectId;
use candex_store::{QuestionnaireSubmission, StoreError, StoreResult};
use sqlx::{Sqlite, SqlitePool, Transaction};

use crate::codec::{from_json, to_json, RowExt};
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
    let responses: Vec<ComponentResponse> = row.json("responses")?;
    let questionnaire: Option<String> = row.opt_text("questionnaire")?;
    let questionnaire = questionnaire
        .map(|text| from_json::<Questionnaire>("questionnaire", &text))
        .transpose()?
        .ok_or_else(|| crate::error::corrupt("questionnaire", "a submission's job ad has no questionnaire"))?;
    Ok(Some(QuestionnaireSubmission { questionnaire: Arc::new(questionnaire), responses }))
}
