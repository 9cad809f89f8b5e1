//! The statement rules a JSON Schema cannot state: IRIs, language tags, ISO 8601 durations
//! and timestamps, score ranges, extension keys, voiding and context restrictions.
//!
//! Runs after the schema passed, so shapes are known; still, nothing here may panic on
//! unexpected input: a missing or mistyped part is simply not checked again.

use iri_string::types::IriStr;
use serde_json::{Map, Value};

use super::time::parse_timestamp;
use super::validate::Violation;
use super::version::XapiVersion;

pub const VOIDED_VERB: &str = "http://adlnet.gov/expapi/verbs/voided";

type Checked = Result<(), Violation>;

/// Appends one reference token to a JSON pointer, escaping `~` and `/`.
pub fn join(ptr: &str, token: &str) -> String {
    if token.contains(['~', '/']) {
        return format!("{ptr}/{}", token.replace('~', "~0").replace('/', "~1"));
    }
    // The usual case, on every property validated: no escapes, one allocation.
    let mut joined = String::with_capacity(ptr.len() + 1 + token.len());
    joined.push_str(ptr);
    joined.push('/');
    joined.push_str(token);
    joined
}

pub fn statement(version: XapiVersion, s: &Value) -> Checked {
    statement_body(version, s, "")?;
    if let Some(stored) = s.get("stored") {
        timestamp(stored, "/stored")?;
    }
    if let Some(authority) = s.get("authority") {
        actor(authority, "/authority")?;
    }
    if let Some(Value::Array(list)) = s.get("attachments") {
        for (i, a) in list.iter().enumerate() {
            attachment(a, &format!("/attachments/{i}"))?;
        }
    }
    Ok(())
}

/// The parts a statement shares with a SubStatement.
fn statement_body(version: XapiVersion, s: &Value, ptr: &str) -> Checked {
    if let Some(a) = s.get("actor") {
        actor(a, &join(ptr, "actor"))?;
    }
    let verb_id = s.pointer("/verb/id").and_then(Value::as_str);
    if let Some(v) = s.get("verb") {
        verb(v, &join(ptr, "verb"))?;
    }
    let object_type = s.get("object").map(object_type).unwrap_or("Activity");
    if verb_id == Some(VOIDED_VERB) && object_type != "StatementRef" {
        return Err(Violation::new(
            join(ptr, "object"),
            "voiding-object",
            "a statement with the verb `voided` must have a StatementRef as its object",
        ));
    }
    if let Some(o) = s.get("object") {
        object(version, o, &join(ptr, "object"))?;
    }
    if let Some(r) = s.get("result") {
        result(r, &join(ptr, "result"))?;
    }
    if let Some(c) = s.get("context") {
        context(c, object_type, &join(ptr, "context"))?;
    }
    if let Some(t) = s.get("timestamp") {
        timestamp(t, &join(ptr, "timestamp"))?;
    }
    if !ptr.is_empty() {
        if let Some(Value::Array(list)) = s.get("attachments") {
            for (i, a) in list.iter().enumerate() {
                attachment(a, &format!("{ptr}/attachments/{i}"))?;
            }
        }
    }
    Ok(())
}

/// The `objectType` of a statement object, defaulting to Activity as the spec says.
pub fn object_type(o: &Value) -> &str {
    o.get("objectType")
        .and_then(Value::as_str)
        .unwrap_or("Activity")
}

pub fn actor(a: &Value, ptr: &str) -> Checked {
    let Some(obj) = a.as_object() else {
        return Ok(());
    };
    if let Some(Value::String(mbox)) = obj.get("mbox") {
        let address = mbox.strip_prefix("mailto:").unwrap_or("");
        let valid = address
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty());
        if !valid || address.contains(char::is_whitespace) {
            return Err(Violation::new(
                join(ptr, "mbox"),
                "mbox",
                "mbox must be a `mailto:` IRI with an e-mail address",
            ));
        }
    }
    if let Some(openid) = obj.get("openid") {
        iri(openid, &join(ptr, "openid"))?;
    }
    if let Some(home) = obj.get("account").and_then(|acc| acc.get("homePage")) {
        iri(home, &format!("{ptr}/account/homePage"))?;
    }
    if let Some(Value::Array(members)) = obj.get("member") {
        for (i, m) in members.iter().enumerate() {
            actor(m, &format!("{ptr}/member/{i}"))?;
        }
    }
    Ok(())
}

fn verb(v: &Value, ptr: &str) -> Checked {
    if let Some(id) = v.get("id") {
        iri(id, &join(ptr, "id"))?;
    }
    if let Some(display) = v.get("display") {
        language_map(display, &join(ptr, "display"))?;
    }
    Ok(())
}

fn object(version: XapiVersion, o: &Value, ptr: &str) -> Checked {
    match object_type(o) {
        "Activity" => activity(o, ptr),
        "Agent" | "Group" => actor(o, ptr),
        "SubStatement" => statement_body(version, o, ptr),
        _ => Ok(()),
    }
}

fn activity(a: &Value, ptr: &str) -> Checked {
    if let Some(id) = a.get("id") {
        iri(id, &join(ptr, "id"))?;
    }
    let Some(def) = a.get("definition") else {
        return Ok(());
    };
    let ptr = join(ptr, "definition");
    for key in ["name", "description"] {
        if let Some(map) = def.get(key) {
            language_map(map, &join(&ptr, key))?;
        }
    }
    for key in ["type", "moreInfo"] {
        if let Some(value) = def.get(key) {
            iri(value, &join(&ptr, key))?;
        }
    }
    if let Some(ext) = def.get("extensions") {
        extensions(ext, &join(&ptr, "extensions"))?;
    }
    for list in ["choices", "scale", "source", "target", "steps"] {
        if let Some(Value::Array(components)) = def.get(list) {
            let mut seen = std::collections::HashSet::new();
            for (i, c) in components.iter().enumerate() {
                if let Some(id) = c.get("id").and_then(Value::as_str) {
                    if !seen.insert(id) {
                        return Err(Violation::new(
                            format!("{ptr}/{list}/{i}/id"),
                            "interaction-component-id",
                            format!("interaction component id `{id}` appears twice in {list}"),
                        ));
                    }
                }
                if let Some(map) = c.get("description") {
                    language_map(map, &format!("{ptr}/{list}/{i}/description"))?;
                }
            }
        }
    }
    Ok(())
}

fn result(r: &Value, ptr: &str) -> Checked {
    if let Some(score) = r.get("score") {
        score_range(score, &join(ptr, "score"))?;
    }
    if let Some(duration) = r.get("duration") {
        iso_duration(duration, &join(ptr, "duration"))?;
    }
    if let Some(ext) = r.get("extensions") {
        extensions(ext, &join(ptr, "extensions"))?;
    }
    Ok(())
}

fn score_range(score: &Value, ptr: &str) -> Checked {
    let get = |k: &str| score.get(k).and_then(Value::as_f64);
    let (raw, min, max) = (get("raw"), get("min"), get("max"));
    if let (Some(min), Some(max)) = (min, max) {
        if min >= max {
            return Err(Violation::new(
                join(ptr, "min"),
                "score-range",
                "score.min must be less than score.max",
            ));
        }
    }
    if let (Some(raw), Some(min)) = (raw, min) {
        if raw < min {
            return Err(Violation::new(
                join(ptr, "raw"),
                "score-range",
                "score.raw must not be below score.min",
            ));
        }
    }
    if let (Some(raw), Some(max)) = (raw, max) {
        if raw > max {
            return Err(Violation::new(
                join(ptr, "raw"),
                "score-range",
                "score.raw must not exceed score.max",
            ));
        }
    }
    Ok(())
}

fn context(c: &Value, object_type: &str, ptr: &str) -> Checked {
    for key in ["revision", "platform"] {
        if c.get(key).is_some() && object_type != "Activity" {
            return Err(Violation::new(
                join(ptr, key),
                "context-activity-only",
                format!(
                    "context.{key} may only be used when the statement's object is an Activity"
                ),
            ));
        }
    }
    for key in ["instructor", "team"] {
        if let Some(a) = c.get(key) {
            actor(a, &join(ptr, key))?;
        }
    }
    if let Some(Value::Object(kinds)) = c.get("contextActivities") {
        for (kind, list) in kinds {
            let kind_ptr = format!("{ptr}/contextActivities/{kind}");
            match list {
                Value::Array(items) => {
                    for (i, a) in items.iter().enumerate() {
                        activity(a, &format!("{kind_ptr}/{i}"))?;
                    }
                }
                single => activity(single, &kind_ptr)?,
            }
        }
    }
    if let Some(Value::Array(list)) = c.get("contextAgents") {
        for (i, entry) in list.iter().enumerate() {
            let entry_ptr = format!("{ptr}/contextAgents/{i}");
            if let Some(agent) = entry.get("agent") {
                actor(agent, &join(&entry_ptr, "agent"))?;
            }
            relevant_types(entry, &entry_ptr)?;
        }
    }
    if let Some(Value::Array(list)) = c.get("contextGroups") {
        for (i, entry) in list.iter().enumerate() {
            let entry_ptr = format!("{ptr}/contextGroups/{i}");
            if let Some(group) = entry.get("group") {
                actor(group, &join(&entry_ptr, "group"))?;
            }
            relevant_types(entry, &entry_ptr)?;
        }
    }
    if let Some(Value::String(tag)) = c.get("language") {
        if language_tags::LanguageTag::parse(tag).is_err() {
            return Err(Violation::new(
                join(ptr, "language"),
                "language-tag",
                format!("`{tag}` is not an RFC 5646 language tag"),
            ));
        }
    }
    if let Some(ext) = c.get("extensions") {
        extensions(ext, &join(ptr, "extensions"))?;
    }
    Ok(())
}

fn relevant_types(entry: &Value, ptr: &str) -> Checked {
    if let Some(Value::Array(types)) = entry.get("relevantTypes") {
        for (i, t) in types.iter().enumerate() {
            iri(t, &format!("{ptr}/relevantTypes/{i}"))?;
        }
    }
    Ok(())
}

fn attachment(a: &Value, ptr: &str) -> Checked {
    if let Some(u) = a.get("usageType") {
        iri(u, &join(ptr, "usageType"))?;
    }
    for key in ["display", "description"] {
        if let Some(map) = a.get(key) {
            language_map(map, &join(ptr, key))?;
        }
    }
    if let Some(url) = a.get("fileUrl") {
        iri(url, &join(ptr, "fileUrl"))?;
    }
    Ok(())
}

fn timestamp(t: &Value, ptr: &str) -> Checked {
    match t.as_str().and_then(parse_timestamp) {
        Some(_) => Ok(()),
        None => Err(Violation::new(
            ptr,
            "timestamp",
            "must be an ISO 8601 date and time (and not use the -00:00 offset)",
        )),
    }
}

fn iso_duration(d: &Value, ptr: &str) -> Checked {
    let text = d.as_str().unwrap_or("");
    if is_iso_duration(text) {
        Ok(())
    } else {
        Err(Violation::new(
            ptr,
            "duration",
            format!("`{text}` is not an ISO 8601 duration"),
        ))
    }
}

/// An ISO 8601 duration in the designator format (ISO 8601:2004 4.4.3.2), the only one xAPI
/// allows (1.0.3 Data 4.6; IEEE 9274.1.1 4.2.7): `PnW` alone, or `PnYnMnDTnHnMnS` with each
/// unit at most once and in that order, at least one unit, `T` exactly when time units
/// follow, and a decimal fraction only on the last unit given.
fn is_iso_duration(text: &str) -> bool {
    let Some(rest) = text.strip_prefix('P') else {
        return false;
    };
    if let Some(weeks) = rest.strip_suffix('W') {
        return is_decimal(weeks);
    }
    let (date, time) = match rest.split_once('T') {
        Some((date, time)) => (date, Some(time)),
        None => (rest, None),
    };
    let mut numbers = Vec::new();
    let date_ok = duration_units(date, &['Y', 'M', 'D'], &mut numbers);
    let time_ok =
        time.is_none_or(|t| !t.is_empty() && duration_units(t, &['H', 'M', 'S'], &mut numbers));
    let Some((_, leading)) = numbers.split_last() else {
        return false;
    };
    date_ok && time_ok && leading.iter().all(|n| !n.contains(['.', ',']))
}

/// Reads `<number><unit>` pairs whose units come in `order`, collecting the numbers.
fn duration_units<'a>(mut text: &'a str, order: &[char], numbers: &mut Vec<&'a str>) -> bool {
    let mut next = 0;
    while !text.is_empty() {
        let Some(end) = text.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ',')) else {
            return false;
        };
        let (number, tail) = text.split_at(end);
        let mut chars = tail.chars();
        let unit = chars.next();
        let Some(at) = order[next..].iter().position(|u| Some(*u) == unit) else {
            return false;
        };
        if !is_decimal(number) {
            return false;
        }
        numbers.push(number);
        next += at + 1;
        text = chars.as_str();
    }
    true
}

/// Digits, optionally with a fraction after `.` or `,`.
fn is_decimal(text: &str) -> bool {
    let (whole, fraction) = match text.split_once(['.', ',']) {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && fraction.is_none_or(digits)
}

pub fn iri(v: &Value, ptr: &str) -> Checked {
    match v.as_str() {
        Some(s) if is_iri(s) => Ok(()),
        _ => Err(Violation::new(
            ptr,
            "iri",
            format!("{v} is not an absolute IRI"),
        )),
    }
}

/// True for an absolute IRI (RFC 3987), e.g. `http://example.com/verbs/x` or `urn:uuid:…`.
pub fn is_iri(s: &str) -> bool {
    IriStr::new(s).is_ok()
}

fn extensions(ext: &Value, ptr: &str) -> Checked {
    let Some(map) = ext.as_object() else {
        return Ok(());
    };
    for key in map.keys() {
        if !is_iri(key) {
            return Err(Violation::new(
                join(ptr, key),
                "extension-key",
                format!("extension key `{key}` is not an absolute IRI"),
            ));
        }
    }
    Ok(())
}

pub fn language_map(map: &Value, ptr: &str) -> Checked {
    let Some(map): Option<&Map<String, Value>> = map.as_object() else {
        return Ok(());
    };
    for tag in map.keys() {
        if language_tags::LanguageTag::parse(tag).is_err() {
            return Err(Violation::new(
                join(ptr, tag),
                "language-tag",
                format!("`{tag}` is not an RFC 5646 language tag"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1.0.3 Data 4.6.s1.b1 / IEEE 9274.1.1 4.2.7: the designator format only.
    #[test]
    fn durations_follow_the_designator_format() {
        for ok in [
            "P3Y",
            "P4W",
            "PT16559.14S",
            "P3Y1M29DT4H35M59.14S",
            "P1DT12H36M0.1237S",
            "PT1H0M0S",
            "PT0,5S",
            "P1D",
        ] {
            assert!(is_iso_duration(ok), "{ok}");
        }
        for bad in [
            "",
            "P",
            "PT",
            "P1DT",
            "PT1H30",
            "PT1S1M",
            "P4W1D",
            "P1.5DT1H",
            "P1Y2Y",
            "P0003-01-29T04:35:59",
            "P00030129T043559",
            "1D",
            "P-1D",
            "PT.5S",
            "P1D ",
        ] {
            assert!(!is_iso_duration(bad), "{bad}");
        }
    }
    use serde_json::json;

    fn base() -> Value {
        json!({
            "actor": {"mbox": "mailto:a@example.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
            "object": {"id": "http://example.com/act/1"}
        })
    }

    fn rule_of(s: &Value) -> Option<(&'static str, String)> {
        statement(XapiVersion::V1, s)
            .err()
            .map(|v| (v.rule, v.pointer))
    }

    #[test]
    fn a_plain_statement_passes() {
        assert_eq!(rule_of(&base()), None);
    }

    #[test]
    fn verb_id_must_be_an_iri() {
        let mut s = base();
        s["verb"]["id"] = json!("not an iri");
        assert_eq!(rule_of(&s), Some(("iri", "/verb/id".into())));
    }

    #[test]
    fn language_tags_are_rfc5646() {
        let mut s = base();
        s["verb"]["display"] = json!({"not a tag": "x"});
        assert_eq!(
            rule_of(&s),
            Some(("language-tag", "/verb/display/not a tag".into()))
        );
    }

    #[test]
    fn voided_verb_needs_statement_ref() {
        let mut s = base();
        s["verb"]["id"] = json!(VOIDED_VERB);
        assert_eq!(rule_of(&s).map(|r| r.0), Some("voiding-object"));
    }

    #[test]
    fn score_raw_within_min_max() {
        let mut s = base();
        s["result"] = json!({"score": {"raw": 11, "min": 0, "max": 10}});
        assert_eq!(
            rule_of(&s),
            Some(("score-range", "/result/score/raw".into()))
        );
    }

    #[test]
    fn duration_is_iso8601() {
        let mut s = base();
        s["result"] = json!({"duration": "1 hour"});
        assert_eq!(rule_of(&s).map(|r| r.0), Some("duration"));
        s["result"] = json!({"duration": "P4W1D"});
        assert_eq!(rule_of(&s).map(|r| r.0), Some("duration"));
        for ok in ["PT1H30M0.5S", "P4W", "P1Y2M3DT4H5M6S", "PT0S"] {
            s["result"] = json!({ "duration": ok });
            assert_eq!(rule_of(&s), None, "{ok}");
        }
    }

    #[test]
    fn revision_only_with_activity_object() {
        let mut s = base();
        s["object"] = json!({"objectType": "Agent", "mbox": "mailto:b@example.com"});
        s["context"] = json!({"revision": "2"});
        assert_eq!(
            rule_of(&s),
            Some(("context-activity-only", "/context/revision".into()))
        );
    }

    #[test]
    fn extension_keys_are_iris() {
        let mut s = base();
        s["result"] = json!({"extensions": {"plain": 1}});
        assert_eq!(rule_of(&s).map(|r| r.0), Some("extension-key"));
    }

    #[test]
    fn timestamp_offset_minus_zero_is_refused() {
        let mut s = base();
        s["timestamp"] = json!("2020-01-01T00:00:00-00:00");
        assert_eq!(rule_of(&s), Some(("timestamp", "/timestamp".into())));
    }
}
