//! The OpenAPI document served at `/api/v1/openapi.json` against the route table: every
//! route documented, nothing documented that is not routed, and the document well formed
//! enough for clients and fuzzers to rely on.

use std::collections::{BTreeSet, HashSet};

use lrsgate::http::routes::route_list;
use serde_json::Value;

use crate::helpers::TestApp;

/// The operation keys of an OpenAPI path item.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

async fn served_document() -> Value {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(format!("{}/api/v1/openapi.json", app.address))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    response.json().await.expect("the document is JSON")
}

/// Every (METHOD, path) the document describes.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            let item = item.as_object().expect("a path item");
            METHODS
                .iter()
                .filter(|m| item.contains_key(**m))
                .map(|m| (m.to_ascii_uppercase(), path.clone()))
        })
        .collect()
}

/// Each operation of the document with its (METHOD, path).
fn operations(doc: &Value) -> Vec<((String, String), &Value)> {
    documented(doc)
        .into_iter()
        .map(|(method, path)| {
            let op = &doc["paths"][&path][method.to_ascii_lowercase()];
            ((method, path), op)
        })
        .collect()
}

/// Follows a local `$ref`, if the value is one.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => reference
            .strip_prefix('#')
            .and_then(|pointer| doc.pointer(pointer))
            .unwrap_or_else(|| panic!("{reference} does not resolve")),
        None => value,
    }
}

/// Every `$ref` in the document, with where it is.
fn references<'a>(value: &'a Value, at: String, out: &mut Vec<(String, &'a str)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("$ref", Value::String(target)) => out.push((at.clone(), target)),
                    _ => references(child, format!("{at}/{key}"), out),
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                references(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[actix_web::test]
async fn the_openapi_document_describes_exactly_the_routes_served() {
    let doc = served_document().await;
    let routed: BTreeSet<(String, String)> = route_list()
        .into_iter()
        .map(|(method, path)| (method.as_str().to_owned(), path.to_owned()))
        .collect();
    let documented = documented(&doc);

    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from src/http/openapi.json: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "documented but not in the route table: {unrouted:?}"
    );
}

#[actix_web::test]
async fn the_openapi_document_is_well_formed_openapi_3_1() {
    let doc = served_document().await;
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "openapi is {}",
        doc["openapi"]
    );
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());

    let mut refs = Vec::new();
    references(&doc, String::new(), &mut refs);
    assert!(!refs.is_empty());
    for (at, target) in refs {
        let resolved = target
            .strip_prefix('#')
            .and_then(|pointer| doc.pointer(pointer));
        assert!(resolved.is_some(), "{at}: `{target}` does not resolve");
    }

    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("security schemes");
    let mut operation_ids = HashSet::new();
    for ((method, path), op) in operations(&doc) {
        let name = format!("{method} {path}");
        let responses = op["responses"].as_object();
        assert!(
            responses.is_some_and(|r| !r.is_empty()),
            "{name} has no responses"
        );
        for (status, response) in responses.into_iter().flatten() {
            let ok = status == "default"
                || (status.len() == 3 && status.bytes().all(|b| b.is_ascii_digit() || b == b'X'));
            assert!(ok, "{name}: `{status}` is not a status code");
            assert!(
                resolve(&doc, response)["description"].is_string(),
                "{name} {status} has no description"
            );
        }
        if let Some(id) = op["operationId"].as_str() {
            assert!(operation_ids.insert(id), "operationId {id} is used twice");
        }
        // Every `{name}` of the path template is a declared path parameter, and back.
        let declared: BTreeSet<&str> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| resolve(&doc, p))
            .filter(|p| p["in"] == "path")
            .map(|p| {
                assert_eq!(p["required"], true, "{name}: path parameters are required");
                p["name"].as_str().expect("a parameter name")
            })
            .collect();
        let templated: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        assert_eq!(declared, templated, "{name}: path parameters");
        for requirement in op["security"].as_array().into_iter().flatten() {
            for scheme in requirement.as_object().expect("a requirement").keys() {
                assert!(schemes.contains_key(scheme), "{name}: no scheme {scheme}");
            }
        }
    }
}
