//! The evidence page at `/ui/`: HTML, CSS and plain JavaScript modules embedded in the
//! binary (nothing fetched from elsewhere at run time). The page is public because it holds
//! no data: in the browser it asks the `/api/v1` API for everything, with the credential
//! the user signs in with, so it sees exactly what that credential may read.
//!
//! Every answer carries a strict Content-Security-Policy (scripts, styles and requests to
//! this origin only, no inline script, no framing, no form posts) and an `ETag` of its
//! content with `Cache-Control: no-cache`, so a browser revalidates cheaply and never runs
//! the page of an older binary.

use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Path;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};

use super::error::{ApiError, ApiResult};

/// What the page may load and do. `connect-src 'self'` keeps the credential on this
/// origin; `form-action 'none'` means a sign-in form can never be submitted into a URL,
/// even if its script failed to load.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                   img-src 'self'; connect-src 'self'; base-uri 'none'; \
                   form-action 'none'; frame-ancestors 'none'";

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    etag: u64,
}

/// An embedded file with its content type and the hash of its bytes.
macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_bytes!(concat!("ui/", $name)),
            etag: fnv1a(include_bytes!(concat!("ui/", $name))),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// The page itself, served at `/ui/`.
const INDEX: Asset = asset!("index.html", "text/html; charset=utf-8");

/// What the page loads, served at `/ui/assets/{name}`.
const ASSETS: &[Asset] = &[
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("icon.svg", "image/svg+xml"),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("dom.js", JS),
    asset!("format.js", JS),
    asset!("heatmap.js", JS),
    asset!("person.js", JS),
    asset!("experts.js", JS),
    asset!("upskilling.js", JS),
    asset!("statement.js", JS),
];

/// FNV-1a over the bytes, at compile time: an ETag that changes with the content.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

/// `GET /ui`: the page lives at `/ui/`, so that its relative links resolve under it.
pub(super) async fn redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/ui/"))
        .finish()
}

/// `GET /ui/`: the page.
pub(super) async fn index(req: HttpRequest) -> HttpResponse {
    serve(&req, &INDEX)
}

/// `GET /ui/assets/{name}`: a stylesheet, script module or icon of the page.
pub(super) async fn asset(req: HttpRequest, name: Path<String>) -> ApiResult<HttpResponse> {
    ASSETS
        .iter()
        .find(|a| a.name == name.as_str())
        .map(|a| serve(&req, a))
        .ok_or_else(|| ApiError::NotFound(format!("no page asset {}", name.as_str())))
}

/// The asset, or 304 when the browser's copy (`If-None-Match`) is this one.
fn serve(req: &HttpRequest, asset: &Asset) -> HttpResponse {
    let etag = format!("\"{:016x}\"", asset.etag);
    let fresh = req
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag);
    if fresh {
        return headers(HttpResponse::NotModified(), &etag).finish();
    }
    headers(HttpResponse::Ok(), &etag)
        .content_type(asset.content_type)
        .body(asset.body)
}

/// The headers every answer of the page carries.
fn headers(mut builder: HttpResponseBuilder, etag: &str) -> HttpResponseBuilder {
    if let Ok(etag) = HeaderValue::from_str(etag) {
        builder.insert_header((header::ETAG, etag));
    }
    builder
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header(("Cross-Origin-Opener-Policy", "same-origin"))
        .insert_header(("Cross-Origin-Resource-Policy", "same-origin"));
    builder
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every module the page imports is served: a relative import in a script names a
    /// file of `ASSETS`.
    #[test]
    fn every_imported_module_is_served() {
        for asset in ASSETS.iter().chain([&INDEX]) {
            let text = std::str::from_utf8(asset.body).unwrap_or_default();
            for part in text.split("from \"./").skip(1) {
                let name = part.split('"').next().unwrap_or_default();
                assert!(
                    ASSETS.iter().any(|a| a.name == name),
                    "{} imports {name}, which is not served",
                    asset.name
                );
            }
        }
    }

    #[test]
    fn etags_differ_with_content() {
        assert_ne!(fnv1a(b"a"), fnv1a(b"b"));
        let mut tags: Vec<u64> = ASSETS.iter().map(|a| a.etag).collect();
        tags.sort_unstable();
        tags.dedup();
        assert_eq!(tags.len(), ASSETS.len());
    }
}
