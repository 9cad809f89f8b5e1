//! The Statements resource: PUT, POST, GET/HEAD (single, filtered, `more` pages).

use actix_web::http::Method;
use actix_web::web::Data;
use actix_web::{HttpResponse, HttpResponseBuilder};
use serde_json::{json, Value};

use super::multipart::{read_statements, render_mixed, StatementsBody};
use super::params::{statement_format, Flag, Iri, PageLimit, Timestamp, Uuid, XapiAgent};
use super::{http_date, no_content, AppState, XapiRequest};
use crate::http::error::{ApiError, ApiResult};
use crate::lrs::queries::{FoundPage, Shown, StatementFilter};
use crate::lrs::statements::PageStatements;
use crate::store::StatementText;
use crate::xapi::format::accept_languages;
use crate::xapi::time::parse_query_timestamp;

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

/// The parameters a single-statement GET may have besides its id.
const SINGLE_PARAMS: [&str; 4] = ["statementId", "voidedStatementId", "format", "attachments"];

pub async fn statements(state: Data<AppState>, x: XapiRequest) -> ApiResult<HttpResponse> {
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
            get_statements(&state, x).await
        }
        _ => Err(x.unserved()),
    }
}

async fn put_statement(state: &AppState, x: XapiRequest) -> ApiResult<HttpResponse> {
    x.only_params(&["statementId"])?;
    let id = Uuid::parse("statementId", x.required("statementId")?)?.into_string();
    let _turn = state.statement_room.turn(x.body.len()).await;
    let StatementsBody {
        statements: mut statement,
        attachments,
    } = read_statements(x.content_type(), x.body.clone(), &state.settings.limits).await?;
    let Some(obj) = statement.as_object_mut() else {
        return Err(ApiError::invalid(
            "",
            "statement",
            "PUT takes a single statement object",
        ));
    };
    match obj.get("id") {
        Some(Value::String(given)) if given.eq_ignore_ascii_case(&id) => {}
        Some(_) => {
            return Err(ApiError::invalid(
                "/id",
                "statement-id",
                "the statement's id differs from the statementId parameter",
            ))
        }
        None => {
            obj.insert("id".into(), Value::String(id));
        }
    }
    state
        .lrs
        .store_statements(&x.principal, x.version, vec![statement], attachments, false)
        .await?;
    Ok(no_content())
}

async fn post_statements(state: &AppState, x: XapiRequest) -> ApiResult<HttpResponse> {
    x.only_params(&[])?;
    let limits = &state.settings.limits;
    let _turn = state.statement_room.turn(x.body.len()).await;
    let body = read_statements(x.content_type(), x.body.clone(), limits).await?;
    let (statements, batch) = match body.statements {
        Value::Array(list) if list.is_empty() => {
            return Err(ApiError::invalid("", "statement", "the batch is empty"))
        }
        Value::Array(list) if list.len() > limits.batch_statements => {
            return Err(ApiError::OverLimit(crate::xapi::Violation::new(
                format!("/{}", limits.batch_statements),
                "max-batch-statements",
                format!(
                    "a batch may hold at most {} statements; this one holds {}",
                    limits.batch_statements,
                    list.len()
                ),
            )))
        }
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
    let ids = state
        .lrs
        .store_statements(&x.principal, x.version, statements, body.attachments, batch)
        .await?;
    Ok(HttpResponse::Ok().json(ids))
}

async fn get_statements(state: &AppState, x: XapiRequest) -> ApiResult<HttpResponse> {
    if let Some(more) = x.param("more") {
        x.only_params(&["more"])?;
        let found = state.lrs.more_statements(&x.principal, more).await?;
        return Ok(page_response(&x, found));
    }
    x.only_params(&QUERY_PARAMS)?;
    let shown = Shown {
        format: statement_format(x.param("format"))?,
        attachments: Flag::parse("attachments", x.param("attachments"))?,
    };
    if let Some((id, voided)) = single_statement(&x)? {
        return get_statement(state, &x, &id, voided, shown).await;
    }
    let filter = statement_filter(state, &x)?;
    let found = state
        .lrs
        .find_statements(&x.principal, filter, shown)
        .await?;
    Ok(page_response(&x, found))
}

/// The id of a single-statement GET and whether it names a voided statement.
fn single_statement(x: &XapiRequest) -> ApiResult<Option<(String, bool)>> {
    let (name, raw, voided) = match (x.param("statementId"), x.param("voidedStatementId")) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "statementId",
                "single-statement",
                "give statementId or voidedStatementId, not both",
            ))
        }
        (Some(id), None) => ("statementId", id, false),
        (None, Some(id)) => ("voidedStatementId", id, true),
        (None, None) => return Ok(None),
    };
    if let Some(extra) = x
        .params
        .keys()
        .find(|k| !SINGLE_PARAMS.contains(&k.as_str()))
    {
        return Err(ApiError::invalid(
            extra.clone(),
            "single-statement",
            format!("`{extra}` cannot be combined with {name}"),
        ));
    }
    Ok(Some((Uuid::parse(name, raw)?.into_string(), voided)))
}

async fn get_statement(
    state: &AppState,
    x: &XapiRequest,
    id: &str,
    voided: bool,
    shown: Shown,
) -> ApiResult<HttpResponse> {
    let found = state
        .lrs
        .read_statement(&x.principal, id, voided, shown.attachments)
        .await?;
    let mut body = found.body;
    shown
        .format
        .apply(&mut body, &accept_languages(x.header("accept-language")));
    let mut response = HttpResponse::Ok();
    response.insert_header(("Last-Modified", http_date(found.stored_millis)));
    if shown.attachments {
        let (content_type, bytes) = render_mixed(&body, &found.attachments);
        return Ok(response.content_type(content_type).body(bytes));
    }
    Ok(response.json(body))
}

/// The filters of a statement query, parsed from the request.
fn statement_filter(state: &AppState, x: &XapiRequest) -> ApiResult<StatementFilter> {
    let agent = x
        .param("agent")
        .map(|raw| {
            let validator = &state.lrs.validator;
            XapiAgent::parse(raw, "an Agent or Group", validator, x.version)
        })
        .transpose()?;
    let limit = PageLimit::statements(x.param("limit"), state.settings.page_limit)?;
    Ok(StatementFilter {
        agent: agent.map(|a| a.ifi),
        verb: Iri::optional("verb", x.param("verb"))?,
        activity: Iri::optional("activity", x.param("activity"))?,
        registration: Uuid::optional("registration", x.param("registration"))?,
        related_agents: Flag::parse("related_agents", x.param("related_agents"))?,
        related_activities: Flag::parse("related_activities", x.param("related_activities"))?,
        since_millis: Timestamp::optional("since", x.param("since"))?,
        until_millis: Timestamp::optional("until", x.param("until"))?,
        ascending: Flag::parse("ascending", x.param("ascending"))?,
        limit,
    })
}

/// A page of statements: JSON with its `more` link, or multipart/mixed with attachments.
fn page_response(x: &XapiRequest, found: FoundPage) -> HttpResponse {
    let FoundPage { page, shown } = found;
    let more = page
        .more
        .map(|t| format!("{}?more={}", x.http().path(), t.encode()))
        .unwrap_or_default();
    let mut response = HttpResponse::Ok();
    let mut statements = match page.statements {
        PageStatements::Stored(stored) => return stored_page(response, &stored, &more),
        PageStatements::Parsed(statements) => statements,
    };
    let languages = accept_languages(x.header("accept-language"));
    for s in &mut statements {
        shown.format.apply(s, &languages);
    }
    let body = json!({ "statements": statements, "more": more });
    if let Some(last) = statements_last_modified(&body) {
        response.insert_header(("Last-Modified", last));
    }
    if shown.attachments {
        let (content_type, bytes) = render_mixed(&body, &page.attachments);
        return response.content_type(content_type).body(bytes);
    }
    response.json(body)
}

/// A page of statements shown exactly as stored: their stored JSON text, never parsed.
fn stored_page(
    mut response: HttpResponseBuilder,
    stored: &[StatementText],
    more: &str,
) -> HttpResponse {
    if let Some(newest) = stored.iter().map(|s| s.stored_millis).max() {
        response.insert_header(("Last-Modified", http_date(newest)));
    }
    let length: usize = stored.iter().map(|s| s.json.len() + 1).sum();
    let mut body = String::with_capacity(length + more.len() + 32);
    body.push_str(r#"{"statements":["#);
    for (n, s) in stored.iter().enumerate() {
        if n > 0 {
            body.push(',');
        }
        body.push_str(&s.json);
    }
    body.push_str(r#"],"more":"#);
    body.push_str(&Value::from(more).to_string());
    body.push('}');
    response.content_type("application/json").body(body)
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
