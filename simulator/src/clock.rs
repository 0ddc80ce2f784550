//! OrderDesk timestamps: `"YYYY-MM-DD HH:MM:SS"` in UTC, handled as Unix seconds.
//!
//! A few dozen lines of calendar arithmetic (Howard Hinnant's `days_from_civil`) spare
//! the crate a date-time dependency.

use std::time::{SystemTime, UNIX_EPOCH};

const SECS_PER_DAY: i64 = 86_400;

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number from [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Unix seconds of a UTC date and time.
pub fn unix_from_parts(year: i64, month: u32, day: u32, h: u32, m: u32, s: u32) -> i64 {
    days_from_civil(year, month, day) * SECS_PER_DAY + i64::from(h * 3600 + m * 60 + s)
}

/// `"YYYY-MM-DD HH:MM:SS"` of Unix seconds.
pub fn format_datetime(unix: i64) -> String {
    let (year, month, day) = civil_from_days(unix.div_euclid(SECS_PER_DAY));
    let secs = unix.rem_euclid(SECS_PER_DAY);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// `"YYYY-MM-DD"` of Unix seconds.
pub fn format_date(unix: i64) -> String {
    format_datetime(unix)[..10].to_owned()
}

/// A parsed query or stored timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed {
    pub unix: i64,
    /// The text was a bare `YYYY-MM-DD` (so an end bound should cover the whole day).
    pub date_only: bool,
}

/// Parse `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS` (a `T` separator is tolerated too).
pub fn parse(text: &str) -> Option<Parsed> {
    let text = text.trim();
    let (date, time) = match text.len() {
        10 => (text, None),
        19 => (&text[..10], Some(&text[11..])),
        _ => return None,
    };
    if let Some(sep) = text.as_bytes().get(10)
        && !matches!(sep, b' ' | b'T')
    {
        return None;
    }
    let year = number(date, 0, 4)? as i64;
    let month = number(date, 5, 7)?;
    let day = number(date, 8, 10)?;
    if date.as_bytes()[4] != b'-' || date.as_bytes()[7] != b'-' {
        return None;
    }
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let (h, m, s) = match time {
        None => (0, 0, 0),
        Some(t) => {
            if t.as_bytes()[2] != b':' || t.as_bytes()[5] != b':' {
                return None;
            }
            let (h, m, s) = (number(t, 0, 2)?, number(t, 3, 5)?, number(t, 6, 8)?);
            if h > 23 || m > 59 || s > 59 {
                return None;
            }
            (h, m, s)
        }
    };
    Some(Parsed {
        unix: unix_from_parts(year, month, day, h, m, s),
        date_only: time.is_none(),
    })
}

fn number(text: &str, from: usize, to: usize) -> Option<u32> {
    let digits = text.get(from..to)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Wall-clock now, in Unix seconds. Only stamps records created at run time; seed data
/// never depends on it.
pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Wall-clock now as an OrderDesk timestamp.
pub fn now_string() -> String {
    format_datetime(now_unix())
}

/// A moment of the simulator's own records (the request log, webhook deliveries): an
/// OrderDesk timestamp with milliseconds, `"YYYY-MM-DD HH:MM:SS.mmm"` in UTC.
pub fn format_instant(at: SystemTime) -> String {
    let since_epoch = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!(
        "{}.{:03}",
        format_datetime(since_epoch.as_secs() as i64),
        since_epoch.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_dates() {
        for text in [
            "1970-01-01 00:00:00",
            "2000-02-29 12:34:56",
            "2026-10-31 23:59:59",
            "2100-03-01 00:00:01",
        ] {
            let parsed = parse(text).unwrap();
            assert_eq!(format_datetime(parsed.unix), text);
            assert!(!parsed.date_only);
        }
        assert_eq!(parse("2026-01-01").unwrap().unix, 1_767_225_600);
        assert!(parse("2026-01-01").unwrap().date_only);
        assert_eq!(parse("2026-01-01T10:00:00").unwrap().unix, 1_767_261_600);
    }

    #[test]
    fn rejects_malformed_dates() {
        for text in [
            "",
            "2026-1-01",
            "2026-02-30",
            "2026-13-01",
            "yesterday",
            "2026-01-01 25:00:00",
            "2026-01-01x10:00:00",
            "2026/01/01",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }
}
