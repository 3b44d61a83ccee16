//! Validation once per document: when a request's document already passed async-graphql's
//! full (strict) validation on this server, and its variables are of the types the document
//! declares, the request runs on a second schema in `ValidationMode::Fast`, which skips the
//! rules that depend only on the document.
//!
//! Every strict rule but one depends only on the document (and the schema), so a document that
//! passed once passes again. The exception is `ArgumentsOfCorrectType`, which also checks the
//! values of the variables an argument names. [`variables_proven`] admits a request only when
//! each variable value it supplies is of the variable's declared type, for declared types made
//! of built-in scalars (`String`, `Int`, `Float`, `Boolean`, lists, non-null); then, since the
//! document passed `VariableInAllowedPosition`, every argument's value is valid too. Anything
//! else (`null`, an enum, an input object, a custom scalar, a value of another type) goes through
//! strict validation, so every error a client can get is the one strict validation gives.
//! Fast mode still measures depth and complexity, which may depend on variables.

use async_graphql::parser::types::{BaseType, DocumentOperations, ExecutableDocument, OperationDefinition, Type};
use async_graphql::{Positioned, Value, Variables};

/// Whether every variable value of the operations `operation_name` selects (all of them when
/// it is `None`, as `ArgumentsOfCorrectType` reads them) is provably of its declared type.
pub fn variables_proven(doc: &ExecutableDocument, operation_name: Option<&str>, variables: &Variables) -> bool {
    let proven = |op: &Positioned<OperationDefinition>| {
        op.node.variable_definitions.iter().all(|definition| {
            let definition = &definition.node;
            match variables.get(definition.name.node.as_str()) {
                // No value: the rule has nothing to check (the executor reports it).
                None => true,
                Some(value) => of_type(&definition.var_type.node, value),
            }
        })
    };
    match &doc.operations {
        DocumentOperations::Single(op) => proven(op),
        DocumentOperations::Multiple(ops) => ops
            .iter()
            .filter(|(name, _)| operation_name.is_none_or(|selected| selected == name.as_str()))
            .all(|(_, op)| proven(op)),
    }
}

/// Whether `value` is of `ty`, for types of built-in scalars; `false` for any other type, and
/// for `null`: a nullable variable may stand where a non-null argument has a default value, so
/// whether `null` is valid depends on the argument, which strict validation checks.
fn of_type(ty: &Type, value: &Value) -> bool {
    match &ty.base {
        BaseType::Named(name) => match (name.as_str(), value) {
            ("String", Value::String(_)) | ("Boolean", Value::Boolean(_)) => true,
            ("Int", Value::Number(n)) => n.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
            ("Float", Value::Number(n)) => n.as_f64().is_some(),
            _ => false,
        },
        BaseType::List(item) => match value {
            Value::List(items) => items.iter().all(|v| of_type(item, v)),
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proven(query: &str, operation: Option<&str>, variables: serde_json::Value) -> bool {
        let doc = async_graphql::parser::parse_query(query).expect("parses");
        variables_proven(&doc, operation, &Variables::from_json(variables))
    }

    #[test]
    fn values_of_the_declared_built_in_types_are_proven() {
        let q = "query ($id: String!, $n: Int, $f: Float, $b: Boolean, $l: [String!]) { version }";
        assert!(proven(q, None, serde_json::json!({"id": "x", "n": 3, "f": 1.5, "b": true, "l": ["a"]})));
        assert!(proven(q, None, serde_json::json!({})), "a missing value is not the rule's to check");
        assert!(proven("{ version }", None, serde_json::json!({"extra": 1})));
    }

    #[test]
    fn anything_else_goes_to_strict_validation() {
        let q = "query ($id: String!, $n: Int, $l: [String!]) { version }";
        assert!(!proven(q, None, serde_json::json!({"id": 5})));
        assert!(!proven(q, None, serde_json::json!({"id": null})));
        assert!(!proven(q, None, serde_json::json!({"id": "x", "n": null})));
        assert!(!proven(q, None, serde_json::json!({"id": "x", "n": 2_147_483_648_i64})));
        assert!(!proven(q, None, serde_json::json!({"id": "x", "n": 1.5})));
        assert!(!proven(q, None, serde_json::json!({"id": "x", "l": "a"})), "coercion to a list is strict's");
        assert!(!proven(q, None, serde_json::json!({"id": "x", "l": [null]})));
        // Custom scalars, enums and input objects are never proven here.
        assert!(!proven("query ($d: DateTime) { version }", None, serde_json::json!({"d": "2020-01-01T00:00:00Z"})));
        assert!(!proven("query ($i: ID) { version }", None, serde_json::json!({"i": "x"})));
    }

    #[test]
    fn only_the_selected_operation_counts_when_one_is_named() {
        let q = "query A ($id: String!) { version } query B ($n: Int!) { version }";
        assert!(proven(q, Some("A"), serde_json::json!({"id": "x", "n": "not an int"})));
        assert!(!proven(q, Some("B"), serde_json::json!({"id": "x", "n": "not an int"})));
        assert!(!proven(q, None, serde_json::json!({"id": "x", "n": "not an int"})));
    }
}
