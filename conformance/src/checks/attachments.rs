//! Attachments: statements sent as application/json with fileUrl attachments or as
//! multipart/mixed with raw attachment parts, the malformed transmissions an LRS must refuse,
//! and the multipart answers of GET /statements with `attachments=true`. The multipart writer
//! and reader here are also what the signature checks send signed statements with.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::check::{Area, Check, Ctx, Failure, Verdict};
use crate::checks::common::{self, ids_of};
use crate::client::{excerpt, Response};
use crate::{ensure, fail};

pub fn checks() -> Vec<Check> {
    vec![
        Check::new(
            Area::Attachments,
            "attachments.json-without-attachments-accepted",
            "application/json statements without attachment objects are accepted by PUT and POST",
            json_without_attachments_accepted,
        )
        .v1(&["Communication 1.5.1.s1.b1"])
        .v2(&["4.1.3#1"]),
        Check::new(
            Area::Attachments,
            "attachments.json-file-url-accepted",
            "application/json statements whose attachments all have a fileUrl are accepted and kept",
            json_file_url_accepted,
        )
        .v1(&["Communication 1.5.1.s1.b2", "Communication 1.5.2.s2.b1"])
        .v2(&["4.1.3#2", "4.1.3#4"]),
        Check::new(
            Area::Attachments,
            "attachments.json-without-file-url-refused",
            "An application/json statement with an attachment lacking a fileUrl gets 400",
            json_without_file_url_refused,
        )
        .v1(&["Communication 1.5.2.s2.b1"])
        .v2(&["4.1.3#4"]),
        Check::new(
            Area::Attachments,
            "attachments.other-multipart-type-refused",
            "Attachments sent as multipart/form-data instead of multipart/mixed get 400",
            other_multipart_type_refused,
        )
        .v1(&["Communication 1.5.2.s2.b2"])
        .v2(&["4.1.3#4"]),
        Check::new(
            Area::Attachments,
            "attachments.multipart-accepted",
            "multipart/mixed statements with attachment parts are accepted by POST and PUT",
            multipart_accepted,
        )
        .v1(&[
            "Communication 1.5.2.s3.b4",
            "Communication 1.5.2.s2.b2",
            "Communication 1.5.2.s2.b2.b2",
        ])
        .v2(&["4.1.3#12"]),
        Check::new(
            Area::Attachments,
            "attachments.batch-sharing-one-part-accepted",
            "A batch whose statements share one attachment sent in one part is accepted",
            batch_sharing_one_part_accepted,
        )
        .v1(&["Communication 1.5.2.s3.b4"])
        .v2(&["4.1.3#12"]),
        Check::new(
            Area::Attachments,
            "attachments.answer-sends-shared-data-once",
            "An attachments=true answer carries data shared by several statements once",
            answer_sends_shared_data_once,
        )
        .v1(&["Communication 1.5.2.s2.b2.b5"]),
        Check::new(
            Area::Attachments,
            "attachments.multipart-without-attachments-accepted",
            "multipart/mixed statements without attachment objects are accepted",
            multipart_without_attachments_accepted,
        )
        .v1(&["Communication 1.5.2.s3.b8"])
        .v2(&["4.1.3#15"]),
        Check::new(
            Area::Attachments,
            "attachments.multipart-file-url-only-accepted",
            "multipart/mixed statements whose attachments all have a fileUrl are accepted",
            multipart_file_url_only_accepted,
        )
        .v1(&["Communication 1.5.2.s3.b9"])
        .v2(&["4.1.3#16"]),
        Check::new(
            Area::Attachments,
            "attachments.missing-part-refused",
            "A multipart attachment with neither a fileUrl nor a part of its hash gets 400",
            missing_part_refused,
        )
        .v1(&["Communication 1.5.2.s3.b5"])
        .v2(&["4.1.3#13"]),
        Check::new(
            Area::Attachments,
            "attachments.missing-hash-header-refused",
            "An attachment part without X-Experience-API-Hash gets 400",
            missing_hash_header_refused,
        )
        .v1(&["Communication 1.5.2.s2.b2.b3"])
        .v2(&["4.1.3#8"]),
        Check::new(
            Area::Attachments,
            "attachments.unmatched-hash-refused",
            "An attachment part whose hash header matches no sha2 gets 400",
            unmatched_hash_refused,
        )
        .v1(&["Communication 1.5.2.s2.b2.b3", "Communication 1.5.2.s3.b5"])
        .v2(&["4.1.3#8", "4.1.3#13"]),
        Check::new(
            Area::Attachments,
            "attachments.data-must-hash-to-sha2",
            "A part claiming an attachment's hash but holding other data gets 400",
            data_must_hash_to_sha2,
        )
        .v1(&["Communication 1.5.2.s1.b4", "Communication 1.5.2.s3.b5"])
        .v2(&["4.1.3#3", "4.1.3#13"]),
        Check::new(
            Area::Attachments,
            "attachments.parts-matched-by-hash",
            "Parts are paired with attachments by hash, not by their order",
            parts_matched_by_hash,
        )
        .v1(&["Communication 1.5.2.s1.b4"])
        .v2(&["4.1.3#3"]),
        Check::new(
            Area::Attachments,
            "attachments.surplus-part-refused",
            "A part that is the data of no declared attachment gets 400",
            surplus_part_refused,
        )
        .v1(&["Communication 1.5.2.s2.b2.b2"])
        .v2(&["4.1.3#7"]),
        Check::new(
            Area::Attachments,
            "attachments.non-binary-transfer-encoding-refused",
            "An attachment part with Content-Transfer-Encoding other than binary gets 400",
            non_binary_transfer_encoding_refused,
        )
        .v1(&["Communication 1.5.2.s2.b2.b4"])
        .v2(&["4.1.3#9"]),
        Check::new(
            Area::Attachments,
            "attachments.missing-transfer-encoding-taken-as-binary",
            "An attachment part without Content-Transfer-Encoding is taken as binary",
            missing_transfer_encoding_taken_as_binary,
        )
        .v1(&["Communication 1.5.2.s3.b6"])
        .v2(&["4.1.3#14"]),
        Check::new(
            Area::Attachments,
            "attachments.first-part-not-json-refused",
            "A multipart request whose first part is not application/json gets 400",
            first_part_not_json_refused,
        )
        .v1(&[
            "Communication 1.5.2.s2.b2.b1",
            "Communication 1.5.2.s2.b2.b6",
        ])
        .v2(&["4.1.3#6"]),
        Check::new(
            Area::Attachments,
            "attachments.statements-split-refused",
            "A multipart request spreading its statements over two parts gets 400",
            statements_split_refused,
        )
        .v1(&["Communication 1.5.2.s2.b2.b1"])
        .v2(&["4.1.3#6"]),
        Check::new(
            Area::Attachments,
            "attachments.missing-boundary-refused",
            "multipart/mixed without a boundary parameter, or a body not using it, gets 400",
            missing_boundary_refused,
        )
        .v1(&["Communication 1.5.2.s2.b2"])
        .v2(&["4.1.3#5"]),
        Check::new(
            Area::Attachments,
            "attachments.get-statement-with-attachments",
            "statementId with attachments=true answers multipart/mixed: the statement, then its data",
            get_statement_with_attachments,
        )
        .v1(&[
            "Communication 1.5.2.s3.b1",
            "Communication 2.1.3.s1.table1.row13",
            "Communication 2.1.3.s2.b6",
            "Communication 1.5.2.s2.b2",
            "Communication 1.5.2.s2.b2.b1",
            "Communication 1.5.2.s2.b2.b3",
            "Communication 1.5.2.s2.b2.b4",
            "Communication 1.5.2.s2.b2.b6",
            "Communication 1.5.2.s2.b2.b7",
        ])
        .v2(&["4.1.3#11", "4.1.6.1#34", "4.1.3#10"]),
        Check::new(
            Area::Attachments,
            "attachments.query-with-attachments",
            "A query with attachments=true answers multipart/mixed with every matching statement's data",
            query_with_attachments,
        )
        .v1(&[
            "Communication 1.5.2.s3.b1",
            "Communication 2.1.3.s2.b6",
            "Communication 1.5.2.s2.b2.b1",
        ])
        .v2(&["4.1.3#11", "4.1.6.1#34"]),
        Check::new(
            Area::Attachments,
            "attachments.get-without-attachments-json",
            "Without attachments=true the answer is application/json with no attachment data",
            get_without_attachments_json,
        )
        .v1(&[
            "Communication 2.1.3.s1.table1.row13",
            "Communication 2.1.3.s2.b7",
            "Communication 1.5.2.s2.b1",
        ])
        .v2(&["4.1.6.1#35"]),
    ]
}

/// The boundary of every multipart body the suite sends: RFC 2046 characters only, and
/// text that no statement or attachment of the suite contains.
pub(crate) const BOUNDARY: &str = "lrs-conformance-b0undary-7c41e2";

/// One part of a multipart/mixed message: its headers, in order, and its raw bytes.
#[derive(Clone, Debug)]
pub(crate) struct Part {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Part {
    /// The first part: the statements (one or an array) as application/json.
    pub fn statements(statements: &Value) -> Part {
        Part {
            headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
            body: statements.to_string().into_bytes(),
        }
    }

    /// An attachment part in the transmission format: Content-Type, binary transfer
    /// encoding and the SHA-256 of `data` as X-Experience-API-Hash.
    pub fn attachment(content_type: &str, data: &[u8]) -> Part {
        Part {
            headers: vec![
                ("Content-Type".to_owned(), content_type.to_owned()),
                ("Content-Transfer-Encoding".to_owned(), "binary".to_owned()),
                ("X-Experience-API-Hash".to_owned(), sha256_hex(data)),
            ],
            body: data.to_vec(),
        }
    }

    /// This part with header `name` set to `value` (replacing any of that name).
    pub fn with(mut self, name: &str, value: &str) -> Part {
        self = self.without(name);
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// This part without header `name`.
    pub fn without(mut self, name: &str) -> Part {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    /// The value of header `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The media type of the part without parameters, lower-cased.
    fn media_type(&self) -> Option<String> {
        self.header("Content-Type").map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
    }
}

/// The lower-case hex SHA-256 of `data`, as `sha2` and X-Experience-API-Hash carry it.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An attachment object describing `data`, without a fileUrl.
pub(crate) fn attachment_object(usage_type: &str, content_type: &str, data: &[u8]) -> Value {
    json!({
        "usageType": usage_type,
        "display": { "en-US": "Conformance attachment" },
        "contentType": content_type,
        "length": data.len(),
        "sha2": sha256_hex(data)
    })
}

/// The RFC 2046 body of `parts` with [`BOUNDARY`]: each part opened by CRLF, `--boundary`
/// and CRLF, its headers, an empty line and its bytes; closed by `--boundary--`.
pub(crate) fn multipart_body(parts: &[Part]) -> Vec<u8> {
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        for (name, value) in &part.headers {
            body.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(&part.body);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// The Content-Type of a body made by [`multipart_body`].
pub(crate) fn multipart_type() -> String {
    format!("multipart/mixed; boundary={BOUNDARY}")
}

/// POSTs `parts` as multipart/mixed to /statements.
pub(crate) async fn post_multipart(cx: &Ctx, parts: &[Part]) -> Result<Response, Failure> {
    cx.post("statements")
        .body(&multipart_type(), multipart_body(parts))
        .send()
        .await
}

/// POSTs `parts` as multipart/mixed and fails unless the LRS refuses them with 400.
pub(crate) async fn ensure_refused(cx: &Ctx, parts: &[Part], what: &str) -> Verdict {
    post_multipart(cx, parts)
        .await?
        .expect(400, &format!("POST /statements as multipart/mixed {what}"))?;
    Ok(())
}

/// POSTs `parts` as multipart/mixed and returns the ids of a 200 answer.
pub(crate) async fn ensure_accepted(
    cx: &Ctx,
    parts: &[Part],
    what: &str,
) -> Result<Vec<String>, Failure> {
    let response = post_multipart(cx, parts)
        .await?
        .expect(200, &format!("POST /statements as multipart/mixed {what}"))?;
    common::id_list(&response)
}

/// A multipart POST of one statement that must be accepted; its id.
async fn ensure_one_accepted(cx: &Ctx, parts: &[Part], what: &str) -> Result<String, Failure> {
    match ensure_accepted(cx, parts, what).await?.as_slice() {
        [id] => Ok(id.clone()),
        ids => fail!("POST of one statement: expected one id back, got {ids:?}"),
    }
}

/// The parts of a multipart answer, read by the boundary its Content-Type declares.
pub(crate) fn parse_multipart(response: &Response, what: &str) -> Result<Vec<Part>, Failure> {
    let content_type = response.header("content-type").unwrap_or_default();
    ensure!(
        response.media_type().as_deref() == Some("multipart/mixed"),
        "{what}: expected Content-Type multipart/mixed, got {content_type:?}"
    );
    let Some(boundary) = boundary_of(content_type) else {
        fail!("{what}: the multipart/mixed Content-Type has no boundary: {content_type:?}");
    };
    split_parts(&response.body, &boundary).map_err(|why| {
        Failure::new(format!(
            "{what}: the answer is not a well-formed RFC 2046 multipart body ({why}): {}",
            excerpt(&response.text(), 300)
        ))
    })
}

/// The `boundary` parameter of a Content-Type value, unquoted.
fn boundary_of(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty())
    })
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Splits a multipart body into parts: the preamble before the first delimiter and the
/// epilogue after the closing one are ignored, as RFC 2046 says.
fn split_parts(body: &[u8], boundary: &str) -> Result<Vec<Part>, String> {
    let first = format!("--{boundary}");
    let delimiter = format!("\r\n--{boundary}");
    let mut at = if body.starts_with(first.as_bytes()) {
        first.len()
    } else {
        find(body, delimiter.as_bytes(), 0).ok_or("no boundary delimiter")? + delimiter.len()
    };
    let mut parts = Vec::new();
    loop {
        if body.get(at..at + 2) == Some(b"--") {
            return Ok(parts);
        }
        // Transport padding may follow a delimiter before its CRLF.
        let line_end = find(body, b"\r\n", at).ok_or("a delimiter line without CRLF")?;
        let start = line_end + 2;
        let end =
            find(body, delimiter.as_bytes(), start).ok_or("a part without a closing delimiter")?;
        parts.push(parse_part(&body[start..end])?);
        at = end + delimiter.len();
    }
}

fn parse_part(raw: &[u8]) -> Result<Part, String> {
    let (head, body) = if raw.is_empty() {
        (raw, raw)
    } else if raw.starts_with(b"\r\n") {
        (&raw[..0], &raw[2..])
    } else {
        let split =
            find(raw, b"\r\n\r\n", 0).ok_or("a part without an empty line after its headers")?;
        (&raw[..split], &raw[split + 4..])
    };
    let head = std::str::from_utf8(head).map_err(|_| "part headers that are not text")?;
    let mut headers = Vec::new();
    for line in head.split("\r\n").filter(|l| !l.is_empty()) {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("a part header line without a colon: {line:?}"))?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    Ok(Part {
        headers,
        body: body.to_vec(),
    })
}

/// GET /statements with `params` and `attachments=true`; asserts 200 and returns the parts.
pub(crate) async fn get_with_attachments(
    cx: &Ctx,
    params: &[(&str, &str)],
) -> Result<Vec<Part>, Failure> {
    let mut request = cx.get("statements");
    for (name, value) in params {
        request = request.query(name, *value);
    }
    let what = format!(
        "GET /statements?{}&attachments=true",
        params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    );
    let response = request
        .query("attachments", "true")
        .send()
        .await?
        .expect(200, &what)?;
    parse_multipart(&response, &what)
}

/// Data unique to this check and run, with bytes that are not text (raw binary must pass
/// through untouched, CR and LF included).
fn fresh_data(cx: &Ctx, label: &str) -> Vec<u8> {
    let mut data = format!("{label} {}\n", cx.fx.iri("data")).into_bytes();
    data.extend_from_slice(&[0x00, 0xff, 0xfe, 0x0d, 0x0a, 0x2d, 0x2d, 0x80]);
    data
}

/// A fresh statement carrying one attachment object for `data` (no fileUrl).
fn statement_with(cx: &Ctx, content_type: &str, data: &[u8]) -> Value {
    let mut statement = cx.fx.statement();
    statement["attachments"] = json!([attachment_object(
        &cx.fx.iri("attachment-usage"),
        content_type,
        data
    )]);
    statement
}

/// A statement with one attachment reachable only by its fileUrl.
fn statement_with_file_url(cx: &Ctx) -> Value {
    let data = fresh_data(cx, "hosted");
    let mut attachment = attachment_object(&cx.fx.iri("attachment-usage"), "text/plain", &data);
    attachment["fileUrl"] = json!(cx.fx.iri("files"));
    let mut statement = cx.fx.statement();
    statement["attachments"] = json!([attachment]);
    statement
}

/// Fails unless the attachments of `got` keep the sha2 (and fileUrl) of those sent.
fn ensure_attachments_kept(sent: &Value, got: &Value, what: &str) -> Verdict {
    let (Some(sent), Some(got)) = (
        sent["attachments"].as_array(),
        got["attachments"].as_array(),
    ) else {
        fail!(
            "{what}: expected the statement's attachments array back, got {}",
            excerpt(&got["attachments"].to_string(), 200)
        );
    };
    ensure!(
        sent.len() == got.len(),
        "{what}: sent {} attachment objects, got {} back",
        sent.len(),
        got.len()
    );
    for (s, g) in sent.iter().zip(got) {
        if let Some(diff) = common::difference(s, g) {
            fail!("{what}: attachment object differs at {diff}");
        }
    }
    Ok(())
}

async fn json_without_attachments_accepted(cx: Ctx) -> Verdict {
    common::post_statement(&cx, &cx.fx.statement()).await?;
    common::put_statement(&cx, &cx.fx.uuid(), &cx.fx.statement()).await
}

async fn json_file_url_accepted(cx: Ctx) -> Verdict {
    let posted = statement_with_file_url(&cx);
    let id = common::post_statement(&cx, &posted).await?;
    let got = common::get_statement(&cx, &id).await?;
    ensure_attachments_kept(&posted, &got, "POSTed statement with a fileUrl attachment")?;
    let put = statement_with_file_url(&cx);
    let put_id = cx.fx.uuid();
    common::put_statement(&cx, &put_id, &put).await?;
    let got = common::get_statement(&cx, &put_id).await?;
    ensure_attachments_kept(&put, &got, "PUT statement with a fileUrl attachment")
}

async fn json_without_file_url_refused(cx: Ctx) -> Verdict {
    let statement = statement_with(&cx, "text/plain", &fresh_data(&cx, "unsent"));
    cx.post("statements")
        .json(&statement)
        .send()
        .await?
        .expect(
            400,
            "POST /statements as application/json with an attachment that has no fileUrl",
        )?;
    cx.put("statements")
        .query("statementId", cx.fx.uuid())
        .json(&statement)
        .send()
        .await?
        .expect(
            400,
            "PUT /statements as application/json with an attachment that has no fileUrl",
        )?;
    Ok(())
}

async fn other_multipart_type_refused(cx: Ctx) -> Verdict {
    let data = fresh_data(&cx, "form");
    let statement = statement_with(&cx, "text/plain", &data);
    let body = multipart_body(&[
        Part::statements(&statement),
        Part::attachment("text/plain", &data),
    ]);
    cx.post("statements")
        .body(&format!("multipart/form-data; boundary={BOUNDARY}"), body)
        .send()
        .await?
        .expect(
            400,
            "POST /statements with an attachment part as multipart/form-data",
        )?;
    Ok(())
}

/// Fails unless the parts of an attachments=true answer hold `data` under its hash.
fn ensure_part_for(parts: &[Part], data: &[u8], what: &str) -> Verdict {
    let hash = sha256_hex(data);
    let Some(part) = parts
        .iter()
        .skip(1)
        .find(|p| p.header("X-Experience-API-Hash") == Some(hash.as_str()))
    else {
        fail!(
            "{what}: no part after the first has X-Experience-API-Hash {hash}; the part hashes are {:?}",
            parts
                .iter()
                .skip(1)
                .map(|p| p.header("X-Experience-API-Hash"))
                .collect::<Vec<_>>()
        );
    };
    ensure!(
        part.body == data,
        "{what}: the part with hash {hash} holds {} bytes that differ from the {} sent ({})",
        part.body.len(),
        data.len(),
        excerpt(&String::from_utf8_lossy(&part.body), 100)
    );
    Ok(())
}

async fn multipart_accepted(cx: Ctx) -> Verdict {
    let data = fresh_data(&cx, "posted");
    let statement = statement_with(&cx, "application/octet-stream", &data);
    let id = &ensure_one_accepted(
        &cx,
        &[
            Part::statements(&statement),
            Part::attachment("application/octet-stream", &data),
        ],
        "with one statement and its attachment part",
    )
    .await?;
    common::get_statement(&cx, id).await?;
    let parts = get_with_attachments(&cx, &[("statementId", id)]).await?;
    ensure_part_for(&parts, &data, "the POSTed attachment read back")?;

    let data = fresh_data(&cx, "put");
    let statement = statement_with(&cx, "text/plain", &data);
    let id = cx.fx.uuid();
    cx.put("statements")
        .query("statementId", &id)
        .body(
            &multipart_type(),
            multipart_body(&[
                Part::statements(&statement),
                Part::attachment("text/plain", &data),
            ]),
        )
        .send()
        .await?
        .expect(
            204,
            "PUT /statements?statementId=… as multipart/mixed with an attachment part",
        )?;
    common::get_statement(&cx, &id).await?;
    let parts = get_with_attachments(&cx, &[("statementId", &id)]).await?;
    ensure_part_for(&parts, &data, "the PUT attachment read back")
}

/// POSTs two statements sharing one attachment, sent in one part; returns the agent both
/// have as actor, the data and the ids.
async fn post_sharing_batch(cx: &Ctx) -> Result<(Value, Vec<u8>, Vec<String>), Failure> {
    let agent = cx.fx.agent();
    let data = fresh_data(cx, "shared");
    let usage = cx.fx.iri("attachment-usage");
    let mut first = cx.fx.statement_by(&agent);
    first["attachments"] = json!([attachment_object(&usage, "text/plain", &data)]);
    let mut second = cx.fx.statement_by(&agent);
    second["attachments"] = first["attachments"].clone();
    let ids = ensure_accepted(
        cx,
        &[
            Part::statements(&json!([first, second])),
            Part::attachment("text/plain", &data),
        ],
        "with two statements sharing one attachment part",
    )
    .await?;
    ensure!(
        ids.len() == 2,
        "POST of two statements: expected two ids back, got {ids:?}"
    );
    Ok((agent, data, ids))
}

/// The agent as a query parameter: its identifier only.
fn agent_param(agent: &Value) -> String {
    json!({ "mbox": agent["mbox"] }).to_string()
}

async fn batch_sharing_one_part_accepted(cx: Ctx) -> Verdict {
    let (_, data, ids) = post_sharing_batch(&cx).await?;
    for id in &ids {
        common::get_statement(&cx, id).await?;
        let parts = get_with_attachments(&cx, &[("statementId", id)]).await?;
        ensure_part_for(&parts, &data, &format!("statement {id} of the batch"))?;
    }
    Ok(())
}

async fn answer_sends_shared_data_once(cx: Ctx) -> Verdict {
    let (agent, data, ids) = post_sharing_batch(&cx).await?;
    for id in &ids {
        common::get_statement(&cx, id).await?;
    }
    let parts = get_with_attachments(&cx, &[("agent", &agent_param(&agent))]).await?;
    let hash = sha256_hex(&data);
    let copies = parts
        .iter()
        .filter(|p| p.header("X-Experience-API-Hash") == Some(hash.as_str()))
        .count();
    ensure!(
        copies == 1,
        "a query answer with two statements sharing one attachment: expected one part with hash {hash}, got {copies}"
    );
    Ok(())
}

async fn multipart_without_attachments_accepted(cx: Ctx) -> Verdict {
    ensure_accepted(
        &cx,
        &[Part::statements(&cx.fx.statement())],
        "whose statement has no attachments",
    )
    .await?;
    Ok(())
}

async fn multipart_file_url_only_accepted(cx: Ctx) -> Verdict {
    let statement = statement_with_file_url(&cx);
    let id = &ensure_one_accepted(
        &cx,
        &[Part::statements(&statement)],
        "whose only attachment has a fileUrl and no part",
    )
    .await?;
    let got = common::get_statement(&cx, id).await?;
    ensure_attachments_kept(
        &statement,
        &got,
        "multipart statement with a fileUrl attachment",
    )
}

async fn missing_part_refused(cx: Ctx) -> Verdict {
    let statement = statement_with(&cx, "text/plain", &fresh_data(&cx, "never sent"));
    ensure_refused(
        &cx,
        &[Part::statements(&statement)],
        "whose attachment has no fileUrl and no part",
    )
    .await
}

async fn missing_hash_header_refused(cx: Ctx) -> Verdict {
    let data = fresh_data(&cx, "no hash header");
    let statement = statement_with(&cx, "text/plain", &data);
    ensure_refused(
        &cx,
        &[
            Part::statements(&statement),
            Part::attachment("text/plain", &data).without("X-Experience-API-Hash"),
        ],
        "with an attachment part lacking X-Experience-API-Hash",
    )
    .await
}

async fn unmatched_hash_refused(cx: Ctx) -> Verdict {
    let data = fresh_data(&cx, "declared");
    let statement = statement_with(&cx, "text/plain", &data);
    let other = sha256_hex(b"not the declared data");
    ensure_refused(
        &cx,
        &[
            Part::statements(&statement),
            Part::attachment("text/plain", &data).with("X-Experience-API-Hash", &other),
        ],
        "with a part whose X-Experience-API-Hash matches no attachment's sha2",
    )
    .await
}

async fn data_must_hash_to_sha2(cx: Ctx) -> Verdict {
    let declared = fresh_data(&cx, "declared");
    let statement = statement_with(&cx, "text/plain", &declared);
    let mut part = Part::attachment("text/plain", &declared);
    part.body = fresh_data(&cx, "substituted");
    ensure_refused(
        &cx,
        &[Part::statements(&statement), part],
        "with a part that names the attachment's sha2 but whose data hashes otherwise",
    )
    .await
}

async fn parts_matched_by_hash(cx: Ctx) -> Verdict {
    let first = fresh_data(&cx, "first");
    let second = fresh_data(&cx, "second");
    let usage = cx.fx.iri("attachment-usage");
    let mut statement = cx.fx.statement();
    statement["attachments"] = json!([
        attachment_object(&usage, "text/plain", &first),
        attachment_object(&usage, "application/octet-stream", &second)
    ]);
    let id = &ensure_one_accepted(
        &cx,
        &[
            Part::statements(&statement),
            Part::attachment("application/octet-stream", &second),
            Part::attachment("text/plain", &first),
        ],
        "with two attachment parts in the reverse order of the attachment objects",
    )
    .await?;
    common::get_statement(&cx, id).await?;
    let parts = get_with_attachments(&cx, &[("statementId", id)]).await?;
    ensure_part_for(&parts, &first, "the first attachment")?;
    ensure_part_for(&parts, &second, "the second attachment")
}

async fn surplus_part_refused(cx: Ctx) -> Verdict {
    let data = fresh_data(&cx, "declared");
    let statement = statement_with(&cx, "text/plain", &data);
    ensure_refused(
        &cx,
        &[
            Part::statements(&statement),
            Part::attachment("text/plain", &data),
            Part::attachment("text/plain", b"surplus data no attachment declares"),
        ],
        "with a part that is no declared attachment's data",
    )
    .await
}

async fn non_binary_transfer_encoding_refused(cx: Ctx) -> Verdict {
    let data = fresh_data(&cx, "encoded");
    let statement = statement_with(&cx, "text/plain", &data);
    ensure_refused(
        &cx,
        &[
            Part::statements(&statement),
            Part::attachment("text/plain", &data).with("Content-Transfer-Encoding", "base64"),
        ],
        "with an attachment part sent with Content-Transfer-Encoding: base64",
    )
    .await
}

async fn missing_transfer_encoding_taken_as_binary(cx: Ctx) -> Verdict {
    let data = fresh_data(&cx, "unlabelled");
    let statement = statement_with(&cx, "application/octet-stream", &data);
    let id = &ensure_one_accepted(
        &cx,
        &[
            Part::statements(&statement),
            Part::attachment("application/octet-stream", &data)
                .without("Content-Transfer-Encoding"),
        ],
        "with an attachment part without Content-Transfer-Encoding",
    )
    .await?;
    common::get_statement(&cx, id).await?;
    let parts = get_with_attachments(&cx, &[("statementId", id)]).await?;
    ensure_part_for(
        &parts,
        &data,
        "the attachment sent without a transfer encoding",
    )
}

async fn first_part_not_json_refused(cx: Ctx) -> Verdict {
    let data = fresh_data(&cx, "after text");
    let statement = statement_with(&cx, "text/plain", &data);
    ensure_refused(
        &cx,
        &[
            Part::statements(&statement).with("Content-Type", "text/plain"),
            Part::attachment("text/plain", &data),
        ],
        "whose first (statement) part is typed text/plain",
    )
    .await
}

async fn statements_split_refused(cx: Ctx) -> Verdict {
    let data = fresh_data(&cx, "split");
    let first = statement_with(&cx, "text/plain", &data);
    let mut second = cx.fx.statement();
    second["attachments"] = first["attachments"].clone();
    ensure_refused(
        &cx,
        &[
            Part::statements(&first),
            Part::statements(&second),
            Part::attachment("text/plain", &data),
        ],
        "with its statements in two application/json parts",
    )
    .await
}

async fn missing_boundary_refused(cx: Ctx) -> Verdict {
    let data = fresh_data(&cx, "unbounded");
    let statement = statement_with(&cx, "text/plain", &data);
    let parts = [
        Part::statements(&statement),
        Part::attachment("text/plain", &data),
    ];
    cx.post("statements")
        .body("multipart/mixed", multipart_body(&parts))
        .send()
        .await?
        .expect(
            400,
            "POST /statements as multipart/mixed without a boundary parameter",
        )?;
    let other = format!("{BOUNDARY}-not-in-the-body");
    cx.post("statements")
        .body(
            &format!("multipart/mixed; boundary={other}"),
            multipart_body(&parts),
        )
        .send()
        .await?
        .expect(
            400,
            "POST /statements as multipart/mixed whose body never uses the declared boundary",
        )?;
    Ok(())
}

/// Fails unless `parts` is a well-formed attachments answer: the first part JSON, every
/// later part binary with a Content-Type and a hash header.
fn ensure_transmission_format(parts: &[Part], what: &str) -> Result<Value, Failure> {
    let Some(first) = parts.first() else {
        fail!("{what}: the multipart answer has no parts");
    };
    ensure!(
        first.media_type().as_deref() == Some("application/json"),
        "{what}: the first part should be application/json, got Content-Type {:?}",
        first.header("Content-Type")
    );
    let json: Value = serde_json::from_slice(&first.body).map_err(|e| {
        Failure::new(format!(
            "{what}: the first part is not JSON ({e}): {}",
            excerpt(&String::from_utf8_lossy(&first.body), 200)
        ))
    })?;
    for (i, part) in parts.iter().enumerate().skip(1) {
        ensure!(
            part.header("X-Experience-API-Hash").is_some(),
            "{what}: part {} has no X-Experience-API-Hash header (headers {:?})",
            i + 1,
            part.headers
        );
        ensure!(
            part.header("Content-Transfer-Encoding")
                .is_some_and(|v| v.eq_ignore_ascii_case("binary")),
            "{what}: part {} should have Content-Transfer-Encoding: binary, got {:?}",
            i + 1,
            part.header("Content-Transfer-Encoding")
        );
        ensure!(
            part.header("Content-Type").is_some(),
            "{what}: part {} has no Content-Type header",
            i + 1
        );
    }
    Ok(json)
}

async fn get_statement_with_attachments(cx: Ctx) -> Verdict {
    let data = fresh_data(&cx, "read back");
    let statement = statement_with(&cx, "application/octet-stream", &data);
    let id = &ensure_one_accepted(
        &cx,
        &[
            Part::statements(&statement),
            Part::attachment("application/octet-stream", &data),
        ],
        "with one statement and its attachment part",
    )
    .await?;
    common::get_statement(&cx, id).await?;
    let what = "GET /statements?statementId=…&attachments=true";
    let parts = get_with_attachments(&cx, &[("statementId", id)]).await?;
    let got = ensure_transmission_format(&parts, what)?;
    ensure!(
        got["id"] == id.as_str(),
        "{what}: the first part should be the statement {id}, got {}",
        excerpt(&got.to_string(), 300)
    );
    ensure_attachments_kept(&statement, &got, what)?;
    ensure!(
        parts.len() == 2,
        "{what}: expected the statement part and one attachment part, got {} parts",
        parts.len()
    );
    ensure_part_for(&parts, &data, what)?;
    let part = &parts[1];
    ensure!(
        part.media_type().as_deref() == Some("application/octet-stream"),
        "{what}: the attachment part's Content-Type should match its contentType application/octet-stream, got {:?}",
        part.header("Content-Type")
    );
    if let Some(length) = part.header("Content-Length") {
        ensure!(
            length.trim() == data.len().to_string(),
            "{what}: the attachment part's Content-Length {length} differs from its length {}",
            data.len()
        );
    }
    Ok(())
}

async fn query_with_attachments(cx: Ctx) -> Verdict {
    let agent = cx.fx.agent();
    let first = fresh_data(&cx, "first of query");
    let second = fresh_data(&cx, "second of query");
    let mut statements = Vec::new();
    for data in [&first, &second] {
        let mut statement = statement_with(&cx, "text/plain", data);
        statement["actor"] = agent.clone();
        statements.push(statement);
    }
    let ids = ensure_accepted(
        &cx,
        &[
            Part::statements(&Value::Array(statements)),
            Part::attachment("text/plain", &first),
            Part::attachment("text/plain", &second),
        ],
        "with two statements, each with its own attachment part",
    )
    .await?;
    for id in &ids {
        common::get_statement(&cx, id).await?;
    }
    let what = "GET /statements?agent=…&attachments=true";
    let parts = get_with_attachments(&cx, &[("agent", &agent_param(&agent))]).await?;
    let result = ensure_transmission_format(&parts, what)?;
    let got = ids_of(&result);
    ensure!(
        ids.iter().all(|id| got.contains(id)),
        "{what}: the first part should be a StatementResult with {ids:?}, got {}",
        excerpt(&result.to_string(), 300)
    );
    ensure_part_for(&parts, &first, what)?;
    ensure_part_for(&parts, &second, what)
}

async fn get_without_attachments_json(cx: Ctx) -> Verdict {
    let data = fresh_data(&cx, "left out");
    let statement = statement_with(&cx, "text/plain", &data);
    let id = &ensure_one_accepted(
        &cx,
        &[
            Part::statements(&statement),
            Part::attachment("text/plain", &data),
        ],
        "with one statement and its attachment part",
    )
    .await?;
    common::get_statement(&cx, id).await?;
    for value in [None, Some("false")] {
        let mut request = cx.get("statements").query("statementId", id);
        if let Some(value) = value {
            request = request.query("attachments", value);
        }
        let what = format!(
            "GET /statements?statementId=…{}",
            value
                .map(|v| format!("&attachments={v}"))
                .unwrap_or_default()
        );
        let response = request.send().await?.expect(200, &what)?;
        ensure!(
            response.media_type().as_deref() == Some("application/json"),
            "{what}: expected application/json, got {:?}",
            response.header("content-type")
        );
        let got = response.json()?;
        ensure_attachments_kept(&statement, &got, &what)?;
        ensure!(
            !response
                .body
                .windows(data.len())
                .any(|w| w == data.as_slice()),
            "{what}: the answer carries the attachment's raw data"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_round_trip() {
        let parts = [
            Part::statements(&json!({"a": 1})),
            Part::attachment("application/octet-stream", b"x\r\n--y\r\n\x00"),
            Part::attachment("text/plain", b""),
        ];
        let body = multipart_body(&parts);
        let read = split_parts(&body, BOUNDARY).unwrap();
        assert_eq!(read.len(), 3);
        assert_eq!(read[0].body, b"{\"a\":1}");
        assert_eq!(read[1].body, b"x\r\n--y\r\n\x00");
        assert_eq!(read[2].body, b"");
        assert_eq!(
            read[1].header("x-experience-api-hash"),
            Some(sha256_hex(b"x\r\n--y\r\n\x00").as_str())
        );
    }

    #[test]
    fn preamble_and_quoted_boundary() {
        assert_eq!(
            boundary_of("multipart/mixed; boundary=\"a b\"").as_deref(),
            Some("a b")
        );
        assert_eq!(boundary_of("multipart/mixed"), None);
        let body = b"preamble\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\nepilogue";
        let read = split_parts(body, "b").unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].body, b"hi");
    }

    #[test]
    fn sha256_hex_is_lower_case() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
