//! The Statements resource: PUT, POST, GET/HEAD (single, filtered, `more` pages).

use actix_web::http::Method;
use actix_web::HttpResponse;
use serde_json::{json, Value};
use uuid::Uuid;

use super::multipart::{mixed_boundary, parse_mixed, render_mixed};
use super::{http_date, no_content, AppState, XapiRequest};
use crate::auth::StatementReads;
use crate::http::error::{ApiError, ApiResult};
use crate::lrs::statements::{PageToken, StatementsPage};
use crate::store::{Cursor, StatementQuery};
use crate::xapi::agent::ifi_key;
use crate::xapi::format::accept_languages;
use crate::xapi::rules::is_iri;
use crate::xapi::statement::authority_key;
use crate::xapi::time::parse_query_timestamp;
use crate::xapi::StatementFormat;

const QUERY_PARAMS: [&str; 14] = [
    "statementId",
    "voidedStatementId",
    "agent",
    "verb",
    "activity",
    "registration",
    "related_activities",
    "related_agents",
    "since",
    "until",
    "limit",
    "format",
    "attachments",
    "ascending",
];

pub async fn statements(
    state: actix_web::web::Data<AppState>,
    x: XapiRequest,
) -> ApiResult<HttpResponse> {
    let scopes = &x.principal.scopes;
    match x.method {
        Method::PUT | Method::POST => {
            x.principal
                .require(scopes.can_write_statements(), "writing statements")?;
            if x.method == Method::PUT {
                put_statement(&state, x).await
            } else {
                post_statements(&state, x).await
            }
        }
        Method::GET | Method::HEAD => {
            let reads = scopes.statement_reads();
            x.principal.require(reads.is_some(), "reading statements")?;
            // With `statements/read/mine`, only statements this caller's authority stored.
            let mine = (reads == Some(StatementReads::Mine))
                .then(|| authority_key(&x.principal.authority));
            get_statements(&state, x, mine).await
        }
        _ => Err(ApiError::invalid(
            "method",
            "method",
            "statements accept GET, HEAD, PUT and POST",
        )),
    }
}

/// The statements and attachment parts of a PUT/POST body.
async fn read_statements(x: &XapiRequest) -> ApiResult<(Value, Vec<crate::store::AttachmentData>)> {
    let content_type = x.content_type().to_owned();
    let (json_bytes, parts) = match mixed_boundary(&content_type) {
        Some(boundary) => {
            let mixed = parse_mixed(x.body.clone(), boundary?).await?;
            (mixed.statements, mixed.attachments)
        }
        None => {
            let is_json = content_type
                .split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"));
            if !is_json && !content_type.is_empty() {
                return Err(ApiError::invalid(
                    "Content-Type",
                    "content-type",
                    "statements must be sent as application/json or multipart/mixed",
                ));
            }
            (x.body.clone(), Vec::new())
        }
    };
    let value = serde_json::from_slice(&json_bytes).map_err(|e| {
        ApiError::invalid("body", "json", format!("the body is not valid JSON: {e}"))
    })?;
    Ok((value, parts))
}

async fn put_statement(state: &AppState, x: XapiRequest) -> ApiResult<HttpResponse> {
    x.only_params(&["statementId"])?;
    let id = parse_uuid("statementId", x.required("statementId")?)?;
    let (mut statement, parts) = read_statements(&x).await?;
    if !statement.is_object() {
        return Err(ApiError::invalid(
            "",
            "statement",
            "PUT takes a single statement object",
        ));
    }
    match statement.get("id") {
        Some(Value::String(given)) if given.eq_ignore_ascii_case(&id) => {}
        Some(_) => {
            return Err(ApiError::invalid(
                "/id",
                "statement-id",
                "the statement's id differs from the statementId parameter",
            ))
        }
        None => {
            if let Some(obj) = statement.as_object_mut() {
                obj.insert("id".into(), Value::String(id));
            }
        }
    }
    state
        .lrs
        .store_statements(&x.principal, x.version, vec![statement], parts, false)
        .await?;
    Ok(no_content())
}

async fn post_statements(state: &AppState, x: XapiRequest) -> ApiResult<HttpResponse> {
    if !x.params.is_empty() {
        x.only_params(&[])?;
    }
    let (body, parts) = read_statements(&x).await?;
    let (statements, batch) = match body {
        Value::Array(list) => (list, true),
        single @ Value::Object(_) => (vec![single], false),
        _ => {
            return Err(ApiError::invalid(
                "",
                "statement",
                "POST takes a statement object or an array of statements",
            ))
        }
    };
    if statements.is_empty() {
        return Err(ApiError::invalid("", "statement", "the batch is empty"));
    }
    let ids = state
        .lrs
        .store_statements(&x.principal, x.version, statements, parts, batch)
        .await?;
    Ok(HttpResponse::Ok().json(ids))
}

fn parse_uuid(name: &str, raw: &str) -> ApiResult<String> {
    Uuid::parse_str(raw)
        .ok()
        .filter(|_| raw.len() == 36)
        .map(|u| u.hyphenated().to_string())
        .ok_or_else(|| ApiError::invalid(name, "uuid", format!("`{raw}` is not a UUID")))
}

fn parse_bool(x: &XapiRequest, name: &str) -> ApiResult<bool> {
    match x.param(name) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ApiError::invalid(
            name,
            "boolean",
            format!("`{other}` is not true or false"),
        )),
    }
}

fn parse_format(x: &XapiRequest) -> ApiResult<StatementFormat> {
    match x.param("format") {
        None => Ok(StatementFormat::Exact),
        Some(raw) => StatementFormat::parse(raw).ok_or_else(|| {
            ApiError::invalid(
                "format",
                "format",
                format!("`{raw}` is not one of exact, ids, canonical"),
            )
        }),
    }
}

async fn get_statements(
    state: &AppState,
    x: XapiRequest,
    mine: Option<String>,
) -> ApiResult<HttpResponse> {
    let tenant = x.principal.tenant;
    let languages = accept_languages(x.header("accept-language"));

    if let Some(more) = x.param("more") {
        x.only_params(&["more"])?;
        let mut token = PageToken::decode(more)?;
        // The restriction comes from the caller, never from a token it could edit.
        if mine.is_some() {
            token.query.authority = mine;
        }
        let page = state
            .lrs
            .query_statements(tenant, token.clone(), false)
            .await?;
        return Ok(page_response(
            &x,
            page,
            token.format.into(),
            token.attachments,
            &languages,
        ));
    }
    x.only_params(&QUERY_PARAMS)?;
    let format = parse_format(&x)?;
    let attachments = parse_bool(&x, "attachments")?;

    let single = match (x.param("statementId"), x.param("voidedStatementId")) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "statementId",
                "single-statement",
                "give statementId or voidedStatementId, not both",
            ))
        }
        (Some(id), None) => Some(("statementId", id, false)),
        (None, Some(id)) => Some(("voidedStatementId", id, true)),
        (None, None) => None,
    };
    if let Some((name, raw, voided)) = single {
        if let Some(extra) = x.params.keys().find(|k| {
            !matches!(
                k.as_str(),
                "statementId" | "voidedStatementId" | "format" | "attachments"
            )
        }) {
            return Err(ApiError::invalid(
                extra.clone(),
                "single-statement",
                format!("`{extra}` cannot be combined with {name}"),
            ));
        }
        let id = parse_uuid(name, raw)?;
        let found = state.lrs.statement(tenant, &id, voided).await?;
        if mine
            .as_ref()
            .is_some_and(|key| found.body.get("authority").map(authority_key).as_ref() != Some(key))
        {
            return Err(ApiError::NotFound(format!("no statement {id}")));
        }
        let mut body = found.body;
        format.apply(&mut body, &languages);
        let mut response = HttpResponse::Ok();
        response.insert_header(("Last-Modified", http_date(found.stored_millis)));
        if attachments {
            let files = state
                .lrs
                .attachments_of(tenant, std::slice::from_ref(&body))
                .await?;
            let (content_type, bytes) = render_mixed(&body, &files);
            return Ok(response.content_type(content_type).body(bytes));
        }
        return Ok(response.json(body));
    }

    let mut query = parse_query(state, &x)?;
    query.authority = mine;
    let token = PageToken {
        query,
        cursor: Cursor {
            after: None,
            bound: 0,
        },
        format: format.into(),
        attachments,
    };
    let page = state.lrs.query_statements(tenant, token, true).await?;
    Ok(page_response(&x, page, format, attachments, &languages))
}

fn parse_query(state: &AppState, x: &XapiRequest) -> ApiResult<StatementQuery> {
    let agent = match x.param("agent") {
        None => None,
        Some(raw) => {
            let value: Value = serde_json::from_str(raw).map_err(|_| {
                ApiError::invalid(
                    "agent",
                    "agent",
                    "the agent parameter must be an Agent or Group as JSON",
                )
            })?;
            state
                .lrs
                .validator
                .actor(x.version, &value)
                .map_err(|v| ApiError::Invalid(v.under("agent")))?;
            Some(ifi_key(&value).ok_or_else(|| {
                ApiError::invalid("agent", "agent", "the agent must have an identifier")
            })?)
        }
    };
    let iri_param = |name: &str| -> ApiResult<Option<String>> {
        match x.param(name) {
            None => Ok(None),
            Some(v) if is_iri(v) => Ok(Some(v.to_owned())),
            Some(v) => Err(ApiError::invalid(
                name,
                "iri",
                format!("`{v}` is not an IRI"),
            )),
        }
    };
    let time_param = |name: &str| -> ApiResult<Option<i64>> {
        match x.param(name) {
            None => Ok(None),
            Some(v) => parse_query_timestamp(v)
                .map(|t| Some(t.timestamp_millis()))
                .ok_or_else(|| {
                    ApiError::invalid(
                        name,
                        "timestamp",
                        format!("`{v}` is not an ISO 8601 timestamp"),
                    )
                }),
        }
    };
    let page_limit = state.settings.page_limit;
    let limit = match x.param("limit") {
        None => page_limit,
        Some(raw) => match raw.parse::<u64>() {
            Ok(0) => page_limit,
            Ok(n) => n.min(u64::from(page_limit)) as u32,
            Err(_) => {
                return Err(ApiError::invalid(
                    "limit",
                    "limit",
                    format!("`{raw}` is not a non-negative integer"),
                ))
            }
        },
    };
    Ok(StatementQuery {
        agent,
        verb: iri_param("verb")?,
        activity: iri_param("activity")?,
        registration: x
            .param("registration")
            .map(|r| parse_uuid("registration", r))
            .transpose()?,
        related_agents: parse_bool(x, "related_agents")?,
        related_activities: parse_bool(x, "related_activities")?,
        since_millis: time_param("since")?,
        until_millis: time_param("until")?,
        ascending: parse_bool(x, "ascending")?,
        limit,
        authority: None,
    })
}

fn page_response(
    x: &XapiRequest,
    page: StatementsPage,
    format: StatementFormat,
    attachments: bool,
    languages: &[String],
) -> HttpResponse {
    let mut statements = page.statements;
    for s in &mut statements {
        format.apply(s, languages);
    }
    let more = page
        .more
        .map(|t| format!("{}?more={}", x.http().path(), t.encode()))
        .unwrap_or_default();
    let body = json!({ "statements": statements, "more": more });
    let mut response = HttpResponse::Ok();
    if let Some(last) = statements_last_modified(&body) {
        response.insert_header(("Last-Modified", last));
    }
    if attachments {
        let (content_type, bytes) = render_mixed(&body, &page.attachments);
        return response.content_type(content_type).body(bytes);
    }
    response.json(body)
}

/// The newest `stored` among the returned statements, as an HTTP date.
fn statements_last_modified(body: &Value) -> Option<String> {
    body["statements"]
        .as_array()?
        .iter()
        .filter_map(|s| s.get("stored")?.as_str().and_then(parse_query_timestamp))
        .max()
        .map(|t| http_date(t.timestamp_millis()))
}
