//! Importing LMS exports: completion and score rows of a CSV file, read through a mapping
//! (which column is the learner, the course, the status, the score, the date), become one
//! statement each (completed, passed, failed or progressed).
//!
//! A file is imported whole or not at all: every row is turned into a statement and
//! validated first, and one rejected row stores nothing. Statement ids are derived from the
//! row (UUID v5 of the source's name, learner, course, event and date, never of the file
//! or the tenant), so importing a file twice stores nothing new, and an import killed
//! half-way completes when run again, without duplicates.

use std::collections::HashMap;
use std::io::Read;

use chrono::{
    DateTime, FixedOffset, NaiveDate, NaiveDateTime, Offset as _, SecondsFormat, TimeZone, Utc,
};
use indicatif::ProgressBar;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::ingest::{IngestError, Source};
use crate::lrs::Lrs;
use crate::store::TenantId;
use crate::xapi::XapiVersion;

/// Statements stored per write.
pub const BATCH: usize = 500;

/// The xAPI version imported statements are validated and stored as.
const VERSION: XapiVersion = XapiVersion::V1;

/// How the columns of one LMS's export map onto statements (a TOML file).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The system the export comes from (e.g. `moodle.example.edu`). Part of every
    /// statement id, so the same row exported twice gives the same statement.
    pub source: String,
    /// `context.platform` of the statements (e.g. `Moodle`).
    #[serde(default)]
    pub platform: Option<String>,
    /// The field separator (`,` unless set; `;` and tab are common in European exports).
    #[serde(default = "default_delimiter")]
    pub delimiter: char,
    /// The language tag of course titles and verb displays.
    #[serde(default = "default_language")]
    pub language: String,
    pub learner: LearnerMapping,
    pub course: CourseMapping,
    pub status: StatusMapping,
    #[serde(default)]
    pub score: Option<ScoreMapping>,
    pub date: DateMapping,
    /// Further columns, each kept as a context extension.
    #[serde(default)]
    pub extras: Vec<ExtraMapping>,
}

fn default_delimiter() -> char {
    ','
}

fn default_language() -> String {
    "en-US".into()
}

/// The learner: an e-mail column (an `mbox`), or a user id column with the LMS's address
/// (an `account`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LearnerMapping {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
    /// The `account.homePage` for `user_id` (the LMS's address).
    #[serde(default)]
    pub home_page: Option<String>,
    /// A column with the learner's display name.
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CourseMapping {
    /// The column with the course's id.
    pub id: String,
    /// Put before the (percent-encoded) id to make the activity IRI; without it the
    /// column must hold IRIs.
    #[serde(default)]
    pub iri_prefix: Option<String>,
    /// The column with the course's title.
    #[serde(default)]
    pub title: Option<String>,
    /// The activity type (default `http://adlnet.gov/expapi/activities/course`).
    #[serde(default = "default_course_type")]
    pub activity_type: String,
}

fn default_course_type() -> String {
    "http://adlnet.gov/expapi/activities/course".into()
}

/// Which values of the status column mean what (compared trimmed, ignoring case). A row
/// whose status is in none of the lists is rejected; `skip` lists values that are not
/// learning records (e.g. `Not started`, `Registered`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StatusMapping {
    pub column: String,
    #[serde(default)]
    pub completed: Vec<String>,
    #[serde(default)]
    pub passed: Vec<String>,
    #[serde(default)]
    pub failed: Vec<String>,
    #[serde(default)]
    pub in_progress: Vec<String>,
    #[serde(default)]
    pub skip: Vec<String>,
}

/// The score: a raw column with a maximum (a column or a constant) and an optional
/// minimum, or a scaled column (0 to 1, or a percentage with `percent`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreMapping {
    #[serde(default)]
    pub raw: Option<String>,
    #[serde(default)]
    pub max: Option<String>,
    #[serde(default)]
    pub max_value: Option<f64>,
    #[serde(default)]
    pub min_value: Option<f64>,
    #[serde(default)]
    pub scaled: Option<String>,
    /// The scaled column holds percentages (0 to 100).
    #[serde(default)]
    pub percent: bool,
}

/// The completion date: its column and format (`rfc3339`, or a chrono `strftime` pattern
/// such as `%d/%m/%Y %H:%M`), read in `timezone` (an offset such as `+02:00`; UTC when
/// unset) when the value carries none.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DateMapping {
    pub column: String,
    pub format: String,
    #[serde(default)]
    pub timezone: Option<String>,
}

/// A column kept as a context extension (its value as a string; empty values are left out).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraMapping {
    pub column: String,
    /// The extension's IRI.
    pub extension: String,
}

/// What a row records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    Completed,
    Passed,
    Failed,
    Progressed,
}

impl Event {
    fn verb(self) -> (&'static str, &'static str) {
        match self {
            Event::Completed => ("http://adlnet.gov/expapi/verbs/completed", "completed"),
            Event::Passed => ("http://adlnet.gov/expapi/verbs/passed", "passed"),
            Event::Failed => ("http://adlnet.gov/expapi/verbs/failed", "failed"),
            Event::Progressed => ("http://adlnet.gov/expapi/verbs/progressed", "progressed"),
        }
    }
}

/// A row that cannot be imported, by its line in the file (the header is line 1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowError {
    pub line: u64,
    pub reason: String,
}

/// What an import did (or, with `dry_run`, would do).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportReport {
    /// Data rows read.
    pub rows: u64,
    /// Statements made from them (stored unless `dry_run` or rows were rejected).
    pub statements: u64,
    /// Rows whose status is mapped to `skip`.
    pub skipped: u64,
    /// Rows repeating an earlier row exactly (same statement).
    pub duplicates: u64,
    pub rejected: Vec<RowError>,
    /// Whether the statements were stored.
    pub stored: bool,
    pub dry_run: bool,
}

impl ImportReport {
    /// The report as printed by `lrsgate import csv`.
    pub fn render(&self) -> String {
        let mut out = format!(
            "{} rows: {} statements, {} skipped, {} duplicate rows, {} rejected\n",
            self.rows,
            self.statements,
            self.skipped,
            self.duplicates,
            self.rejected.len()
        );
        for r in &self.rejected {
            out.push_str(&format!("  line {}: {}\n", r.line, r.reason));
        }
        out.push_str(if self.stored {
            "Stored (statements already present were left as they were).\n"
        } else if !self.rejected.is_empty() {
            "Nothing was stored: fix the rejected rows (or the mapping) and run again.\n"
        } else if self.dry_run {
            "Dry run: every row is valid; nothing was stored.\n"
        } else {
            "Nothing to store.\n"
        });
        out
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The mapping cannot work with this file (a field or column is wrong).
    #[error("mapping: {0}")]
    Mapping(String),
    #[error("reading the CSV file: {0}")]
    Csv(String),
    /// Storing a batch failed; statements of earlier batches are stored, and running the
    /// import again completes it.
    #[error("storing statements (rows up to line {line} are stored; run the import again to complete it): {source}")]
    Store {
        line: u64,
        #[source]
        source: IngestError,
    },
}

impl Mapping {
    /// Reads a mapping from TOML; errors name the field.
    pub fn from_toml(text: &str) -> Result<Self, ImportError> {
        let mapping: Mapping =
            toml::from_str(text).map_err(|e| ImportError::Mapping(e.to_string()))?;
        mapping.check()?;
        Ok(mapping)
    }

    fn check(&self) -> Result<(), ImportError> {
        let bad = |m: &str| Err(ImportError::Mapping(m.to_owned()));
        if self.source.trim().is_empty() {
            return bad("source: name the system the export comes from");
        }
        match (
            &self.learner.email,
            &self.learner.user_id,
            &self.learner.home_page,
        ) {
            (Some(_), None, _) | (None, Some(_), Some(_)) => {}
            (Some(_), Some(_), _) => {
                return bad(
                    "learner: give either `email` or `user_id` (with `home_page`), not both",
                )
            }
            (None, Some(_), None) => return bad(
                "learner.home_page: a `user_id` needs the LMS's address (the account's homePage)",
            ),
            (None, None, _) => return bad("learner: `email` or `user_id` is required"),
        }
        let s = &self.status;
        if s.completed.is_empty()
            && s.passed.is_empty()
            && s.failed.is_empty()
            && s.in_progress.is_empty()
        {
            return bad(
                "status: map at least one value to completed, passed, failed or in_progress",
            );
        }
        if let Some(score) = &self.score {
            if score.raw.is_none() && score.scaled.is_none() {
                return bad("score: give a `raw` or a `scaled` column");
            }
            if score.raw.is_some() && score.max.is_some() && score.max_value.is_some() {
                return bad("score: give `max` (a column) or `max_value`, not both");
            }
        }
        if let Some(tz) = &self.date.timezone {
            parse_offset(tz)?;
        }
        Ok(())
    }

    /// Every column the mapping names, with the field naming it.
    fn columns(&self) -> Vec<(&'static str, &str)> {
        let mut named: Vec<(&'static str, &Option<String>)> = vec![
            ("learner.email", &self.learner.email),
            ("learner.user_id", &self.learner.user_id),
            ("learner.name", &self.learner.name),
            ("course.title", &self.course.title),
        ];
        if let Some(score) = &self.score {
            named.push(("score.raw", &score.raw));
            named.push(("score.max", &score.max));
            named.push(("score.scaled", &score.scaled));
        }
        let mut out: Vec<(&'static str, &str)> = named
            .into_iter()
            .filter_map(|(field, c)| c.as_deref().map(|c| (field, c)))
            .collect();
        out.push(("course.id", self.course.id.as_str()));
        out.push(("status.column", self.status.column.as_str()));
        out.push(("date.column", self.date.column.as_str()));
        for e in &self.extras {
            out.push(("extras.column", e.column.as_str()));
        }
        out
    }
}

fn parse_offset(raw: &str) -> Result<FixedOffset, ImportError> {
    if raw.eq_ignore_ascii_case("utc") || raw == "Z" {
        return Ok(Utc.fix());
    }
    DateTime::parse_from_str(&format!("2000-01-01T00:00:00{raw}"), "%Y-%m-%dT%H:%M:%S%:z")
        .map(|d| *d.offset())
        .map_err(|_| {
            ImportError::Mapping(format!(
                "date.timezone: `{raw}` is not an offset such as +02:00 or UTC"
            ))
        })
}

/// Who stores imported statements: an Agent naming the import and its source.
pub fn authority(mapping: &Mapping) -> Value {
    json!({
        "objectType": "Agent",
        "name": format!("CSV import from {}", mapping.source),
        "account": {"homePage": "https://lrsgate.invalid/connectors", "name": format!("csv-import:{}", mapping.source)},
    })
}

/// Where and how an import stores.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub tenant: TenantId,
    pub authority: &'a Value,
    /// Validate every row (the statements included) and report, storing nothing.
    pub dry_run: bool,
}

/// Imports a CSV export: every row turned into a statement and validated, then, when no
/// row is rejected (and not `dry_run`), stored in batches. `progress` counts rows read,
/// then statements stored.
pub async fn import(
    lrs: &Lrs,
    target: Target<'_>,
    mapping: &Mapping,
    csv: impl Read,
    progress: &ProgressBar,
) -> Result<ImportReport, ImportError> {
    let mut report = ImportReport {
        dry_run: target.dry_run,
        ..ImportReport::default()
    };
    let rows = Rows::read(mapping, csv)?;
    progress.set_length(rows.records.len() as u64);
    progress.set_message("checking rows");
    let offset = match &mapping.date.timezone {
        Some(tz) => parse_offset(tz)?,
        None => Utc.fix(),
    };
    // Statements by id, in file order, with the line each came from.
    let mut statements: Vec<(u64, Value)> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for record in &rows.records {
        progress.inc(1);
        report.rows += 1;
        let (line, fields) = match record {
            Ok(r) => r,
            Err(e) => {
                report.rejected.push(e.clone());
                continue;
            }
        };
        let row = Row {
            fields,
            header: &rows.header,
        };
        match row_statement(mapping, &row, offset) {
            Ok(None) => report.skipped += 1,
            Ok(Some(statement)) => {
                if let Err(v) = lrs.validator.statement(VERSION, &statement) {
                    report.rejected.push(RowError {
                        line: *line,
                        reason: format!("{} ({}): {}", v.pointer, v.rule, v.message),
                    });
                    continue;
                }
                let id = statement["id"].as_str().unwrap_or_default().to_owned();
                match by_id.get(&id) {
                    Some(&at) if statements[at].1 == statement => report.duplicates += 1,
                    Some(&at) => report.rejected.push(RowError {
                        line: *line,
                        reason: format!(
                            "records the same learner, course, event and date as line {} with other values",
                            statements[at].0
                        ),
                    }),
                    None => {
                        by_id.insert(id, statements.len());
                        statements.push((*line, statement));
                    }
                }
            }
            Err(reason) => report.rejected.push(RowError {
                line: *line,
                reason,
            }),
        }
    }
    report.statements = statements.len() as u64;
    if !report.rejected.is_empty() || target.dry_run || statements.is_empty() {
        return Ok(report);
    }
    progress.set_message("storing");
    progress.set_position(0);
    progress.set_length(statements.len() as u64);
    let source = Source {
        tenant: target.tenant,
        authority: target.authority,
        version: VERSION,
        may_define: true,
    };
    for chunk in statements.chunks(BATCH) {
        let last_line = chunk.last().map_or(0, |(line, _)| *line);
        let batch: Vec<Value> = chunk.iter().map(|(_, s)| s.clone()).collect();
        lrs.ingest
            .statements(source, batch, Vec::new(), true)
            .await
            .map_err(|source| ImportError::Store {
                line: chunk.first().map_or(0, |(line, _)| *line).max(1) - 1,
                source,
            })?;
        progress.inc(chunk.len() as u64);
        tracing::debug!(through_line = last_line, "imported a batch");
    }
    report.stored = true;
    Ok(report)
}

/// The file's header and its records (or why a record could not be read), by line.
struct Rows {
    header: HashMap<String, usize>,
    records: Vec<Result<(u64, Vec<String>), RowError>>,
}

impl Rows {
    fn read(mapping: &Mapping, csv: impl Read) -> Result<Self, ImportError> {
        let delimiter = u8::try_from(mapping.delimiter).map_err(|_| {
            ImportError::Mapping(format!(
                "delimiter: `{}` is not a single-byte character",
                mapping.delimiter
            ))
        })?;
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .trim(csv::Trim::All)
            .from_reader(csv);
        let header: HashMap<String, usize> = reader
            .headers()
            .map_err(|e| ImportError::Csv(e.to_string()))?
            .iter()
            .enumerate()
            .map(|(i, h)| (h.trim_start_matches('\u{feff}').to_owned(), i))
            .collect();
        let missing: Vec<String> = mapping
            .columns()
            .into_iter()
            .filter(|(_, c)| !header.contains_key(*c))
            .map(|(field, c)| format!("{field} names column `{c}`"))
            .collect();
        if !missing.is_empty() {
            let mut found: Vec<&String> = header.keys().collect();
            found.sort();
            return Err(ImportError::Mapping(format!(
                "the file has no such column: {} (its columns: {})",
                missing.join("; "),
                found
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let mut records = Vec::new();
        let mut record = csv::StringRecord::new();
        loop {
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    let line = record.position().map_or(0, |p| p.line());
                    if record.iter().all(str::is_empty) {
                        continue;
                    }
                    records.push(Ok((line, record.iter().map(str::to_owned).collect())));
                }
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    let reason = match e.kind() {
                        csv::ErrorKind::UnequalLengths {
                            expected_len, len, ..
                        } => format!("has {len} fields where the header has {expected_len}"),
                        csv::ErrorKind::Utf8 { .. } => "is not valid UTF-8".to_owned(),
                        _ => e.to_string(),
                    };
                    records.push(Err(RowError { line, reason }));
                    // An I/O error ends the file; other errors concern one record.
                    if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                        break;
                    }
                }
            }
        }
        Ok(Rows { header, records })
    }
}

struct Row<'a> {
    fields: &'a [String],
    header: &'a HashMap<String, usize>,
}

impl Row<'_> {
    /// The trimmed value of a column; `None` when empty.
    fn get(&self, column: &str) -> Option<&str> {
        let value = self.header.get(column).and_then(|&i| self.fields.get(i))?;
        let value = value.trim();
        (!value.is_empty()).then_some(value)
    }

    fn opt(&self, column: &Option<String>) -> Option<&str> {
        column.as_deref().and_then(|c| self.get(c))
    }
}

/// Characters a course id may not carry into an IRI as they are.
const IRI_ESCAPED: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// The statement a row records, `None` for a row to skip, or why it cannot be imported.
fn row_statement(
    mapping: &Mapping,
    row: &Row<'_>,
    offset: FixedOffset,
) -> Result<Option<Value>, String> {
    let status = row
        .get(&mapping.status.column)
        .ok_or_else(|| format!("status: column `{}` is empty", mapping.status.column))?;
    let Some(event) = event_of(&mapping.status, status)? else {
        return Ok(None);
    };
    let (actor, learner_key) = actor(mapping, row)?;
    let course_id = row
        .get(&mapping.course.id)
        .ok_or_else(|| format!("course: column `{}` is empty", mapping.course.id))?;
    let iri = match &mapping.course.iri_prefix {
        Some(prefix) => format!("{prefix}{}", utf8_percent_encode(course_id, IRI_ESCAPED)),
        None => course_id.to_owned(),
    };
    let timestamp = match row.get(&mapping.date.column) {
        Some(raw) => Some(parse_date(&mapping.date, raw, offset)?),
        None if event == Event::Progressed => None,
        None => {
            return Err(format!(
                "date: column `{}` is empty (a {} row needs its date)",
                mapping.date.column,
                event.verb().1
            ))
        }
    };
    let (verb_id, verb_name) = event.verb();
    let lang = mapping.language.as_str();
    let mut definition = Map::new();
    if let Some(title) = row.opt(&mapping.course.title) {
        definition.insert("name".into(), json!({ lang: title }));
    }
    definition.insert("type".into(), json!(mapping.course.activity_type));
    let mut result = Map::new();
    match event {
        Event::Completed => {
            result.insert("completion".into(), json!(true));
        }
        Event::Passed => {
            result.insert("completion".into(), json!(true));
            result.insert("success".into(), json!(true));
        }
        Event::Failed => {
            result.insert("completion".into(), json!(true));
            result.insert("success".into(), json!(false));
        }
        Event::Progressed => {
            result.insert("completion".into(), json!(false));
        }
    }
    if let Some(score) = &mapping.score {
        if let Some(score) = score_of(score, row)? {
            result.insert("score".into(), score);
        }
    }
    let mut statement = json!({
        "actor": actor,
        "verb": {"id": verb_id, "display": { lang: verb_name }},
        "object": {"objectType": "Activity", "id": iri, "definition": definition},
        "result": result,
    });
    let mut context = Map::new();
    if let Some(platform) = &mapping.platform {
        context.insert("platform".into(), json!(platform));
    }
    let extensions: Map<String, Value> = mapping
        .extras
        .iter()
        .filter_map(|e| row.get(&e.column).map(|v| (e.extension.clone(), json!(v))))
        .collect();
    if !extensions.is_empty() {
        context.insert("extensions".into(), Value::Object(extensions));
    }
    if !context.is_empty() {
        statement["context"] = Value::Object(context);
    }
    let date_key = timestamp.clone().unwrap_or_default();
    if let Some(t) = timestamp {
        statement["timestamp"] = json!(t);
    }
    let key = [
        mapping.source.as_str(),
        &learner_key,
        &iri,
        verb_id,
        &date_key,
    ]
    .join("\u{1f}");
    statement["id"] = json!(statement_id(&key));
    Ok(Some(statement))
}

/// The id of a row's statement: a UUID v5 of its key in the CSV import's namespace.
fn statement_id(key: &str) -> String {
    let namespace = Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        b"https://lrsgate.invalid/connectors/csv-import",
    );
    Uuid::new_v5(&namespace, key.as_bytes()).to_string()
}

fn event_of(mapping: &StatusMapping, status: &str) -> Result<Option<Event>, String> {
    let is = |values: &[String]| values.iter().any(|v| v.trim().eq_ignore_ascii_case(status));
    let event = if is(&mapping.passed) {
        Event::Passed
    } else if is(&mapping.failed) {
        Event::Failed
    } else if is(&mapping.completed) {
        Event::Completed
    } else if is(&mapping.in_progress) {
        Event::Progressed
    } else if is(&mapping.skip) {
        return Ok(None);
    } else {
        let known: Vec<&String> = mapping
            .completed
            .iter()
            .chain(&mapping.passed)
            .chain(&mapping.failed)
            .chain(&mapping.in_progress)
            .chain(&mapping.skip)
            .collect();
        return Err(format!(
            "status: `{status}` is not a mapped status (mapped: {})",
            known
                .iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    };
    Ok(Some(event))
}

/// The actor and the learner's part of the statement id.
fn actor(mapping: &Mapping, row: &Row<'_>) -> Result<(Value, String), String> {
    let l = &mapping.learner;
    let mut actor = match (&l.email, &l.user_id) {
        (Some(column), _) => {
            let email = row
                .get(column)
                .ok_or_else(|| format!("learner: column `{column}` is empty"))?
                .to_ascii_lowercase();
            let valid = email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace)
            });
            if !valid {
                return Err(format!("learner: `{email}` is not an e-mail address"));
            }
            json!({"objectType": "Agent", "mbox": format!("mailto:{email}")})
        }
        (None, Some(column)) => {
            let id = row
                .get(column)
                .ok_or_else(|| format!("learner: column `{column}` is empty"))?;
            json!({"objectType": "Agent", "account": {
                "homePage": l.home_page.clone().unwrap_or_default(),
                "name": id,
            }})
        }
        (None, None) => return Err("learner: no column mapped".into()),
    };
    let key = match (actor.get("mbox"), actor.get("account")) {
        (Some(mbox), _) => format!("mbox|{}", mbox.as_str().unwrap_or_default()),
        (None, Some(account)) => format!(
            "account|{}|{}",
            account["homePage"].as_str().unwrap_or_default(),
            account["name"].as_str().unwrap_or_default()
        ),
        _ => String::new(),
    };
    if let Some(name) = row.opt(&l.name) {
        actor["name"] = json!(name);
    }
    Ok((actor, key))
}

fn number(field: &str, raw: &str) -> Result<f64, String> {
    let cleaned = raw.trim().trim_end_matches('%').trim();
    cleaned
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .ok_or_else(|| format!("{field}: `{raw}` is not a number"))
}

/// The row's score, if its score columns are filled.
fn score_of(mapping: &ScoreMapping, row: &Row<'_>) -> Result<Option<Value>, String> {
    let mut score = Map::new();
    if let Some(raw) = row.opt(&mapping.raw) {
        let raw = number("score.raw", raw)?;
        let max = match (row.opt(&mapping.max), mapping.max_value) {
            (Some(m), _) => Some(number("score.max", m)?),
            (None, m) => m,
        };
        let min = mapping.min_value;
        score.insert("raw".into(), json!(raw));
        if let Some(min) = min {
            score.insert("min".into(), json!(min));
        }
        if let Some(max) = max {
            score.insert("max".into(), json!(max));
            let low = min.unwrap_or(0.0);
            if mapping.scaled.is_none() && max > low {
                score.insert("scaled".into(), json!(round4((raw - low) / (max - low))));
            }
        }
    }
    if let Some(scaled) = row.opt(&mapping.scaled) {
        let mut value = number("score.scaled", scaled)?;
        if mapping.percent {
            value /= 100.0;
        }
        score.insert("scaled".into(), json!(round4(value)));
    }
    Ok((!score.is_empty()).then_some(Value::Object(score)))
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// A date as an RFC 3339 timestamp in UTC (milliseconds).
fn parse_date(mapping: &DateMapping, raw: &str, offset: FixedOffset) -> Result<String, String> {
    let format = mapping.format.as_str();
    let parsed: Option<DateTime<FixedOffset>> = if format.eq_ignore_ascii_case("rfc3339") {
        DateTime::parse_from_rfc3339(raw).ok()
    } else {
        DateTime::parse_from_str(raw, format)
            .ok()
            .or_else(|| {
                NaiveDateTime::parse_from_str(raw, format)
                    .ok()
                    .and_then(|n| offset.from_local_datetime(&n).single())
            })
            .or_else(|| {
                NaiveDate::parse_from_str(raw, format)
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .and_then(|n| offset.from_local_datetime(&n).single())
            })
    };
    parsed
        .map(|d| {
            d.with_timezone(&Utc)
                .to_rfc3339_opts(SecondsFormat::Millis, true)
        })
        .ok_or_else(|| format!("date: `{raw}` does not match the format `{format}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping() -> Mapping {
        Mapping::from_toml(
            r#"
source = "lms.example.com"
[learner]
email = "Email"
[course]
id = "Course"
iri_prefix = "https://lms.example.com/course/"
[status]
column = "Status"
completed = ["Complete"]
skip = ["Not started"]
[date]
column = "Date"
format = "%d/%m/%Y %H:%M"
timezone = "+02:00"
"#,
        )
        .expect("mapping")
    }

    fn row_of<'a>(header: &'a HashMap<String, usize>, fields: &'a [String]) -> Row<'a> {
        Row { fields, header }
    }

    fn header() -> HashMap<String, usize> {
        ["Email", "Course", "Status", "Date"]
            .iter()
            .enumerate()
            .map(|(i, h)| (h.to_string(), i))
            .collect()
    }

    fn fields(values: [&str; 4]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn a_row_becomes_a_statement_with_an_id_of_its_content() {
        let (m, h) = (mapping(), header());
        let f = fields([
            "A@Example.com",
            "Safety 101",
            "complete",
            "06/10/2023 10:32",
        ]);
        let s = row_statement(&m, &row_of(&h, &f), Utc.fix())
            .expect("valid")
            .expect("a statement");
        assert_eq!(s["actor"]["mbox"], "mailto:a@example.com");
        assert_eq!(
            s["object"]["id"],
            "https://lms.example.com/course/Safety%20101"
        );
        assert_eq!(s["verb"]["id"], "http://adlnet.gov/expapi/verbs/completed");
        assert_eq!(s["timestamp"], "2023-10-06T10:32:00.000Z");
        let again = row_statement(&m, &row_of(&h, &f), Utc.fix()).expect("valid");
        assert_eq!(again.expect("statement")["id"], s["id"]);
        let f2 = fields([
            "a@example.com",
            "Safety 101",
            "Complete",
            "07/10/2023 10:32",
        ]);
        let other = row_statement(&m, &row_of(&h, &f2), Utc.fix()).expect("valid");
        assert_ne!(other.expect("statement")["id"], s["id"]);
    }

    #[test]
    fn the_mapping_timezone_applies_to_dates_without_one() {
        let m = mapping();
        let offset = parse_offset("+02:00").expect("offset");
        assert_eq!(
            parse_date(&m.date, "06/10/2023 10:32", offset).as_deref(),
            Ok("2023-10-06T08:32:00.000Z")
        );
        assert!(parse_date(&m.date, "2023-10-06", offset).is_err());
    }

    #[test]
    fn rows_are_rejected_with_the_reason() {
        let (m, h) = (mapping(), header());
        let bad_status = fields(["a@example.com", "C1", "Enrolled", "06/10/2023 10:32"]);
        let e = row_statement(&m, &row_of(&h, &bad_status), Utc.fix()).expect_err("rejected");
        assert!(e.contains("`Enrolled` is not a mapped status"), "{e}");
        let no_learner = fields(["", "C1", "Complete", "06/10/2023 10:32"]);
        let e = row_statement(&m, &row_of(&h, &no_learner), Utc.fix()).expect_err("rejected");
        assert!(e.starts_with("learner:"), "{e}");
        let skipped = fields(["a@example.com", "C1", "Not started", ""]);
        assert_eq!(
            row_statement(&m, &row_of(&h, &skipped), Utc.fix()),
            Ok(None)
        );
    }

    #[test]
    fn mappings_name_the_field_that_is_wrong() {
        let e =
            Mapping::from_toml("source = \"x\"\n[learner]\nuser_id = \"U\"\n").expect_err("bad");
        assert!(
            e.to_string().contains("course") || e.to_string().contains("learner"),
            "{e}"
        );
        let text = r#"
source = "x"
[learner]
user_id = "U"
[course]
id = "C"
[status]
column = "S"
completed = ["done"]
[date]
column = "D"
format = "rfc3339"
"#;
        let e = Mapping::from_toml(text).expect_err("no home_page");
        assert!(e.to_string().contains("learner.home_page"), "{e}");
    }

    #[test]
    fn scores_are_scaled_from_raw_and_max() {
        let score = ScoreMapping {
            raw: Some("R".into()),
            max: None,
            max_value: Some(80.0),
            min_value: None,
            scaled: None,
            percent: false,
        };
        let header: HashMap<String, usize> = [("R".to_string(), 0)].into_iter().collect();
        let f = vec!["60".to_string()];
        let s = score_of(&score, &row_of(&header, &f))
            .expect("ok")
            .expect("score");
        assert_eq!(s, json!({"raw": 60.0, "max": 80.0, "scaled": 0.75}));
    }
}
