//! Agents and groups: the inverse functional identifier (IFI) that makes two of them "the same".

use serde_json::{Map, Value};

/// The IFI properties, in the order the spec lists them.
pub const IFI_PROPERTIES: [&str; 4] = ["mbox", "mbox_sha1sum", "openid", "account"];

/// A stable text key for an agent's or identified group's IFI, e.g. `mbox:mailto:a@b.c`
/// or `account:https://lms.example|jdoe`. `None` for anonymous groups and malformed input.
pub fn ifi_key(agent: &Value) -> Option<String> {
    let obj = agent.as_object()?;
    if let Some(mbox) = obj.get("mbox").and_then(Value::as_str) {
        return Some(format!("mbox:{}", mbox.to_ascii_lowercase()));
    }
    if let Some(sha) = obj.get("mbox_sha1sum").and_then(Value::as_str) {
        return Some(format!("sha1:{}", sha.to_ascii_lowercase()));
    }
    if let Some(openid) = obj.get("openid").and_then(Value::as_str) {
        return Some(format!("openid:{openid}"));
    }
    let account = obj.get("account")?.as_object()?;
    let home = account.get("homePage")?.as_str()?;
    let name = account.get("name")?.as_str()?;
    Some(format!("account:{home}|{name}"))
}

/// The IFI-only Agent an IFI key (see [`ifi_key`]) was made from; mailboxes come back
/// lower-cased, as they are keyed.
pub fn agent_of_ifi(key: &str) -> Option<Value> {
    let (kind, value) = key.split_once(':')?;
    let ifi = match kind {
        "mbox" => serde_json::json!({ "mbox": value }),
        "sha1" => serde_json::json!({ "mbox_sha1sum": value }),
        "openid" => serde_json::json!({ "openid": value }),
        "account" => {
            let (home, name) = value.split_once('|')?;
            serde_json::json!({ "account": { "homePage": home, "name": name } })
        }
        _ => return None,
    };
    let mut agent = serde_json::json!({ "objectType": "Agent" });
    agent.as_object_mut()?.extend(ifi.as_object()?.clone());
    Some(agent)
}

/// The IFI of an agent or group only, keeping `objectType` (the `ids` statement format).
/// Anonymous groups keep their members, each reduced the same way.
pub fn ids_only(agent: &Value) -> Value {
    let Some(obj) = agent.as_object() else {
        return agent.clone();
    };
    let mut out = Map::new();
    if let Some(t) = obj.get("objectType") {
        out.insert("objectType".into(), t.clone());
    }
    let mut has_ifi = false;
    for key in IFI_PROPERTIES {
        if let Some(v) = obj.get(key) {
            out.insert(key.into(), v.clone());
            has_ifi = true;
        }
    }
    if !has_ifi {
        if let Some(Value::Array(members)) = obj.get("member") {
            out.insert(
                "member".into(),
                Value::Array(members.iter().map(ids_only).collect()),
            );
        }
    }
    Value::Object(out)
}

/// True when the value is a Group (by `objectType`).
pub fn is_group(agent: &Value) -> bool {
    agent.get("objectType").and_then(Value::as_str) == Some("Group")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ifi_keys_give_back_their_agent() {
        for agent in [
            json!({ "objectType": "Agent", "mbox": "mailto:ann@example.com" }),
            json!({ "objectType": "Agent", "mbox_sha1sum": "ab12" }),
            json!({ "objectType": "Agent", "openid": "https://id.example.com/ann" }),
            json!({ "objectType": "Agent", "account": { "homePage": "https://lms.example.com", "name": "a:1" } }),
        ] {
            let key = ifi_key(&agent).unwrap();
            assert_eq!(agent_of_ifi(&key), Some(agent));
        }
        assert_eq!(agent_of_ifi("nonsense"), None);
    }

    #[test]
    fn keys_each_ifi_kind() {
        assert_eq!(
            ifi_key(&json!({"mbox": "mailto:A@B.c"})).as_deref(),
            Some("mbox:mailto:a@b.c")
        );
        assert_eq!(
            ifi_key(&json!({"account": {"homePage": "https://lms.example", "name": "jd"}}))
                .as_deref(),
            Some("account:https://lms.example|jd")
        );
        assert_eq!(ifi_key(&json!({"objectType": "Group", "member": []})), None);
    }

    #[test]
    fn ids_format_drops_names() {
        let g = json!({"objectType": "Group", "name": "g", "member": [{"name": "x", "mbox": "mailto:x@y.z"}]});
        assert_eq!(
            ids_only(&g),
            json!({"objectType": "Group", "member": [{"mbox": "mailto:x@y.z"}]})
        );
    }
}
