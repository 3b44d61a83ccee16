//! Compatibility: the project's SDL against SEEK's reference subset, the whole of it: every
//! root field of the subset must exist, and every type reachable from the roots must match.
//! Any drift in a name, argument, type, nullability, deprecation, interface or enum value, and
//! any missing operation, fails here.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use async_graphql::parser::types::{BaseType, ServiceDocument, Type, TypeKind, TypeSystemDefinition};

const REFERENCE: &str = include_str!("../fixtures/seek-export-subset.graphql");

/// The operation roots.
const ROOTS: [&str; 2] = ["Query", "Mutation"];

/// One type, normalised: its kind, and each member's full signature keyed by name.
#[derive(Debug, PartialEq, Eq)]
struct Shape {
    kind: &'static str,
    implements: BTreeSet<String>,
    members: BTreeMap<String, String>,
}

fn base_name(ty: &Type) -> String {
    match &ty.base {
        BaseType::Named(name) => name.to_string(),
        BaseType::List(inner) => base_name(inner),
    }
}

fn deprecation(directives: &[async_graphql::Positioned<async_graphql::parser::types::ConstDirective>]) -> String {
    directives
        .iter()
        .find(|d| d.node.name.node == "deprecated")
        .map(|d| {
            let reason = d.node.arguments.iter().find(|(n, _)| n.node == "reason").map(|(_, v)| v.node.to_string());
            format!(" @deprecated({})", reason.unwrap_or_default())
        })
        .unwrap_or_default()
}

fn shapes(sdl: &str) -> BTreeMap<String, Shape> {
    let doc: ServiceDocument = async_graphql::parser::parse_schema(sdl).expect("SDL parses");
    let mut out = BTreeMap::new();
    for def in doc.definitions {
        let TypeSystemDefinition::Type(t) = def else { continue };
        let t = t.node;
        let field_sig = |f: &async_graphql::parser::types::FieldDefinition| {
            let mut args: Vec<String> = f
                .arguments
                .iter()
                .map(|a| {
                    let default = a.node.default_value.as_ref().map(|d| format!(" = {}", d.node)).unwrap_or_default();
                    format!("{}: {}{default}", a.node.name.node, a.node.ty.node)
                })
                .collect();
            args.sort();
            format!("({}): {}{}", args.join(", "), f.ty.node, deprecation(&f.directives))
        };
        let (kind, implements, members) = match &t.kind {
            TypeKind::Scalar => ("scalar", BTreeSet::new(), BTreeMap::new()),
            TypeKind::Object(o) => (
                "type",
                o.implements.iter().map(|i| i.node.to_string()).collect(),
                o.fields.iter().map(|f| (f.node.name.node.to_string(), field_sig(&f.node))).collect(),
            ),
            TypeKind::Interface(o) => (
                "interface",
                o.implements.iter().map(|i| i.node.to_string()).collect(),
                o.fields.iter().map(|f| (f.node.name.node.to_string(), field_sig(&f.node))).collect(),
            ),
            TypeKind::Union(u) => {
                ("union", BTreeSet::new(), u.members.iter().map(|m| (m.node.to_string(), String::new())).collect())
            }
            TypeKind::Enum(e) => (
                "enum",
                BTreeSet::new(),
                e.values.iter().map(|v| (v.node.value.node.to_string(), deprecation(&v.node.directives))).collect(),
            ),
            TypeKind::InputObject(i) => (
                "input",
                BTreeSet::new(),
                i.fields
                    .iter()
                    .map(|f| {
                        let default =
                            f.node.default_value.as_ref().map(|d| format!(" = {}", d.node)).unwrap_or_default();
                        (f.node.name.node.to_string(), format!("{}{default}", f.node.ty.node))
                    })
                    .collect(),
            ),
        };
        out.insert(t.name.node.to_string(), Shape { kind, implements, members });
    }
    out
}

/// Types reachable from the roots (`Query`, `Mutation`) through field types, argument types,
/// interface implementations and union members.
fn reachable(types: &BTreeMap<String, Shape>, sdl: &str) -> BTreeSet<String> {
    let doc = async_graphql::parser::parse_schema(sdl).expect("SDL parses");
    let mut refs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for def in &doc.definitions {
        let TypeSystemDefinition::Type(t) = def else { continue };
        let name = t.node.name.node.to_string();
        let entry = refs.entry(name.clone()).or_default();
        let add_field = |f: &async_graphql::parser::types::FieldDefinition, entry: &mut BTreeSet<String>| {
            entry.insert(base_name(&f.ty.node));
            for a in &f.arguments {
                entry.insert(base_name(&a.node.ty.node));
            }
        };
        match &t.node.kind {
            TypeKind::Object(o) => o.fields.iter().for_each(|f| add_field(&f.node, entry)),
            TypeKind::Interface(o) => o.fields.iter().for_each(|f| add_field(&f.node, entry)),
            TypeKind::Union(u) => u.members.iter().for_each(|m| {
                entry.insert(m.node.to_string());
            }),
            TypeKind::InputObject(i) => i.fields.iter().for_each(|f| {
                entry.insert(base_name(&f.node.ty.node));
            }),
            _ => {}
        }
    }
    // An interface reaches its implementations.
    for (name, shape) in types {
        for interface in &shape.implements {
            refs.entry(interface.clone()).or_default().insert(name.clone());
        }
    }
    let builtin = ["String", "Int", "Float", "Boolean", "ID"];
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from(ROOTS.map(str::to_owned));
    while let Some(name) = queue.pop_front() {
        if builtin.contains(&name.as_str()) || !seen.insert(name.clone()) {
            continue;
        }
        queue.extend(refs.get(&name).into_iter().flatten().cloned());
    }
    seen
}

/// Types candex adds as documented extensions (docs/compatibility.md): they are not in SEEK's
/// schema, and a partner that does not ask for them never receives one.
const EXTENSION_TYPES: &[&str] = &["CandidateErasedEvent"];

#[test]
fn the_schema_matches_seeks_reference_for_every_implemented_type() {
    let ours_sdl = candex_server::graphql::sdl();
    let ours = shapes(&ours_sdl);
    let reference = shapes(REFERENCE);
    let mut problems = Vec::new();
    let (mut matched, mut compared) = (0usize, 0usize);
    for extension in EXTENSION_TYPES {
        let mine = ours.get(*extension).unwrap_or_else(|| panic!("extension type {extension} is missing"));
        assert!(!reference.contains_key(*extension), "{extension} is SEEK's now: compare it instead");
        assert_eq!(mine.implements, BTreeSet::from(["Event".to_owned()]), "{extension} is an event");
    }
    for name in reachable(&ours, &ours_sdl) {
        if EXTENSION_TYPES.contains(&name.as_str()) {
            continue;
        }
        let Some(mine) = ours.get(&name) else { continue };
        let Some(theirs) = reference.get(&name) else {
            problems.push(format!("type {name} is not in SEEK's schema"));
            continue;
        };
        if mine.kind != theirs.kind || mine.implements != theirs.implements {
            problems.push(format!(
                "{name}: {} {:?} vs reference {} {:?}",
                mine.kind, mine.implements, theirs.kind, theirs.implements
            ));
        }
        // Every member, the roots' operations included: the export subset is complete.
        for (member, sig) in &theirs.members {
            compared += 1;
            match mine.members.get(member) {
                Some(s) if s == sig => matched += 1,
                Some(s) => problems.push(format!("{name}.{member}: {s} vs reference {sig}")),
                None => problems.push(format!("{name}.{member} is missing")),
            }
        }
        for member in mine.members.keys().filter(|m| !theirs.members.contains_key(*m)) {
            problems.push(format!("{name}.{member} is not in SEEK's schema"));
        }
    }
    // And the other way: every type of the subset is in candex's schema.
    for name in reachable(&reference, REFERENCE) {
        if !ours.contains_key(&name) && !["String", "Int", "Float", "Boolean", "ID"].contains(&name.as_str()) {
            problems.push(format!("type {name} of SEEK's subset is missing"));
        }
    }
    let types = reachable(&ours, &ours_sdl).len();
    println!("schema compatibility: {matched} of {compared} reference fields match exactly ({types} types)");
    assert!(problems.is_empty(), "schema drift:\n  {}", problems.join("\n  "));
    assert!(compared > 450, "suspiciously few fields compared: {compared}");
    assert_eq!(matched, compared);
}

#[test]
fn the_query_root_offers_the_foundation_operations() {
    let ours = shapes(&candex_server::graphql::sdl());
    let query = &ours["Query"];
    for op in [
        "candidateProfile",
        "candidate",
        "positionProfile",
        "positionOpening",
        "hiringOrganization",
        "hiringOrganizations",
        "self",
        "version",
        "event",
        "events",
        "webhookSubscription",
        "webhookSubscriptions",
        "webhookRequest",
        "webhookRequestsForSubscription",
        "webhookAttemptsForEvent",
        "webhookSubscriptionReplay",
        "candidateProcessHistoryItem",
        "applicationQuestionnaire",
    ] {
        assert!(query.members.contains_key(op), "Query.{op} missing");
    }
}

#[test]
fn the_mutation_root_offers_exactly_the_webhook_and_process_history_mutations() {
    let ours = shapes(&candex_server::graphql::sdl());
    let operations: Vec<&str> = ours["Mutation"].members.keys().map(String::as_str).collect();
    assert_eq!(
        operations,
        [
            "createCandidateProcessHistoryItem",
            "createWebhookSubscription",
            "deleteCandidateProcessHistoryItem",
            "deleteWebhookSubscription",
            "replayWebhookSubscription",
            "updateCandidateProcessHistoryItem",
            "updateWebhookSubscriptionDeliveryConfiguration",
            "updateWebhookSubscriptionSigningConfiguration",
        ]
    );
}

#[test]
fn every_type_of_the_events_and_webhooks_is_compared() {
    let sdl = candex_server::graphql::sdl();
    let reached = reachable(&shapes(&sdl), &sdl);
    for name in [
        "Event",
        "CandidateApplicationCreatedEvent",
        "CandidateProfilePurchasedEvent",
        "HirerRelationshipChangedEvent",
        "PositionProfileClosedEvent",
        "PositionProfilePostedEvent",
        "EventsConnection",
        "EventsFilterInput",
        "WebhookSubscriptionReplayByIdRequest",
        "WebhookSubscriptionReplayByRangeRequest",
        "WebhookAttemptsFilterInput",
        "CreateWebhookSubscriptionPayload_Conflict",
        "UpdateWebhookSubscriptionDeliveryConfigurationPayload_Success",
        "ReplayWebhookSubscription_FilterInput",
        "CandidateProcessHistoryItem",
        "CreateCandidateProcessHistoryItemPayload_Conflict",
        "UpdateCandidateProcessHistoryItem_CandidateProcessHistoryItemInput",
        "SpecifiedPersonInput",
        "AddressInput",
    ] {
        assert!(reached.contains(name), "{name} is not reachable from the roots");
    }
    // The parts merged into the query root leave no type of their own behind.
    for part in
        ["ExportQueries", "EventQueries", "ProcessHistoryQueries", "WebhookMutations", "ProcessHistoryMutations"]
    {
        assert!(!sdl.contains(part), "{part} leaked into the SDL");
    }
}

#[test]
fn the_vendored_reference_equals_the_shared_one_when_present() {
    let shared =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/seek-export-subset.graphql");
    match std::fs::read_to_string(&shared) {
        Ok(text) => assert_eq!(text, REFERENCE, "tests/fixtures/seek-export-subset.graphql is stale; copy it again"),
        Err(_) => println!("skipped: {} is not beside this checkout", shared.display()),
    }
}
