//! Reading statements from JSON text. One pass builds the value (keeping the client's
//! property order) and refuses a property given twice in one object: which of the two a
//! reader would keep is undefined, so such a statement has no single meaning (IEEE
//! 9274.1.1 4.2.1). serde_json alone keeps the last silently.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::validate::Violation;

/// Parses JSON text, refusing duplicate properties; the violation points at the property
/// given twice.
pub fn parse(text: &[u8]) -> Result<Value, Violation> {
    let mut deserializer = serde_json::Deserializer::from_slice(text);
    let mut duplicate = None;
    let parsed = Strict {
        at: &Path::Root,
        duplicate: &mut duplicate,
    }
    .deserialize(&mut deserializer)
    .and_then(|value| deserializer.end().map(|()| value));
    match (parsed, duplicate) {
        (_, Some(pointer)) => Err(Violation::new(
            pointer,
            "duplicate-property",
            "the property is given more than once in its object",
        )),
        (Ok(value), None) => Ok(value),
        (Err(e), None) => Err(Violation::new(
            "body",
            "json",
            format!("the body is not valid JSON: {e}"),
        )),
    }
}

/// A value as compact JSON text, the same text `to_string` gives, written through a byte
/// buffer rather than a formatter: several times quicker on a whole statement.
pub fn text(value: &Value) -> String {
    // A JSON value always serializes (its keys are strings); never empty in practice.
    serde_json::to_string(value).unwrap_or_default()
}

/// The value at a JSON pointer whose tokens need no `~` escapes, as `Value::pointer` finds
/// it but without a string made for each token: ingest looks up several on every statement.
pub fn at<'a>(value: &'a Value, pointer: &str) -> Option<&'a Value> {
    tokens(pointer)?.try_fold(value, |v, token| match v {
        Value::Object(map) => map.get(token),
        Value::Array(items) => items.get(index(token)?),
        _ => None,
    })
}

/// `at`, for changing the value.
pub fn at_mut<'a>(value: &'a mut Value, pointer: &str) -> Option<&'a mut Value> {
    tokens(pointer)?.try_fold(value, |v, token| match v {
        Value::Object(map) => map.get_mut(token),
        Value::Array(items) => items.get_mut(index(token)?),
        _ => None,
    })
}

/// A pointer's reference tokens: none for "", None for a pointer not starting with `/`.
fn tokens(pointer: &str) -> Option<impl Iterator<Item = &str>> {
    debug_assert!(!pointer.contains('~'), "an escaped pointer: {pointer}");
    (pointer.is_empty() || pointer.starts_with('/')).then(|| pointer.split('/').skip(1))
}

/// An array index as a pointer token gives it: digits, without a sign or leading zero.
fn index(token: &str) -> Option<usize> {
    if token.starts_with('+') || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    token.parse().ok()
}

/// The message serde_json gives when a document nests deeper than it will parse.
const PARSER_DEPTH_MESSAGE: &str = "recursion limit exceeded";

/// Checks a parsed document against caps on its nesting of arrays and objects (the
/// outermost one is level 1) and on the bytes of each string and property name; the
/// violation points at the first value found over a cap. A document too deep for the
/// parser itself, refused by `parse`, is reported the same way by `depth_refusal`.
pub fn check_shape(
    value: &Value,
    max_depth: usize,
    max_string_bytes: usize,
) -> Result<(), Violation> {
    shape(value, &Path::Root, 1, max_depth, max_string_bytes)
}

/// The depth violation for a parse refusal caused by nesting past the parser's own limit.
pub fn depth_refusal(refused: &Violation, max_depth: usize) -> Option<Violation> {
    (refused.rule == "json" && refused.message.contains(PARSER_DEPTH_MESSAGE)).then(|| {
        Violation::new(
            "body",
            "max-json-depth",
            format!("arrays and objects may nest at most {max_depth} levels deep"),
        )
    })
}

fn shape(
    value: &Value,
    at: &Path<'_>,
    level: usize,
    max_depth: usize,
    max_string: usize,
) -> Result<(), Violation> {
    let too_deep = || {
        Violation::new(
            at.pointer(),
            "max-json-depth",
            format!("arrays and objects may nest at most {max_depth} levels deep"),
        )
    };
    let too_long = |at: &Path<'_>, what: &str, len: usize| {
        Violation::new(
            at.pointer(),
            "max-string-bytes",
            format!("{what} is {len} bytes long; the most allowed is {max_string}"),
        )
    };
    match value {
        Value::String(text) if text.len() > max_string => {
            Err(too_long(at, "the string", text.len()))
        }
        Value::Array(items) => {
            if level > max_depth {
                return Err(too_deep());
            }
            for (i, item) in items.iter().enumerate() {
                shape(item, &Path::Index(at, i), level + 1, max_depth, max_string)?;
            }
            Ok(())
        }
        Value::Object(members) => {
            if level > max_depth {
                return Err(too_deep());
            }
            for (key, item) in members {
                let here = Path::Key(at, key);
                if key.len() > max_string {
                    return Err(too_long(&here, "the property name", key.len()));
                }
                shape(item, &here, level + 1, max_depth, max_string)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Where a value stands, kept as links to its parents so that a JSON pointer is written
/// only for the duplicate found, never for every value read.
enum Path<'p> {
    Root,
    Key(&'p Path<'p>, &'p str),
    Index(&'p Path<'p>, usize),
}

impl Path<'_> {
    /// The JSON pointer (RFC 6901) of this place.
    fn pointer(&self) -> String {
        match self {
            Path::Root => String::new(),
            Path::Key(parent, key) => {
                let token = key.replace('~', "~0").replace('/', "~1");
                format!("{}/{token}", parent.pointer())
            }
            Path::Index(parent, i) => format!("{}/{i}", parent.pointer()),
        }
    }
}

/// Builds a value at `at`, noting the first duplicate property it meets.
struct Strict<'a, 'p> {
    at: &'p Path<'p>,
    duplicate: &'a mut Option<String>,
}

impl<'de> DeserializeSeed<'de> for Strict<'_, '_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number JSON cannot hold"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        loop {
            let here = Path::Index(self.at, items.len());
            let item = Strict {
                at: &here,
                duplicate: &mut *self.duplicate,
            };
            match seq.next_element_seed(item)? {
                Some(value) => items.push(value),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = {
                let here = Path::Key(self.at, &key);
                if self.duplicate.is_none() && object.contains_key(&key) {
                    *self.duplicate = Some(here.pointer());
                }
                map.next_value_seed(Strict {
                    at: &here,
                    duplicate: &mut *self.duplicate,
                })?
            };
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// `at` finds what `Value::pointer` finds, for any pointer without escapes.
    #[test]
    fn at_finds_what_pointer_finds() {
        let mut v = json!({"a": {"b": [10, {"c": "x"}], "": 1}, "d": null});
        for p in [
            "", "/", "/a", "/a/b", "/a/b/0", "/a/b/1/c", "/a/b/2", "/a/b/01", "/a/b/+1", "/a/b/-1",
            "/a/", "/d", "/d/e", "a", "/x/y",
        ] {
            assert_eq!(at(&v, p), v.pointer(p), "{p}");
        }
        *at_mut(&mut v, "/a/b/1/c").unwrap() = json!("y");
        assert_eq!(v.pointer("/a/b/1/c"), Some(&json!("y")));
        assert!(at_mut(&mut v, "/a/nothing").is_none());
    }

    /// Stored statements and activity definitions are this text: it must be what
    /// `Value::to_string` writes, byte for byte.
    #[test]
    fn text_is_what_to_string_writes() {
        let v: Value = serde_json::from_str(
            r#"{"id": "x", "n": [1, -2.5, 1e300, 18446744073709551615], "s": "a\"\u00e9\n\u0001",
                "o": {"z": null, "a": true, "": {}}, "e": []}"#,
        )
        .unwrap();
        assert_eq!(text(&v), v.to_string());
    }

    #[test]
    fn parses_like_serde_json_keeping_property_order() {
        let text = br#"{"b": 1, "a": [true, null, 1.5, "x", {"z": -2}], "c": {}}"#;
        let value = parse(text).unwrap_or_default();
        assert_eq!(
            value,
            serde_json::from_slice::<Value>(text).unwrap_or_default()
        );
        let keys: Vec<&String> = value
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        assert_eq!(keys, ["b", "a", "c"]);
    }

    /// IEEE 9274.1.1 4.2.1: a property given twice in one object is refused, wherever it is.
    #[test]
    fn a_duplicate_property_is_refused_with_its_pointer() {
        let cases = [
            (r#"{"verb": 1, "verb": 2}"#, "/verb"),
            (r#"{"actor": {"mbox": "a", "mbox": "b"}}"#, "/actor/mbox"),
            (r#"[{"id": 1}, {"a/b": 1, "a/b": 2}]"#, "/1/a~1b"),
        ];
        for (text, pointer) in cases {
            let refused = parse(text.as_bytes()).err();
            assert_eq!(refused.as_ref().map(|v| v.pointer.as_str()), Some(pointer));
            assert_eq!(refused.map(|v| v.rule), Some("duplicate-property"));
        }
        assert!(parse(br#"{"a": {"x": 1}, "b": {"x": 1}}"#).is_ok());
        assert_eq!(parse(b"{").map_err(|v| v.rule), Err("json"));
        assert_eq!(parse(b"{} x").map_err(|v| v.rule), Err("json"));
        assert_eq!(parse(b"[]"), Ok(json!([])));
    }

    #[test]
    fn shape_caps_name_the_first_value_over_them() {
        let doc = json!({"a": [{"b": "xyz"}], "long-name": 1});
        assert!(check_shape(&doc, 3, 9).is_ok());
        let deep = check_shape(&doc, 2, 9).err();
        assert_eq!(
            deep.map(|v| (v.pointer, v.rule)),
            Some(("/a/0".to_owned(), "max-json-depth"))
        );
        let long = check_shape(&doc, 3, 2).err();
        assert_eq!(
            long.map(|v| (v.pointer, v.rule)),
            Some(("/a/0/b".to_owned(), "max-string-bytes"))
        );
        let name = check_shape(&doc, 3, 8).err();
        assert_eq!(
            name.map(|v| (v.pointer, v.rule)),
            Some(("/long-name".to_owned(), "max-string-bytes"))
        );
        let nested = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let refused = parse(nested.as_bytes()).err();
        let depth = refused.and_then(|v| depth_refusal(&v, 64));
        assert_eq!(depth.map(|v| v.rule), Some("max-json-depth"));
    }
}
