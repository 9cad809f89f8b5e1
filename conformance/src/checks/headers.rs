//! The version header in requests and answers, HEAD requests, UTF-8, and the error answers
//! every resource owes a malformed request (unknown or mis-cased parameters, bad JSON).

use serde_json::{json, Value};

use crate::check::{Area, Check, Ctx, Failure, Verdict};
use crate::checks::common;
use crate::client::{Response, VERSION_HEADER};
use crate::config::XapiVersion;
use crate::{ensure, fail};

pub fn checks() -> Vec<Check> {
    vec![
        Check::new(
            Area::Headers,
            "headers.version-in-every-answer",
            "Every answer (success or error, any resource) carries X-Experience-API-Version",
            version_in_every_answer,
        )
        .v1(&["Communication 3.3.s3.b1"])
        .v2(&["4.1.7#1"]),
        Check::new(
            Area::Headers,
            "headers.version-is-latest-patch",
            "The answered version header is the latest patch of the audited version",
            version_is_latest_patch,
        )
        .v1(&["Communication 3.3.s3.b2"])
        .v2(&["4.1.7#2"]),
        Check::new(
            Area::Headers,
            "headers.accepts-major-minor-version",
            "A version header of `1.0` (`2.0`) is accepted as `1.0.0` (`2.0.0`)",
            accepts_major_minor_version,
        )
        .v1(&["Communication 3.3.s3.b3"])
        .v2(&["4.1.7#3"]),
        Check::new(
            Area::Headers,
            "headers.accepts-every-1.0-patch",
            "Version headers 1.0.0 to 1.0.3 (and a future 1.0.x) are accepted",
            accepts_every_patch,
        )
        .v1(&["Communication 3.3.s3.b5"]),
        Check::new(
            Area::Headers,
            "headers.rejects-missing-version",
            "Statement requests without X-Experience-API-Version are rejected with 400",
            rejects_missing_version,
        )
        .v1(&["Communication 3.3.s3.b4.1", "Communication 3.3.s3.b7"])
        .v2(&["4.1.1#1", "4.1.7#6"]),
        Check::new(
            Area::Headers,
            "headers.rejects-earlier-version",
            "A version header older than the audited line (and not served by the LRS) gets 400",
            rejects_earlier_version,
        )
        .v1(&["Communication 3.3.s3.b4", "Communication 3.3.s3.b7"])
        .v2(&["4.1.7#4", "4.1.7#6"]),
        Check::new(
            Area::Headers,
            "headers.rejects-later-version",
            "A version header of 1.1.0 (2.1.0) or later gets 400",
            rejects_later_version,
        )
        .v1(&["Communication 3.3.s3.b6", "Communication 3.3.s3.b7"])
        .v2(&["4.1.7#5", "4.1.7#6"]),
        Check::new(
            Area::Headers,
            "headers.every-resource-answers",
            "Every resource answers GET at its path under the endpoint",
            every_resource_answers,
        )
        .v1(&[
            "Communication 2.0.s1.b1",
            "Communication B.s1.table1.row2",
            "Communication B.s1.table1.row3",
            "Communication B.s1.table1.row4",
            "Communication B.s1.table1.row5",
            "Communication B.s1.table1.row6",
        ])
        .v2(&["4.1#3", "4.1.6#1"]),
        Check::new(
            Area::Headers,
            "headers.rejected-request-changes-nothing",
            "A refused statement request stores nothing",
            rejected_request_changes_nothing,
        )
        .v2(&["4.1#1"]),
        Check::new(
            Area::Headers,
            "headers.error-content-negotiation",
            "An error answer follows the Accept header (JSON or plain text)",
            error_content_negotiation,
        )
        .v1(&["Communication 3.2.s3.b3", "Communication 3.2.s3.b4"])
        .v2(&["4.1.5#3", "4.1.5#4"]),
        Check::new(
            Area::Headers,
            "headers.content-type-mismatch-400",
            "A statement sent with a Content-Type that does not match its JSON body gets 400",
            content_type_mismatch,
        )
        .v1(&["Communication 3.2.s3.b6"]),
        Check::new(
            Area::Headers,
            "headers.head-like-get",
            "HEAD answers as GET would, without a body",
            head_like_get,
        )
        .v1(&["Communication 1.1.s3.b1", "Communication 1.1.s3.b1.b1"])
        .v2(&["4.1#4"]),
        Check::new(
            Area::Headers,
            "headers.unknown-parameter-400",
            "A parameter the resource does not define gets 400",
            unknown_parameter,
        )
        .v1(&["Communication 3.2.s3.b7"])
        .v2(&["4.1.5#5"]),
        Check::new(
            Area::Headers,
            "headers.miscased-parameter-400",
            "A defined parameter spelled in another case gets 400",
            miscased_parameter,
        )
        .v1(&["Communication 3.2.s3.b8"])
        .v2(&["4.1.5#6"]),
        Check::new(
            Area::Headers,
            "headers.malformed-json-400",
            "A statement body that is not JSON gets 400",
            malformed_json,
        )
        .v1(&["Communication 3.2.s2.b1", "Communication 3.2.s3.b1"])
        .v2(&["4.1.5#1"]),
        Check::new(
            Area::Headers,
            "headers.error-explains",
            "An error answer explains its cause in the body",
            error_explains,
        )
        .v1(&["Communication 3.2.s3.b2"])
        .v2(&["4.1.5#2"]),
        Check::new(
            Area::Headers,
            "headers.utf8-round-trip",
            "Non-ASCII text is stored and returned as the same UTF-8",
            utf8_round_trip,
        )
        .v1(&["Communication 1.4.s1.b1"])
        .v2(&["4.1.2#1"]),
    ]
}

fn version_header(response: &Response, what: &str) -> Result<String, Failure> {
    match response.header(VERSION_HEADER) {
        Some(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
        _ => fail!(
            "{what} (status {}): no {VERSION_HEADER} header in the answer",
            response.status
        ),
    }
}

async fn version_in_every_answer(cx: Ctx) -> Verdict {
    let id = cx.fx.uuid();
    let answers = [
        ("GET /about", cx.get("about").send().await?),
        (
            "GET /statements",
            cx.get("statements").query("limit", "1").send().await?,
        ),
        (
            "GET /statements?statementId=<unknown>",
            cx.get("statements")
                .query("statementId", &id)
                .send()
                .await?,
        ),
        (
            "POST /statements with an invalid statement",
            cx.post("statements")
                .json(&json!({"actor": 1}))
                .send()
                .await?,
        ),
        (
            "PUT /statements",
            cx.put("statements")
                .query("statementId", &id)
                .json(&cx.fx.statement())
                .send()
                .await?,
        ),
        (
            "GET /activities/state with an unknown stateId",
            cx.get("activities/state")
                .query("activityId", cx.fx.iri("activity"))
                .query("agent", cx.fx.agent().to_string())
                .query("stateId", "missing")
                .send()
                .await?,
        ),
    ];
    for (what, response) in &answers {
        version_header(response, what)?;
    }
    Ok(())
}

/// True when `answered` is the audited line at or past the audited patch.
fn is_latest_patch(answered: &str, version: XapiVersion) -> bool {
    let audited: u32 = version
        .as_str()
        .rsplit('.')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    answered
        .strip_prefix(version.line())
        .and_then(|patch| patch.parse::<u32>().ok())
        .is_some_and(|patch| patch >= audited)
}

async fn version_is_latest_patch(cx: Ctx) -> Verdict {
    let response = cx.get("statements").query("limit", "1").send().await?;
    let answered = version_header(&response, "GET /statements")?;
    ensure!(
        is_latest_patch(&answered, cx.version),
        "GET /statements with version {} answered {VERSION_HEADER}: {answered}, expected {} or a later {}x",
        cx.version,
        cx.version,
        cx.version.line()
    );
    Ok(())
}

async fn accepts_version(cx: &Ctx, version: &str) -> Verdict {
    cx.get("statements")
        .query("limit", "1")
        .version(version)
        .send()
        .await?
        .expect(
            200,
            &format!("GET /statements with {VERSION_HEADER}: {version}"),
        )?;
    let statement = cx.fx.statement();
    cx.post("statements")
        .version(version)
        .json(&statement)
        .send()
        .await?
        .expect(
            200,
            &format!("POST /statements with {VERSION_HEADER}: {version}"),
        )?;
    Ok(())
}

async fn accepts_major_minor_version(cx: Ctx) -> Verdict {
    let short = match cx.version {
        XapiVersion::V1_0_3 => "1.0",
        XapiVersion::V2_0_0 => "2.0",
    };
    accepts_version(&cx, short).await
}

async fn accepts_every_patch(cx: Ctx) -> Verdict {
    for version in ["1.0.0", "1.0.1", "1.0.2", "1.0.3", "1.0.9"] {
        accepts_version(&cx, version).await?;
    }
    Ok(())
}

/// Asserts a 400 with an explanation for a statement request with this header treatment.
async fn rejected(cx: &Ctx, version: Option<&str>, what: &str) -> Verdict {
    let with = |r: crate::client::Request| match version {
        Some(v) => r.version(v),
        None => r.without_version(),
    };
    let id = cx.fx.uuid();
    let attempts = [
        ("GET /statements", with(cx.get("statements")).send().await?),
        (
            "POST /statements",
            with(cx.post("statements"))
                .json(&cx.fx.statement())
                .send()
                .await?,
        ),
        (
            "PUT /statements",
            with(cx.put("statements"))
                .query("statementId", &id)
                .json(&cx.fx.statement())
                .send()
                .await?,
        ),
    ];
    for (request, response) in attempts {
        let response = response.expect(400, &format!("{request} {what}"))?;
        ensure!(
            !response.body.is_empty(),
            "{request} {what}: the 400 answer must describe the problem, its body is empty"
        );
    }
    Ok(())
}

async fn rejects_missing_version(cx: Ctx) -> Verdict {
    rejected(&cx, None, &format!("without {VERSION_HEADER}")).await
}

/// The versions the About resource lists.
async fn served_versions(cx: &Ctx) -> Result<Vec<String>, Failure> {
    let about = cx
        .get("about")
        .send()
        .await?
        .expect(200, "GET /about")?
        .json()?;
    Ok(about["version"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

async fn rejects_earlier_version(cx: Ctx) -> Verdict {
    // An LRS may route an older version to a conformant implementation of it; such a
    // version is listed in /about and is not expected to be rejected.
    let served = served_versions(&cx).await?;
    let candidates: &[&str] = match cx.version {
        XapiVersion::V1_0_3 => &["0.9", "0.95"],
        XapiVersion::V2_0_0 => &["0.95", "1.0.3"],
    };
    for version in candidates {
        let line = version.rsplit_once('.').map_or(*version, |(l, _)| l);
        if served
            .iter()
            .any(|s| s == version || s.starts_with(&format!("{line}.")))
        {
            continue;
        }
        rejected(
            &cx,
            Some(version),
            &format!("with {VERSION_HEADER}: {version}"),
        )
        .await?;
    }
    Ok(())
}

async fn rejects_later_version(cx: Ctx) -> Verdict {
    let version = match cx.version {
        XapiVersion::V1_0_3 => "1.1.0",
        XapiVersion::V2_0_0 => "2.1.0",
    };
    rejected(
        &cx,
        Some(version),
        &format!("with {VERSION_HEADER}: {version}"),
    )
    .await
}

/// A GET of every resource with valid parameters, about things a statement just made known.
async fn resource_gets(
    cx: &Ctx,
) -> Result<Vec<(&'static str, Vec<(&'static str, String)>)>, Failure> {
    let statement = cx.fx.statement();
    let id = common::post_statement(cx, &statement).await?;
    let agent = statement["actor"].to_string();
    let activity = statement["object"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    Ok(vec![
        ("about", vec![]),
        ("statements", vec![("statementId", id)]),
        ("statements", vec![("limit", "1".to_owned())]),
        ("agents", vec![("agent", agent.clone())]),
        ("activities", vec![("activityId", activity.clone())]),
        ("agents/profile", vec![("agent", agent.clone())]),
        ("activities/profile", vec![("activityId", activity.clone())]),
        (
            "activities/state",
            vec![("activityId", activity), ("agent", agent)],
        ),
    ])
}

fn with_params(
    mut request: crate::client::Request,
    params: &[(&str, String)],
) -> crate::client::Request {
    for (name, value) in params {
        request = request.query(name, value.clone());
    }
    request
}

async fn every_resource_answers(cx: Ctx) -> Verdict {
    for (path, params) in resource_gets(&cx).await? {
        with_params(cx.get(path), &params)
            .send()
            .await?
            .expect(200, &format!("GET /{path} with valid parameters"))?;
    }
    Ok(())
}

async fn head_like_get(cx: Ctx) -> Verdict {
    for (path, params) in resource_gets(&cx).await? {
        let get = with_params(cx.get(path), &params).send().await?;
        let head = with_params(cx.head(path), &params).send().await?;
        ensure!(
            get.status == head.status,
            "HEAD /{path}: status {}, while GET answered {}",
            head.status,
            get.status
        );
        ensure!(
            head.body.is_empty(),
            "HEAD /{path}: the answer must have no body, got {} bytes",
            head.body.len()
        );
        ensure!(
            get.media_type() == head.media_type(),
            "HEAD /{path}: Content-Type {:?}, while GET answered {:?}",
            head.media_type(),
            get.media_type()
        );
    }
    Ok(())
}

async fn rejected_request_changes_nothing(cx: Ctx) -> Verdict {
    let id = cx.fx.uuid();
    let mut statement = cx.fx.statement();
    statement["verb"] =
        json!({ "id": cx.fx.iri("verb"), "display": { "not a language tag!": "x" } });
    cx.put("statements")
        .query("statementId", &id)
        .json(&statement)
        .send()
        .await?
        .expect(400, "PUT of a statement with an invalid language tag")?;
    cx.get("statements")
        .query("statementId", &id)
        .send()
        .await?
        .expect(404, "GET of the refused statement's id")?;
    Ok(())
}

async fn error_content_negotiation(cx: Ctx) -> Verdict {
    for (accept, wanted) in [
        ("application/json", "application/json"),
        ("text/plain", "text/plain"),
    ] {
        let response = cx
            .get("statements")
            .query("limit", "many")
            .header("Accept", accept)
            .send()
            .await?
            .expect(
                400,
                &format!("GET /statements?limit=many with Accept: {accept}"),
            )?;
        ensure!(
            response.media_type().as_deref() == Some(wanted),
            "an error asked for with Accept: {accept} came as {:?}",
            response.media_type()
        );
    }
    Ok(())
}

async fn content_type_mismatch(cx: Ctx) -> Verdict {
    cx.post("statements")
        .body(
            "application/x-www-form-urlencoded",
            cx.fx.statement().to_string(),
        )
        .send()
        .await?
        .expect(400, "POST of a JSON statement labelled text/csv")?;
    Ok(())
}

async fn unknown_parameter(cx: Ctx) -> Verdict {
    cx.get("statements")
        .query("conformance_unknown", "1")
        .send()
        .await?
        .expect(400, "GET /statements?conformance_unknown=1")?;
    cx.put("statements")
        .query("statementId", cx.fx.uuid())
        .query("conformance_unknown", "1")
        .json(&cx.fx.statement())
        .send()
        .await?
        .expect(400, "PUT /statements?statementId=…&conformance_unknown=1")?;
    Ok(())
}

async fn miscased_parameter(cx: Ctx) -> Verdict {
    let id = common::post_statement(&cx, &cx.fx.statement()).await?;
    cx.get("statements")
        .query("StatementId", &id)
        .send()
        .await?
        .expect(400, "GET /statements?StatementId=… (capital S)")?;
    cx.get("statements")
        .query("Limit", "1")
        .send()
        .await?
        .expect(400, "GET /statements?Limit=1 (capital L)")?;
    cx.put("statements")
        .query("StatementID", cx.fx.uuid())
        .json(&cx.fx.statement())
        .send()
        .await?
        .expect(400, "PUT /statements?StatementID=…")?;
    Ok(())
}

async fn malformed_json(cx: Ctx) -> Verdict {
    let broken = r#"{"actor": {"mbox": "mailto:a@example.org"}, "verb": "#;
    cx.post("statements")
        .body("application/json", broken)
        .send()
        .await?
        .expect(400, "POST /statements with truncated JSON")?;
    cx.put("statements")
        .query("statementId", cx.fx.uuid())
        .body("application/json", broken)
        .send()
        .await?
        .expect(400, "PUT /statements with truncated JSON")?;
    Ok(())
}

async fn error_explains(cx: Ctx) -> Verdict {
    let response = cx
        .post("statements")
        .json(&json!({ "actor": cx.fx.agent(), "verb": {"id": "not an iri"}, "object": cx.fx.activity() }))
        .send()
        .await?
        .expect(400, "POST /statements with an invalid verb id")?;
    ensure!(
        !response.text().trim().is_empty(),
        "the 400 answer has an empty body: it should say what is wrong"
    );
    Ok(())
}

async fn utf8_round_trip(cx: Ctx) -> Verdict {
    let text = "Zoë · 学习 · Ελληνικά · 🚀";
    let mut statement = cx.fx.statement();
    statement["actor"]["name"] = Value::from(text);
    statement["object"]["definition"]["name"] = json!({ "en-US": text });
    let id = common::post_statement(&cx, &statement).await?;
    let stored = common::get_statement(&cx, &id).await?;
    ensure!(
        stored["actor"]["name"] == text,
        "actor name sent as {text:?}, returned as {}",
        stored["actor"]["name"]
    );
    ensure!(
        stored["object"]["definition"]["name"]["en-US"] == text,
        "activity name sent as {text:?}, returned as {}",
        stored["object"]["definition"]["name"]
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_patch() {
        assert!(is_latest_patch("1.0.3", XapiVersion::V1_0_3));
        assert!(is_latest_patch("1.0.4", XapiVersion::V1_0_3));
        assert!(!is_latest_patch("1.0.2", XapiVersion::V1_0_3));
        assert!(!is_latest_patch("2.0.0", XapiVersion::V1_0_3));
        assert!(is_latest_patch("2.0.0", XapiVersion::V2_0_0));
        assert!(!is_latest_patch("2.0", XapiVersion::V2_0_0));
    }
}
