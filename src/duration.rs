//! Durations typed by a user or written in a config file, parsed with overflow checks and a
//! cap: `timeout = 1e300` or `--max-retry-wait 1e19` would otherwise panic (a `Duration` holds
//! about 585 billion years, and adding it to an `Instant` overflows far sooner) or wait forever.

use std::time::Duration;

/// The longest duration keyhound accepts anywhere: no timeout or wait needs more.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// The longest `--verify-cache-ttl`: a verdict reused for a year is as old as any audit needs
/// (an `invalid` one lasts 7 times the TTL). Only the cache TTL may exceed [`MAX_DURATION`]:
/// it is an age compared with, never a time waited for.
pub const MAX_CACHE_TTL: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// `value` × `scale` seconds, refused when negative, not finite or over [`MAX_DURATION`].
pub fn from_scaled(value: f64, scale: f64) -> Result<Duration, String> {
    from_scaled_max(value, scale, MAX_DURATION)
}

/// `value` × `scale` seconds, refused when negative, not finite or over `max`.
pub fn from_scaled_max(value: f64, scale: f64, max: Duration) -> Result<Duration, String> {
    let secs = value * scale;
    if !secs.is_finite() || secs < 0.0 {
        return Err("not a duration".into());
    }
    if secs > max.as_secs_f64() {
        return Err(format!("more than the longest allowed, {}", describe(max)));
    }
    Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())
}

/// `24h`, `365d`: a cap as the error message names it.
fn describe(max: Duration) -> String {
    let secs = max.as_secs();
    if secs > 86_400 && secs.is_multiple_of(86_400) {
        format!("{}d", secs / 86_400)
    } else {
        format!("{}h", secs / 3600)
    }
}

/// `10s`, `500ms`, `2m`, `1h`, `1d`, or plain seconds (`10`, `0.5`); at most [`MAX_DURATION`].
pub fn parse(text: &str) -> Result<Duration, String> {
    parse_max(text, MAX_DURATION)
}

/// A verdict cache TTL: the grammar of [`parse`] (`7d`, `36h`), at most [`MAX_CACHE_TTL`].
pub fn parse_cache_ttl(text: &str) -> Result<Duration, String> {
    parse_max(text, MAX_CACHE_TTL)
}

/// The grammar of [`parse`], at most `max`.
pub fn parse_max(text: &str, max: Duration) -> Result<Duration, String> {
    let t = text.trim();
    let (number, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = t.strip_suffix('h') {
        (n, 3600.0)
    } else if let Some(n) = t.strip_suffix('d') {
        (n, 86_400.0)
    } else {
        (t, 1.0)
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| "not a duration such as 10s, 500ms or 2m".to_string())?;
    from_scaled_max(value, scale, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_refuses_what_would_overflow() {
        assert_eq!(parse("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("0.5"), Ok(Duration::from_millis(500)));
        for bad in [
            "1e19",
            "1e300",
            "inf",
            "NaN",
            "-1",
            "25h",
            "9999999999999999999m",
            "soon",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(parse("24h"), Ok(MAX_DURATION));
        // Days are in the grammar everywhere, but a timeout or a wait stays within 24h.
        assert_eq!(parse("1d"), Ok(MAX_DURATION));
        assert_eq!(
            parse("2d"),
            Err("more than the longest allowed, 24h".to_string())
        );
    }

    #[test]
    fn a_cache_ttl_may_be_days_up_to_a_year() {
        let day = Duration::from_secs(86_400);
        assert_eq!(parse_cache_ttl("7d"), Ok(7 * day));
        assert_eq!(parse_cache_ttl("1.5d"), Ok(day + day / 2));
        assert_eq!(parse_cache_ttl("36h"), Ok(day + day / 2));
        assert_eq!(parse_cache_ttl("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_cache_ttl("365d"), Ok(MAX_CACHE_TTL));
        assert_eq!(
            parse_cache_ttl("366d"),
            Err("more than the longest allowed, 365d".to_string())
        );
        for bad in ["1e300d", "-1d", "d", "7 days", "infd"] {
            assert!(parse_cache_ttl(bad).is_err(), "{bad}");
        }
    }
}
