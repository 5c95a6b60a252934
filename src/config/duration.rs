//! Durations typed by a user or written in a config file, parsed with overflow checks and a
//! cap: `timeout = 1e300` or `--max-retry-wait 1e19` would otherwise panic (a `Duration` holds
//! about 585 billion years, and adding it to an `Instant` overflows far sooner) or wait forever.

use std::time::Duration;

/// The longest duration keyhound accepts anywhere: no timeout or wait needs more.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// `value` × `scale` seconds, refused when negative, not finite or over [`MAX_DURATION`].
pub fn from_scaled(value: f64, scale: f64) -> Result<Duration, String> {
    let secs = value * scale;
    if !secs.is_finite() || secs < 0.0 {
        return Err("not a duration".into());
    }
    if secs > MAX_DURATION.as_secs_f64() {
        return Err(format!(
            "more than the longest allowed, {}h",
            MAX_DURATION.as_secs() / 3600
        ));
    }
    Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())
}

/// `10s`, `500ms`, `2m`, `1h`, or plain seconds (`10`, `0.5`).
pub fn parse(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (number, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = t.strip_suffix('h') {
        (n, 3600.0)
    } else {
        (t, 1.0)
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| "not a duration such as 10s, 500ms or 2m".to_string())?;
    from_scaled(value, scale)
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
    }
}
