//! `FieldTypes`: puts `null` where a field failed, as GraphQL §6.4.4 requires. async-graphql
//! 7.2 records a failed field's error but leaves the field out of its object (upstream issue
//! async-graphql#1449), so a nullable field that errs disappears instead of being `null`, and
//! an object all of whose fields erred becomes `null` itself. This pass runs only on responses
//! with field errors: it follows each error's path through the executed document and the
//! schema's field types, and sets the failed field to `null` when it is nullable, or else its
//! nearest nullable ancestor (the whole `data` when there is none).

use std::collections::{HashMap, HashSet};

use async_graphql::parser::types::{
    BaseType, ExecutableDocument, Field, OperationType, Selection, SelectionSet, Type, TypeKind, TypeSystemDefinition,
};
use async_graphql::{PathSegment, Value};

/// Field types of every object and interface type, from the schema's SDL.
#[derive(Debug, Default)]
pub struct FieldTypes {
    fields: HashMap<String, HashMap<String, Type>>,
}

/// One step of an error's path: where it leads and whether `null` may stand there.
struct Step {
    segment: PathSegment,
    nullable: bool,
}

impl FieldTypes {
    /// Reads the field types of `sdl` (the schema's own SDL; a type it cannot read is left out,
    /// and its fields count as nullable).
    pub fn from_sdl(sdl: &str) -> Self {
        let mut fields = HashMap::new();
        let Ok(doc) = async_graphql::parser::parse_schema(sdl) else { return Self::default() };
        for definition in doc.definitions {
            let TypeSystemDefinition::Type(ty) = definition else { continue };
            let defined = match ty.node.kind {
                TypeKind::Object(object) => object.fields,
                TypeKind::Interface(interface) => interface.fields,
                _ => continue,
            };
            let by_name = defined.into_iter().map(|f| (f.node.name.node.to_string(), f.node.ty.node)).collect();
            fields.insert(ty.node.name.node.to_string(), by_name);
        }
        Self { fields }
    }

    /// Puts `null` where the fields named by `response`'s errors failed. `doc` and
    /// `operation_name` are the request's.
    pub fn complete(
        &self,
        doc: &ExecutableDocument,
        operation_name: Option<&str>,
        response: &mut async_graphql::Response,
    ) {
        let operation = match operation_name {
            Some(name) => doc.operations.iter().find(|(n, _)| n.is_some_and(|n| n.as_str() == name)),
            None => doc.operations.iter().next(),
        };
        let Some((_, operation)) = operation else { return };
        let root = match operation.node.ty {
            OperationType::Query => "Query",
            OperationType::Mutation => "Mutation",
            OperationType::Subscription => "Subscription",
        };
        let mut paths: Vec<&Vec<PathSegment>> =
            response.errors.iter().map(|e| &e.path).filter(|p| !p.is_empty()).collect();
        // Shorter paths first: a field set to null hides the errors below it.
        paths.sort_by_key(|p| p.len());
        let mut nulled: HashSet<Vec<PathKey>> = HashSet::new();
        let mut index = FieldIndex::default();
        for path in paths {
            let Some(steps) = self.steps(doc, &mut index, root, &operation.node.selection_set.node, path) else {
                continue;
            };
            apply(&mut response.data, &steps, &mut nulled);
        }
    }

    /// Each step of `path` with the nullability of what stands there, or `None` when the path
    /// does not follow the document.
    fn steps<'a>(
        &self,
        doc: &'a ExecutableDocument,
        index: &mut FieldIndex<'a>,
        root: &str,
        selection_set: &'a SelectionSet,
        path: &[PathSegment],
    ) -> Option<Vec<Step>> {
        let mut parent_type = root.to_owned();
        let mut set = selection_set;
        let mut current: Option<Type> = None;
        let mut steps = Vec::with_capacity(path.len());
        for segment in path {
            match segment {
                PathSegment::Field(key) => {
                    let (field, condition) = index.find(doc, set, key)?;
                    let owner = condition.unwrap_or(parent_type.as_str());
                    let ty = self.fields.get(owner).and_then(|f| f.get(field.name.node.as_str())).cloned();
                    steps.push(Step { segment: segment.clone(), nullable: ty.as_ref().is_none_or(|t| t.nullable) });
                    parent_type = ty.as_ref().map(named_type).unwrap_or_default();
                    current = ty;
                    set = &field.selection_set.node;
                }
                PathSegment::Index(_) => {
                    let item = match current {
                        Some(Type { base: BaseType::List(inner), .. }) => Some(*inner),
                        _ => None,
                    };
                    steps.push(Step { segment: segment.clone(), nullable: item.as_ref().is_none_or(|t| t.nullable) });
                    current = item;
                }
            }
        }
        Some(steps)
    }
}

/// A path segment as a set key.
#[derive(Clone, PartialEq, Eq, Hash)]
enum PathKey {
    Field(String),
    Index(usize),
}

fn key_of(segment: &PathSegment) -> PathKey {
    match segment {
        PathSegment::Field(name) => PathKey::Field(name.clone()),
        PathSegment::Index(i) => PathKey::Index(*i),
    }
}

/// The innermost named type of `ty`.
fn named_type(ty: &Type) -> String {
    match &ty.base {
        BaseType::Named(name) => name.to_string(),
        BaseType::List(inner) => named_type(inner),
    }
}

/// A field and the type condition of the fragment it stands in, if any.
type Found<'a> = (&'a Field, Option<&'a str>);

/// The fields of each selection set by response key, built on first use, so that many errors
/// in one wide selection cost one pass over it rather than one each.
#[derive(Default)]
struct FieldIndex<'a> {
    sets: HashMap<*const SelectionSet, HashMap<&'a str, Found<'a>>>,
}

impl<'a> FieldIndex<'a> {
    /// The field with response key `key` in `set` (fragments included).
    fn find(&mut self, doc: &'a ExecutableDocument, set: &'a SelectionSet, key: &str) -> Option<Found<'a>> {
        let fields = self.sets.entry(set as *const SelectionSet).or_insert_with(|| {
            let mut fields = HashMap::new();
            collect_fields(doc, set, None, 0, &mut fields);
            fields
        });
        fields.get(key).copied()
    }
}

/// Adds every field of `set` (fragments included) by response key, the first occurrence
/// winning, with the type condition it stands under. Depth is bounded by the document guard
/// (no fragment cycles, bounded nesting); the explicit bound is a second fence.
fn collect_fields<'a>(
    doc: &'a ExecutableDocument,
    set: &'a SelectionSet,
    condition: Option<&'a str>,
    depth: usize,
    into: &mut HashMap<&'a str, Found<'a>>,
) {
    if depth > 64 {
        return;
    }
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                into.entry(field.node.response_key().node.as_str()).or_insert((&field.node, condition));
            }
            Selection::InlineFragment(inline) => {
                let own = inline.node.type_condition.as_ref().map(|c| c.node.on.node.as_str());
                collect_fields(doc, &inline.node.selection_set.node, own.or(condition), depth + 1, into);
            }
            Selection::FragmentSpread(spread) => {
                let Some(fragment) = doc.fragments.get(&spread.node.fragment_name.node) else { continue };
                let own = Some(fragment.node.type_condition.node.on.node.as_str());
                collect_fields(doc, &fragment.node.selection_set.node, own, depth + 1, into);
            }
        }
    }
}

/// Sets the failed field (the last step) to `null`, or its nearest nullable ancestor, unless
/// an ancestor was already set to `null` or the field has a value after all.
fn apply(data: &mut Value, steps: &[Step], nulled: &mut HashSet<Vec<PathKey>>) {
    let keys: Vec<PathKey> = steps.iter().map(|s| key_of(&s.segment)).collect();
    if (0..=keys.len()).any(|n| nulled.contains(&keys[..n])) {
        return;
    }
    if has_value(data, &keys) {
        return;
    }
    let target = steps.iter().rposition(|s| s.nullable).map_or(0, |k| k + 1);
    if target == 0 {
        *data = Value::Null;
        nulled.insert(Vec::new());
        return;
    }
    let mut cur = data;
    for key in &keys[..target] {
        cur = match key {
            PathKey::Field(name) => {
                if matches!(cur, Value::Null) {
                    *cur = Value::Object(Default::default());
                }
                let Value::Object(map) = cur else { return };
                map.entry(async_graphql::Name::new(name)).or_insert(Value::Null)
            }
            PathKey::Index(i) => match cur {
                Value::List(items) if *i < items.len() => &mut items[*i],
                _ => return,
            },
        };
    }
    *cur = Value::Null;
    nulled.insert(keys[..target].to_vec());
}

/// Whether `data` holds a non-null value at `keys`.
fn has_value(data: &Value, keys: &[PathKey]) -> bool {
    let mut cur = data;
    for key in keys {
        cur = match (key, cur) {
            (PathKey::Field(name), Value::Object(map)) => match map.get(name.as_str()) {
                Some(v) => v,
                None => return false,
            },
            (PathKey::Index(i), Value::List(items)) => match items.get(*i) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
    }
    !matches!(cur, Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = r#"
        type Query { a: A  b: String!  list: [A!]  version: String! }
        type A { x: String  y: String!  inner: A }
    "#;

    fn run(query: &str, data: serde_json::Value, paths: &[&[serde_json::Value]]) -> serde_json::Value {
        let types = FieldTypes::from_sdl(SDL);
        let doc = async_graphql::parser::parse_query(query).unwrap();
        let mut response = async_graphql::Response::new(Value::from_json(data).unwrap());
        for path in paths {
            let mut error = async_graphql::ServerError::new("failed", None);
            error.path = path
                .iter()
                .map(|s| match s {
                    serde_json::Value::String(k) => PathSegment::Field(k.clone()),
                    n => PathSegment::Index(n.as_u64().unwrap() as usize),
                })
                .collect();
            response.errors.push(error);
        }
        types.complete(&doc, None, &mut response);
        response.data.into_json().unwrap()
    }

    use serde_json::json;

    #[test]
    fn a_failed_nullable_field_is_null_beside_its_siblings() {
        let out = run("{ b a { x } }", json!({"b": "ok"}), &[&[json!("a")]]);
        assert_eq!(out, json!({"b": "ok", "a": null}));
        // Alone at the root: data is an object holding null, not null.
        let out = run("{ a { x } }", json!(null), &[&[json!("a")]]);
        assert_eq!(out, json!({"a": null}));
        // Aliased, beside a good alias.
        let out = run("{ good: a { x } bad: a { x } }", json!({"good": {"x": "1"}}), &[&[json!("bad")]]);
        assert_eq!(out, json!({"good": {"x": "1"}, "bad": null}));
    }

    #[test]
    fn nested_failures_null_the_field_or_its_nearest_nullable_ancestor() {
        // x is nullable: null inside its object, which async-graphql had turned into null.
        let out =
            run("{ a { inner { x } } }", json!({"a": {"inner": null}}), &[&[json!("a"), json!("inner"), json!("x")]]);
        assert_eq!(out, json!({"a": {"inner": {"x": null}}}));
        // y is non-null: its object (nullable `inner`) becomes null.
        let out =
            run("{ a { x inner { y } } }", json!({"a": {"x": "1"}}), &[&[json!("a"), json!("inner"), json!("y")]]);
        assert_eq!(out, json!({"a": {"x": "1", "inner": null}}));
        // In a list of non-null items: the list (nullable) becomes null.
        let out = run(
            "{ list { y } b }",
            json!({"list": [{"y": "1"}, null], "b": "ok"}),
            &[&[json!("list"), json!(1), json!("y")]],
        );
        assert_eq!(out, json!({"list": null, "b": "ok"}));
        // A non-null root field: data is null.
        let out = run("{ a { x } version }", json!({"a": {"x": "1"}}), &[&[json!("version")]]);
        assert_eq!(out, json!(null));
    }

    #[test]
    fn fragments_aliases_and_present_values_are_respected() {
        let out = run(
            "{ ...F } fragment F on Query { one: a { ... on A { x } } }",
            json!({"one": {}}),
            &[&[json!("one"), json!("x")]],
        );
        assert_eq!(out, json!({"one": {"x": null}}));
        // An error for a field that has a value leaves it alone; errors below a nulled field
        // do not bring it back.
        let out = run("{ a { x } }", json!({"a": {"x": "kept"}}), &[&[json!("a"), json!("x")]]);
        assert_eq!(out, json!({"a": {"x": "kept"}}));
        let out =
            run("{ a { x inner { x } } }", json!({}), &[&[json!("a")], &[json!("a"), json!("inner"), json!("x")]]);
        assert_eq!(out, json!({"a": null}));
    }
}
