//! A person's export: one tar archive, written as it is read from the store so that a
//! person with many statements is never held in memory whole. Tar (the `tar` crate) since
//! every entry is a header followed by its bytes — an archive streams out entry by entry
//! with no central directory to seek back to, which zip needs — and every operating system
//! opens it.
//!
//! Entries, in order:
//! - `person.json`: the person's id, identities (IFI-only Agents) and team memberships;
//! - `statements/NNNNNN.jsonl`: every statement any identity appears in (actor, object,
//!   context instructor or team, authority), one `{statement, voided, stored, tags}` a line;
//! - `attachments/<sha2>` with `attachments.jsonl` (hash, content type, file);
//! - `documents/NNNNNN` with `documents.jsonl`: State and Agent Profile documents;
//! - `evidence.jsonl`: the person's skill evidence;
//! - `manifest.json`, last: every other entry's size and SHA-256, and counts. An archive
//!   without it was cut short.

use std::collections::{BTreeSet, HashSet};

use bytes::Bytes;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::{Person, Privacy, PrivacyError, PrivacyResult};
use crate::store::privacy::{attachment_hashes, mentions};
use crate::store::{DocumentScope, TenantId};
use crate::xapi::time::format_millis;

/// Statements per `statements/…` entry (and per store read).
const PAGE: usize = 500;

/// The format named in the manifest.
pub const FORMAT: &str = "lrsgate-person-export/1";

/// Writes tar entries to a channel, remembering each one's size and checksum.
struct Writer {
    tar: tar::Builder<Vec<u8>>,
    out: mpsc::Sender<Bytes>,
    files: Vec<Value>,
    mtime: u64,
}

impl Writer {
    async fn add(&mut self, path: &str, data: &[u8]) -> PrivacyResult<()> {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(self.mtime);
        self.tar
            .append_data(&mut header, path, data)
            .map_err(|e| PrivacyError::Store(anyhow::Error::from(e).into()))?;
        self.files.push(json!({
            "path": path,
            "bytes": data.len(),
            "sha256": hex::encode(Sha256::digest(data)),
        }));
        self.flush().await
    }

    async fn flush(&mut self) -> PrivacyResult<()> {
        let chunk = std::mem::take(self.tar.get_mut());
        if !chunk.is_empty() && self.out.send(Bytes::from(chunk)).await.is_err() {
            return Err(PrivacyError::Store(
                anyhow::anyhow!("the export's reader went away").into(),
            ));
        }
        Ok(())
    }

    async fn finish(mut self, manifest: Value) -> PrivacyResult<()> {
        let text = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(self.mtime);
        self.tar
            .append_data(&mut header, "manifest.json", text.as_slice())
            .and_then(|()| self.tar.finish())
            .map_err(|e| PrivacyError::Store(anyhow::Error::from(e).into()))?;
        self.flush().await
    }
}

fn jsonl(lines: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in lines {
        out.extend_from_slice(line.to_string().as_bytes());
        out.push(b'\n');
    }
    out
}

impl Privacy {
    /// Writes the person's archive to `out`, chunk by chunk. An error part-way ends the
    /// archive without its manifest.
    pub async fn export(
        &self,
        tenant: TenantId,
        person: &Person,
        out: mpsc::Sender<Bytes>,
    ) -> PrivacyResult<()> {
        let store = self.store();
        let now = chrono::Utc::now();
        let mut w = Writer {
            tar: tar::Builder::new(Vec::new()),
            out,
            files: Vec::new(),
            mtime: now.timestamp().max(0) as u64,
        };
        let teams: Vec<Value> = store
            .privacy
            .person_teams(tenant, &person.ifis)
            .await?
            .into_iter()
            .map(|t| json!({"id": t.id, "name": t.name, "origin": t.origin.name()}))
            .collect();
        let about = json!({"person": person.id, "identities": person.agents(), "teams": teams});
        w.add(
            "person.json",
            &serde_json::to_vec_pretty(&about).unwrap_or_default(),
        )
        .await?;

        let ifis: HashSet<&str> = person.ifis.iter().map(String::as_str).collect();
        let mut hashes = BTreeSet::new();
        let (mut statements, mut part, mut after) = (0u64, 0u32, None);
        loop {
            let page = store
                .privacy
                .person_statements(tenant, &person.ifis, after, PAGE)
                .await?;
            // Index rows inherited through a StatementRef tie in statements that do not
            // name the person; those are somebody else's.
            let lines: Vec<Value> = page
                .statements
                .iter()
                .filter(|s| mentions(&s.body, &ifis))
                .map(|s| {
                    hashes.extend(attachment_hashes(&s.body));
                    json!({
                        "statement": s.body,
                        "voided": s.voided,
                        "stored": format_millis(s.stored_millis),
                        "tags": s.tags.clone().unwrap_or_else(|| json!([])),
                    })
                })
                .collect();
            if !lines.is_empty() {
                part += 1;
                statements += lines.len() as u64;
                w.add(&format!("statements/{part:06}.jsonl"), &jsonl(&lines))
                    .await?;
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }

        let hashes: Vec<String> = hashes.into_iter().collect();
        let mut listed = Vec::new();
        for chunk in hashes.chunks(16) {
            for a in store.statements.attachments(tenant, chunk).await? {
                let file = format!("attachments/{}", a.sha2);
                w.add(&file, &a.content).await?;
                listed.push(json!({"sha2": a.sha2, "contentType": a.content_type, "file": file}));
            }
        }
        let attachments = listed.len();
        w.add("attachments.jsonl", &jsonl(&listed)).await?;

        let mut listed = Vec::new();
        for (n, d) in store
            .privacy
            .person_documents(tenant, &person.ifis)
            .await?
            .into_iter()
            .enumerate()
        {
            let file = format!("documents/{:06}", n + 1);
            w.add(&file, &d.document.content).await?;
            let mut line = match &d.scope {
                DocumentScope::State {
                    activity_id,
                    registration,
                    ..
                } => json!({"resource": "state", "activityId": activity_id,
                            "registration": registration, "stateId": d.id}),
                _ => json!({"resource": "agentProfile", "profileId": d.id}),
            };
            if let (
                Some(obj),
                DocumentScope::State { agent, .. } | DocumentScope::AgentProfile { agent },
            ) = (line.as_object_mut(), &d.scope)
            {
                obj.insert(
                    "agent".into(),
                    crate::xapi::agent::agent_of_ifi(agent).unwrap_or(Value::Null),
                );
                obj.insert("contentType".into(), json!(d.document.content_type));
                obj.insert("etag".into(), json!(d.document.etag));
                obj.insert(
                    "updated".into(),
                    json!(format_millis(d.document.updated_millis)),
                );
                obj.insert("file".into(), json!(file));
            }
            listed.push(line);
        }
        let documents = listed.len();
        w.add("documents.jsonl", &jsonl(&listed)).await?;

        let mut evidence = Vec::new();
        for id in &person.ids {
            for row in store.evidence.person_evidence(tenant, id, None).await? {
                evidence.push(json!({"person": row.person, "evidence": row.item}));
            }
        }
        w.add("evidence.jsonl", &jsonl(&evidence)).await?;

        let manifest = json!({
            "format": FORMAT,
            "created": format_millis(now.timestamp_millis()),
            "person": person.id,
            "counts": {
                "statements": statements,
                "attachments": attachments,
                "documents": documents,
                "evidence": evidence.len(),
                "teams": about["teams"].as_array().map_or(0, Vec::len),
            },
            "files": w.files.clone(),
        });
        w.finish(manifest).await
    }
}
