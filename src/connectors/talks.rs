//! TED-style talk feeds: a catalog of talks (id, title, speaker, description, topics,
//! duration, URL) read from RSS 2.0 or Atom (TED's talk feeds are RSS with the iTunes tags
//! `itunes:author` for the speaker and `itunes:duration`), from JSON (an array of objects
//! with those fields) or from CSV (the same columns), at a URL or in a file. Each talk
//! becomes an activity definition of the xAPI Video profile's type, and its topics become
//! catalog alignments to the framework items the tenant's tagger matches them with; a topic
//! that matches no item is left out. Watch events then arrive as ordinary statements in the
//! Video profile's shape and are weighed by how much was watched (see `evidence::weights`).
//!
//! A run replaces the feed's alignments of each talk (alignments other sources set are
//! kept) and merges the definitions, so importing a feed twice changes nothing.

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::retry::{CallError, RetryPolicy};
use super::{ConnectorError, Rejected, RunContext, RunOutcome};
use crate::competency::tagger::{ActivityFacts, Alignment, Method, Tagger};

/// The activity type of a video in the xAPI Video profile.
pub const VIDEO_TYPE: &str = "https://w3id.org/xapi/video/activity-type/video";
/// The Video profile's media length, in seconds (kept in the definition's extensions).
pub const LENGTH_EXTENSION: &str = "https://w3id.org/xapi/video/extensions/length";
pub const SPEAKER_EXTENSION: &str = "https://w3id.org/lrsgate/extensions/speaker";
pub const TOPICS_EXTENSION: &str = "https://w3id.org/lrsgate/extensions/topics";
/// The `source` of the alignments a talk feed sets.
pub const ALIGNMENT_SOURCE: &str = "talk-feed";

/// Definitions written per store call.
const CHUNK: usize = 500;

/// A talk feed's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the catalog is: an `http(s)://` URL, or a file path (for the CLI).
    pub source: String,
    /// `feed` (RSS or Atom), `json` or `csv`; guessed from the answer's content type, the
    /// file extension or the first character when not set.
    #[serde(default)]
    pub format: Option<Format>,
    /// Activity ids are this prefix followed by the talk's id; without it a talk's id is
    /// its URL (a talk with neither is rejected).
    #[serde(default)]
    pub id_prefix: Option<String>,
    /// The language tag of titles and descriptions.
    #[serde(default = "default_language")]
    pub language: String,
    /// Seconds a fetch may take.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_language() -> String {
    "en".into()
}

fn default_timeout() -> u64 {
    30
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[serde(alias = "rss", alias = "atom")]
    Feed,
    Json,
    Csv,
}

/// One talk of a catalog.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Talk {
    pub id: String,
    pub title: String,
    pub speaker: Option<String>,
    pub description: Option<String>,
    pub topics: Vec<String>,
    pub duration_secs: Option<f64>,
    pub url: Option<String>,
}

/// What a run remembers: the feed's validator, so an unchanged feed is not read again.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct State {
    #[serde(default)]
    etag: Option<String>,
    #[serde(default)]
    last_modified: Option<String>,
    #[serde(default)]
    talks: u64,
}

/// One import of the catalog. `read` counts the talks in it, `stored` the activity
/// definitions written (a catalog brings no statements), `rejected` the talks left out.
pub async fn run(ctx: &RunContext, config: &Config) -> Result<RunOutcome, ConnectorError> {
    let mut state: State = ctx.state().await?;
    let Some((bytes, content_type, validators)) = fetch(ctx, config, &state).await? else {
        return Ok(RunOutcome::default());
    };
    let format = config
        .format
        .unwrap_or_else(|| guess_format(content_type.as_deref(), &config.source, &bytes));
    let (talks, mut rejected) = parse(format, &bytes)?;
    let mut outcome = RunOutcome {
        read: (talks.len() + rejected.len()) as u64,
        ..RunOutcome::default()
    };
    let mut definitions = Vec::with_capacity(talks.len());
    let mut topics = Vec::with_capacity(talks.len());
    for (i, talk) in talks.iter().enumerate() {
        match activity_id(talk, config.id_prefix.as_deref()) {
            Ok(id) => {
                definitions.push((id.clone(), definition(talk, &config.language)));
                topics.push((id, talk.topics.clone()));
            }
            Err(reason) => rejected.push(Rejected {
                record: format!("talk {} ({})", i + 1, talk.id),
                reason,
            }),
        }
    }
    let tagger = ctx.lrs.competencies.tagger(ctx.tenant).await.map_err(|e| {
        ConnectorError::Payload(format!("the tenant's frameworks cannot be read: {e}"))
    })?;
    for chunk in definitions.chunks(CHUNK) {
        ctx.lrs
            .store
            .activity_map
            .put_catalog_definitions(ctx.tenant, chunk.to_vec())
            .await?;
        outcome.stored += chunk.len() as u64;
    }
    for chunk in topics.chunks(CHUNK) {
        let aligned: Vec<(String, Vec<Alignment>)> = chunk
            .iter()
            .map(|(id, topics)| (id.clone(), topic_alignments(&tagger, topics)))
            .collect();
        put_alignments(ctx, ALIGNMENT_SOURCE, aligned).await?;
    }
    outcome.rejected = rejected;
    state.etag = validators.0;
    state.last_modified = validators.1;
    state.talks = outcome.stored;
    ctx.save_state(&state).await?;
    Ok(outcome)
}

/// The feed's bytes and content type, or `None` when the server says it has not changed
/// since the last run. Validators are (ETag, Last-Modified).
async fn fetch(
    ctx: &RunContext,
    config: &Config,
    state: &State,
) -> Result<Option<(Vec<u8>, Option<String>, (Option<String>, Option<String>))>, ConnectorError> {
    let source = config.source.trim();
    if !(source.starts_with("http://") || source.starts_with("https://")) {
        let path = source.strip_prefix("file://").unwrap_or(source).to_owned();
        let bytes = tokio::task::spawn_blocking(move || std::fs::read(&path))
            .await
            .map_err(|e| ConnectorError::Config(format!("reading the source: {e}")))?
            .map_err(|e| ConnectorError::Config(format!("source {source}: {e}")))?;
        return Ok(Some((bytes, None, (None, None))));
    }
    let timeout = Duration::from_secs(config.timeout_secs.max(1));
    let sent = RetryPolicy::default()
        .send(|| {
            let mut request = ctx.http.get(source).timeout(timeout);
            if let Some(etag) = &state.etag {
                request = request.header(reqwest::header::IF_NONE_MATCH, etag);
            }
            if let Some(modified) = &state.last_modified {
                request = request.header(reqwest::header::IF_MODIFIED_SINCE, modified);
            }
            request
        })
        .await;
    let response = match sent {
        Ok(response) => response,
        Err(CallError::Rejected { status, .. }) if status == reqwest::StatusCode::NOT_MODIFIED => {
            return Ok(None)
        }
        Err(e) => return Err(e.into()),
    };
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header(reqwest::header::CONTENT_TYPE);
    let validators = (
        header(reqwest::header::ETAG),
        header(reqwest::header::LAST_MODIFIED),
    );
    let bytes = response
        .bytes()
        .await
        .map_err(|e| ConnectorError::Payload(format!("{source}: reading the answer: {e}")))?;
    Ok(Some((bytes.to_vec(), content_type, validators)))
}

/// The format by content type, then by extension, then by the first character.
pub fn guess_format(content_type: Option<&str>, source: &str, bytes: &[u8]) -> Format {
    let content_type = content_type.unwrap_or_default().to_ascii_lowercase();
    if content_type.contains("csv") {
        return Format::Csv;
    }
    if content_type.contains("xml") || content_type.contains("feed+json") {
        return Format::Feed;
    }
    let path = source.split(['?', '#']).next().unwrap_or_default();
    let extension = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match extension.as_deref() {
        Some("csv") => return Format::Csv,
        Some("rss" | "xml" | "atom") => return Format::Feed,
        _ => {}
    }
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'<') => Format::Feed,
        // A JSON Feed is an object with `items`; our JSON is an array.
        Some(b'{') => Format::Feed,
        Some(b'[') => Format::Json,
        _ if content_type.contains("json") => Format::Json,
        _ => Format::Csv,
    }
}

/// The talks of a catalog and the records that could not be read. A catalog that cannot
/// be read at all (not XML, not a JSON array, no header row) is an error.
pub fn parse(format: Format, bytes: &[u8]) -> Result<(Vec<Talk>, Vec<Rejected>), ConnectorError> {
    match format {
        Format::Feed => parse_feed(bytes),
        Format::Json => parse_json(bytes),
        Format::Csv => parse_csv(bytes),
    }
}

fn parse_feed(bytes: &[u8]) -> Result<(Vec<Talk>, Vec<Rejected>), ConnectorError> {
    let feed = feed_rs::parser::parse(bytes)
        .map_err(|e| ConnectorError::Payload(format!("the feed cannot be read: {e}")))?;
    let itunes = itunes_tags(bytes);
    let itunes = (itunes.len() == feed.entries.len()).then_some(itunes);
    let mut talks = Vec::new();
    let mut rejected = Vec::new();
    for (i, entry) in feed.entries.into_iter().enumerate() {
        let (itunes_duration, itunes_author) = itunes
            .as_ref()
            .and_then(|tags| tags.get(i).cloned())
            .unwrap_or_default();
        let title = entry.title.map(|t| t.content.trim().to_owned());
        let Some(title) = title.filter(|t| !t.is_empty()) else {
            rejected.push(Rejected {
                record: format!("entry {} ({})", i + 1, entry.id),
                reason: "the entry has no title".into(),
            });
            continue;
        };
        let media = entry.media.first();
        let speaker = itunes_author.or_else(|| {
            entry
                .media
                .iter()
                .flat_map(|m| m.credits.iter())
                .map(|c| c.entity.trim().to_owned())
                .chain(
                    entry
                        .authors
                        .iter()
                        .map(|a| a.name.clone().unwrap_or_default().trim().to_owned()),
                )
                .find(|s| !s.is_empty())
        });
        let description = entry
            .summary
            .map(|s| s.content)
            .or_else(|| entry.content.and_then(|c| c.body))
            .or_else(|| media.and_then(|m| m.description.clone()).map(|d| d.content))
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty());
        let duration_secs = itunes_duration.or_else(|| {
            entry
                .media
                .iter()
                .find_map(|m| m.duration)
                .map(|d| d.as_secs_f64())
        });
        let topics = entry
            .categories
            .iter()
            .map(|c| c.label.clone().unwrap_or_else(|| c.term.clone()))
            .flat_map(|t| split_topics(&t))
            .collect();
        let url = entry
            .links
            .iter()
            .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
            .map(|l| l.href.clone());
        talks.push(Talk {
            id: entry.id,
            title,
            speaker,
            description,
            topics,
            duration_secs,
            url,
        });
    }
    Ok((talks, rejected))
}

/// The `itunes:duration` (seconds) and `itunes:author` of each RSS item, in document
/// order. feed-rs keeps an item's iTunes tags only when its iTunes block also has a title
/// or summary, and reads durations only as `HH:MM:SS` or seconds, while Apple's podcast
/// tags allow `MM:SS` too; TED's feeds use both.
fn itunes_tags(bytes: &[u8]) -> Vec<(Option<f64>, Option<String>)> {
    type Patterns = Option<[regex::Regex; 3]>;
    static PATTERNS: std::sync::OnceLock<Patterns> = std::sync::OnceLock::new();
    let Some([item, duration, author]) = PATTERNS.get_or_init(|| {
        Some([
            regex::Regex::new(r"(?s)<item[\s>].*?</item>").ok()?,
            regex::Regex::new(r"(?s)<itunes:duration>\s*(.*?)\s*</itunes:duration>").ok()?,
            regex::Regex::new(r"(?s)<itunes:author>\s*(.*?)\s*</itunes:author>").ok()?,
        ])
    }) else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(bytes);
    item.find_iter(&text)
        .map(|m| {
            let of = |re: &regex::Regex| re.captures(m.as_str()).map(|c| c[1].to_owned());
            let speaker = of(author).map(|a| unescape(&a)).filter(|a| !a.is_empty());
            (of(duration).and_then(|d| parse_duration(&d)), speaker)
        })
        .collect()
}

/// The five predefined XML entities.
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// A JSON or CSV record as written: every field optional so that one bad record is a
/// rejection, not a failed import.
#[derive(Debug, Default, Deserialize)]
struct Row {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    speaker: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    topics: Option<Value>,
    #[serde(default)]
    duration: Option<Value>,
    #[serde(default)]
    url: Option<String>,
}

fn parse_json(bytes: &[u8]) -> Result<(Vec<Talk>, Vec<Rejected>), ConnectorError> {
    let rows: Vec<Value> = serde_json::from_slice(bytes).map_err(|e| {
        ConnectorError::Payload(format!("the catalog is not a JSON array of talks: {e}"))
    })?;
    let mut talks = Vec::new();
    let mut rejected = Vec::new();
    for (i, row) in rows.into_iter().enumerate() {
        let record = format!("talk {}", i + 1);
        match serde_json::from_value::<Row>(row)
            .map_err(|e| e.to_string())
            .and_then(talk_of)
        {
            Ok(talk) => talks.push(talk),
            Err(reason) => rejected.push(Rejected { record, reason }),
        }
    }
    Ok((talks, rejected))
}

fn parse_csv(bytes: &[u8]) -> Result<(Vec<Talk>, Vec<Rejected>), ConnectorError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| ConnectorError::Payload(format!("the CSV catalog has no header row: {e}")))?
        .clone();
    for column in ["id", "title"] {
        if !headers.iter().any(|h| h.eq_ignore_ascii_case(column)) {
            return Err(ConnectorError::Payload(format!(
                "the CSV catalog has no `{column}` column (columns: id, title, speaker, description, topics, duration, url)"
            )));
        }
    }
    let mut talks = Vec::new();
    let mut rejected = Vec::new();
    for (i, record) in reader.records().enumerate() {
        // Line 1 is the header.
        let line = record
            .as_ref()
            .ok()
            .and_then(|r| r.position())
            .map_or(i as u64 + 2, |p| p.line());
        let parsed = record.map_err(|e| e.to_string()).and_then(|record| {
            let mut row = Row::default();
            for (name, value) in headers.iter().zip(record.iter()) {
                let value = Some(value.to_owned()).filter(|v| !v.is_empty());
                match name.to_ascii_lowercase().as_str() {
                    "id" => row.id = value.map(Value::String),
                    "title" => row.title = value,
                    "speaker" => row.speaker = value,
                    "description" => row.description = value,
                    "topics" => row.topics = value.map(Value::String),
                    "duration" => row.duration = value.map(Value::String),
                    "url" => row.url = value,
                    _ => {}
                }
            }
            talk_of(row)
        });
        match parsed {
            Ok(talk) => talks.push(talk),
            Err(reason) => rejected.push(Rejected {
                record: format!("line {line}"),
                reason,
            }),
        }
    }
    Ok((talks, rejected))
}

fn talk_of(row: Row) -> Result<Talk, String> {
    let id = match row.id {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err("`id` is missing (a string or number)".into()),
    };
    let title = row
        .title
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .ok_or("`title` is missing")?;
    let topics = match row.topics {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => split_topics(&s),
        Some(Value::Array(list)) => list
            .iter()
            .map(|t| {
                t.as_str()
                    .map(str::to_owned)
                    .ok_or("`topics` holds a non-string")
            })
            .collect::<Result<Vec<_>, _>>()?
            .iter()
            .flat_map(|t| split_topics(t))
            .collect(),
        Some(_) => return Err("`topics` is a list of strings".into()),
    };
    let duration_secs = match row.duration {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(
            n.as_f64()
                .filter(|d| *d >= 0.0)
                .ok_or("`duration` is negative")?,
        ),
        Some(Value::String(s)) => Some(parse_duration(&s).ok_or_else(|| {
            format!("`duration` {s:?} is not seconds, HH:MM:SS or an ISO 8601 duration")
        })?),
        Some(_) => return Err("`duration` is seconds or a duration string".into()),
    };
    let url = row
        .url
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty());
    if let Some(u) = &url {
        if reqwest::Url::parse(u).is_err() {
            return Err(format!("`url` {u:?} is not an absolute URL"));
        }
    }
    let clean = |s: Option<String>| s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    Ok(Talk {
        id,
        title,
        speaker: clean(row.speaker),
        description: clean(row.description),
        topics,
        duration_secs,
        url,
    })
}

/// Topics as one string: separated by `;`, `|` or `,`.
fn split_topics(text: &str) -> Vec<String> {
    text.split([';', '|', ','])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Seconds from `754`, `12:34`, `1:02:03` (iTunes style) or `PT12M34S` (ISO 8601).
pub fn parse_duration(text: &str) -> Option<f64> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then_some(seconds);
    }
    if text.contains(':') {
        let mut total = 0.0;
        let parts: Vec<&str> = text.split(':').collect();
        if parts.len() > 3 {
            return None;
        }
        for part in parts {
            let n: f64 = part.trim().parse().ok()?;
            if !(n.is_finite() && n >= 0.0) {
                return None;
            }
            total = total * 60.0 + n;
        }
        return Some(total);
    }
    let rest = text
        .strip_prefix("PT")
        .or_else(|| text.strip_prefix("pt"))?;
    let mut total = 0.0;
    let mut number = String::new();
    for c in rest.chars() {
        match c.to_ascii_uppercase() {
            'H' | 'M' | 'S' => {
                let n: f64 = number.parse().ok()?;
                number.clear();
                total += n * match c.to_ascii_uppercase() {
                    'H' => 3600.0,
                    'M' => 60.0,
                    _ => 1.0,
                };
            }
            d if d.is_ascii_digit() || d == '.' => number.push(d),
            _ => return None,
        }
    }
    number.is_empty().then_some(total)
}

/// The activity id of a talk: the prefix and its id, else its URL, else its id when that
/// is an absolute IRI already (an RSS guid often is).
fn activity_id(talk: &Talk, prefix: Option<&str>) -> Result<String, String> {
    if let Some(prefix) = prefix {
        let id: String = talk
            .id
            .chars()
            .map(|c| if c.is_whitespace() { '-' } else { c })
            .collect();
        return Ok(format!("{prefix}{id}"));
    }
    talk.url
        .clone()
        .or_else(|| {
            reqwest::Url::parse(&talk.id)
                .ok()
                .map(|_| talk.id.clone())
        })
        .ok_or_else(|| {
            "the talk has no URL and its id is not an IRI: set `id_prefix` to make activity ids from talk ids".into()
        })
}

/// The activity definition of a talk.
pub fn definition(talk: &Talk, language: &str) -> Value {
    let mut definition = Map::new();
    definition.insert("name".into(), json!({ language: talk.title }));
    if let Some(description) = &talk.description {
        definition.insert("description".into(), json!({ language: description }));
    }
    definition.insert("type".into(), json!(VIDEO_TYPE));
    if let Some(url) = talk
        .url
        .as_ref()
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
    {
        definition.insert("moreInfo".into(), json!(url));
    }
    let mut extensions = Map::new();
    if let Some(seconds) = talk.duration_secs {
        extensions.insert(LENGTH_EXTENSION.into(), json!(seconds));
    }
    if let Some(speaker) = &talk.speaker {
        extensions.insert(SPEAKER_EXTENSION.into(), json!(speaker));
    }
    if !talk.topics.is_empty() {
        extensions.insert(TOPICS_EXTENSION.into(), json!(talk.topics));
    }
    if !extensions.is_empty() {
        definition.insert("extensions".into(), Value::Object(extensions));
    }
    Value::Object(definition)
}

/// The framework items whose words match `name` as the tagger's text method finds them,
/// each with its confidence (only matches at or above the tenant's text threshold).
pub fn items_named(tagger: &Tagger, name: &str) -> Vec<(String, f64)> {
    // The tagger reads statements: a probe whose object carries only the name asks it
    // exactly what a course titled `name` would be tagged with by text.
    let probe = json!({
        "object": { "id": "urn:lrsgate:probe", "definition": { "name": { "en": name } } }
    });
    tagger
        .tag(&probe, &ActivityFacts::default())
        .into_iter()
        .filter(|t| t.method == Method::Text)
        .map(|t| (t.item, t.confidence))
        .collect()
}

/// A talk's alignments: each item some topic matches, with the best confidence found.
fn topic_alignments(tagger: &Tagger, topics: &[String]) -> Vec<Alignment> {
    let mut best: HashMap<String, f64> = HashMap::new();
    for topic in topics {
        for (item, confidence) in items_named(tagger, topic) {
            let entry = best.entry(item).or_insert(0.0);
            *entry = entry.max(confidence);
        }
    }
    let mut out: Vec<Alignment> = best
        .into_iter()
        .map(|(item, confidence)| Alignment {
            item,
            confidence,
            source: Some(ALIGNMENT_SOURCE.into()),
        })
        .collect();
    out.sort_by(|a, b| a.item.cmp(&b.item));
    out
}

/// Sets `source`'s alignments of each activity, keeping those other sources set (a
/// manual alignment outlives a re-import). Activities whose alignments are unchanged are
/// not written.
pub(crate) async fn put_alignments(
    ctx: &RunContext,
    source: &str,
    aligned: Vec<(String, Vec<Alignment>)>,
) -> Result<(), ConnectorError> {
    let ids: Vec<String> = aligned.iter().map(|(id, _)| id.clone()).collect();
    let existing = ctx
        .lrs
        .store
        .competencies
        .alignments(ctx.tenant, &ids)
        .await?;
    for (id, mine) in aligned {
        let before = existing.get(&id).cloned().unwrap_or_default();
        let mut merged: Vec<Alignment> = before
            .iter()
            .filter(|a| a.source.as_deref() != Some(source))
            .cloned()
            .collect();
        merged.extend(mine);
        if merged != before {
            ctx.lrs
                .store
                .competencies
                .put_alignments(ctx.tenant, &id, merged)
                .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_the_shapes_feeds_use() {
        assert_eq!(parse_duration("754"), Some(754.0));
        assert_eq!(parse_duration("12:34"), Some(754.0));
        assert_eq!(parse_duration("1:02:03"), Some(3723.0));
        assert_eq!(parse_duration("PT12M34S"), Some(754.0));
        assert_eq!(parse_duration("PT1H"), Some(3600.0));
        assert_eq!(parse_duration("twelve minutes"), None);
        assert_eq!(parse_duration("PT12"), None);
        assert_eq!(parse_duration("-3"), None);
    }

    #[test]
    fn itunes_durations_in_minutes_and_seconds_are_read() {
        let feed = br#"<?xml version="1.0"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>T</title>
<item><title>Short</title><link>https://talks.example.com/a</link><itunes:duration>09:05</itunes:duration><itunes:author>A B</itunes:author><category>Coaching</category></item>
<item><title>Long</title><link>https://talks.example.com/b</link><itunes:duration>01:02:03</itunes:duration></item>
</channel></rss>"#;
        let (talks, rejected) = parse(Format::Feed, feed).unwrap();
        assert!(rejected.is_empty());
        let durations: Vec<Option<f64>> = talks.iter().map(|t| t.duration_secs).collect();
        assert_eq!(durations, [Some(545.0), Some(3723.0)]);
        assert_eq!(talks[0].speaker.as_deref(), Some("A B"));
        assert_eq!(talks[0].topics, ["Coaching"]);
        assert!(parse(Format::Feed, b"not a feed").is_err());
    }

    #[test]
    fn the_format_is_guessed_from_type_extension_or_first_character() {
        assert_eq!(guess_format(Some("text/csv"), "x", b"["), Format::Csv);
        assert_eq!(
            guess_format(Some("application/rss+xml; charset=utf-8"), "x", b""),
            Format::Feed
        );
        assert_eq!(
            guess_format(None, "/data/talks.csv", b"id,title"),
            Format::Csv
        );
        assert_eq!(guess_format(None, "talks", b"  [{}]"), Format::Json);
        assert_eq!(guess_format(None, "talks", b"<?xml"), Format::Feed);
        assert_eq!(
            guess_format(Some("application/json"), "talks", b"id,title"),
            Format::Json
        );
    }

    #[test]
    fn json_rows_with_missing_fields_are_rejected_one_by_one() {
        let body = br#"[
            {"id": 1, "title": "Agile teams", "topics": ["agile", "teams"], "duration": "12:00", "url": "https://talks.example.com/1"},
            {"id": 2},
            {"id": 3, "title": "Bad duration", "duration": "long"},
            {"title": "No id"}
        ]"#;
        let (talks, rejected) = parse(Format::Json, body).unwrap();
        assert_eq!(talks.len(), 1);
        assert_eq!(talks[0].duration_secs, Some(720.0));
        assert_eq!(talks[0].topics, ["agile", "teams"]);
        let records: Vec<&str> = rejected.iter().map(|r| r.record.as_str()).collect();
        assert_eq!(records, ["talk 2", "talk 3", "talk 4"]);
        assert!(rejected[0].reason.contains("title"));
        assert!(rejected[1].reason.contains("duration"));
        assert!(parse(Format::Json, b"{\"not\": \"an array\"}").is_err());
    }

    #[test]
    fn csv_rows_name_their_line() {
        let body = b"id,title,speaker,topics,duration,url\n\
            t1,Leading change,Ann Lee,leadership; change,600,https://talks.example.com/t1\n\
            t2,,Bob,,,\n\
            t3,Coaching,Cy,coaching,PT5M,not a url\n";
        let (talks, rejected) = parse(Format::Csv, body).unwrap();
        assert_eq!(talks.len(), 1);
        assert_eq!(talks[0].speaker.as_deref(), Some("Ann Lee"));
        assert_eq!(talks[0].topics, ["leadership", "change"]);
        let records: Vec<&str> = rejected.iter().map(|r| r.record.as_str()).collect();
        assert_eq!(records, ["line 3", "line 4"]);
        assert!(parse(Format::Csv, b"name,speaker\nx,y\n").is_err());
    }

    #[test]
    fn a_definition_carries_the_video_type_and_the_talk_facts() {
        let talk = Talk {
            id: "t1".into(),
            title: "Leading change".into(),
            speaker: Some("Ann Lee".into()),
            description: Some("How leaders bring teams along.".into()),
            topics: vec!["leadership".into()],
            duration_secs: Some(600.0),
            url: Some("https://talks.example.com/t1".into()),
        };
        let d = definition(&talk, "en");
        assert_eq!(d["type"], VIDEO_TYPE);
        assert_eq!(d["name"]["en"], "Leading change");
        assert_eq!(d["moreInfo"], "https://talks.example.com/t1");
        assert_eq!(d["extensions"][LENGTH_EXTENSION], 600.0);
        assert_eq!(d["extensions"][SPEAKER_EXTENSION], "Ann Lee");
        assert_eq!(
            activity_id(&talk, None).unwrap(),
            "https://talks.example.com/t1"
        );
        assert_eq!(
            activity_id(&talk, Some("https://talks.example.com/id/")).unwrap(),
            "https://talks.example.com/id/t1"
        );
        let bare = Talk { url: None, ..talk };
        assert!(activity_id(&bare, None).is_err());
    }
}
