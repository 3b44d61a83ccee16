//! Applications: their SQL is shared (`candex_store::ApplicationStore`); SQLite differs in how
//! it reads JSON, aggregates text, and needs no lock on the job ad: its one writer serialises
//! every ingest.

use candex_store::ApplicationSql;

use crate::SqliteStore;

impl ApplicationSql for SqliteStore {
    const POSITION_FOR_APPLY: &'static str =
        "select hirer_id, status, questionnaire_id from positions where profile_id = $1";
    const FORMATTED_NAME: &'static str = "json_extract(c.person, '$.name.formattedName')";
    const PROFILE_FOR_PARTNER: &'static str = candex_store::profile_select!(
        columns: ", (select group_concat(r.type_code) from relationships r \
                    where r.partner_id = $2 and r.hirer_id = pos.hirer_id) as rel_codes, \
                  (select pa.tokens_not_before from partners pa where pa.id = $2) as tokens_not_before",
        "where p.profile_id = $1"
    );
}
