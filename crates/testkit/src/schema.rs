//! A JSON value checked against a schema of an OpenAPI 3.1 document, strictly: the keywords the
//! helpline's documents use — `$ref` (inside the document), `type` (one or a list), `enum`,
//! `required`, `properties`, `additionalProperties: false`, `items` (a schema, or `false` after
//! `prefixItems`), `prefixItems`, `allOf`, `oneOf` (exactly one), `anyOf`, `minimum`, `maximum`,
//! `minLength`, `maxLength`, `minItems`, `maxItems`, `pattern` (anchored, with literals, `[…]`
//! classes and `{n}`/`{n,m}`/`+`/`*`/`?`), and the annotations (`description`, `examples`,
//! `example`, `default`, `format`, `title`). Any other keyword is a problem: a check that cannot
//! read the schema must not pass.

use serde_json::Value;

/// Every way `value` breaks `schema` (a JSON pointer into `document`, e.g.
/// `/components/schemas/TicketEvent`), each with where.
pub fn check(document: &Value, schema: &str, value: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    match document.pointer(schema) {
        Some(s) => walk(document, s, value, "$", &mut problems),
        None => problems.push(format!("no schema at {schema}")),
    }
    problems
}

const ANNOTATIONS: &[&str] = &[
    "description",
    "examples",
    "example",
    "default",
    "format",
    "title",
];

fn walk(doc: &Value, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    let Some(schema) = schema.as_object() else {
        problems.push(format!("{at}: the schema is not an object"));
        return;
    };
    for (keyword, rule) in schema {
        match keyword.as_str() {
            "$ref" => {
                let target = rule.as_str().and_then(|r| r.strip_prefix('#'));
                match target.and_then(|p| doc.pointer(p)) {
                    Some(s) => walk(doc, s, value, at, problems),
                    None => problems.push(format!("{at}: unresolvable $ref {rule}")),
                }
            }
            "type" => {
                let types: Vec<&str> = match rule {
                    Value::String(t) => vec![t.as_str()],
                    Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
                    _ => vec![],
                };
                if !types.iter().any(|t| is_type(value, t)) {
                    problems.push(format!("{at}: {value} is not of type {types:?}"));
                }
            }
            "enum" => {
                if !rule.as_array().is_some_and(|list| list.contains(value)) {
                    problems.push(format!("{at}: {value} is not one of {rule}"));
                }
            }
            "required" => {
                if let Some(object) = value.as_object() {
                    for name in rule
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                    {
                        if !object.contains_key(name) {
                            problems.push(format!("{at}: {name} is required"));
                        }
                    }
                }
            }
            "properties" => {
                if let (Some(object), Some(props)) = (value.as_object(), rule.as_object()) {
                    for (name, v) in object {
                        if let Some(s) = props.get(name) {
                            walk(doc, s, v, &format!("{at}.{name}"), problems);
                        }
                    }
                }
            }
            "additionalProperties" => {
                if rule == &Value::Bool(false)
                    && let Some(object) = value.as_object()
                {
                    let props = schema.get("properties").and_then(Value::as_object);
                    for name in object.keys() {
                        if !props.is_some_and(|p| p.contains_key(name)) {
                            problems.push(format!("{at}: {name} is not in the schema"));
                        }
                    }
                } else if rule != &Value::Bool(false) {
                    problems.push(format!(
                        "{at}: additionalProperties {rule} is not supported"
                    ));
                }
            }
            "allOf" | "oneOf" | "anyOf" => {
                let branches = rule.as_array().map(Vec::as_slice).unwrap_or_default();
                let failing: Vec<Vec<String>> = branches
                    .iter()
                    .map(|b| {
                        let mut p = Vec::new();
                        walk(doc, b, value, at, &mut p);
                        p
                    })
                    .collect();
                let passed = failing.iter().filter(|p| p.is_empty()).count();
                match keyword.as_str() {
                    "allOf" => problems.extend(failing.into_iter().flatten()),
                    "oneOf" if passed != 1 => problems.push(format!(
                        "{at}: {value} matches {passed} of oneOf's {} schemas: {failing:?}",
                        branches.len()
                    )),
                    "anyOf" if passed == 0 => {
                        problems.push(format!("{at}: {value} matches none of anyOf: {failing:?}"))
                    }
                    _ => {}
                }
            }
            "prefixItems" => {
                if let (Some(list), Some(schemas)) = (value.as_array(), rule.as_array()) {
                    for (i, (v, s)) in list.iter().zip(schemas).enumerate() {
                        walk(doc, s, v, &format!("{at}[{i}]"), problems);
                    }
                }
            }
            "items" if rule == &Value::Bool(false) => {
                let prefix = schema
                    .get("prefixItems")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                if let Some(list) = value.as_array()
                    && list.len() > prefix
                {
                    problems.push(format!("{at}: more than {prefix} items"));
                }
            }
            "minItems" | "maxItems" => {
                if let (Some(list), Some(n)) = (value.as_array(), rule.as_u64()) {
                    let len = list.len() as u64;
                    if (keyword == "minItems" && len < n) || (keyword == "maxItems" && len > n) {
                        problems.push(format!("{at}: {len} items breaks {keyword} {n}"));
                    }
                }
            }
            "minLength" => {
                if let (Some(s), Some(min)) = (value.as_str(), rule.as_u64())
                    && (s.chars().count() as u64) < min
                {
                    problems.push(format!("{at}: shorter than {min}"));
                }
            }
            "items" => {
                if let Some(list) = value.as_array() {
                    for (i, v) in list.iter().enumerate() {
                        walk(doc, rule, v, &format!("{at}[{i}]"), problems);
                    }
                }
            }
            "minimum" | "maximum" => {
                if let (Some(n), Some(limit)) = (value.as_f64(), rule.as_f64()) {
                    let ok = if keyword == "minimum" {
                        n >= limit
                    } else {
                        n <= limit
                    };
                    if !ok {
                        problems.push(format!("{at}: {n} breaks {keyword} {limit}"));
                    }
                }
            }
            "maxLength" => {
                if let (Some(s), Some(max)) = (value.as_str(), rule.as_u64())
                    && s.chars().count() as u64 > max
                {
                    problems.push(format!("{at}: longer than {max}"));
                }
            }
            "pattern" => {
                if let (Some(s), Some(p)) = (value.as_str(), rule.as_str()) {
                    match matches(p, s) {
                        Ok(true) => {}
                        Ok(false) => problems.push(format!("{at}: {s:?} does not match {p}")),
                        Err(e) => problems.push(format!("{at}: pattern {p}: {e}")),
                    }
                }
            }
            k if ANNOTATIONS.contains(&k) => {}
            other => problems.push(format!("{at}: the keyword {other} is not supported")),
        }
    }
}

fn is_type(value: &Value, t: &str) -> bool {
    match t {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "null" => value.is_null(),
        _ => false,
    }
}

/// One piece of a pattern: what it matches and how often.
struct Piece {
    class: Vec<(char, char)>,
    min: usize,
    max: usize,
}

fn parse(pattern: &str) -> Result<Vec<Piece>, String> {
    let inner = pattern
        .strip_prefix('^')
        .and_then(|p| p.strip_suffix('$'))
        .ok_or("only anchored patterns (^…$) are supported")?;
    let chars: Vec<char> = inner.chars().collect();
    let mut pieces = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let class = match chars[i] {
            '[' => {
                let mut class = Vec::new();
                i += 1;
                while i < chars.len() && chars[i] != ']' {
                    if i + 2 < chars.len() && chars[i + 1] == '-' && chars[i + 2] != ']' {
                        class.push((chars[i], chars[i + 2]));
                        i += 3;
                    } else {
                        class.push((chars[i], chars[i]));
                        i += 1;
                    }
                }
                if i >= chars.len() {
                    return Err("an unclosed [".into());
                }
                i += 1;
                class
            }
            '\\' | '(' | ')' | '|' | '.' => return Err(format!("{:?} is not supported", chars[i])),
            c => {
                i += 1;
                vec![(c, c)]
            }
        };
        let (mut min, mut max) = (1, 1);
        if i < chars.len() {
            match chars[i] {
                '+' => (min, max, i) = (1, usize::MAX, i + 1),
                '*' => (min, max, i) = (0, usize::MAX, i + 1),
                '?' => (min, max, i) = (0, 1, i + 1),
                '{' => {
                    let end = chars[i..]
                        .iter()
                        .position(|c| *c == '}')
                        .ok_or("an unclosed {")?
                        + i;
                    let spec: String = chars[i + 1..end].iter().collect();
                    let (a, b) = match spec.split_once(',') {
                        Some((a, b)) => (a.to_owned(), b.to_owned()),
                        None => (spec.clone(), spec.clone()),
                    };
                    min = a.parse().map_err(|_| format!("bad count {{{spec}}}"))?;
                    max = b.parse().map_err(|_| format!("bad count {{{spec}}}"))?;
                    i = end + 1;
                }
                _ => {}
            }
        }
        pieces.push(Piece { class, min, max });
    }
    Ok(pieces)
}

fn matches(pattern: &str, text: &str) -> Result<bool, String> {
    let pieces = parse(pattern)?;
    let chars: Vec<char> = text.chars().collect();
    Ok(match_from(&pieces, &chars))
}

fn match_from(pieces: &[Piece], text: &[char]) -> bool {
    let Some((piece, rest)) = pieces.split_first() else {
        return text.is_empty();
    };
    let fits = |c: char| piece.class.iter().any(|(lo, hi)| *lo <= c && c <= *hi);
    let longest = text.iter().take_while(|c| fits(**c)).count().min(piece.max);
    (piece.min..=longest)
        .rev()
        .any(|n| match_from(rest, &text[n..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_as_anchored_regexes_do() {
        assert_eq!(matches("^[1-9][0-9]{9}$", "2611020001"), Ok(true));
        assert_eq!(matches("^[1-9][0-9]{9}$", "0611020001"), Ok(false));
        assert_eq!(matches("^[A-Z]{2,6}$", "JSV"), Ok(true));
        assert_eq!(matches("^[A-Z]{2,6}$", "J"), Ok(false));
        assert_eq!(
            matches("^evt_[0-9a-f]{32}$", &format!("evt_{}", "a".repeat(32))),
            Ok(true)
        );
        assert_eq!(
            matches("^t=[0-9]+,v1=[0-9a-f]{64}$", "t=1,v1=00"),
            Ok(false)
        );
        assert!(matches("(a|b)", "a").is_err());
    }

    #[test]
    fn a_value_is_checked_against_every_keyword_and_an_unknown_keyword_fails() {
        let doc: Value = serde_json::json!({"components": {"schemas": {
            "N": {"type": "string", "pattern": "^[0-9]{2}$"},
            "T": {"type": "object", "additionalProperties": false, "required": ["n", "s"],
                  "properties": {"n": {"$ref": "#/components/schemas/N"},
                                 "s": {"type": "string", "enum": ["a", "b"]},
                                 "l": {"type": "integer", "minimum": 1, "maximum": 4}}},
            "Odd": {"type": "string", "oneOf": []}
        }}});
        let ok = serde_json::json!({"n": "12", "s": "a", "l": 2});
        assert!(check(&doc, "/components/schemas/T", &ok).is_empty());
        let bad = serde_json::json!({"n": "1", "s": "c", "l": 5, "x": 1});
        assert_eq!(check(&doc, "/components/schemas/T", &bad).len(), 4);
        assert_eq!(
            check(&doc, "/components/schemas/T", &serde_json::json!({})).len(),
            2
        );
        assert_eq!(
            check(&doc, "/components/schemas/Odd", &serde_json::json!("a")).len(),
            1
        );
    }
}
