//! Concurrency of documents: ETags on GET (present, quoted, and in 1.0.3 the SHA-1 of the
//! content), If-Match and If-None-Match on PUT, POST and DELETE answered 412 when they fail,
//! and 409 for a PUT without either header over an existing document.

use reqwest::Method;
use serde_json::{json, Value};

use crate::check::{Area, Check, Ctx, Failure, Verdict};
use crate::checks::documents::{
    create, create_json, ensure_absent, ensure_json, get, sample, tidy, Doc, Resource,
};
use crate::client::{excerpt, Response};
use crate::config::XapiVersion;
use crate::{ensure, fail};

/// An entity tag no LRS hands out for our documents: the SHA-1 of nothing we store.
const MADE_UP_ETAG: &str = "\"0000000000000000000000000000000000000000\"";

/// The same requirement ids for both precondition failure rules of one method family.
const PUT_FAILED_V1: [&str; 3] = [
    "Communication 3.1.s4.b9",
    "Communication 3.1.s4.b10",
    "Communication 3.2.s2.b6",
];
const FAILED_V2: [&str; 3] = ["4.1.4#2", "4.1.4#3", "4.1.4#4"];

pub fn checks() -> Vec<Check> {
    vec![
        Check::new(
            Area::Concurrency,
            "concurrency.etag-on-get",
            "GET of a state, activity profile or agent profile document carries a quoted ETag",
            etag_on_get,
        )
        .v1(&["Communication 3.1.s4.b1", "Communication 3.1.s4.b4"])
        .v2(&["4.1.4#1"]),
        Check::new(
            Area::Concurrency,
            "concurrency.etag-is-sha1",
            "The ETag of a document GET is the hex SHA-1 of the content returned",
            etag_is_sha1,
        )
        .v1(&["Communication 3.1.s4.b2"]),
        Check::new(
            Area::Concurrency,
            "concurrency.put-if-match-current",
            "A PUT whose If-Match is the document's current ETag replaces it (204)",
            put_if_match_current,
        )
        .v1(&["Communication 3.1.s4.b5"])
        .v2(&["4.1.4#2"]),
        Check::new(
            Area::Concurrency,
            "concurrency.put-if-match-stale-412",
            "A PUT whose If-Match is a former or unknown ETag gets 412 and changes nothing",
            put_if_match_stale,
        )
        .v1(&["Communication 3.1.s4.b5"])
        .v1(&PUT_FAILED_V1)
        .v2(&FAILED_V2),
        Check::new(
            Area::Concurrency,
            "concurrency.put-if-match-absent-412",
            "A PUT with If-Match for a document that does not exist gets 412 and creates nothing",
            put_if_match_absent,
        )
        .v1(&["Communication 3.1.s4.b5"])
        .v1(&PUT_FAILED_V1)
        .v2(&FAILED_V2),
        Check::new(
            Area::Concurrency,
            "concurrency.put-if-none-match-star",
            "PUT with If-None-Match: * creates a new document (204) and gets 412 over an existing one",
            put_if_none_match_star,
        )
        .v1(&["Communication 3.1.s4.b6"])
        .v1(&PUT_FAILED_V1)
        .v2(&FAILED_V2),
        Check::new(
            Area::Concurrency,
            "concurrency.put-without-precondition-409",
            "A PUT with neither If-Match nor If-None-Match over an existing document gets 409 and changes nothing",
            put_without_precondition,
        )
        .v1(&[
            "Communication 3.1.s4.b13",
            "Communication 3.1.s4.b15",
            "Communication 3.2.s2.b5",
        ])
        .v2(&["4.1.4#5", "4.1.4#7"]),
        Check::new(
            Area::Concurrency,
            "concurrency.conflict-explains-if-match",
            "The 409 for a PUT without preconditions tells the client to retry with If-Match",
            conflict_explains_if_match,
        )
        .v1(&["Communication 3.1.s4.b14"])
        .v2(&["4.1.4#6"]),
        Check::new(
            Area::Concurrency,
            "concurrency.post-if-match",
            "A POST whose If-Match is stale gets 412 and changes nothing; with the current ETag it merges",
            post_if_match,
        )
        .v1(&[
            "Communication 3.1.s4.b7",
            "Communication 3.1.s4.b11",
            "Communication 3.1.s4.b12",
        ])
        .v2(&FAILED_V2),
        Check::new(
            Area::Concurrency,
            "concurrency.post-if-none-match-star",
            "A POST with If-None-Match: * gets 412 over an existing document and changes nothing",
            post_if_none_match_star,
        )
        .v1(&[
            "Communication 3.1.s4.b8",
            "Communication 3.1.s4.b11",
            "Communication 3.1.s4.b12",
        ])
        .v2(&FAILED_V2),
        Check::new(
            Area::Concurrency,
            "concurrency.delete-if-match",
            "A DELETE whose If-Match is stale gets 412 and keeps the document; with the current ETag it deletes",
            delete_if_match,
        )
        .v1(&[
            "Communication 3.1.s4.b7",
            "Communication 3.1.s4.b11",
            "Communication 3.1.s4.b12",
        ])
        .v2(&FAILED_V2),
    ]
}

/// The ETag header of a document GET, failing when there is none.
fn etag(response: &Response, what: &str) -> Result<String, Failure> {
    match response.header("etag") {
        Some(tag) if !tag.trim().is_empty() => Ok(tag.trim().to_owned()),
        _ => fail!("{what}: no ETag header"),
    }
}

/// The opaque part of an entity tag if it is quoted as RFC 2616 requires (`"…"`, or
/// `W/"…"` for a weak one).
fn unquoted(tag: &str) -> Option<&str> {
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    let inner = tag.strip_prefix('"')?.strip_suffix('"')?;
    (!inner.is_empty() && !inner.contains('"')).then_some(inner)
}

/// The entity tag to send in If-Match for `doc` as it is now: the ETag of a GET, quoted as
/// an If-Match header needs it. An LRS that sends no ETag gets the SHA-1 of the content in
/// its place, the value 1.0.3 defines: whether GET carries an ETag is etag-on-get's
/// concern, so the precondition checks still test preconditions.
async fn current_etag(cx: &Ctx, doc: &Doc) -> Result<String, Failure> {
    let what = format!("GET {doc}");
    let response = get(cx, doc).await?.expect(200, &what)?;
    Ok(match response.header("etag").map(str::trim) {
        Some(tag) if unquoted(tag).is_some() => tag.to_owned(),
        Some(tag) if !tag.is_empty() => format!("\"{}\"", tag.trim_matches('"')),
        _ => format!("\"{}\"", sha1_hex(&response.body)),
    })
}

/// Fails unless `response` is a success (any 2xx): which 2xx each method answers is the
/// document checks' concern, so the precondition checks only ask that the request was done.
fn succeeded(response: Response, what: &str) -> Result<Response, Failure> {
    if (200..300).contains(&response.status) {
        return Ok(response);
    }
    fail!(
        "{what}: expected success (204), got {} {}",
        response.status,
        excerpt(&response.text(), 200)
    )
}

/// Runs `body` on a fresh document of every resource the check applies to, naming the
/// resource in a failure, and removes the documents afterwards.
async fn each_resource<F, Fut>(cx: &Ctx, resources: &[Resource], body: F) -> Verdict
where
    F: Fn(Doc) -> Fut,
    Fut: std::future::Future<Output = Verdict>,
{
    for resource in resources {
        let doc = Doc::fresh(cx, *resource);
        let verdict = body(doc.clone()).await;
        tidy(cx, &[&doc], verdict).await?;
    }
    Ok(())
}

async fn etag_on_get(cx: Ctx) -> Verdict {
    each_resource(&cx, &Resource::ALL, |doc| {
        let cx = cx.clone();
        async move {
            create_json(&cx, &doc, &sample("etag")).await?;
            let what = format!("GET {doc}");
            let response = get(&cx, &doc).await?.expect(200, &what)?;
            let tag = etag(&response, &what)?;
            ensure!(
                unquoted(&tag).is_some(),
                "GET {doc}: the ETag must be a quoted string (\"…\" or W/\"…\"), got {tag}"
            );
            Ok(())
        }
    })
    .await
}

async fn etag_is_sha1(cx: Ctx) -> Verdict {
    each_resource(&cx, &Resource::ALL, |doc| {
        let cx = cx.clone();
        async move {
            let text = doc.sibling(&cx);
            let verdict = async {
                create_json(&cx, &doc, &sample("sha1")).await?;
                create(&cx, &text, "text/plain", "ETag: naïve ✓".as_bytes()).await?;
                for doc in [&doc, &text] {
                    let what = format!("GET {doc}");
                    let response = get(&cx, doc).await?.expect(200, &what)?;
                    // The rule holds for an identity encoding only; the suite asks for none,
                    // so another content coding means the rule does not apply here.
                    if response
                        .header("content-encoding")
                        .is_some_and(|c| !c.eq_ignore_ascii_case("identity"))
                    {
                        continue;
                    }
                    let tag = etag(&response, &what)?;
                    let digest = sha1_hex(&response.body);
                    ensure!(
                        // Quoting is etag-on-get's concern; here only the value counts.
                        tag.trim_start_matches("W/")
                            .trim_matches('"')
                            .eq_ignore_ascii_case(&digest),
                        "{what}: expected the ETag \"{digest}\" (SHA-1 of the {} bytes returned), \
                         got {tag}",
                        response.body.len()
                    );
                }
                Ok(())
            }
            .await;
            tidy(&cx, &[&text], verdict).await
        }
    })
    .await
}

/// PUT of `value` onto `doc` with the given precondition header.
async fn put_with(
    cx: &Ctx,
    doc: &Doc,
    header: Option<(&str, &str)>,
    value: &Value,
) -> Result<Response, Failure> {
    let mut request = doc.request(cx, Method::PUT).json(value);
    if let Some((name, tag)) = header {
        request = request.header(name, tag);
    }
    request.send().await
}

async fn put_if_match_current(cx: Ctx) -> Verdict {
    each_resource(&cx, &Resource::ALL, |doc| {
        let cx = cx.clone();
        async move {
            create_json(&cx, &doc, &sample("first")).await?;
            let tag = current_etag(&cx, &doc).await?;
            let second = sample("second");
            let response = put_with(&cx, &doc, Some(("If-Match", &tag)), &second).await?;
            succeeded(
                response,
                &format!("PUT {doc} with If-Match: {tag} (its current ETag)"),
            )?;
            ensure_json(&cx, &doc, &second, "PUT with the current ETag in If-Match").await
        }
    })
    .await
}

async fn put_if_match_stale(cx: Ctx) -> Verdict {
    each_resource(&cx, &Resource::ALL, |doc| {
        let cx = cx.clone();
        async move {
            create_json(&cx, &doc, &sample("first")).await?;
            let former = current_etag(&cx, &doc).await?;
            let second = sample("second");
            let response = put_with(&cx, &doc, Some(("If-Match", &former)), &second).await?;
            succeeded(
                response,
                &format!("PUT {doc} with If-Match: {former} (its current ETag)"),
            )?;
            for (tag, kind) in [(former.as_str(), "a former"), (MADE_UP_ETAG, "an unknown")] {
                put_with(&cx, &doc, Some(("If-Match", tag)), &sample("third"))
                    .await?
                    .expect(
                        412,
                        &format!("PUT {doc} with If-Match: {tag} ({kind} ETag)"),
                    )?;
                ensure_json(
                    &cx,
                    &doc,
                    &second,
                    &format!("a PUT refused for {kind} ETag"),
                )
                .await?;
            }
            Ok(())
        }
    })
    .await
}

async fn put_if_match_absent(cx: Ctx) -> Verdict {
    each_resource(&cx, &Resource::ALL, |doc| {
        let cx = cx.clone();
        async move {
            for tag in [MADE_UP_ETAG, "*"] {
                put_with(
                    &cx,
                    &doc,
                    Some(("If-Match", tag)),
                    &sample("must not exist"),
                )
                .await?
                .expect(
                    412,
                    &format!("PUT {doc} with If-Match: {tag} while no such document exists"),
                )?;
                ensure_absent(&cx, &doc, &format!("a PUT refused for If-Match: {tag}")).await?;
            }
            Ok(())
        }
    })
    .await
}

async fn put_if_none_match_star(cx: Ctx) -> Verdict {
    each_resource(&cx, &Resource::ALL, |doc| {
        let cx = cx.clone();
        async move {
            let first = sample("first");
            let response = put_with(&cx, &doc, Some(("If-None-Match", "*")), &first).await?;
            succeeded(
                response,
                &format!("PUT {doc} with If-None-Match: * of a new document"),
            )?;
            ensure_json(&cx, &doc, &first, "PUT with If-None-Match: *").await?;
            put_with(&cx, &doc, Some(("If-None-Match", "*")), &sample("second"))
                .await?
                .expect(
                    412,
                    &format!("PUT {doc} with If-None-Match: * over an existing document"),
                )?;
            ensure_json(&cx, &doc, &first, "a PUT refused for If-None-Match: *").await
        }
    })
    .await
}

/// The resources where a PUT without preconditions over an existing document conflicts:
/// in 1.0.3 the profiles only (Communication 3.1.s3 exempts state documents), in 2.0 all.
fn conflicting_resources(version: XapiVersion) -> &'static [Resource] {
    match version {
        XapiVersion::V1_0_3 => &[Resource::ActivityProfile, Resource::AgentProfile],
        _ => &Resource::ALL,
    }
}

/// Stores a document, then PUTs another over it without a precondition; returns the answer.
async fn unconditional_put_over(cx: &Ctx, doc: &Doc, first: &Value) -> Result<Response, Failure> {
    create_json(cx, doc, first).await?;
    put_with(cx, doc, None, &sample("second")).await
}

async fn put_without_precondition(cx: Ctx) -> Verdict {
    each_resource(&cx, conflicting_resources(cx.version), |doc| {
        let cx = cx.clone();
        async move {
            let first = sample("first");
            unconditional_put_over(&cx, &doc, &first).await?.expect(
                409,
                &format!("PUT {doc} without If-Match or If-None-Match over an existing document"),
            )?;
            ensure_json(&cx, &doc, &first, "a PUT refused with 409").await
        }
    })
    .await
}

async fn conflict_explains_if_match(cx: Ctx) -> Verdict {
    each_resource(&cx, conflicting_resources(cx.version), |doc| {
        let cx = cx.clone();
        async move {
            let what =
                format!("PUT {doc} without If-Match or If-None-Match over an existing document");
            let response = unconditional_put_over(&cx, &doc, &sample("first"))
                .await?
                .expect(409, &what)?;
            let text = response.text();
            ensure!(
                text.to_ascii_lowercase().contains("if-match"),
                "{what}: the 409 answer must tell the client to check the document and retry \
                 with If-Match set to its ETag; its body does not mention If-Match: {}",
                if text.trim().is_empty() {
                    "(empty)".to_owned()
                } else {
                    excerpt(&text, 300)
                }
            );
            Ok(())
        }
    })
    .await
}

async fn post_if_match(cx: Ctx) -> Verdict {
    each_resource(&cx, &Resource::ALL, |doc| {
        let cx = cx.clone();
        async move {
            let first = json!({ "a": 1 });
            create_json(&cx, &doc, &first).await?;
            let former = current_etag(&cx, &doc).await?;
            let post = |tag: String, value: Value| {
                let cx = cx.clone();
                let doc = doc.clone();
                async move {
                    doc.request(&cx, Method::POST)
                        .header("If-Match", tag)
                        .json(&value)
                        .send()
                        .await
                }
            };
            post(MADE_UP_ETAG.to_owned(), json!({ "b": 2 }))
                .await?
                .expect(
                    412,
                    &format!("POST {doc} with If-Match: {MADE_UP_ETAG} (an unknown ETag)"),
                )?;
            ensure_json(&cx, &doc, &first, "a POST refused for an unknown ETag").await?;
            let response = post(former.clone(), json!({ "b": 2 })).await?;
            succeeded(
                response,
                &format!("POST {doc} with If-Match: {former} (its current ETag)"),
            )?;
            let merged = json!({ "a": 1, "b": 2 });
            ensure_json(&cx, &doc, &merged, "POST with the current ETag in If-Match").await?;
            post(former.clone(), json!({ "c": 3 })).await?.expect(
                412,
                &format!("POST {doc} with If-Match: {former} (a former ETag)"),
            )?;
            ensure_json(&cx, &doc, &merged, "a POST refused for a former ETag").await
        }
    })
    .await
}

async fn post_if_none_match_star(cx: Ctx) -> Verdict {
    each_resource(&cx, &Resource::ALL, |doc| {
        let cx = cx.clone();
        async move {
            let first = json!({ "a": 1 });
            let response = doc
                .request(&cx, Method::POST)
                .header("If-None-Match", "*")
                .json(&first)
                .send()
                .await?;
            succeeded(
                response,
                &format!("POST {doc} with If-None-Match: * of a new document"),
            )?;
            ensure_json(&cx, &doc, &first, "POST with If-None-Match: *").await?;
            doc.request(&cx, Method::POST)
                .header("If-None-Match", "*")
                .json(&json!({ "b": 2 }))
                .send()
                .await?
                .expect(
                    412,
                    &format!("POST {doc} with If-None-Match: * over an existing document"),
                )?;
            ensure_json(&cx, &doc, &first, "a POST refused for If-None-Match: *").await
        }
    })
    .await
}

async fn delete_if_match(cx: Ctx) -> Verdict {
    each_resource(&cx, &Resource::ALL, |doc| {
        let cx = cx.clone();
        async move {
            let first = sample("first");
            create_json(&cx, &doc, &first).await?;
            let tag = current_etag(&cx, &doc).await?;
            doc.request(&cx, Method::DELETE)
                .header("If-Match", MADE_UP_ETAG)
                .send()
                .await?
                .expect(
                    412,
                    &format!("DELETE {doc} with If-Match: {MADE_UP_ETAG} (an unknown ETag)"),
                )?;
            ensure_json(&cx, &doc, &first, "a DELETE refused for an unknown ETag").await?;
            let response = doc
                .request(&cx, Method::DELETE)
                .header("If-Match", &tag)
                .send()
                .await?;
            succeeded(
                response,
                &format!("DELETE {doc} with If-Match: {tag} (its current ETag)"),
            )?;
            ensure_absent(&cx, &doc, "DELETE with its current ETag").await?;
            Ok(())
        }
    })
    .await
}

/// The SHA-1 digest (FIPS 180-4) of `data` as 40 lowercase hex digits: what 1.0.3 makes a
/// document's ETag, and what an mbox_sha1sum is.
pub(crate) fn sha1_hex(data: &[u8]) -> String {
    use sha1::{Digest, Sha1};
    Sha1::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_known_answers() {
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            sha1_hex(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        assert_eq!(
            sha1_hex(&[b'a'; 1000]),
            "291e9a6c66994949b57ba5e650361e98fc36b1ba"
        );
        assert_eq!(
            sha1_hex(br#"{"a":1}"#),
            "9f89c740ceb46d7418c924a78ac57941d5e96520"
        );
    }

    #[test]
    fn quoted_etags() {
        assert_eq!(unquoted("\"abc\""), Some("abc"));
        assert_eq!(unquoted("W/\"abc\""), Some("abc"));
        assert_eq!(unquoted("abc"), None);
        assert_eq!(unquoted("\"\""), None);
        assert_eq!(unquoted("\"a\"b\""), None);
    }
}
