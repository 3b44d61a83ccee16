//! Applications: their SQL is shared (`candex_store::ApplicationStore`); PostgreSQL
//! share-locks the job ad an application is for, so it cannot close under the application,
//! and reads JSON with its own operators.

use candex_store::ApplicationSql;

use crate::PgStore;

impl ApplicationSql for PgStore {
    const POSITION_FOR_APPLY: &'static str =
        "select hirer_id, status, questionnaire_id from positions where profile_id = $1 for share";
    const FORMATTED_NAME: &'static str = "c.person::json -> 'name' ->> 'formattedName'";
    const PROFILE_FOR_PARTNER: &'static str = candex_store::profile_select!(
        columns: ", (select string_agg(r.type_code, ',') from relationships r \
                    where r.partner_id = $2 and r.hirer_id = pos.hirer_id) as rel_codes, \
                  (select pa.tokens_not_before from partners pa where pa.id = $2) as tokens_not_before",
        "where p.profile_id = $1"
    );
}
