//! xAPI timestamps: parsing the ISO 8601 forms clients send and formatting the ones we assign.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, Utc};

/// Parses an ISO 8601 combined date and time. The offset may be `Z`, `±hh:mm`, `±hhmm` or
/// `±hh`; a missing offset is read as UTC. The "unknown offset" `-00:00` is refused, as xAPI
/// requires.
pub fn parse_timestamp(raw: &str) -> Option<DateTime<FixedOffset>> {
    let (date, rest) = raw.split_once('T')?;
    let date = parse_date(date)?;
    let (time, offset) = split_offset(rest)?;
    let time = parse_time(time)?;
    NaiveDateTime::new(date, time)
        .and_local_timezone(offset)
        .single()
}

/// A calendar date in ISO 8601's extended form, `YYYY-MM-DD`: four digits of year and two
/// each of month and day, as the standard requires (`2024-1-05` is not one).
fn parse_date(date: &str) -> Option<NaiveDate> {
    let b = date.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        b.get(range)?.iter().try_fold(0, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i32::try_from(digits(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, digits(5..7)?, digits(8..10)?)
}

fn split_offset(rest: &str) -> Option<(&str, FixedOffset)> {
    if let Some(time) = rest.strip_suffix('Z').or_else(|| rest.strip_suffix('z')) {
        return Some((time, FixedOffset::east_opt(0)?));
    }
    let Some(pos) = rest.rfind(['+', '-']) else {
        return Some((rest, FixedOffset::east_opt(0)?));
    };
    let (time, offset) = rest.split_at(pos);
    let negative = offset.starts_with('-');
    let digits: String = offset[1..].chars().filter(|c| *c != ':').collect();
    let shape_ok = match offset.len() {
        3 => true,                         // ±hh
        5 => !offset.contains(':'),        // ±hhmm
        6 => offset.as_bytes()[3] == b':', // ±hh:mm
        _ => false,
    };
    if !shape_ok || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits.get(0..2)?.parse().ok()?;
    let minutes: i32 = digits.get(2..4).unwrap_or("0").parse().ok()?;
    if hours > 23 || minutes > 59 || (negative && hours == 0 && minutes == 0) {
        return None;
    }
    let seconds = (hours * 3600 + minutes * 60) * if negative { -1 } else { 1 };
    Some((time, FixedOffset::east_opt(seconds)?))
}

fn parse_time(time: &str) -> Option<NaiveTime> {
    let (hms, fraction) = match time.split_once(['.', ',']) {
        Some((hms, f)) => (hms, Some(f)),
        None => (time, None),
    };
    let parts: Vec<&str> = hms.split(':').collect();
    if parts
        .iter()
        .any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let (h, m, s) = match parts.as_slice() {
        [h, m, s] => (h.parse().ok()?, m.parse().ok()?, s.parse().ok()?),
        [h, m] if fraction.is_none() => (h.parse().ok()?, m.parse().ok()?, 0),
        _ => return None,
    };
    let nanos = match fraction {
        None => 0,
        Some(f) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => {
            let mut digits: String = f.chars().take(9).collect();
            while digits.len() < 9 {
                digits.push('0');
            }
            digits.parse().ok()?
        }
        Some(_) => return None,
    };
    NaiveTime::from_hms_nano_opt(h, m, s, nanos)
}

/// Unix milliseconds in the form of [`format_timestamp`].
pub fn format_millis(millis: i64) -> String {
    DateTime::from_timestamp_millis(millis).map_or_else(String::new, format_timestamp)
}

/// The `stored`/`timestamp` form we write: UTC, millisecond precision, `Z`.
pub fn format_timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The same instant in UTC when `raw` has another offset (sub-second digits kept, in
/// groups of three); `None` when it is already in UTC or is not a timestamp.
pub fn in_utc(raw: &str) -> Option<String> {
    let at = parse_timestamp(raw)?;
    (at.offset().local_minus_utc() != 0).then(|| {
        at.with_timezone(&Utc)
            .to_rfc3339_opts(SecondsFormat::AutoSi, true)
    })
}

/// Parses a `since`/`until` query parameter.
pub fn parse_query_timestamp(raw: &str) -> Option<DateTime<Utc>> {
    parse_timestamp(raw).map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_offsets_convert_to_utc() {
        assert_eq!(
            in_utc("2024-05-01T14:30:00.250+02:00").as_deref(),
            Some("2024-05-01T12:30:00.250Z")
        );
        assert_eq!(
            in_utc("2024-05-01T14:30:00.123456-01:30").as_deref(),
            Some("2024-05-01T16:00:00.123456Z")
        );
        assert_eq!(in_utc("2024-05-01T14:30:00Z"), None);
        assert_eq!(in_utc("2024-05-01T14:30:00+00:00"), None);
    }

    #[test]
    fn accepts_iso8601_forms() {
        for t in [
            "2013-05-18T05:32:34.804Z",
            "2013-05-18T05:32:34Z",
            "2013-05-18T05:32:34.804+00:00",
            "2013-05-18T05:32:34.804-05:00",
            "2013-05-18T05:32:34+0530",
            "2013-05-18T05:32:34+01",
            "2013-05-18T05:32:34.123456789Z",
            "2013-05-18T05:32Z",
            "2013-05-18T05:32:34",
        ] {
            assert!(parse_timestamp(t).is_some(), "{t}");
        }
    }

    #[test]
    fn rejects_unknown_offset_and_garbage() {
        for t in [
            "2013-05-18T05:32:34.804-00:00",
            "2013-05-18T05:32:34-0000",
            "2013-05-18T05:32:34-00",
            "2013-05-18",
            "2013-05-18 05:32:34Z",
            "2013-13-18T05:32:34Z",
            "2013-05-18T25:32:34Z",
            "2013-05-18T05:32:34.Z",
            "not a time",
            "2013-05-18T05:32:34+24:00",
            // xAPI 1.0.3 Data 4.5: ISO 8601, whose extended date has two digits of month and
            // of day.
            "2013-5-18T05:32:34Z",
            "2013-05-8T05:32:34Z",
            "02013-05-18T05:32:34Z",
            "+2013-05-18T05:32:34Z",
            "2013-02-30T05:32:34Z",
        ] {
            assert!(parse_timestamp(t).is_none(), "{t}");
        }
    }

    #[test]
    fn formats_utc_milliseconds() {
        let t = parse_timestamp("2013-05-18T05:32:34.80412+02:00").map(|t| t.with_timezone(&Utc));
        assert_eq!(
            t.map(format_timestamp).as_deref(),
            Some("2013-05-18T03:32:34.804Z")
        );
    }
}
