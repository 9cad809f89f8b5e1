//! The document resources (state, activity profile, agent profile): GET/PUT/POST/DELETE of
//! one document, JSON merge on POST, id lists and `since`, the parameters each request needs
//! and the formats they must have. The addressing helpers here are shared with the
//! concurrency checks.

use std::fmt;
use std::future::Future;

use chrono::{DateTime, Duration, FixedOffset, SecondsFormat, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use crate::check::{Area, Check, Ctx, Failure, Verdict};
use crate::checks::concurrency::sha1_hex;
use crate::client::{excerpt, Request, Response};
use crate::config::XapiVersion;
use crate::{ensure, fail};

/// The three document resources.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Resource {
    State,
    ActivityProfile,
    AgentProfile,
}

impl Resource {
    pub(crate) const ALL: [Resource; 3] = [
        Resource::State,
        Resource::ActivityProfile,
        Resource::AgentProfile,
    ];

    pub(crate) fn path(self) -> &'static str {
        match self {
            Resource::State => "activities/state",
            Resource::ActivityProfile => "activities/profile",
            Resource::AgentProfile => "agents/profile",
        }
    }

    fn id_parameter(self) -> &'static str {
        match self {
            Resource::State => "stateId",
            Resource::ActivityProfile | Resource::AgentProfile => "profileId",
        }
    }
}

/// Where one document lives: its resource, the parameters naming its context (activity,
/// agent, registration) and its id within that context.
#[derive(Clone, Debug)]
pub(crate) struct Doc {
    pub(crate) resource: Resource,
    context: Vec<(&'static str, String)>,
    pub(crate) id: String,
}

impl fmt::Display for Doc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}?{}={}",
            self.resource.path(),
            self.resource.id_parameter(),
            self.id
        )?;
        if let Some((_, registration)) = self.context.iter().find(|(k, _)| *k == "registration") {
            write!(f, "&registration={registration}")?;
        }
        Ok(())
    }
}

impl Doc {
    /// A document in a context of its own: an activity and an agent no other check uses.
    pub(crate) fn fresh(cx: &Ctx, resource: Resource) -> Doc {
        let context = match resource {
            Resource::State => vec![
                ("activityId", cx.fx.iri("activity")),
                ("agent", cx.fx.agent().to_string()),
            ],
            Resource::ActivityProfile => vec![("activityId", cx.fx.iri("activity"))],
            Resource::AgentProfile => vec![("agent", cx.fx.agent().to_string())],
        };
        Doc {
            resource,
            context,
            id: fresh_id(cx),
        }
    }

    /// Another document in the same context.
    pub(crate) fn sibling(&self, cx: &Ctx) -> Doc {
        Doc {
            id: fresh_id(cx),
            ..self.clone()
        }
    }

    /// The same document id in a context that differs by one parameter.
    fn with(&self, name: &'static str, value: String) -> Doc {
        let mut doc = self.clone();
        doc.context.retain(|(k, _)| *k != name);
        doc.context.push((name, value));
        doc
    }

    /// A request for this one document.
    pub(crate) fn request(&self, cx: &Ctx, method: Method) -> Request {
        self.list(cx, method)
            .query(self.resource.id_parameter(), &self.id)
    }

    /// A request for every document of this context (no id).
    pub(crate) fn list(&self, cx: &Ctx, method: Method) -> Request {
        let mut request = cx.request(method, self.resource.path());
        for (name, value) in &self.context {
            request = request.query(name, value);
        }
        request
    }

    /// A request for this document with the parameter `name` left out (`value` is `None`)
    /// or set to `value`; the document id is sent only when `single` is true.
    fn altered(
        &self,
        cx: &Ctx,
        method: Method,
        single: bool,
        name: &str,
        value: Option<&str>,
    ) -> Request {
        let mut request = cx.request(method, self.resource.path());
        for (key, v) in &self.context {
            if *key != name {
                request = request.query(key, v);
            }
        }
        if single && name != self.resource.id_parameter() {
            request = request.query(self.resource.id_parameter(), &self.id);
        }
        if let Some(value) = value {
            request = request.query(name, value);
        }
        request
    }
}

/// A document id unique within its (already unique) context.
fn fresh_id(cx: &Ctx) -> String {
    let uuid = cx.fx.uuid();
    format!("doc-{}", &uuid[..8])
}

/// A JSON document of the kind the checks store.
pub(crate) fn sample(label: &str) -> Value {
    json!({ "label": label, "count": 1, "nested": { "kept": true, "list": [1, 2] } })
}

/// Stores `body` as a new document with PUT and `If-None-Match: *`, for a check whose subject
/// is something else: any success will do (which one is the round-trip checks' concern). The
/// precondition is what a careful client sends for a new document; every LRS must honour it,
/// and 1.0.3 requires clients to send one on profile PUTs.
pub(crate) async fn create(cx: &Ctx, doc: &Doc, content_type: &str, body: &[u8]) -> Verdict {
    let response = doc
        .request(cx, Method::PUT)
        .header("If-None-Match", "*")
        .body(content_type, body.to_vec())
        .send()
        .await?;
    ensure!(
        (200..300).contains(&response.status),
        "PUT {doc} (If-None-Match: *) of a new document: expected 204, got {} {}",
        response.status,
        excerpt(&response.text(), 200)
    );
    Ok(())
}

/// [`create`] for a JSON document.
pub(crate) async fn create_json(cx: &Ctx, doc: &Doc, value: &Value) -> Verdict {
    create(cx, doc, "application/json", value.to_string().as_bytes()).await
}

/// GET of one document, whatever the answer.
pub(crate) async fn get(cx: &Ctx, doc: &Doc) -> Result<Response, Failure> {
    doc.request(cx, Method::GET).send().await
}

/// Fails unless GET of `doc` answers 200 with exactly the JSON `expected`.
pub(crate) async fn ensure_json(cx: &Ctx, doc: &Doc, expected: &Value, after: &str) -> Verdict {
    let response = get(cx, doc)
        .await?
        .expect(200, &format!("GET {doc} after {after}"))?;
    let got = response.json()?;
    ensure!(
        got == *expected,
        "GET {doc} after {after}: expected the document {expected}, got {}",
        excerpt(&got.to_string(), 300)
    );
    Ok(())
}

/// Fails unless GET of `doc` answers 200 with exactly `body`, of media type `content_type`.
async fn ensure_bytes(
    cx: &Ctx,
    doc: &Doc,
    content_type: &str,
    body: &[u8],
    after: &str,
) -> Verdict {
    let response = get(cx, doc)
        .await?
        .expect(200, &format!("GET {doc} after {after}"))?;
    ensure!(
        response.body == body,
        "GET {doc} after {after}: expected the {} bytes stored ({}), got {} bytes ({})",
        body.len(),
        excerpt(&String::from_utf8_lossy(body), 100),
        response.body.len(),
        excerpt(&response.text(), 100)
    );
    let media = response.media_type();
    ensure!(
        media.as_deref() == Some(content_type),
        "GET {doc} after {after}: expected Content-Type {content_type}, got {}",
        media.as_deref().unwrap_or("none")
    );
    Ok(())
}

/// Fails unless GET of `doc` finds no document: 404, the answer the specification names for
/// a document that is not there (an empty success is tolerated; a body is not).
pub(crate) async fn ensure_absent(cx: &Ctx, doc: &Doc, after: &str) -> Verdict {
    let response = get(cx, doc).await?;
    let empty = (200..300).contains(&response.status) && response.body.is_empty();
    ensure!(
        response.status == 404 || empty,
        "GET {doc} after {after}: expected 404 (no such document), got {} {}",
        response.status,
        excerpt(&response.text(), 200)
    );
    Ok(())
}

/// The ids GET without a document id lists, asserting 200 and a JSON array of strings.
async fn ids(request: Request, what: &str) -> Result<Vec<String>, Failure> {
    let response = request.send().await?.expect(200, what)?;
    match response.json()? {
        Value::Array(items) if items.iter().all(Value::is_string) => Ok(items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()),
        other => fail!(
            "{what}: expected a JSON array of ids, got {}",
            excerpt(&other.to_string(), 300)
        ),
    }
}

/// DELETEs what a check stored, whether it passed or not, and passes its verdict on. A
/// failed clean-up does not change the verdict: the check was about something else.
pub(crate) async fn tidy(cx: &Ctx, docs: &[&Doc], verdict: Verdict) -> Verdict {
    for doc in docs {
        let request = if doc.resource == Resource::State {
            // One DELETE removes the whole (unique) context.
            doc.list(cx, Method::DELETE)
        } else {
            doc.request(cx, Method::DELETE)
        };
        let _ = request.send().await;
    }
    verdict
}

/// A check of one resource.
fn on<F, Fut>(resource: Resource, id: &'static str, title: &'static str, run: F) -> Check
where
    F: Fn(Ctx, Resource) -> Fut + Send + Sync + Copy + 'static,
    Fut: Future<Output = Verdict> + Send + 'static,
{
    Check::new(Area::Documents, id, title, move |cx| run(cx, resource))
}

pub fn checks() -> Vec<Check> {
    use Resource::{ActivityProfile, AgentProfile, State};
    vec![
        // Store, read, list and delete one document.
        on(
            State,
            "documents.state-put-get-delete",
            "A state document PUT (204) reads back (200) and DELETE (204) removes it",
            put_get_delete,
        )
        .v1(&[
            "Communication 2.3.s3",
            "Communication 2.2.s3.table1.row1",
            "Communication B.s1.table1.row6",
        ])
        .v2(&["4.1.6.2#1", "4.1.6.2#8", "4.1.6.2#11"]),
        on(
            ActivityProfile,
            "documents.activity-profile-put-get-delete",
            "An activity profile PUT (204) reads back (200) and DELETE (204) removes it",
            put_get_delete,
        )
        .v1(&[
            "Communication 2.7.s3",
            "Communication 2.2.s3.table1.row2",
            "Communication B.s1.table1.row5",
        ])
        .v2(&["4.1.6.6#1", "4.1.6.6#9", "4.1.6.6#8"]),
        on(
            AgentProfile,
            "documents.agent-profile-put-get-delete",
            "An agent profile PUT (204) reads back (200) and DELETE (204) removes it",
            put_get_delete,
        )
        .v1(&[
            "Communication 2.6.s3",
            "Communication 2.2.s3.table1.row3",
            "Communication B.s1.table1.row3",
        ])
        .v2(&["4.1.6.5#1", "4.1.6.5#9", "4.1.6.5#8"]),
        // Documents of any content type.
        on(
            State,
            "documents.state-any-content-type",
            "Text and binary state documents come back byte for byte with their Content-Type",
            any_content_type,
        )
        .v1(&["Communication 2.3.s3"])
        .v2(&["4.1.6.2#1", "4.1.6.2#8"]),
        on(
            ActivityProfile,
            "documents.activity-profile-any-content-type",
            "Text and binary activity profiles come back byte for byte with their Content-Type",
            any_content_type,
        )
        .v1(&["Communication 2.7.s3"])
        .v2(&["4.1.6.6#1", "4.1.6.6#9"]),
        on(
            AgentProfile,
            "documents.agent-profile-any-content-type",
            "Text and binary agent profiles come back byte for byte with their Content-Type",
            any_content_type,
        )
        .v1(&["Communication 2.6.s3"])
        .v2(&["4.1.6.5#1", "4.1.6.5#9"]),
        // POST of a new document.
        on(
            State,
            "documents.state-post-creates",
            "POST of a state document that does not exist stores it (204)",
            post_creates,
        )
        .v1(&["Communication 2.2.s7", "Communication 2.3.s3"])
        .v2(&["4.1.6.2#4"]),
        on(
            ActivityProfile,
            "documents.activity-profile-post-creates",
            "POST of an activity profile that does not exist stores it (204)",
            post_creates,
        )
        .v1(&["Communication 2.2.s7", "Communication 2.7.s3"])
        .v2(&["4.1.6.6#4"]),
        on(
            AgentProfile,
            "documents.agent-profile-post-creates",
            "POST of an agent profile that does not exist stores it (204)",
            post_creates,
        )
        .v1(&["Communication 2.2.s7", "Communication 2.6.s3"])
        .v2(&["4.1.6.5#4"]),
        // JSON merge.
        on(
            State,
            "documents.state-post-merges-json",
            "POST of a JSON object onto a JSON state document merges top-level properties (204)",
            post_merges,
        )
        .v1(&[
            "Communication 2.2.s7",
            "Communication 2.2.s7.b1",
            "Communication 2.2.s7.b2",
            "Communication 2.2.s7.b3",
            "Communication 2.2.s8.b2",
        ])
        .v2(&["4.1.6.2#5", "4.1.6.2#7"]),
        on(
            ActivityProfile,
            "documents.activity-profile-post-merges-json",
            "POST of a JSON object onto a JSON activity profile merges top-level properties (204)",
            post_merges,
        )
        .v1(&[
            "Communication 2.2.s7",
            "Communication 2.2.s7.b1",
            "Communication 2.2.s7.b2",
            "Communication 2.2.s7.b3",
            "Communication 2.2.s8.b2",
        ])
        .v2(&["4.1.6.6#5", "4.1.6.6#7"]),
        on(
            AgentProfile,
            "documents.agent-profile-post-merges-json",
            "POST of a JSON object onto a JSON agent profile merges top-level properties (204)",
            post_merges,
        )
        .v1(&[
            "Communication 2.2.s7",
            "Communication 2.2.s7.b1",
            "Communication 2.2.s7.b2",
            "Communication 2.2.s7.b3",
            "Communication 2.2.s8.b2",
        ])
        .v2(&["4.1.6.5#5", "4.1.6.5#7"]),
        // Merges that cannot be made.
        on(
            State,
            "documents.state-post-unmergeable-400",
            "A state POST where either document is not a JSON object gets 400 and changes nothing",
            post_unmergeable,
        )
        .v1(&["Communication 2.2.s8.b1", "Communication 2.2.s7.b1"])
        .v2(&["4.1.6.2#6"]),
        on(
            ActivityProfile,
            "documents.activity-profile-post-unmergeable-400",
            "An activity profile POST where either document is not a JSON object gets 400 and changes nothing",
            post_unmergeable,
        )
        .v1(&["Communication 2.2.s8.b1", "Communication 2.2.s7.b1"])
        .v2(&["4.1.6.6#6"]),
        on(
            AgentProfile,
            "documents.agent-profile-post-unmergeable-400",
            "An agent profile POST where either document is not a JSON object gets 400 and changes nothing",
            post_unmergeable,
        )
        .v1(&["Communication 2.2.s8.b1", "Communication 2.2.s7.b1"])
        .v2(&["4.1.6.5#6"]),
        // Id lists.
        on(
            State,
            "documents.state-id-list",
            "GET without stateId answers 200 with exactly the stateIds of that activity and agent",
            id_list,
        )
        .v1(&["Communication 2.3.s4"])
        .v2(&["4.1.6.2#12"]),
        on(
            ActivityProfile,
            "documents.activity-profile-id-list",
            "GET without profileId answers 200 with exactly the profileIds of that activity",
            id_list,
        )
        .v1(&["Communication 2.7.s4"])
        .v2(&["4.1.6.6#11"]),
        on(
            AgentProfile,
            "documents.agent-profile-id-list",
            "GET without profileId answers 200 with exactly the profileIds of that agent",
            id_list,
        )
        .v1(&["Communication 2.6.s4"])
        .v2(&["4.1.6.5#11"]),
        // since.
        on(
            State,
            "documents.state-since-filters",
            "since lists a state document changed after it and leaves out one changed before",
            since_filters,
        )
        .v1(&["Communication 2.3.s4.table1.row4"])
        .v2(&["4.1.6.2#13"]),
        on(
            ActivityProfile,
            "documents.activity-profile-since-filters",
            "since lists an activity profile changed after it and leaves out one changed before",
            since_filters,
        )
        .v1(&["Communication 2.7.s4.table1.row2"])
        .v2(&["4.1.6.6#12"]),
        on(
            AgentProfile,
            "documents.agent-profile-since-filters",
            "since lists an agent profile changed after it and leaves out one changed before",
            since_filters,
        )
        .v1(&["Communication 2.6.s4.table1.row2"])
        .v2(&["4.1.6.5#12"]),
        on(
            State,
            "documents.state-since-invalid-400",
            "A state id list GET whose since is not a timestamp gets 400",
            since_invalid,
        )
        .v1(&["Communication 2.3.s4.table1.row4"])
        .v2(&["4.1.6.2#13"]),
        on(
            ActivityProfile,
            "documents.activity-profile-since-invalid-400",
            "An activity profile id list GET whose since is not a timestamp gets 400",
            since_invalid,
        )
        .v1(&["Communication 2.7.s4.table1.row2"])
        .v2(&["4.1.6.6#12"]),
        on(
            AgentProfile,
            "documents.agent-profile-since-invalid-400",
            "An agent profile id list GET whose since is not a timestamp gets 400",
            since_invalid,
        )
        .v1(&["Communication 2.6.s4.table1.row2"])
        .v2(&["4.1.6.5#12"]),
        Check::new(
            Area::Documents,
            "documents.state-since-with-state-id-400",
            "A state GET with both stateId and since gets 400",
            since_with_state_id,
        )
        .v2(&["4.1.6.2#9"]),
        // Required parameters.
        on(
            State,
            "documents.state-missing-activity-id-400",
            "Every state request without activityId gets 400",
            |cx, r| missing(cx, r, "activityId"),
        )
        .v1(&[
            "Communication 2.3.s3.table1.row1",
            "Communication 2.3.s4.table1.row1",
            "Communication 2.3.s5.table1.row1",
        ])
        .v2(&["4.1.6.2#2"]),
        on(
            State,
            "documents.state-missing-agent-400",
            "Every state request without agent gets 400",
            |cx, r| missing(cx, r, "agent"),
        )
        .v1(&[
            "Communication 2.3.s3.table1.row2",
            "Communication 2.3.s4.table1.row2",
            "Communication 2.3.s5.table1.row2",
        ])
        .v2(&["4.1.6.2#2"]),
        on(
            State,
            "documents.state-missing-state-id-400",
            "A state PUT or POST without stateId gets 400",
            |cx, r| missing(cx, r, "stateId"),
        )
        .v1(&["Communication 2.3.s3.table1.row4"])
        .v2(&["4.1.6.2#2"]),
        on(
            ActivityProfile,
            "documents.activity-profile-missing-activity-id-400",
            "Every activity profile request without activityId gets 400",
            |cx, r| missing(cx, r, "activityId"),
        )
        .v1(&[
            "Communication 2.7.s3.table1.row1",
            "Communication 2.7.s4.table1.row1",
        ])
        .v2(&["4.1.6.6#2"]),
        on(
            ActivityProfile,
            "documents.activity-profile-missing-profile-id-400",
            "An activity profile PUT, POST or DELETE without profileId gets 400",
            |cx, r| missing(cx, r, "profileId"),
        )
        .v1(&["Communication 2.7.s3.table1.row2"])
        .v2(&["4.1.6.6#2"]),
        on(
            AgentProfile,
            "documents.agent-profile-missing-agent-400",
            "Every agent profile request without agent gets 400",
            |cx, r| missing(cx, r, "agent"),
        )
        .v1(&[
            "Communication 2.6.s3.table1.row1",
            "Communication 2.6.s4.table1.row1",
        ])
        .v2(&["4.1.6.5#2"]),
        on(
            AgentProfile,
            "documents.agent-profile-missing-profile-id-400",
            "An agent profile PUT, POST or DELETE without profileId gets 400",
            |cx, r| missing(cx, r, "profileId"),
        )
        .v1(&["Communication 2.6.s3.table1.row2"])
        .v2(&["4.1.6.5#2"]),
        // Parameter formats.
        on(
            State,
            "documents.state-invalid-agent-400",
            "Every state request whose agent is not a valid Agent in JSON gets 400",
            |cx, r| invalid(cx, r, "agent", INVALID_AGENTS),
        )
        .v1(&[
            "Communication 2.3.s3.table1.row2",
            "Communication 2.3.s4.table1.row2",
            "Communication 2.3.s5.table1.row2",
        ])
        .v2(&["4.1.6.2#3"]),
        on(
            State,
            "documents.state-invalid-activity-id-400",
            "Every state request whose activityId is not an IRI gets 400",
            |cx, r| invalid(cx, r, "activityId", INVALID_IRIS),
        )
        .v1(&[
            "Communication 2.3.s3.table1.row1",
            "Communication 2.3.s4.table1.row1",
            "Communication 2.3.s5.table1.row1",
        ])
        .v2(&["4.1.6.2#3"]),
        on(
            State,
            "documents.state-invalid-registration-400",
            "Every state request whose registration is not a UUID gets 400",
            |cx, r| invalid(cx, r, "registration", INVALID_UUIDS),
        )
        .v1(&[
            "Communication 2.3.s3.table1.row3",
            "Communication 2.3.s4.table1.row3",
            "Communication 2.3.s5.table1.row3",
        ])
        .v2(&["4.1.6.2#3"]),
        on(
            ActivityProfile,
            "documents.activity-profile-invalid-activity-id-400",
            "Every activity profile request whose activityId is not an IRI gets 400",
            |cx, r| invalid(cx, r, "activityId", INVALID_IRIS),
        )
        .v1(&[
            "Communication 2.7.s3.table1.row1",
            "Communication 2.7.s4.table1.row1",
        ])
        .v2(&["4.1.6.6#3"]),
        on(
            AgentProfile,
            "documents.agent-profile-invalid-agent-400",
            "Every agent profile request whose agent is not a valid Agent in JSON gets 400",
            |cx, r| invalid(cx, r, "agent", INVALID_AGENTS),
        )
        .v1(&[
            "Communication 2.6.s3.table1.row1",
            "Communication 2.6.s4.table1.row1",
        ])
        .v2(&["4.1.6.5#3"]),
        Check::new(
            Area::Documents,
            "documents.agent-identifier-kinds",
            "State and agent profile documents work for agents identified by mbox_sha1sum, openid and account",
            agent_identifier_kinds,
        )
        .v1(&[
            "Communication 2.3.s3.table1.row2",
            "Communication 2.6.s3.table1.row1",
        ])
        .v2(&["4.1.6.2#3", "4.1.6.5#3"]),
        // State specifics.
        Check::new(
            Area::Documents,
            "documents.state-registration-scopes",
            "The same stateId with and without registrations names distinct documents and lists",
            registration_scopes,
        )
        .v1(&[
            "Communication 2.3.s3.table1.row3",
            "Communication 2.3.s4.table1.row3",
        ])
        .v2(&["4.1.6.2#3", "4.1.6.2#12"]),
        Check::new(
            Area::Documents,
            "documents.state-delete-all",
            "DELETE without stateId removes every state document of that activity and agent only (204)",
            delete_all,
        )
        .v1(&["Communication 2.3.s5"])
        .v2(&["4.1.6.2#14"]),
        Check::new(
            Area::Documents,
            "documents.state-delete-all-by-registration",
            "DELETE without stateId but with a registration removes only that registration's documents",
            delete_all_by_registration,
        )
        .v1(&["Communication 2.3.s5", "Communication 2.3.s5.table1.row3"])
        .v2(&["4.1.6.2#14"]),
        Check::new(
            Area::Documents,
            "documents.state-put-without-preconditions",
            "A state PUT without If-Match or If-None-Match stores a new document (and in 1.0.3 replaces one)",
            state_put_without_preconditions,
        )
        .v1(&["Communication 2.3.s3"])
        .v2(&["4.1.6.2#1"]),
        // Last-Modified.
        on(
            State,
            "documents.state-last-modified",
            "GET of a state document carries Last-Modified with the time it was stored",
            last_modified,
        )
        .v1(&["Communication 2.2.s6.b1"])
        .v2(&["4.1.6.2#10"]),
        on(
            ActivityProfile,
            "documents.activity-profile-last-modified",
            "GET of an activity profile carries Last-Modified with the time it was stored",
            last_modified,
        )
        .v1(&["Communication 2.2.s6.b1"])
        .v2(&["4.1.6.6#10"]),
        on(
            AgentProfile,
            "documents.agent-profile-last-modified",
            "GET of an agent profile carries Last-Modified with the time it was stored",
            last_modified,
        )
        .v1(&["Communication 2.2.s6.b1"])
        .v2(&["4.1.6.5#10"]),
        Check::new(
            Area::Documents,
            "documents.id-list-last-modified",
            "An id list GET carries Last-Modified no earlier than its newest document's",
            id_list_last_modified,
        )
        .v1(&["Communication 2.2.s6.b2"]),
        // Unknown activities and agents.
        Check::new(
            Area::Documents,
            "documents.unknown-activity-and-agent-accepted",
            "Documents about an activity and an agent the LRS has never seen are stored",
            unknown_activity_and_agent,
        )
        .v1(&["Communication 2.2.s4.b2"])
        .v2(&["4.1.6#4"]),
    ]
}

async fn put_get_delete(cx: Ctx, resource: Resource) -> Verdict {
    let doc = Doc::fresh(&cx, resource);
    let verdict = put_get_delete_on(&cx, &doc).await;
    tidy(&cx, &[&doc], verdict).await
}

async fn put_get_delete_on(cx: &Ctx, doc: &Doc) -> Verdict {
    let value = sample("stored by PUT");
    let response = doc
        .request(cx, Method::PUT)
        .header("If-None-Match", "*")
        .json(&value)
        .send()
        .await?
        .expect(
            204,
            &format!("PUT {doc} (If-None-Match: *) of a new document"),
        )?;
    ensure!(
        response.body.is_empty(),
        "PUT {doc}: a 204 answer has no body, got {}",
        excerpt(&response.text(), 200)
    );
    ensure_json(cx, doc, &value, "PUT").await?;
    doc.request(cx, Method::DELETE)
        .send()
        .await?
        .expect(204, &format!("DELETE {doc}"))?;
    ensure_absent(cx, doc, "DELETE").await?;
    Ok(())
}

/// A text document with non-ASCII characters and a binary one holding every byte value.
fn opaque_documents() -> [(&'static str, Vec<u8>); 2] {
    [
        (
            "text/plain",
            "Conformance notes: naïve café, 日本語, ✓"
                .as_bytes()
                .to_vec(),
        ),
        ("application/octet-stream", (0..=255u8).rev().collect()),
    ]
}

async fn any_content_type(cx: Ctx, resource: Resource) -> Verdict {
    let first = Doc::fresh(&cx, resource);
    let docs = [first.clone(), first.sibling(&cx)];
    let verdict = async {
        for (doc, (content_type, body)) in docs.iter().zip(opaque_documents()) {
            create(&cx, doc, content_type, &body).await?;
            ensure_bytes(
                &cx,
                doc,
                content_type,
                &body,
                &format!("PUT of {content_type}"),
            )
            .await?;
        }
        Ok(())
    }
    .await;
    tidy(&cx, &[&docs[0], &docs[1]], verdict).await
}

async fn post_creates(cx: Ctx, resource: Resource) -> Verdict {
    let doc = Doc::fresh(&cx, resource);
    let verdict = async {
        let value = sample("stored by POST");
        doc.request(&cx, Method::POST)
            .json(&value)
            .send()
            .await?
            .expect(
                204,
                &format!("POST {doc} of a document that does not exist"),
            )?;
        ensure_json(&cx, &doc, &value, "POST of a new document").await
    }
    .await;
    tidy(&cx, &[&doc], verdict).await
}

async fn post_merges(cx: Ctx, resource: Resource) -> Verdict {
    let doc = Doc::fresh(&cx, resource);
    let verdict = async {
        create_json(
            &cx,
            &doc,
            &json!({ "x": "foo", "y": "bar", "nested": { "a": 1, "b": 2 } }),
        )
        .await?;
        doc.request(&cx, Method::POST)
            .json(&json!({ "x": "bash", "z": "faz", "nested": { "c": 3 } }))
            .send()
            .await?
            .expect(
                204,
                &format!("POST {doc} of a JSON object onto a JSON object"),
            )?;
        // Top-level properties are replaced or added; a nested object is replaced whole.
        let merged = json!({ "x": "bash", "y": "bar", "z": "faz", "nested": { "c": 3 } });
        ensure_json(&cx, &doc, &merged, "the merging POST").await
    }
    .await;
    tidy(&cx, &[&doc], verdict).await
}

/// One merge the LRS must refuse: what is stored, and what is posted onto it.
struct Unmergeable {
    what: &'static str,
    stored: (&'static str, &'static [u8]),
    posted: (&'static str, &'static [u8]),
}

const UNMERGEABLE: [Unmergeable; 5] = [
    Unmergeable {
        what: "a text/plain POST onto a JSON document",
        stored: ("application/json", br#"{"kept":true}"#),
        posted: ("text/plain", b"kept=false"),
    },
    Unmergeable {
        what: "a JSON POST onto a text/plain document",
        stored: ("text/plain", b"plain text stays"),
        posted: ("application/json", br#"{"kept":false}"#),
    },
    Unmergeable {
        what: "a POST of malformed JSON",
        stored: ("application/json", br#"{"kept":true}"#),
        posted: ("application/json", br#"{"kept":"#),
    },
    Unmergeable {
        what: "a POST of a JSON array",
        stored: ("application/json", br#"{"kept":true}"#),
        posted: ("application/json", b"[1,2]"),
    },
    Unmergeable {
        what: "a JSON POST onto a stored JSON array",
        stored: ("application/json", b"[1,2]"),
        posted: ("application/json", br#"{"kept":false}"#),
    },
];

async fn post_unmergeable(cx: Ctx, resource: Resource) -> Verdict {
    let first = Doc::fresh(&cx, resource);
    let docs: Vec<Doc> = UNMERGEABLE.iter().map(|_| first.sibling(&cx)).collect();
    let verdict = async {
        for (doc, case) in docs.iter().zip(&UNMERGEABLE) {
            let (stored_type, stored) = case.stored;
            let (posted_type, posted) = case.posted;
            create(&cx, doc, stored_type, stored).await?;
            doc.request(&cx, Method::POST)
                .body(posted_type, posted.to_vec())
                .send()
                .await?
                .expect(400, &format!("POST {doc}: {}", case.what))?;
            ensure_bytes(
                &cx,
                doc,
                stored_type,
                stored,
                &format!("the refused POST ({})", case.what),
            )
            .await?;
        }
        Ok(())
    }
    .await;
    tidy(&cx, &docs.iter().collect::<Vec<_>>(), verdict).await
}

/// The same document id in a context next to `doc`'s: another activity or agent.
fn neighbour(cx: &Ctx, doc: &Doc) -> Doc {
    match doc.resource {
        Resource::State | Resource::AgentProfile => doc.with("agent", cx.fx.agent().to_string()),
        Resource::ActivityProfile => doc.with("activityId", cx.fx.iri("activity")),
    }
}

async fn id_list(cx: Ctx, resource: Resource) -> Verdict {
    let a = Doc::fresh(&cx, resource);
    let b = a.sibling(&cx);
    let elsewhere = neighbour(&cx, &a.sibling(&cx));
    let verdict = async {
        for doc in [&a, &b, &elsewhere] {
            create_json(&cx, doc, &sample("listed")).await?;
        }
        let what = format!(
            "GET {} without {}",
            resource.path(),
            resource.id_parameter()
        );
        let mut listed = ids(a.list(&cx, Method::GET), &what).await?;
        listed.sort();
        let mut expected = vec![a.id.clone(), b.id.clone()];
        expected.sort();
        ensure!(
            listed == expected,
            "{what}: expected exactly the ids stored in that context {expected:?} \
             (not `{}` of another context), got {listed:?}",
            elsewhere.id
        );
        Ok(())
    }
    .await;
    tidy(&cx, &[&a, &b, &elsewhere], verdict).await
}

/// An HTTP date (Last-Modified, Date) as a point in time.
fn http_date(value: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc2822(value).ok()
}

fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

async fn since_filters(cx: Ctx, resource: Resource) -> Verdict {
    let doc = Doc::fresh(&cx, resource);
    let verdict = async {
        create_json(&cx, &doc, &sample("since")).await?;
        let response = get(&cx, &doc)
            .await?
            .expect(200, &format!("GET {doc} after PUT"))?;
        // Last-Modified names the second the document changed in, so one second either side
        // of it is before and after the change whatever the clocks of the LRS and the suite
        // say. Without it, an hour either side of the suite's clock.
        let (before, after, basis) = match response.header("last-modified").and_then(http_date) {
            Some(modified) => {
                let modified = modified.with_timezone(&Utc);
                (
                    modified - Duration::seconds(1),
                    modified + Duration::seconds(1),
                    "its Last-Modified",
                )
            }
            None => {
                let now = Utc::now();
                (
                    now - Duration::hours(1),
                    now + Duration::hours(1),
                    "the suite's clock",
                )
            }
        };
        for (since, listed) in [(before, true), (after, false)] {
            let since = rfc3339(since);
            let what = format!("GET {} id list with since={since}", resource.path());
            let got = ids(doc.list(&cx, Method::GET).query("since", &since), &what).await?;
            ensure!(
                got.contains(&doc.id) == listed,
                "{what}: `{}` was stored {} that time (judged by {basis}) so it must {}be listed; \
                 got {got:?}",
                doc.id,
                if listed { "after" } else { "before" },
                if listed { "" } else { "not " }
            );
        }
        Ok(())
    }
    .await;
    tidy(&cx, &[&doc], verdict).await
}

async fn since_invalid(cx: Ctx, resource: Resource) -> Verdict {
    let doc = Doc::fresh(&cx, resource);
    for since in ["not a timestamp", "2024-13-45T99:00:00Z"] {
        doc.list(&cx, Method::GET)
            .query("since", since)
            .send()
            .await?
            .expect(
                400,
                &format!("GET {} id list with since={since}", resource.path()),
            )?;
    }
    Ok(())
}

async fn since_with_state_id(cx: Ctx) -> Verdict {
    let doc = Doc::fresh(&cx, Resource::State);
    let verdict = async {
        create_json(&cx, &doc, &sample("since and stateId")).await?;
        let since = rfc3339(Utc::now() - Duration::hours(1));
        doc.request(&cx, Method::GET)
            .query("since", &since)
            .send()
            .await?
            .expect(400, &format!("GET {doc}&since={since}"))?;
        Ok(())
    }
    .await;
    tidy(&cx, &[&doc], verdict).await
}

/// The requests a parameter appears in: (method, whether the document id is sent). A
/// request without the id is the id list (GET) or, for state, the whole-context DELETE.
fn requests_with(resource: Resource, parameter: &str) -> Vec<(Method, bool)> {
    if parameter == resource.id_parameter() {
        // Leaving out the id makes GET (and state DELETE) a list request, which is valid.
        return match resource {
            Resource::State => vec![(Method::PUT, true), (Method::POST, true)],
            _ => vec![
                (Method::PUT, true),
                (Method::POST, true),
                (Method::DELETE, true),
            ],
        };
    }
    let mut requests = vec![
        (Method::PUT, true),
        (Method::POST, true),
        (Method::GET, true),
        (Method::DELETE, true),
        (Method::GET, false),
    ];
    if resource == Resource::State {
        requests.push((Method::DELETE, false));
    }
    requests
}

fn describe(method: &Method, doc: &Doc, single: bool) -> String {
    if single {
        format!("{method} {doc}")
    } else {
        format!("{method} {} (all documents)", doc.resource.path())
    }
}

async fn missing(cx: Ctx, resource: Resource, parameter: &'static str) -> Verdict {
    refused_everywhere(&cx, resource, parameter, &[None]).await
}

const INVALID_AGENTS: &[&str] = &[
    "not JSON",
    "true",
    r#"{"objectType":"Agent","name":"no identifier"}"#,
    r#"{"objectType":"Agent","mbox":"conformance@lrs-conformance.example.org"}"#,
    r#"{"objectType":"Agent","mbox":"mailto:conformance@lrs-conformance.example.org","openid":"http://lrs-conformance.example.org/openid"}"#,
];

const INVALID_IRIS: &[&str] = &["not an IRI", "lrs-conformance.example.org/no-scheme"];

const INVALID_UUIDS: &[&str] = &["not-a-uuid", "true", "8ae2b6a1-0bce-4b3a-a5d3-d9f37b4b8d"];

async fn invalid(
    cx: Ctx,
    resource: Resource,
    parameter: &'static str,
    values: &'static [&'static str],
) -> Verdict {
    let values: Vec<Option<&str>> = values.iter().map(|v| Some(*v)).collect();
    refused_everywhere(&cx, resource, parameter, &values).await
}

/// Sends every request `parameter` appears in with each of `values` in its place (`None`:
/// left out) and fails unless each one is answered 400, listing every one that was not.
async fn refused_everywhere(
    cx: &Ctx,
    resource: Resource,
    parameter: &str,
    values: &[Option<&str>],
) -> Verdict {
    let doc = Doc::fresh(cx, resource);
    let body = sample("must be refused");
    let mut accepted = Vec::new();
    for value in values {
        for (method, single) in requests_with(resource, parameter) {
            let mut request = doc.altered(cx, method.clone(), single, parameter, *value);
            if matches!(method, Method::PUT | Method::POST) {
                request = request.header("If-None-Match", "*").json(&body);
            }
            let response = request.send().await?;
            if response.status != 400 {
                let how = match value {
                    Some(value) => format!("with {parameter}={value}"),
                    None => format!("without {parameter}"),
                };
                let mut answer = response.status.to_string();
                if !response.body.is_empty() {
                    answer = format!("{answer} {}", excerpt(&response.text(), 100));
                }
                accepted.push(format!(
                    "{} {how}: {answer}",
                    describe(&method, &doc, single)
                ));
            }
        }
    }
    ensure!(
        accepted.is_empty(),
        "expected 400 for every request {}; got: {}",
        if values == [None] {
            format!("without {parameter}")
        } else {
            format!("with an invalid {parameter}")
        },
        accepted.join("; ")
    );
    Ok(())
}

async fn agent_identifier_kinds(cx: Ctx) -> Verdict {
    let local = cx.fx.mbox();
    let agents = [
        json!({ "objectType": "Agent", "mbox_sha1sum": sha1_hex(local.as_bytes()) }),
        json!({ "objectType": "Agent", "openid": cx.fx.iri("openid") }),
        json!({
            "objectType": "Agent",
            "account": { "homePage": format!("http://{}/", crate::fixtures::HOST), "name": local }
        }),
    ];
    let mut docs = Vec::new();
    for agent in &agents {
        for resource in [Resource::State, Resource::AgentProfile] {
            docs.push(Doc::fresh(&cx, resource).with("agent", agent.to_string()));
        }
    }
    let verdict = async {
        for doc in &docs {
            let value = sample("identified agent");
            create_json(&cx, doc, &value)
                .await
                .map_err(|e| Failure::new(format!("agent {}: {e}", agent_of(doc))))?;
            ensure_json(
                &cx,
                doc,
                &value,
                &format!("PUT for agent {}", agent_of(doc)),
            )
            .await?;
        }
        Ok(())
    }
    .await;
    tidy(&cx, &docs.iter().collect::<Vec<_>>(), verdict).await
}

fn agent_of(doc: &Doc) -> &str {
    doc.context
        .iter()
        .find(|(k, _)| *k == "agent")
        .map_or("", |(_, v)| v.as_str())
}

async fn registration_scopes(cx: Ctx) -> Verdict {
    let registration = cx.fx.uuid();
    let plain = Doc::fresh(&cx, Resource::State);
    let first = plain.with("registration", registration.clone());
    let other = plain.with("registration", cx.fx.uuid());
    let verdict = async {
        let without = json!({ "registration": null });
        let with = json!({ "registration": registration });
        create_json(&cx, &plain, &without).await?;
        create_json(&cx, &first, &with).await?;
        let after = "PUT of the same stateId without and with a registration";
        ensure_json(&cx, &first, &with, after).await?;
        ensure_json(&cx, &plain, &without, after).await?;
        ensure_absent(
            &cx,
            &other,
            "PUTs under other registrations (none under this one)",
        )
        .await?;
        let what = format!("GET {} id list with a registration", Resource::State.path());
        let listed = ids(first.list(&cx, Method::GET), &what).await?;
        ensure!(
            listed == [first.id.clone()],
            "{what}: expected [{:?}], got {listed:?}",
            first.id
        );
        let listed = ids(other.list(&cx, Method::GET), &what).await?;
        ensure!(
            listed.is_empty(),
            "{what} nothing was stored under: expected [], got {listed:?}"
        );
        Ok(())
    }
    .await;
    tidy(&cx, &[&first, &plain], verdict).await
}

async fn delete_all(cx: Ctx) -> Verdict {
    let a = Doc::fresh(&cx, Resource::State);
    let b = a.sibling(&cx);
    let elsewhere = neighbour(&cx, &a);
    let verdict = async {
        for doc in [&a, &b, &elsewhere] {
            create_json(&cx, doc, &sample("deleted with its context")).await?;
        }
        a.list(&cx, Method::DELETE).send().await?.expect(
            204,
            &format!("DELETE {} without stateId", Resource::State.path()),
        )?;
        let what = format!(
            "GET {} id list after deleting them all",
            Resource::State.path()
        );
        let listed = ids(a.list(&cx, Method::GET), &what).await?;
        ensure!(listed.is_empty(), "{what}: expected [], got {listed:?}");
        for doc in [&a, &b] {
            ensure_absent(&cx, doc, "DELETE without stateId").await?;
        }
        ensure_json(
            &cx,
            &elsewhere,
            &sample("deleted with its context"),
            "DELETE without stateId for another agent",
        )
        .await
    }
    .await;
    tidy(&cx, &[&a, &elsewhere], verdict).await
}

async fn delete_all_by_registration(cx: Ctx) -> Verdict {
    let plain = Doc::fresh(&cx, Resource::State);
    let first = plain.with("registration", cx.fx.uuid());
    let second = plain.with("registration", cx.fx.uuid());
    let verdict = async {
        for doc in [&first, &second] {
            create_json(&cx, doc, &sample("registration")).await?;
        }
        first.list(&cx, Method::DELETE).send().await?.expect(
            204,
            &format!(
                "DELETE {} without stateId with one registration",
                Resource::State.path()
            ),
        )?;
        ensure_absent(&cx, &first, "DELETE of its registration's documents").await?;
        ensure_json(
            &cx,
            &second,
            &sample("registration"),
            "DELETE of another registration's documents",
        )
        .await
    }
    .await;
    tidy(&cx, &[&first, &second], verdict).await
}

async fn state_put_without_preconditions(cx: Ctx) -> Verdict {
    let doc = Doc::fresh(&cx, Resource::State);
    let verdict = async {
        let first = sample("first");
        doc.request(&cx, Method::PUT)
            .json(&first)
            .send()
            .await?
            .expect(204, &format!("PUT {doc} of a new document without If-Match or If-None-Match"))?;
        ensure_json(&cx, &doc, &first, "PUT without preconditions").await?;
        // 1.0.3 (Communication 3.1.s3) lets state documents be replaced without a
        // precondition; 2.0 answers such a PUT 409 like a profile's (a concurrency check).
        if cx.version == XapiVersion::V1_0_3 {
            let second = sample("second");
            doc.request(&cx, Method::PUT)
                .json(&second)
                .send()
                .await?
                .expect(
                    204,
                    &format!("PUT {doc} over an existing document without If-Match or If-None-Match (xAPI 1.0.3 state)"),
                )?;
            ensure_json(&cx, &doc, &second, "a second PUT without preconditions").await?;
        }
        Ok(())
    }
    .await;
    tidy(&cx, &[&doc], verdict).await
}

/// Fails unless `response` carries a Last-Modified that is a valid HTTP date close to the
/// answer's own Date (when it has one): the document was changed moments ago.
fn ensure_recent_last_modified(
    response: &Response,
    what: &str,
) -> Result<DateTime<FixedOffset>, Failure> {
    let Some(value) = response.header("last-modified") else {
        fail!("{what}: no Last-Modified header");
    };
    let Some(modified) = http_date(value) else {
        fail!("{what}: Last-Modified `{value}` is not an HTTP date");
    };
    if let Some(date) = response.header("date").and_then(http_date) {
        ensure!(
            modified <= date + Duration::seconds(1) && modified >= date - Duration::minutes(5),
            "{what}: Last-Modified {value} is not the time the document was just changed \
             (the answer's Date is {})",
            response.header("date").unwrap_or("")
        );
    }
    Ok(modified)
}

async fn last_modified(cx: Ctx, resource: Resource) -> Verdict {
    let doc = Doc::fresh(&cx, resource);
    let verdict = async {
        create_json(&cx, &doc, &sample("last modified")).await?;
        let response = get(&cx, &doc).await?.expect(200, &format!("GET {doc}"))?;
        ensure_recent_last_modified(&response, &format!("GET {doc}"))?;
        Ok(())
    }
    .await;
    tidy(&cx, &[&doc], verdict).await
}

async fn id_list_last_modified(cx: Ctx) -> Verdict {
    let docs: Vec<Doc> = Resource::ALL.iter().map(|r| Doc::fresh(&cx, *r)).collect();
    let verdict = async {
        for doc in &docs {
            create_json(&cx, doc, &sample("listed")).await?;
            let single = get(&cx, doc).await?.expect(200, &format!("GET {doc}"))?;
            let what = format!("GET {} id list", doc.resource.path());
            let list = doc
                .list(&cx, Method::GET)
                .send()
                .await?
                .expect(200, &what)?;
            let newest = ensure_recent_last_modified(&list, &what)?;
            if let Some(one) = single.header("last-modified").and_then(http_date) {
                ensure!(
                    newest >= one,
                    "{what}: Last-Modified {newest} is earlier than that of its document \
                     `{}` ({one})",
                    doc.id
                );
            }
        }
        Ok(())
    }
    .await;
    tidy(&cx, &docs.iter().collect::<Vec<_>>(), verdict).await
}

async fn unknown_activity_and_agent(cx: Ctx) -> Verdict {
    // Fresh activities and agents no statement has mentioned.
    let docs: Vec<Doc> = Resource::ALL.iter().map(|r| Doc::fresh(&cx, *r)).collect();
    let verdict = async {
        for doc in &docs {
            create_json(&cx, doc, &sample("never seen"))
                .await
                .map_err(|e| {
                    Failure::new(format!(
                        "a document about an activity/agent the LRS has never seen: {e}"
                    ))
                })?;
        }
        Ok(())
    }
    .await;
    tidy(&cx, &docs.iter().collect::<Vec<_>>(), verdict).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates() {
        let parsed = http_date("Mon, 30 Nov 2026 09:09:10 GMT").unwrap();
        assert_eq!(
            rfc3339(parsed.with_timezone(&Utc)),
            "2026-11-30T09:09:10.000Z"
        );
        assert!(http_date("yesterday").is_none());
    }

    #[test]
    fn id_parameters_are_left_out_only_where_a_list_would_not_result() {
        let state = requests_with(Resource::State, "stateId");
        assert!(state
            .iter()
            .all(|(m, _)| *m != Method::GET && *m != Method::DELETE));
        let profile = requests_with(Resource::AgentProfile, "profileId");
        assert!(profile.iter().any(|(m, _)| *m == Method::DELETE));
        assert!(requests_with(Resource::State, "agent").contains(&(Method::DELETE, false)));
        assert!(!requests_with(Resource::AgentProfile, "agent").contains(&(Method::DELETE, false)));
    }
}
