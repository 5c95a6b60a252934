//! Progress on a terminal for long history scans: a spinner while the commits are listed (which
//! takes seconds on a large repository and would otherwise look like a hang), then a bar with
//! the blobs done, the rate and the time left, in units a person reads at a glance.

use std::fmt::Write as _;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// How often the spinner turns while nothing else reports progress.
const TICK: Duration = Duration::from_millis(120);

/// A spinner for the listing phase, on `target` (hidden when nobody watches).
pub fn listing(target: ProgressDrawTarget) -> ProgressBar {
    let spinner = ProgressBar::with_draw_target(None, target);
    if spinner.is_hidden() {
        return spinner;
    }
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} listing commits and blobs… {elapsed}")
    {
        spinner.set_style(style);
    }
    spinner.enable_steady_tick(TICK);
    spinner
}

/// The bar for reading and scanning `total` blobs, on `target`.
pub fn blobs(total: u64, target: ProgressDrawTarget) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), target);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} scanning history [{bar:30}] {human_pos}/{human_len} blobs, {rate}, {left}",
    ) {
        bar.set_style(
            style
                .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = w.write_str(&rate(s.per_sec()));
                })
                .with_key("left", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = w.write_str(&left(s.pos(), s.len(), s.eta()));
                })
                .progress_chars("=> "),
        );
    }
    bar
}

/// `850 blobs/s`, `12.3k blobs/s`, `1.2M blobs/s`.
pub fn rate(per_sec: f64) -> String {
    if !per_sec.is_finite() || per_sec <= 0.0 {
        return "– blobs/s".to_string();
    }
    let (value, unit) = if per_sec >= 1e6 {
        (per_sec / 1e6, "M")
    } else if per_sec >= 1e3 {
        (per_sec / 1e3, "k")
    } else {
        return format!("{per_sec:.0} blobs/s");
    };
    format!("{value:.1}{unit} blobs/s")
}

/// `about 2m 05s left`, `about 40s left`; nothing useful before any progress.
pub fn left(pos: u64, len: Option<u64>, eta: Duration) -> String {
    if pos == 0 || len.is_none() {
        return "estimating time left".to_string();
    }
    let secs = eta.as_secs();
    let mut out = String::from("about ");
    if secs >= 3600 {
        let _ = write!(out, "{}h {:02}m", secs / 3600, secs % 3600 / 60);
    } else if secs >= 60 {
        let _ = write!(out, "{}m {:02}s", secs / 60, secs % 60);
    } else {
        let _ = write!(out, "{}s", secs.max(1));
    }
    out.push_str(" left");
    out
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use indicatif::TermLike;

    use super::*;

    #[test]
    fn rates_and_times_read_at_a_glance() {
        assert_eq!(rate(850.4), "850 blobs/s");
        assert_eq!(rate(12_345.0), "12.3k blobs/s");
        assert_eq!(rate(1_234_567.0), "1.2M blobs/s");
        assert_eq!(rate(0.0), "– blobs/s");
        assert_eq!(left(0, Some(10), Duration::ZERO), "estimating time left");
        assert_eq!(
            left(5, Some(10), Duration::from_secs(125)),
            "about 2m 05s left"
        );
        assert_eq!(left(5, Some(10), Duration::from_secs(40)), "about 40s left");
        assert_eq!(
            left(5, Some(10), Duration::from_secs(3725)),
            "about 1h 02m left"
        );
    }

    /// A terminal that records the last line drawn.
    #[derive(Debug, Clone, Default)]
    struct Screen(Arc<Mutex<String>>);

    impl TermLike for Screen {
        fn width(&self) -> u16 {
            120
        }
        fn height(&self) -> u16 {
            40
        }
        fn move_cursor_up(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> io::Result<()> {
            self.write_str(s)
        }
        fn write_str(&self, s: &str) -> io::Result<()> {
            if !s.trim().is_empty() {
                *self.0.lock().unwrap() = s.to_string();
            }
            Ok(())
        }
        fn clear_line(&self) -> io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_bar_shows_blobs_rate_and_time_left_and_the_spinner_what_it_waits_for() {
        let screen = Screen::default();
        let spinner = listing(ProgressDrawTarget::term_like(Box::new(screen.clone())));
        // Drawn now, whatever the steady tick drew before.
        spinner.abandon();
        let shown = screen.0.lock().unwrap().clone();
        assert!(shown.contains("listing commits and blobs"), "{shown}");

        let bar = blobs(
            20_000,
            ProgressDrawTarget::term_like(Box::new(screen.clone())),
        );
        bar.set_position(1_500);
        // Leaves the bar where it is, drawn (a tick may be skipped by the refresh limit).
        bar.abandon();
        let shown = screen.0.lock().unwrap().clone();
        assert!(shown.contains("1,500/20,000 blobs"), "{shown}");
        assert!(shown.contains(" blobs/s, "), "{shown}");
        assert!(
            shown.ends_with(" left") || shown.ends_with("estimating time left"),
            "{shown}"
        );
    }
}
