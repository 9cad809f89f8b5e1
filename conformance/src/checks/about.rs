//! The About resource: its JSON document, the versions it lists, and that it answers
//! whatever version header (or none) a client sends.

use serde_json::Value;

use crate::check::{Area, Check, Ctx, Verdict};
use crate::{ensure, fail};

pub fn checks() -> Vec<Check> {
    vec![
        Check::new(
            Area::About,
            "about.get-returns-version-list",
            "GET /about answers 200 with a JSON object whose `version` is an array of strings",
            get_returns_version_list,
        )
        .v1(&[
            "Communication 2.8.s4",
            "Communication 2.8.s4.table1.row1",
            "Communication B.s1.table1.row7",
        ])
        .v2(&["4.1.6.7#1"]),
        Check::new(
            Area::About,
            "about.lists-the-audited-version",
            "`version` lists the audited version and only well-formed versions",
            lists_the_audited_version,
        )
        .v1(&["Communication 2.8.s5.b1", "Communication 2.8.s5.b1.b1"])
        .v2(&["4.1.6.7#1"]),
        Check::new(
            Area::About,
            "about.no-unknown-properties",
            "The About document holds only `version` and `extensions` (an object)",
            no_unknown_properties,
        )
        .v1(&[
            "Communication 2.8.s5.b2",
            "Communication 2.8.s4.table1.row2",
        ]),
        Check::new(
            Area::About,
            "about.ignores-version-header",
            "GET /about succeeds without a version header and with an unsupported one",
            ignores_version_header,
        )
        .v1(&["Communication 2.8.s5.b4"])
        .v2(&["4.1.6.7#2"]),
        Check::new(
            Area::About,
            "about.unauthenticated",
            "GET /about succeeds without credentials",
            unauthenticated,
        )
        .v1(&["Communication 2.8.s5.b3"]),
    ]
}

/// GET /about, asserting 200 and a JSON object.
async fn about(cx: &Ctx) -> Result<serde_json::Map<String, Value>, crate::Failure> {
    let response = cx.get("about").send().await?.expect(200, "GET /about")?;
    match response.json()? {
        Value::Object(map) => Ok(map),
        other => fail!("GET /about: expected a JSON object, got {other}"),
    }
}

async fn get_returns_version_list(cx: Ctx) -> Verdict {
    let about = about(&cx).await?;
    let Some(Value::Array(versions)) = about.get("version") else {
        fail!(
            "the About document has no `version` array: {}",
            Value::Object(about)
        );
    };
    ensure!(
        versions.iter().all(Value::is_string),
        "`version` must hold strings only, got {versions:?}"
    );
    Ok(())
}

/// `0.9`, `0.95`, or `major.minor.patch` with numeric parts.
fn well_formed(version: &str) -> bool {
    if version == "0.9" || version == "0.95" {
        return true;
    }
    let parts: Vec<&str> = version.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

async fn lists_the_audited_version(cx: Ctx) -> Verdict {
    let about = about(&cx).await?;
    let versions: Vec<&str> = about
        .get("version")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    // The latest patch of the audited line must be listed: for a 1.0.3 audit that is
    // 1.0.3 or a later 1.0.x; for 2.0, 2.0.0 or a later 2.0.x.
    let line = cx.version.line();
    let audited_patch = cx.version.as_str().rsplit('.').next().unwrap_or("0");
    let listed = versions.iter().any(|v| {
        v.strip_prefix(line)
            .is_some_and(|patch| patch.parse::<u32>().ok() >= audited_patch.parse::<u32>().ok())
    });
    ensure!(
        listed,
        "`version` {versions:?} does not list {} (or a later {line}x)",
        cx.version
    );
    let malformed: Vec<&&str> = versions.iter().filter(|v| !well_formed(v)).collect();
    ensure!(
        malformed.is_empty(),
        "`version` holds malformed versions {malformed:?}"
    );
    Ok(())
}

async fn no_unknown_properties(cx: Ctx) -> Verdict {
    let about = about(&cx).await?;
    let unknown: Vec<&String> = about
        .keys()
        .filter(|k| !matches!(k.as_str(), "version" | "extensions"))
        .collect();
    ensure!(
        unknown.is_empty(),
        "properties outside `version`/`extensions`: {unknown:?}"
    );
    if let Some(extensions) = about.get("extensions") {
        ensure!(
            extensions.is_object(),
            "`extensions` must be an object, got {extensions}"
        );
    }
    Ok(())
}

async fn ignores_version_header(cx: Ctx) -> Verdict {
    cx.get("about")
        .without_version()
        .send()
        .await?
        .expect(200, "GET /about without X-Experience-API-Version")?;
    for version in ["0.9", "3.0.0"] {
        cx.get("about").version(version).send().await?.expect(
            200,
            &format!("GET /about with X-Experience-API-Version {version}"),
        )?;
    }
    Ok(())
}

async fn unauthenticated(cx: Ctx) -> Verdict {
    cx.get("about")
        .without_auth()
        .send()
        .await?
        .expect(200, "GET /about without credentials")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::well_formed;

    #[test]
    fn version_strings() {
        for ok in ["0.9", "0.95", "1.0.0", "1.0.3", "2.0.0", "2.0.10"] {
            assert!(well_formed(ok), "{ok}");
        }
        for bad in ["1.0", "2", "1.0.x", "v1.0.0", "", "1..0"] {
            assert!(!well_formed(bad), "{bad}");
        }
    }
}
