//! Questionnaire responses written with their application inside its ingest transaction;
//! reads and erasure are shared (`candex_store::QuestionnaireStore`).

use candex_domain::questionnaire::ComponentResponse;
use candex_domain::ObjectId;
use candex_store::{StoreError, StoreResult};
use sqlx::{Postgres, Transaction};

use crate::codec::to_json;
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
