//! `Guard`: what a GraphQL request may cost, checked before each step that could cost more.
//! The request JSON and the query text are scanned without recursion before either parser
//! sees them (both parsers recurse per nesting level, so unbounded nesting would overflow the
//! stack), and the parsed document is measured with every fragment spread expanded, memoised
//! per fragment, before validation (async-graphql's validation and limit checks expand
//! fragment spreads each time they occur, so a fan-out of `n` fragments costs `2^n` there).

use std::collections::HashMap;

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ErrorExtensionValues, Positioned, ServerError};

use crate::config::GraphqlLimits;

/// `extensions.code` of a request refused by a limit; `extensions.limit` names which.
pub const LIMIT_EXCEEDED: &str = "GRAPHQL_LIMIT_EXCEEDED";
/// `extensions.code` of a query that does not parse.
pub const PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
/// `extensions.code` of a document that is not valid against the schema.
pub const VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
/// `extensions.code` of a request body that is not a GraphQL request.
pub const BAD_REQUEST: &str = "BAD_REQUEST";

/// Why a request was refused before it cost anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A limit was exceeded: `(limit name, message)`.
    Limit(&'static str, String),
    /// The document cannot be executed (a fragment cycle): `(code, message)`.
    Invalid(&'static str, String),
}

impl Refusal {
    /// The GraphQL error for this refusal.
    pub fn into_server_error(self) -> ServerError {
        match self {
            Refusal::Limit(limit, message) => coded_error(message, LIMIT_EXCEEDED, Some(limit)),
            Refusal::Invalid(code, message) => coded_error(message, code, None),
        }
    }
}

/// A request-level GraphQL error carrying `extensions.code` (and `extensions.limit`).
pub fn coded_error(message: impl Into<String>, code: &str, limit: Option<&str>) -> ServerError {
    let mut error = ServerError::new(message, None);
    error.extensions = Some(coded_extensions(code, limit));
    error
}

/// `extensions` of a request-level error: its `code`, and the `limit` it hit, if any.
pub fn coded_extensions(code: &str, limit: Option<&str>) -> ErrorExtensionValues {
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", code);
    if let Some(limit) = limit {
        extensions.set("limit", limit);
    }
    extensions
}

/// What the text scan found; `tokens` sizes the parsed document for the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextShape {
    /// Lexical tokens (names, numbers, strings, punctuators).
    pub tokens: usize,
}

/// The checks, configured once per server.
#[derive(Debug, Clone)]
pub struct Guard {
    limits: GraphqlLimits,
}

impl Guard {
    /// A guard enforcing `limits`.
    pub fn new(limits: GraphqlLimits) -> Self {
        Self { limits }
    }

    /// The limits enforced.
    pub fn limits(&self) -> &GraphqlLimits {
        &self.limits
    }

    /// Checks the nesting of a JSON body (arrays and objects) in one pass without recursion,
    /// so `serde_json` (which recurses per level) never sees a body nested deeper than the
    /// limit. Malformed JSON passes; the JSON parser reports it.
    pub fn check_json(&self, body: &[u8]) -> Result<(), Refusal> {
        let mut depth = 0usize;
        let mut i = 0;
        while let Some(&b) = body.get(i) {
            i += 1;
            match b {
                // A string: jump to its closing quote, stepping over escapes (`memchr2` finds
                // the next quote or backslash a word at a time; most of a request is its query
                // string). An unterminated string ends the scan: the parser reports it.
                b'"' => loop {
                    let rest = body.get(i..).unwrap_or_default();
                    match memchr::memchr2(b'"', b'\\', rest) {
                        Some(at) if rest[at] == b'\\' => i += at + 2,
                        Some(at) => {
                            i += at + 1;
                            break;
                        }
                        None => return Ok(()),
                    }
                },
                b'[' | b'{' => {
                    depth += 1;
                    if depth > self.limits.max_nesting {
                        return Err(Refusal::Limit(
                            "nesting",
                            format!("The request JSON is nested more than {} levels deep.", self.limits.max_nesting),
                        ));
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        Ok(())
    }

    /// Checks the query text's size, token count and bracket nesting in one pass without
    /// recursion, before the parser (which recurses per nesting level) sees it. Strings, block
    /// strings and comments are skipped as the GraphQL lexer would; malformed text passes
    /// when within the limits, and the parser reports it.
    pub fn check_text(&self, query: &str) -> Result<TextShape, Refusal> {
        let limits = &self.limits;
        if query.len() > limits.max_query_bytes {
            return Err(Refusal::Limit(
                "queryBytes",
                format!("The query is {} bytes long; at most {} are accepted.", query.len(), limits.max_query_bytes),
            ));
        }
        let bytes = query.as_bytes();
        let mut tokens = 0usize;
        let mut depth = 0usize;
        let mut i = 0usize;
        while i < bytes.len() {
            let b = bytes[i];
            match b {
                b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                    i += 1;
                    continue;
                }
                b'#' => {
                    while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                        i += 1;
                    }
                    continue;
                }
                b'"' => i = skip_string(bytes, i),
                b'{' | b'[' | b'(' => {
                    depth += 1;
                    if depth > limits.max_nesting {
                        return Err(Refusal::Limit(
                            "nesting",
                            format!("The query is nested more than {} levels deep.", limits.max_nesting),
                        ));
                    }
                    i += 1;
                }
                b'}' | b']' | b')' => {
                    depth = depth.saturating_sub(1);
                    i += 1;
                }
                b'.' if bytes[i..].starts_with(b"...") => i += 3,
                _ if is_word_byte(b) => {
                    while i < bytes.len() && is_word_byte(bytes[i]) {
                        i += 1;
                    }
                }
                _ => i += 1,
            }
            tokens += 1;
            if tokens > limits.max_tokens {
                return Err(Refusal::Limit("tokens", format!("The query has more than {} tokens.", limits.max_tokens)));
            }
        }
        Ok(TextShape { tokens })
    }

    /// Measures the parsed document with every fragment spread expanded: the number of
    /// selections and directives and the deepest selection nesting (each field, inline
    /// fragment and spread one level, as async-graphql counts). Each fragment is measured
    /// once, so this is linear in the document's size; it stops at the first limit exceeded
    /// and refuses fragment cycles (which async-graphql would expand up to its depth limit).
    pub fn check_document(&self, doc: &ExecutableDocument) -> Result<(), Refusal> {
        let mut meter = Meter { doc, limits: &self.limits, fragments: HashMap::new(), total: 0 };
        for (_, operation) in doc.operations.iter() {
            let directives = operation.node.directives.len();
            meter.add(directives)?;
            meter.selection_set(&operation.node.selection_set, 0)?;
        }
        // Fragments no operation uses are still validated (and refused as unused): measure
        // them too, so their cost is bounded the same way.
        for (name, fragment) in &doc.fragments {
            meter.fragment(name.as_str(), &fragment.node.selection_set, 0)?;
        }
        Ok(())
    }
}

/// The end of the string token starting at `start` (a `"`), or of the text if unterminated.
fn skip_string(bytes: &[u8], start: usize) -> usize {
    if bytes[start..].starts_with(b"\"\"\"") {
        let mut i = start + 3;
        while i < bytes.len() {
            if bytes[i] == b'\\' && bytes[i..].starts_with(b"\\\"\"\"") {
                i += 4;
            } else if bytes[i..].starts_with(b"\"\"\"") {
                return i + 3;
            } else {
                i += 1;
            }
        }
        return bytes.len();
    }
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            b'\n' | b'\r' => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Bytes of names and numbers (and any non-ASCII byte, which the parser will refuse).
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'+' || b == b'.' || b >= 0x80
}

/// A fragment's measure: selections when expanded, and the nesting below its spread.
#[derive(Clone, Copy)]
enum Measured {
    /// Being measured now: meeting it again is a cycle.
    InProgress,
    /// `(selections, height)`.
    Done(usize, usize),
}

struct Meter<'a> {
    doc: &'a ExecutableDocument,
    limits: &'a GraphqlLimits,
    fragments: HashMap<&'a str, Measured>,
    /// Selections counted in the operations (fragments count once per use).
    total: usize,
}

impl<'a> Meter<'a> {
    fn add(&mut self, n: usize) -> Result<(), Refusal> {
        self.total = self.total.saturating_add(n);
        self.check_selections(self.total)
    }

    fn check_selections(&self, n: usize) -> Result<(), Refusal> {
        if n > self.limits.max_selections {
            return Err(Refusal::Limit(
                "selections",
                format!(
                    "The query selects more than {} fields, fragments and directives once its fragments are expanded.",
                    self.limits.max_selections
                ),
            ));
        }
        Ok(())
    }

    fn check_depth(&self, depth: usize) -> Result<(), Refusal> {
        if depth > self.limits.max_nesting {
            return Err(Refusal::Limit(
                "nesting",
                format!(
                    "The query is nested more than {} levels deep once its fragments are expanded.",
                    self.limits.max_nesting
                ),
            ));
        }
        Ok(())
    }

    /// Counts `set` (at nesting `depth`) into the operation total.
    fn selection_set(&mut self, set: &'a Positioned<SelectionSet>, depth: usize) -> Result<(), Refusal> {
        let (selections, _) = self.measure(set, depth)?;
        self.add(selections)
    }

    /// `(selections, height)` of `set` at nesting `depth`, fragments expanded. Recursion is
    /// bounded: each call is one level deeper, and deeper than the limit is refused.
    fn measure(&mut self, set: &'a Positioned<SelectionSet>, depth: usize) -> Result<(usize, usize), Refusal> {
        self.check_depth(depth)?;
        let mut selections = 0usize;
        let mut height = 0usize;
        for selection in &set.node.items {
            let (count, below) = match &selection.node {
                Selection::Field(field) => {
                    let (inner, h) = self.measure(&field.node.selection_set, depth + 1)?;
                    (1 + field.node.directives.len() + inner, h + 1)
                }
                Selection::InlineFragment(inline) => {
                    let (inner, h) = self.measure(&inline.node.selection_set, depth + 1)?;
                    (1 + inline.node.directives.len() + inner, h + 1)
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    let (inner, h) = match self.doc.fragments.get(name) {
                        Some(fragment) => self.fragment(name, &fragment.node.selection_set, depth + 1)?,
                        // Unknown fragments are reported by validation.
                        None => (0, 0),
                    };
                    (1 + spread.node.directives.len() + inner, h + 1)
                }
            };
            selections = selections.saturating_add(count);
            self.check_selections(selections)?;
            height = height.max(below);
            self.check_depth(depth + height)?;
        }
        Ok((selections, height))
    }

    /// `(selections, height)` of the fragment `name`, measured once.
    fn fragment(
        &mut self,
        name: &'a str,
        set: &'a Positioned<SelectionSet>,
        depth: usize,
    ) -> Result<(usize, usize), Refusal> {
        match self.fragments.get(name) {
            Some(Measured::Done(selections, height)) => {
                let (selections, height) = (*selections, *height);
                self.check_depth(depth + height)?;
                Ok((selections, height))
            }
            Some(Measured::InProgress) => {
                Err(Refusal::Invalid(VALIDATION_FAILED, format!("Cannot spread fragment \"{name}\" within itself.")))
            }
            None => {
                self.fragments.insert(name, Measured::InProgress);
                let measured = self.measure(set, depth)?;
                self.fragments.insert(name, Measured::Done(measured.0, measured.1));
                Ok(measured)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    fn guard() -> Guard {
        Guard::new(GraphqlLimits::default())
    }

    fn limit_of(r: Result<impl std::fmt::Debug, Refusal>) -> &'static str {
        match r {
            Err(Refusal::Limit(limit, _)) => limit,
            other => panic!("expected a limit refusal, got {other:?}"),
        }
    }

    fn fan_out(n: usize) -> String {
        let mut q = String::from("query { ...F0 }\n");
        for i in 0..n {
            q.push_str(&format!("fragment F{i} on Query {{ ...F{j} ...F{j} }}\n", j = i + 1));
        }
        q.push_str(&format!("fragment F{n} on Query {{ version }}\n"));
        q
    }

    #[test]
    fn deep_lists_objects_and_selections_are_refused_before_parsing() {
        let deep_list = format!("{{ version(x: {}1{}) }}", "[".repeat(2000), "]".repeat(2000));
        assert_eq!(limit_of(guard().check_text(&deep_list)), "nesting");
        let deep_object = format!("{{ version(x: {}1{}) }}", "{a: ".repeat(1500), "}".repeat(1500));
        assert_eq!(limit_of(guard().check_text(&deep_object)), "nesting");
        let deep_default = format!("query ($v: In = {}1{}) {{ version }}", "[".repeat(2000), "]".repeat(2000));
        assert_eq!(limit_of(guard().check_text(&deep_default)), "nesting");
        let json =
            format!("{{\"query\":\"{{ version }}\",\"variables\":{{\"v\":{}1{}}}}}", "[".repeat(500), "]".repeat(500));
        assert_eq!(limit_of(guard().check_json(json.as_bytes())), "nesting");
    }

    /// The byte-by-byte scan `check_json` replaced: whether `body` nests deeper than `max`.
    fn nested_deeper_than(body: &[u8], max: usize) -> bool {
        let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
        for &b in body {
            if in_string {
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'[' | b'{' => {
                    depth += 1;
                    if depth > max {
                        return true;
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        false
    }

    proptest::proptest! {
        #[test]
        fn the_json_nesting_check_agrees_with_a_byte_by_byte_scan(
            parts in proptest::collection::vec(proptest::prop_oneof![
                proptest::strategy::Just(b"[".to_vec()), proptest::strategy::Just(b"]".to_vec()),
                proptest::strategy::Just(b"{".to_vec()), proptest::strategy::Just(b"}".to_vec()),
                proptest::strategy::Just(b"\"".to_vec()), proptest::strategy::Just(b"\\".to_vec()),
                proptest::strategy::Just(b"\\\"".to_vec()), proptest::strategy::Just(b"a: 1, ".to_vec()),
            ], 0..400),
        ) {
            let body = parts.concat();
            // A low limit, so that random bodies cross it as often as not.
            let guard = Guard::new(GraphqlLimits { max_nesting: 4, ..GraphqlLimits::default() });
            let max = guard.limits().max_nesting;
            proptest::prop_assert_eq!(guard.check_json(&body).is_err(), nested_deeper_than(&body, max), "{:?}", String::from_utf8_lossy(&body));
        }
    }

    #[test]
    fn brackets_inside_strings_and_comments_do_not_count() {
        let inside = format!(
            "{{ version(a: \"{}\", b: \"\"\"{}\"\"\") }} # {}\n",
            "[".repeat(500),
            "{\\\"\"\"".repeat(100),
            "(".repeat(500)
        );
        assert!(guard().check_text(&inside).is_ok());
        let json = format!("{{\"query\":\"{}\"}}", "[\\\"{".repeat(300));
        assert!(guard().check_json(json.as_bytes()).is_ok());
    }

    #[test]
    fn size_and_tokens_are_bounded() {
        let big = format!("{{ {} }}", "a ".repeat(40_000));
        assert_eq!(limit_of(guard().check_text(&big)), "queryBytes");
        let many = format!("{{ {} }}", "a ".repeat(12_000));
        assert_eq!(limit_of(guard().check_text(&many)), "tokens");
        assert_eq!(guard().check_text("{ version }").unwrap().tokens, 3);
    }

    #[test]
    fn a_fragment_fan_out_is_refused_in_microseconds() {
        let doc = async_graphql::parser::parse_query(fan_out(30)).expect("parses");
        let started = Instant::now();
        assert_eq!(limit_of(guard().check_document(&doc)), "selections");
        assert!(started.elapsed() < Duration::from_millis(50), "took {:?}", started.elapsed());
        // A small fan-out within the limits passes.
        let doc = async_graphql::parser::parse_query(fan_out(4)).expect("parses");
        assert!(guard().check_document(&doc).is_ok());
    }

    #[test]
    fn fragment_cycles_and_long_chains_are_refused() {
        let cycle = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
        let doc = async_graphql::parser::parse_query(cycle).expect("parses");
        assert!(matches!(guard().check_document(&doc), Err(Refusal::Invalid(VALIDATION_FAILED, _))));
        let mut chain = String::from("query { ...F0 }\n");
        for i in 0..3000 {
            chain.push_str(&format!("fragment F{i} on Query {{ ...F{} }}\n", i + 1));
        }
        chain.push_str("fragment F3000 on Query { version }\n");
        let doc = async_graphql::parser::parse_query(&chain).expect("parses");
        assert_eq!(limit_of(guard().check_document(&doc)), "nesting");
    }

    #[test]
    fn the_seed_query_and_introspection_pass() {
        for query in [super::super::SEED_QUERY, super::super::INTROSPECTION_QUERY] {
            guard().check_text(query).expect("text within limits");
            let doc = async_graphql::parser::parse_query(query).expect("parses");
            guard().check_document(&doc).expect("document within limits");
        }
    }
}
