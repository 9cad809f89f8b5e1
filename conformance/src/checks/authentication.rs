//! Authentication as far as one credential lets an auditor see it: every resource but About
//! refuses requests without credentials or with refused ones (401) and changes nothing for
//! them, the run's own credentials are accepted, and statements stored with a user's own
//! HTTP Basic credentials name that user as authority. Permissions (403) and OAuth 1.0 need
//! credentials the suite cannot create; the catalogue says so.

use base64::Engine as _;
use serde_json::{json, Value};

use crate::check::{Area, Check, Ctx, Verdict};
use crate::checks::common;
use crate::client::{excerpt, Request, Response};
use crate::{ensure, fail};

pub fn checks() -> Vec<Check> {
    vec![
        Check::new(
            Area::Authentication,
            "authentication.no-credentials-401",
            "Every resource but About answers 401 to requests without credentials, and stores nothing",
            no_credentials,
        )
        .v1(&["Communication 3.2.s2.b2"])
        .v2(&["4.1.8#1"]),
        Check::new(
            Area::Authentication,
            "authentication.refused-credentials-401",
            "Requests with unknown Basic credentials, empty ones, a made-up bearer token or an \
             unknown scheme get 401, and store nothing",
            refused_credentials,
        )
        .v1(&["Communication 3.2.s2.b2"])
        .v2(&["4.1.8#1"]),
        Check::new(
            Area::Authentication,
            "authentication.malformed-credentials-refused",
            "Requests whose Authorization header is malformed are refused (401 or 400) and store nothing",
            malformed_credentials,
        )
        .v1(&["Communication 3.2.s2.b2"])
        .v2(&["4.1.8#1"]),
        Check::new(
            Area::Authentication,
            "authentication.unauthenticated-batch-refused",
            "A batch POSTed without credentials is refused whole: none of its statements is stored",
            unauthenticated_batch_refused,
        )
        .v1(&["Communication 3.2.s2.b2"])
        .v2(&["4.2.4.1#1", "4.1.8#1"]),
        Check::new(
            Area::Authentication,
            "authentication.basic-credentials-accepted",
            "The run's HTTP Basic credentials are accepted for writing and reading statements",
            basic_credentials_accepted,
        )
        .v1(&["Communication 4.0.s3.b1"]),
        Check::new(
            Area::Authentication,
            "authentication.basic-user-is-authority",
            "A statement stored with HTTP Basic credentials has an Agent (not a Group) as authority",
            basic_user_is_authority,
        )
        .v1(&["Communication 4.1.s6.b1"]),
    ]
}

/// How a request presents (or fails to present) credentials.
enum Credentials {
    /// No Authorization header at all.
    Missing,
    /// This Authorization header instead of the run's.
    Header(String),
}

impl Credentials {
    fn header(value: &str) -> Credentials {
        Credentials::Header(value.to_owned())
    }

    fn apply(&self, request: Request) -> Request {
        match self {
            Credentials::Missing => request.without_auth(),
            Credentials::Header(value) => request
                .without_auth()
                .header("Authorization", value.clone()),
        }
    }

    fn describe(&self) -> String {
        match self {
            Credentials::Missing => "without credentials".to_owned(),
            Credentials::Header(value) => format!("with `Authorization: {value}`"),
        }
    }
}

/// `Basic` credentials for a user the LRS cannot know.
fn unknown_basic(cx: &Ctx) -> Credentials {
    let pair = format!("lrs-conformance-{}:{}", cx.fx.uuid(), cx.fx.uuid());
    Credentials::Header(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    ))
}

/// Fresh records the probing requests address; none of them may exist afterwards.
struct Probe {
    put_id: String,
    post_id: String,
    statement: Value,
    activity: String,
    agent: String,
    state_id: String,
    profile_id: String,
}

impl Probe {
    fn new(cx: &Ctx) -> Probe {
        Probe {
            put_id: cx.fx.uuid(),
            post_id: cx.fx.uuid(),
            statement: cx.fx.statement(),
            activity: cx.fx.iri("activity"),
            agent: cx.fx.agent().to_string(),
            state_id: cx.fx.iri("state"),
            profile_id: cx.fx.iri("profile"),
        }
    }

    fn statement_with(&self, id: &str) -> Value {
        let mut statement = self.statement.clone();
        statement["id"] = json!(id);
        statement
    }

    /// A valid request for every resource and method that needs credentials, so the only
    /// thing wrong with each is its credentials.
    fn requests(&self, cx: &Ctx) -> Vec<(String, Request)> {
        let document = probe_document();
        let state = |r: Request| {
            r.query("activityId", &self.activity)
                .query("agent", &self.agent)
                .query("stateId", &self.state_id)
        };
        let activity_profile = |r: Request| {
            r.query("activityId", &self.activity)
                .query("profileId", &self.profile_id)
        };
        let agent_profile = |r: Request| {
            r.query("agent", &self.agent)
                .query("profileId", &self.profile_id)
        };
        vec![
            (
                "GET /statements".to_owned(),
                cx.get("statements").query("limit", "1"),
            ),
            (
                "HEAD /statements".to_owned(),
                cx.head("statements").query("limit", "1"),
            ),
            (
                "PUT /statements".to_owned(),
                cx.put("statements")
                    .query("statementId", &self.put_id)
                    .json(&self.statement_with(&self.put_id)),
            ),
            (
                "POST /statements".to_owned(),
                cx.post("statements")
                    .json(&json!([self.statement_with(&self.post_id)])),
            ),
            (
                "GET /activities".to_owned(),
                cx.get("activities").query("activityId", &self.activity),
            ),
            (
                "GET /agents".to_owned(),
                cx.get("agents").query("agent", &self.agent),
            ),
            (
                "PUT /activities/state".to_owned(),
                state(cx.put("activities/state")).json(&document),
            ),
            (
                "POST /activities/state".to_owned(),
                state(cx.post("activities/state")).json(&document),
            ),
            (
                "GET /activities/state".to_owned(),
                state(cx.get("activities/state")),
            ),
            (
                "DELETE /activities/state".to_owned(),
                state(cx.delete("activities/state")),
            ),
            (
                "PUT /activities/profile".to_owned(),
                activity_profile(cx.put("activities/profile"))
                    .header("If-None-Match", "*")
                    .json(&document),
            ),
            (
                "GET /activities/profile".to_owned(),
                activity_profile(cx.get("activities/profile")),
            ),
            (
                "DELETE /activities/profile".to_owned(),
                activity_profile(cx.delete("activities/profile")),
            ),
            (
                "PUT /agents/profile".to_owned(),
                agent_profile(cx.put("agents/profile"))
                    .header("If-None-Match", "*")
                    .json(&document),
            ),
            (
                "GET /agents/profile".to_owned(),
                agent_profile(cx.get("agents/profile")),
            ),
            (
                "DELETE /agents/profile".to_owned(),
                agent_profile(cx.delete("agents/profile")),
            ),
        ]
    }

    /// With the run's credentials: the statements and documents the refused requests
    /// addressed must not exist.
    async fn ensure_nothing_stored(&self, cx: &Ctx, how: &str) -> Verdict {
        let document = probe_document();
        let reads = [
            (
                format!("statement {}", self.put_id),
                cx.get("statements").query("statementId", &self.put_id),
                json!({ "id": self.put_id }),
            ),
            (
                format!("statement {}", self.post_id),
                cx.get("statements").query("statementId", &self.post_id),
                json!({ "id": self.post_id }),
            ),
            (
                "state document".to_owned(),
                cx.get("activities/state")
                    .query("activityId", &self.activity)
                    .query("agent", &self.agent)
                    .query("stateId", &self.state_id),
                document.clone(),
            ),
            (
                "activity profile document".to_owned(),
                cx.get("activities/profile")
                    .query("activityId", &self.activity)
                    .query("profileId", &self.profile_id),
                document.clone(),
            ),
            (
                "agent profile document".to_owned(),
                cx.get("agents/profile")
                    .query("agent", &self.agent)
                    .query("profileId", &self.profile_id),
                document,
            ),
        ];
        let mut found = Vec::new();
        for (what, request, written) in reads {
            found.push(Read::of(what, &request.send().await?, &written));
        }
        ensure_absent(&found, &format!("requests sent {how}"))
    }
}

/// The document the probing requests try to write.
fn probe_document() -> Value {
    json!({ "written": "without valid credentials" })
}

/// What reading back, with the run's credentials, a record a refused request addressed
/// found.
struct Read {
    what: String,
    status: u16,
    /// The answer holds what the refused request tried to write.
    holds_it: bool,
}

impl Read {
    fn of(what: String, response: &Response, written: &Value) -> Read {
        let holds_it = (200..300).contains(&response.status)
            && response
                .json()
                .is_ok_and(|got| common::difference(written, &got).is_none());
        Read {
            what,
            status: response.status,
            holds_it,
        }
    }
}

/// Fails if a read found what a refused request tried to write (it was carried out). A
/// read answered neither 404 nor 2xx leaves that undecided, which fails too.
fn ensure_absent(reads: &[Read], refused: &str) -> Verdict {
    let stored: Vec<&str> = reads
        .iter()
        .filter(|read| read.holds_it)
        .map(|read| read.what.as_str())
        .collect();
    ensure!(
        stored.is_empty(),
        "the LRS refused the {refused}, yet carried them out: found afterwards {}",
        stored.join(", ")
    );
    let undecided: Vec<String> = reads
        .iter()
        .filter(|read| read.status != 404 && !(200..300).contains(&read.status))
        .map(|read| format!("{} (answered {})", read.what, read.status))
        .collect();
    ensure!(
        undecided.is_empty(),
        "cannot confirm that the refused {refused} changed nothing: reading with the run's \
         credentials should answer 404 for {}",
        undecided.join(", ")
    );
    Ok(())
}

/// Sends every probing request with `credentials`; fails unless each answer's status is one
/// of `refused` and nothing was stored.
async fn ensure_refused(cx: &Ctx, credentials: &Credentials, refused: &[u16]) -> Verdict {
    let probe = Probe::new(cx);
    let how = credentials.describe();
    let mut wrong = Vec::new();
    for (what, request) in probe.requests(cx) {
        let response = credentials.apply(request).send().await?;
        if !refused.contains(&response.status) {
            wrong.push(format!(
                "{what} got {}{}",
                response.status,
                if response.body.is_empty() {
                    String::new()
                } else {
                    format!(" {}", excerpt(&response.text(), 120))
                }
            ));
        }
    }
    if !wrong.is_empty() {
        let expected = refused
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(" or ");
        let hint = if matches!(credentials, Credentials::Missing) && !run_sends_credentials(cx) {
            " (this run itself sends no credentials: give --user/--password or a token so the \
             LRS can require them)"
        } else {
            ""
        };
        fail!(
            "requests {how} must get {expected}: {}{hint}",
            wrong.join("; ")
        );
    }
    probe.ensure_nothing_stored(cx, &how).await
}

/// The scheme of the Authorization header the run sends, read from the check's first
/// recorded request (credentials are masked there), which must use the run's credentials.
fn run_scheme(cx: &Ctx) -> Option<String> {
    cx.http.exchanges().first().and_then(|exchange| {
        exchange
            .request_headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
            .map(|(_, value)| value.split(' ').next().unwrap_or("").to_owned())
    })
}

fn run_sends_credentials(cx: &Ctx) -> bool {
    run_scheme(cx).is_some()
}

async fn no_credentials(cx: Ctx) -> Verdict {
    // One request with the run's credentials first, so the hint on failure knows whether
    // the run sends any.
    common::query(&cx, &[("limit", "1")]).await?;
    ensure_refused(&cx, &Credentials::Missing, &[401]).await
}

async fn refused_credentials(cx: Ctx) -> Verdict {
    let variants = [
        unknown_basic(&cx),
        // The empty user and password of an explicitly unauthenticated request
        // (Communication 4.1.s7), which an LRS requiring credentials refuses.
        Credentials::header("Basic Og=="),
        Credentials::header("Bearer lrs-conformance-made-up-token"),
        Credentials::header("LRSConformanceUnknownScheme abc"),
    ];
    for credentials in variants {
        ensure_refused(&cx, &credentials, &[401]).await?;
    }
    Ok(())
}

async fn malformed_credentials(cx: Ctx) -> Verdict {
    let variants = [
        // No space between the scheme and the credentials.
        Credentials::header("Basic:bm9ib2R5OndoYXRldmVy"),
        // Not base64.
        Credentials::header("Basic !!!not-base64!!!"),
        // Base64 of a text without the `:` between user and password.
        Credentials::header("Basic bHJzLWNvbmZvcm1hbmNlLW5vLWNvbG9u"),
        // A scheme and nothing else.
        Credentials::header("Basic"),
    ];
    for credentials in variants {
        ensure_refused(&cx, &credentials, &[400, 401]).await?;
    }
    Ok(())
}

async fn unauthenticated_batch_refused(cx: Ctx) -> Verdict {
    let ids: Vec<String> = (0..3).map(|_| cx.fx.uuid()).collect();
    let batch: Vec<Value> = ids
        .iter()
        .map(|id| {
            let mut statement = cx.fx.statement();
            statement["id"] = json!(id);
            statement
        })
        .collect();
    cx.post("statements")
        .without_auth()
        .json(&Value::Array(batch))
        .send()
        .await?
        .expect(401, "POST /statements of a batch without credentials")?;
    let mut found = Vec::new();
    for id in &ids {
        let response = cx.get("statements").query("statementId", id).send().await?;
        found.push(Read::of(
            format!("statement {id}"),
            &response,
            &json!({ "id": id }),
        ));
    }
    ensure_absent(&found, "batch POSTed without credentials")
}

async fn basic_credentials_accepted(cx: Ctx) -> Verdict {
    let id = cx.fx.uuid();
    let mut statement = cx.fx.statement();
    statement["id"] = json!(id);
    // Any success will do: the status codes themselves are the statements checks' concern.
    let response = cx
        .put("statements")
        .query("statementId", &id)
        .json(&statement)
        .send()
        .await?;
    ensure!(
        (200..300).contains(&response.status),
        "PUT /statements with the run's credentials: expected success, got {} {}",
        response.status,
        excerpt(&response.text(), 200)
    );
    common::get_statement(&cx, &id).await?;
    match run_scheme(&cx) {
        Some(scheme) if scheme.eq_ignore_ascii_case("basic") => Ok(()),
        // xAPI 1.0.3 defines OAuth 1.0, HTTP Basic and Common Access Cards; only Basic can
        // be shown by this suite, so a run with other credentials shows none of them.
        Some(scheme) => fail!(
            "the run authenticated with `{scheme}`, which is none of the methods xAPI 1.0.3 \
             defines (OAuth 1.0, HTTP Basic, Common Access Cards); run with --user/--password \
             to show HTTP Basic support"
        ),
        None => fail!(
            "the run sends no credentials, so no authentication method is shown; run with \
             --user/--password to show HTTP Basic support"
        ),
    }
}

async fn basic_user_is_authority(cx: Ctx) -> Verdict {
    let id = common::post_statement(&cx, &cx.fx.statement()).await?;
    let stored = common::get_statement(&cx, &id).await?;
    // The recommendation is about a user's own username and password; other credentials
    // (tokens of applications) are outside it.
    if !run_scheme(&cx).is_some_and(|s| s.eq_ignore_ascii_case("basic")) {
        return Ok(());
    }
    let authority = &stored["authority"];
    let identifiers = ["mbox", "mbox_sha1sum", "openid", "account"]
        .iter()
        .filter(|k| authority.get(**k).is_some())
        .count();
    ensure!(
        authority.is_object()
            && authority.get("objectType").is_none_or(|t| t == "Agent")
            && identifiers == 1,
        "a statement stored with HTTP Basic credentials should name the user's Agent as \
         authority, got {}",
        excerpt(&authority.to_string(), 300)
    );
    Ok(())
}
