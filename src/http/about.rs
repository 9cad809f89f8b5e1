//! The About resource: which xAPI versions this LRS speaks. Needs no credentials.

use actix_web::HttpResponse;
use serde_json::json;

use crate::xapi::XapiVersion;

pub async fn get_about() -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "version": XapiVersion::SUPPORTED,
        "extensions": {
            "urn:lrsgate:server": { "name": "lrsgate", "version": env!("CARGO_PKG_VERSION") }
        }
    }))
}
