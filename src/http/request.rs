//! The authenticated xAPI request every resource handler takes: version negotiated,
//! credentials verified and the alternate request syntax (`?method=` form posts) unfolded,
//! so handlers see one shape whichever way the client sent it.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{web, FromRequest, HttpRequest};
use bytes::Bytes;
use futures_util::StreamExt as _;

use super::routes::Served;
use super::AppState;
use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::xapi::version::HEADER as VERSION_HEADER;
use crate::xapi::XapiVersion;

/// Headers a form post of the alternate syntax may carry as form fields.
const FORM_HEADERS: [&str; 6] = [
    "authorization",
    "x-experience-api-version",
    "content-type",
    "content-length",
    "if-match",
    "if-none-match",
];

pub struct XapiRequest {
    pub method: Method,
    pub params: HashMap<String, String>,
    pub body: Bytes,
    pub version: XapiVersion,
    pub principal: Principal,
    /// Header values given as form fields (lower-case names); they win over real headers.
    form_headers: HashMap<String, String>,
    http: HttpRequest,
}

impl XapiRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        let lower = name.to_ascii_lowercase();
        self.form_headers
            .get(&lower)
            .map(String::as_str)
            .or_else(|| self.http.headers().get(name).and_then(|v| v.to_str().ok()))
    }

    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// Rejects any parameter not in `allowed`.
    pub fn only_params(&self, allowed: &[&str]) -> Result<(), ApiError> {
        match self.params.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(ApiError::invalid(
                k.clone(),
                "unknown-parameter",
                format!("`{k}` is not a parameter of this resource"),
            )),
            None => Ok(()),
        }
    }

    /// A required parameter.
    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.param(name).ok_or_else(|| {
            ApiError::invalid(
                name,
                "required-parameter",
                format!("the `{name}` parameter is required"),
            )
        })
    }

    pub fn http(&self) -> &HttpRequest {
        &self.http
    }
}

fn query_map(query: &str) -> Result<HashMap<String, String>, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).map_err(|e| {
        ApiError::invalid(
            "query",
            "query-string",
            format!("malformed query string: {e}"),
        )
    })?;
    let mut map = HashMap::new();
    for (k, v) in pairs {
        if map.insert(k.clone(), v).is_some() {
            return Err(ApiError::invalid(
                k.clone(),
                "duplicate-parameter",
                format!("`{k}` is given more than once"),
            ));
        }
    }
    Ok(map)
}

async fn read_body(payload: &mut Payload, limit: usize) -> Result<Bytes, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::invalid("body", "body", format!("cannot read the request body: {e}"))
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

impl FromRequest for XapiRequest {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))?
                .clone();
            if let Some(len) = req
                .headers()
                .get("content-length")
                .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
            {
                if len > state.settings.max_body_bytes {
                    return Err(ApiError::TooLarge(state.settings.max_body_bytes));
                }
            }
            let raw_body = read_body(&mut payload, state.settings.max_body_bytes).await?;
            let mut params = query_map(req.query_string())?;
            let mut method = req.method().clone();
            let mut form_headers = HashMap::new();
            let mut body = raw_body;

            let alternate_syntax = params.contains_key("method");
            if let Some(alternate) = params.remove("method") {
                if method != Method::POST {
                    return Err(ApiError::invalid(
                        "method",
                        "alternate-syntax",
                        "the `method` parameter is only allowed on POST",
                    ));
                }
                if !params.is_empty() {
                    return Err(ApiError::invalid(
                        "method",
                        "alternate-syntax",
                        "with the alternate request syntax every other parameter goes in the form body",
                    ));
                }
                method = match alternate.to_ascii_uppercase().as_str() {
                    "GET" => Method::GET,
                    "PUT" => Method::PUT,
                    "POST" => Method::POST,
                    "DELETE" => Method::DELETE,
                    other => {
                        return Err(ApiError::invalid(
                            "method",
                            "alternate-syntax",
                            format!("`{other}` is not an xAPI method"),
                        ))
                    }
                };
                let form = query_map(std::str::from_utf8(&body).map_err(|_| {
                    ApiError::invalid(
                        "body",
                        "alternate-syntax",
                        "the form body must be UTF-8 form-urlencoded",
                    )
                })?)?;
                body = Bytes::new();
                for (k, v) in form {
                    let lower = k.to_ascii_lowercase();
                    if lower == "content" {
                        body = Bytes::from(v);
                    } else if FORM_HEADERS.contains(&lower.as_str()) {
                        form_headers.insert(lower, v);
                    } else {
                        params.insert(k, v);
                    }
                }
                // The content of a form post is JSON unless the form says otherwise.
                form_headers
                    .entry("content-type".into())
                    .or_insert_with(|| "application/json".into());
            }

            let header = |name: &str| -> Option<String> {
                form_headers.get(name).cloned().or_else(|| {
                    req.headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                })
            };
            let version = match header("x-experience-api-version") {
                None => {
                    return Err(ApiError::invalid(
                        VERSION_HEADER,
                        "version-header",
                        "the X-Experience-API-Version header is required",
                    ))
                }
                Some(raw) => XapiVersion::parse(&raw).ok_or_else(|| {
                    ApiError::invalid(
                        VERSION_HEADER,
                        "version-header",
                        format!("xAPI version `{raw}` is not supported"),
                    )
                })?,
            };
            if alternate_syntax && version == XapiVersion::V2 {
                return Err(ApiError::invalid(
                    "method",
                    "alternate-syntax",
                    "xAPI 2.0 has no alternate request syntax; send the real method and headers",
                ));
            }
            let principal = state
                .auth
                .authenticate(header("authorization").as_deref())
                .await?;
            if let Some(served) = req.app_data::<Served>() {
                served.check(&method)?;
            }
            Ok(XapiRequest {
                method,
                params,
                body,
                version,
                principal,
                form_headers,
                http: req,
            })
        })
    }
}

impl Served {
    /// A 400 for a method the resource does not serve, e.g. "agents accept GET and HEAD".
    pub fn check(&self, method: &Method) -> Result<(), ApiError> {
        if self.methods.contains(method) {
            return Ok(());
        }
        let names: Vec<&str> = self.methods.iter().map(Method::as_str).collect();
        let list = match names.split_last() {
            Some((last, [])) => (*last).to_owned(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => "no method".to_owned(),
        };
        Err(ApiError::invalid(
            "method",
            "method",
            format!("{} accept {list}", self.noun),
        ))
    }
}
