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
        header(&self.form_headers, &self.http, name)
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

    /// The answer to a method the resource does not serve.
    pub fn unserved(&self) -> ApiError {
        match self.http.app_data::<Served>() {
            Some(served) => served.refusal(),
            None => ApiError::invalid(
                "method",
                "method",
                "this resource does not serve the method",
            ),
        }
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

/// The most room made for a body before its bytes arrive.
const RESERVED_BODY_BYTES: usize = 1024 * 1024;

/// The request body, refused past `limit` bytes (before reading when it declares more).
async fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let declared = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(ApiError::TooLarge(limit));
    }
    // Sized as declared, so a body waiting its turn holds no more than itself; only up to
    // a bound, since a declared length may never arrive.
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(0).min(RESERVED_BODY_BYTES));
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
            let limit = state.settings.max_body_bytes;
            let read = read_body(&req, &mut payload, limit);
            let body =
                super::limits::Deadline::body(super::limits::Deadline::of(&req), read).await?;
            let meant = unfold(&req, body)?;
            let version = negotiate(
                header(&meant.form_headers, &req, VERSION_HEADER),
                meant.alternate,
            )?;
            let authorization = header(&meant.form_headers, &req, "authorization");
            let principal = state.auth.authenticate(authorization).await?;
            if let Some(served) = req.app_data::<Served>() {
                served.check(&meant.method)?;
            }
            Ok(XapiRequest {
                method: meant.method,
                params: meant.params,
                body: meant.body,
                version,
                principal,
                form_headers: meant.form_headers,
                http: req,
            })
        })
    }
}

/// A request as its client meant it: with the alternate request syntax (a form POST with
/// `?method=`) unfolded into its method, parameters, headers and content.
struct Unfolded {
    method: Method,
    params: HashMap<String, String>,
    body: Bytes,
    /// Header values given as form fields (lower-case names).
    form_headers: HashMap<String, String>,
    /// Whether the alternate syntax was used.
    alternate: bool,
}

fn unfold(req: &HttpRequest, body: Bytes) -> Result<Unfolded, ApiError> {
    let mut params = query_map(req.query_string())?;
    let Some(alternate) = params.remove("method") else {
        return Ok(Unfolded {
            method: req.method().clone(),
            params,
            body,
            form_headers: HashMap::new(),
            alternate: false,
        });
    };
    if req.method() != Method::POST {
        return Err(alternate_error(
            "the `method` parameter is only allowed on POST",
        ));
    }
    if !params.is_empty() {
        return Err(alternate_error(
            "with the alternate request syntax every other parameter goes in the form body",
        ));
    }
    let method = match alternate.to_ascii_uppercase().as_str() {
        "GET" => Method::GET,
        "PUT" => Method::PUT,
        "POST" => Method::POST,
        "DELETE" => Method::DELETE,
        other => return Err(alternate_error(format!("`{other}` is not an xAPI method"))),
    };
    let form = FormPost::split(&body)?;
    Ok(Unfolded {
        method,
        params: form.params,
        body: form.content,
        form_headers: form.headers,
        alternate: true,
    })
}

/// The form body of the alternate syntax: the content, header fields and parameters.
struct FormPost {
    content: Bytes,
    /// Lower-case header names.
    headers: HashMap<String, String>,
    params: HashMap<String, String>,
}

impl FormPost {
    fn split(body: &[u8]) -> Result<Self, ApiError> {
        let text = std::str::from_utf8(body).map_err(|_| {
            ApiError::invalid(
                "body",
                "alternate-syntax",
                "the form body must be UTF-8 form-urlencoded",
            )
        })?;
        let mut form = FormPost {
            content: Bytes::new(),
            headers: HashMap::new(),
            params: HashMap::new(),
        };
        for (k, v) in query_map(text)? {
            let lower = k.to_ascii_lowercase();
            if lower == "content" {
                form.content = Bytes::from(v);
            } else if FORM_HEADERS.contains(&lower.as_str()) {
                form.headers.insert(lower, v);
            } else {
                form.params.insert(k, v);
            }
        }
        // The content of a form post is JSON unless the form says otherwise.
        form.headers
            .entry("content-type".into())
            .or_insert_with(|| "application/json".into());
        Ok(form)
    }
}

fn alternate_error(message: impl Into<String>) -> ApiError {
    ApiError::invalid("method", "alternate-syntax", message)
}

/// A header of the request: a form field of the alternate syntax wins over a real header.
fn header<'a>(
    form_headers: &'a HashMap<String, String>,
    req: &'a HttpRequest,
    name: &str,
) -> Option<&'a str> {
    form_headers
        .get(&name.to_ascii_lowercase())
        .map(String::as_str)
        .or_else(|| req.headers().get(name).and_then(|v| v.to_str().ok()))
}

/// The xAPI version the request speaks (required); 2.0 has no alternate syntax.
fn negotiate(header: Option<&str>, alternate: bool) -> Result<XapiVersion, ApiError> {
    let raw = header.ok_or_else(|| {
        ApiError::invalid(
            VERSION_HEADER,
            "version-header",
            "the X-Experience-API-Version header is required",
        )
    })?;
    let version = XapiVersion::parse(raw).ok_or_else(|| {
        ApiError::invalid(
            VERSION_HEADER,
            "version-header",
            format!("xAPI version `{raw}` is not supported"),
        )
    })?;
    if alternate && version == XapiVersion::V2 {
        return Err(alternate_error(
            "xAPI 2.0 has no alternate request syntax; send the real method and headers",
        ));
    }
    Ok(version)
}

impl Served {
    /// A 400 for a method the resource does not serve, e.g. "agents accept GET and HEAD".
    pub fn check(&self, method: &Method) -> Result<(), ApiError> {
        if self.methods.contains(method) {
            Ok(())
        } else {
            Err(self.refusal())
        }
    }

    fn refusal(&self) -> ApiError {
        let names: Vec<&str> = self.methods.iter().map(Method::as_str).collect();
        let list = match names.split_last() {
            Some((last, [])) => (*last).to_owned(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => "no method".to_owned(),
        };
        ApiError::invalid("method", "method", format!("{} accept {list}", self.noun))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(served: &Served, method: Method) -> String {
        match served.check(&method) {
            Err(ApiError::Invalid(v)) => format!("{} {} {}", v.pointer, v.rule, v.message),
            _ => panic!("{method} should be refused"),
        }
    }

    /// A method an xAPI resource does not serve is a 400 naming the methods it does, as the
    /// route table lists them (the alternate syntax can carry any method to any resource).
    #[test]
    fn unserved_methods_are_refused_naming_the_served_ones() {
        let agents = Served {
            methods: vec![Method::GET, Method::HEAD],
            noun: "agents",
        };
        assert!(agents.check(&Method::HEAD).is_ok());
        assert_eq!(
            refusal(&agents, Method::PUT),
            "method method agents accept GET and HEAD"
        );
        let statements = Served {
            methods: vec![Method::GET, Method::HEAD, Method::PUT, Method::POST],
            noun: "statements",
        };
        assert_eq!(
            refusal(&statements, Method::DELETE),
            "method method statements accept GET, HEAD, PUT and POST"
        );
    }
}
