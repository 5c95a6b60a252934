//! Sending one check: ureq over rustls, no redirects, bounded waits, per-host limits.
//!
//! Two agents: one for providers (https only, through the proxy the environment names, see
//! README "Proxies") and one, without proxy, for loopback endpoints (local mocks and
//! `rules check`). Neither follows redirects: a redirect is answered as it is and classified
//! `unknown`, so a key is never re-sent to wherever a server points.
//!
//! TLS trusts the system's certificate store (or `SSL_CERT_FILE` / `SSL_CERT_DIR`) as well as
//! the roots built into keyhound, so that a company proxy that inspects TLS with its own CA
//! works as it does for the system's own tools. A failure names its cause and the host, never
//! the URL (a key may be in it).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ureq::http;
use ureq::tls::{Certificate, RootCerts, TlsConfig};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};
use ureq::{Agent, Proxy};

use super::classify::Answer;
use super::Request;
use crate::rules::live::Scheme;

/// The longest wait a provider's numbers are read as (a day): more than any run waits, and
/// far from an overflow.
const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// The most of a response body that is read: enough for any error document.
const BODY_LIMIT: u64 = 256 * 1024;

/// How requests are sent.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Total time for one request, from connecting to the end of the body.
    pub timeout: Duration,
    /// Time to connect (including TLS).
    pub connect_timeout: Duration,
    /// The longest wait honoured when a provider asks to retry later; a longer ask is
    /// `unknown` at once.
    pub max_wait: Duration,
    /// Pause before the one retry of a 5xx answer.
    pub retry_delay: Duration,
    /// Requests in flight to one host at a time.
    pub per_host: usize,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            max_wait: Duration::from_secs(30),
            retry_delay: Duration::from_millis(500),
            per_host: 2,
        }
    }
}

/// The agents and the per-host limits, shared by every worker of a run.
pub struct Client {
    remote: Agent,
    local: Agent,
    opts: HttpOptions,
    hosts: HostLimiter,
    /// The proxy remote requests go through, as `host:port` (never its credentials).
    proxy: Option<String>,
    /// What went wrong loading the system's certificates, told with a TLS failure.
    roots_note: Option<String>,
    /// What carries the requests instead of the network, if anything: `rules check` answers
    /// them in-process from a rule's recorded answers.
    transport: Option<Box<dyn Transport>>,
}

/// A request as it goes on the wire: method, URL, headers and body, built by [`wire_request`]
/// for every transport alike.
pub type Wire = http::Request<Option<String>>;

/// Carries an exchange somewhere other than the network. [`Client::exchange`]'s rate limits and
/// retries apply as they do to the network.
pub trait Transport: Send + Sync {
    /// Answers `wire`, the request `req` as it would be sent; `Err` says why there is no
    /// answer (never with the URL: a key may be in it).
    fn carry(&self, req: &Request, wire: Wire) -> Result<Answer, String>;
}

/// Builds the request as it is sent: the method, the URL, the headers in order, and the body.
/// A POST always states its length, empty or not: some servers refuse one that does not.
pub fn wire_request(req: &Request) -> Result<Wire, String> {
    let mut builder = http::Request::builder()
        .method(req.method.as_str())
        .uri(req.url.as_str());
    for (name, value) in &req.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let body = match (&req.body, req.method.as_str()) {
        (None, "POST") => Some(String::new()),
        (body, _) => body.clone(),
    };
    builder
        .body(body)
        .map_err(|_| "cannot build the request (a value is not valid in a header)".to_string())
}

/// The outcome of an exchange: an answer to classify, or why there is none.
#[derive(Debug)]
pub enum Outcome {
    Answer(Answer),
    Failed(String),
}

impl Client {
    pub fn new(opts: HttpOptions) -> Client {
        let (roots, roots_note) = root_certs();
        let tls = TlsConfig::builder().root_certs(roots).build();
        let agent = |proxy: Option<Proxy>, https_only: bool| {
            Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .https_only(https_only)
                .tls_config(tls.clone())
                .proxy(proxy)
                .timeout_global(Some(opts.timeout))
                .timeout_connect(Some(opts.connect_timeout))
                .user_agent(concat!("keyhound/", env!("CARGO_PKG_VERSION")))
                .build()
                .new_agent()
        };
        let proxy = Proxy::try_from_env();
        let local = Agent::with_parts(
            agent(None, false).config().clone(),
            DefaultConnector::new(),
            LoopbackOnly::default(),
        );
        Client {
            proxy: proxy.as_ref().map(|p| format!("{}:{}", p.host(), p.port())),
            remote: agent(proxy, true),
            local,
            hosts: HostLimiter::new(opts.per_host.max(1)),
            roots_note,
            opts,
            transport: None,
        }
    }

    /// A client whose requests `transport` carries instead of the network.
    pub fn with_transport(opts: HttpOptions, transport: Box<dyn Transport>) -> Client {
        Client {
            transport: Some(transport),
            ..Client::new(opts)
        }
    }

    /// Sends a request, honouring rate limits (one retry after the wait the provider asks,
    /// up to the cap) and retrying a 5xx answer once.
    pub fn exchange(&self, req: &Request) -> Outcome {
        let host = req.origin.authority();
        if self.hosts.gave_up(&host) {
            return Outcome::Failed(format!(
                "rate limited: {host} was still rate limiting after the wait"
            ));
        }
        let first = match self.send_limited(&host, req) {
            Ok(a) => a,
            Err(reason) => return Outcome::Failed(reason),
        };
        let retry = match first.status {
            429 => {
                let wait = retry_wait(&first).unwrap_or(Duration::from_secs(1));
                if wait > self.opts.max_wait {
                    return Outcome::Failed(format!(
                        "rate limited: asked to wait {}s, more than the {}s keyhound waits",
                        wait.as_secs(),
                        self.opts.max_wait.as_secs()
                    ));
                }
                if !self.hosts.pause(&host, wait, self.opts.max_wait) {
                    return Outcome::Failed(format!(
                        "rate limited: {host} has had all the {}s of waiting keyhound gives a host",
                        self.opts.max_wait.as_secs()
                    ));
                }
                true
            }
            // A server error with Retry-After pauses the whole host, once for all the keys in
            // flight, within the host's budget; without one, the retry waits a short delay.
            500..=599 => {
                let wait = retry_wait(&first).unwrap_or(self.opts.retry_delay);
                if wait > self.opts.max_wait || !self.hosts.pause(&host, wait, self.opts.max_wait) {
                    return Outcome::Answer(first);
                }
                true
            }
            _ => false,
        };
        if !retry {
            return Outcome::Answer(first);
        }
        match self.send_limited(&host, req) {
            Ok(a) if a.status == 429 => {
                self.hosts.give_up(&host);
                Outcome::Failed("still rate limited after waiting as asked".to_string())
            }
            Ok(a) => Outcome::Answer(a),
            Err(reason) => Outcome::Failed(reason),
        }
    }

    fn send_limited(&self, host: &str, req: &Request) -> Result<Answer, String> {
        let _permit = self.hosts.acquire(host);
        self.send(req)
    }

    /// One HTTP exchange. Errors are described without the URL (a key may be in it).
    fn send(&self, req: &Request) -> Result<Answer, String> {
        if let Some(transport) = &self.transport {
            return transport.carry(req, wire_request(req)?);
        }
        if req.origin.scheme == Scheme::Http {
            let port = req.origin.port.unwrap_or(80);
            plain_http_allowed(&req.origin.host, port, |host, port| {
                (host, port).to_socket_addrs().map(Iterator::collect)
            })?;
        }
        let agent = if req.origin.is_loopback() {
            &self.local
        } else {
            &self.remote
        };
        let (parts, body) = wire_request(req)?.into_parts();
        let result = match body {
            Some(body) => agent.run(http::Request::from_parts(parts, body)),
            None => agent.run(http::Request::from_parts(parts, ())),
        };
        let mut response = result.map_err(|e| self.describe(e, req))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = if req.method == "HEAD" {
            Vec::new()
        } else {
            response
                .body_mut()
                .with_config()
                .limit(BODY_LIMIT)
                .read_to_vec()
                .map_err(|e| self.describe(e, req))?
        };
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// Why an exchange failed, naming the cause and the host (and the proxy in between).
    fn describe(&self, error: ureq::Error, req: &Request) -> String {
        use std::io::ErrorKind as K;
        use ureq::Error as E;
        let origin = &req.origin;
        let host = origin.host.as_str();
        let port = origin.port.unwrap_or(match origin.scheme {
            crate::rules::live::Scheme::Http => 80,
            _ => 443,
        });
        let proxy = self.proxy.as_deref().filter(|_| !origin.is_loopback());
        let via = proxy
            .map(|p| format!(", through the proxy {p}"))
            .unwrap_or_default();
        // Through a proxy, the connection that fails is the one to the proxy.
        let peer = match proxy {
            Some(p) => format!("the proxy {p} (for {host})"),
            None => format!("{host}:{port}"),
        };
        let tls = |what: String| {
            let mut text = format!("TLS: {what} ({host}{via})");
            if let Some(note) = &self.roots_note {
                text.push_str(&format!("; {note}"));
            }
            text
        };
        match error {
            E::Timeout(ureq::Timeout::Connect) => format!(
                "timeout: no connection to {peer} within {}",
                secs(self.opts.connect_timeout)
            ),
            E::Timeout(_) => format!(
                "timeout: no answer from {host} within {}",
                secs(self.opts.timeout)
            ),
            E::HostNotFound => match proxy {
                Some(p) => format!("could not resolve the proxy {p} (for {host})"),
                None => format!("could not resolve {host}"),
            },
            E::ConnectionFailed => format!("could not connect to {peer}"),
            E::ConnectProxyFailed(why) => format!(
                "the proxy {} refused to connect to {host}:{port}: {}",
                proxy.unwrap_or("?"),
                first_words(&why)
            ),
            E::Io(e) => match e.kind() {
                K::TimedOut => format!(
                    "timeout: no answer from {host} within {}",
                    secs(self.opts.timeout)
                ),
                K::ConnectionRefused => format!("connection refused by {peer}"),
                K::ConnectionReset | K::ConnectionAborted => {
                    format!("connection to {peer} closed by the other end")
                }
                K::UnexpectedEof => format!("{peer} closed the connection mid-answer"),
                K::InvalidData => tls(first_words(&e.to_string())),
                _ if is_resolve_error(&e) => match proxy {
                    Some(p) => format!("could not resolve the proxy {p} (for {host})"),
                    None => format!("could not resolve {host}"),
                },
                _ => format!(
                    "connection error with {peer}: {}",
                    first_words(&e.to_string())
                ),
            },
            E::Tls(what) => tls(what.to_string()),
            E::Rustls(e) => tls(first_words(&e.to_string())),
            E::BodyExceedsLimit(_) => {
                format!("response body from {host} larger than {BODY_LIMIT} bytes")
            }
            E::RequireHttpsOnly(_) => "refused: plain http to a host that is not loopback".into(),
            other => format!(
                "request to {host} failed: {}",
                first_words(&other.to_string())
            ),
        }
    }
}

/// Plain HTTP goes only to this machine, judged by where the name resolves, not by how it is
/// spelled: `anything.localhost` may resolve anywhere. Every address must be in 127.0.0.0/8 or
/// be `::1`. `resolve` is the system resolver, passed in so that tests need no network.
fn plain_http_allowed(
    host: &str,
    port: u16,
    resolve: impl FnOnce(&str, u16) -> std::io::Result<Vec<SocketAddr>>,
) -> Result<(), String> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs = resolve(bare, port).map_err(|_| {
        format!("refused: plain http to {host}, which does not resolve (http is for loopback only)")
    })?;
    let loopback = is_loopback;
    if addrs.is_empty() || !addrs.iter().all(loopback) {
        return Err(format!(
            "refused: plain http to {host}, which does not resolve only to loopback addresses"
        ));
    }
    Ok(())
}

/// The roots TLS trusts: the system's store (which honours `SSL_CERT_FILE` and `SSL_CERT_DIR`)
/// and the Mozilla roots built into keyhound, so that neither a bare container nor a company's
/// own CA leaves checks without a trusted root. Also what went wrong loading the system's.
fn root_certs() -> (RootCerts, Option<String>) {
    let native = rustls_native_certs::load_native_certs();
    let mut certs: Vec<Certificate<'static>> = native
        .certs
        .iter()
        .map(|c| Certificate::from_der(c.as_ref()).to_owned())
        .collect();
    certs.extend(
        webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .map(|c| Certificate::from_der(c.as_ref())),
    );
    let note = native
        .errors
        .first()
        .map(|e| format!("system certificates not loaded: {e}"));
    (RootCerts::new_with_certs(&certs), note)
}

/// The resolver of the agent that may speak plain HTTP: it keeps only loopback addresses, so
/// the connection goes where [`plain_http_allowed`] looked. Without it a name could resolve to
/// 127.0.0.1 for that check and to another host a moment later for the connection (DNS
/// rebinding), and the key would cross the network in clear text. (`ureq::unversioned` may
/// change in a minor release of ureq; `Cargo.lock` pins it.)
#[derive(Debug, Default)]
struct LoopbackOnly(DefaultResolver);

impl Resolver for LoopbackOnly {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let found = self.0.resolve(uri, config, timeout)?;
        let mut kept = self.empty();
        for addr in found.iter().filter(|a| is_loopback(a)) {
            kept.push(*addr);
        }
        if kept.is_empty() {
            return Err(ureq::Error::HostNotFound);
        }
        Ok(kept)
    }
}

fn is_loopback(addr: &SocketAddr) -> bool {
    match addr.ip() {
        IpAddr::V4(ip) => ip.is_loopback(),
        IpAddr::V6(ip) => ip.is_loopback(),
    }
}

/// A failed name lookup, as the system resolver reports it (its kind is not specific).
fn is_resolve_error(e: &std::io::Error) -> bool {
    let text = e.to_string().to_ascii_lowercase();
    [
        "lookup",
        "resolve",
        "name or service",
        "nodename",
        "no such host",
        "not known",
    ]
    .iter()
    .any(|w| text.contains(w))
}

fn secs(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

/// An error message cut before anything that looks like a URL, which may carry a key.
fn first_words(message: &str) -> String {
    message
        .split_whitespace()
        .take_while(|w| !w.contains("://") && !w.contains('/'))
        .collect::<Vec<_>>()
        .join(" ")
}

/// How long a 429 or 5xx answer asks to wait: `Retry-After` (seconds or an HTTP date), else
/// `X-RateLimit-Reset` (a unix time, or seconds when it is too small to be one). The provider's
/// numbers are untrusted: anything over [`MAX_DURATION`] (`1e20`, `9999999999999999999`) is
/// read as [`MAX_DURATION`], which is more than any run waits, never as an overflow.
fn retry_wait(answer: &Answer) -> Option<Duration> {
    let now = SystemTime::now();
    if let Some(value) = answer.header("retry-after").map(str::trim) {
        if let Ok(secs) = value.parse::<u64>() {
            return Some(Duration::from_secs(secs).min(MAX_DURATION));
        }
        if let Ok(at) = httpdate::parse_http_date(value) {
            return Some(
                at.duration_since(now)
                    .unwrap_or(Duration::ZERO)
                    .min(MAX_DURATION),
            );
        }
    }
    let reset = answer
        .header("x-ratelimit-reset")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)?;
    const A_UNIX_TIME: f64 = 1_000_000_000.0;
    let capped =
        |secs: f64| Duration::try_from_secs_f64(secs).map_or(MAX_DURATION, |d| d.min(MAX_DURATION));
    if reset < A_UNIX_TIME {
        return Some(capped(reset));
    }
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs_f64();
    Some(capped((reset - now).max(0.0)))
}

/// Per-host concurrency, pauses asked for by rate limits, and hosts given up on.
struct HostLimiter {
    per_host: usize,
    state: Mutex<HashMap<String, HostState>>,
    changed: Condvar,
}

#[derive(Default)]
struct HostState {
    active: usize,
    resume_at: Option<Instant>,
    /// How long this host has been paused in all, against the run's budget.
    paused: Duration,
    gave_up: bool,
}

/// A slot for one request to a host, given back on drop.
struct Permit<'a> {
    limiter: &'a HostLimiter,
    host: String,
}

impl HostLimiter {
    fn new(per_host: usize) -> HostLimiter {
        HostLimiter {
            per_host,
            state: Mutex::new(HashMap::new()),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, HostState>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until the host has a free slot and no pause is in force.
    fn acquire(&self, host: &str) -> Permit<'_> {
        let mut state = self.lock();
        loop {
            let entry = state.entry(host.to_string()).or_default();
            let now = Instant::now();
            match entry.resume_at {
                Some(at) if at > now => {
                    state = self
                        .changed
                        .wait_timeout(state, at - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
                _ if entry.active >= self.per_host => {
                    state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
                }
                _ => {
                    entry.active += 1;
                    return Permit {
                        limiter: self,
                        host: host.to_string(),
                    };
                }
            }
        }
    }

    /// No request to `host` starts for `wait` from now. Pauses asked for together overlap
    /// rather than add up, and all the pausing of one host in a run stays within `budget`:
    /// `false` (and no pause) when this one would go past it.
    fn pause(&self, host: &str, wait: Duration, budget: Duration) -> bool {
        let now = Instant::now();
        let Some(until) = now.checked_add(wait) else {
            return false;
        };
        let mut state = self.lock();
        let entry = state.entry(host.to_string()).or_default();
        let from = entry.resume_at.map_or(now, |at| at.max(now));
        let more = until.saturating_duration_since(from);
        if entry.paused + more > budget {
            return false;
        }
        entry.paused += more;
        entry.resume_at = Some(from.max(until));
        true
    }

    fn give_up(&self, host: &str) {
        self.lock().entry(host.to_string()).or_default().gave_up = true;
    }

    fn gave_up(&self, host: &str) -> bool {
        self.lock().get(host).is_some_and(|s| s.gave_up)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut state = self.limiter.lock();
        if let Some(entry) = state.get_mut(&self.host) {
            entry.active -= 1;
        }
        drop(state);
        self.limiter.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    /// The plain-HTTP agent connects only to loopback addresses, whatever the name resolves to
    /// at connection time: an address elsewhere is "host not found", not a connection.
    #[test]
    fn plain_http_agent_resolves_to_loopback_only() {
        use super::{LoopbackOnly, Resolver};
        let timeout = ureq::unversioned::transport::NextTimeout {
            after: std::time::Duration::from_secs(5).into(),
            reason: ureq::Timeout::Resolve,
            per_read: None,
            per_write: None,
        };
        let config = ureq::config::Config::default();
        let resolve = |uri: &str| {
            let uri: ureq::http::Uri = uri.parse().unwrap();
            LoopbackOnly::default().resolve(&uri, &config, timeout)
        };
        let local = resolve("http://127.0.0.1:8080/").expect("loopback");
        assert!(local.iter().all(|a| a.ip().is_loopback()) && !local.is_empty());
        assert!(matches!(
            resolve("http://10.1.2.3:8080/"),
            Err(ureq::Error::HostNotFound)
        ));
        assert!(matches!(
            resolve("http://[2001:db8::1]:8080/"),
            Err(ureq::Error::HostNotFound)
        ));
    }

    use super::*;

    #[test]
    fn waits_come_from_retry_after_or_reset() {
        let mut a = Answer {
            status: 429,
            ..Answer::default()
        };
        a.headers.push(("Retry-After".into(), "3".into()));
        assert_eq!(retry_wait(&a), Some(Duration::from_secs(3)));
        a.headers.clear();
        a.headers.push(("X-RateLimit-Reset".into(), "2".into()));
        assert_eq!(retry_wait(&a), Some(Duration::from_secs(2)));
        let soon = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 100;
        a.headers[0].1 = soon.to_string();
        let wait = retry_wait(&a).unwrap();
        assert!(wait > Duration::from_secs(90) && wait <= Duration::from_secs(100));
    }

    #[test]
    fn a_host_gets_at_most_its_limit_at_once_and_waits_out_a_pause() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let limiter = HostLimiter::new(2);
        let (now, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        std::thread::scope(|s| {
            for _ in 0..6 {
                s.spawn(|| {
                    let _permit = limiter.acquire("api.example.com");
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(n, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(30));
                    now.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        assert_eq!(most.load(Ordering::SeqCst), 2);

        let started = Instant::now();
        assert!(limiter.pause(
            "api.example.com",
            Duration::from_millis(150),
            Duration::from_secs(1)
        ));
        drop(limiter.acquire("other.example.com"));
        assert!(
            started.elapsed() < Duration::from_millis(100),
            "another host waited"
        );
        drop(limiter.acquire("api.example.com"));
        assert!(started.elapsed() >= Duration::from_millis(150));
    }

    fn request_to(url: &str) -> Request {
        let origin = crate::rules::live::Origin::parse(url).unwrap();
        Request::for_tests(origin, url)
    }

    #[test]
    fn failures_name_the_cause_and_the_host() {
        use std::io::{Error as IoError, ErrorKind};
        let mut client = Client::new(HttpOptions::default());
        client.proxy = None;
        let github = request_to("https://api.github.com");
        let io = |kind, text: &str| ureq::Error::Io(IoError::new(kind, text.to_string()));
        assert_eq!(
            client.describe(ureq::Error::HostNotFound, &github),
            "could not resolve api.github.com"
        );
        assert_eq!(
            client.describe(
                io(
                    ErrorKind::Other,
                    "failed to lookup address information: Name or service not known"
                ),
                &github
            ),
            "could not resolve api.github.com"
        );
        let local = request_to("http://127.0.0.1:4321");
        assert_eq!(
            client.describe(io(ErrorKind::ConnectionRefused, "refused"), &local),
            "connection refused by 127.0.0.1:4321"
        );
        assert!(client
            .describe(ureq::Error::Tls("handshake failed"), &github)
            .starts_with("TLS: handshake failed (api.github.com)"));

        client.proxy = Some("proxy.corp:3128".into());
        assert_eq!(
            client.describe(io(ErrorKind::ConnectionRefused, "refused"), &github),
            "connection refused by the proxy proxy.corp:3128 (for api.github.com)"
        );
        assert_eq!(
            client.describe(io(ErrorKind::ConnectionRefused, "refused"), &local),
            "connection refused by 127.0.0.1:4321",
            "loopback never goes through the proxy"
        );
        for e in [
            io(ErrorKind::Other, "weird"),
            ureq::Error::ConnectionFailed,
            ureq::Error::BodyStalled,
        ] {
            let text = client.describe(e, &github);
            assert!(!text.contains("uncategorized"), "{text}");
            assert!(text.contains("api.github.com"), "{text}");
        }
    }

    #[test]
    fn untrusted_waits_are_capped_not_overflowed() {
        let answer = |name: &str, value: &str| Answer {
            status: 429,
            headers: vec![(name.into(), value.into())],
            ..Answer::default()
        };
        assert_eq!(
            retry_wait(&answer("X-RateLimit-Reset", "1e20")),
            Some(MAX_DURATION)
        );
        assert_eq!(
            retry_wait(&answer("Retry-After", "9999999999999999999")),
            Some(MAX_DURATION)
        );
        // An HTTP date: in the past is no wait; far ahead is capped.
        assert_eq!(
            retry_wait(&answer("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")),
            Some(Duration::ZERO)
        );
        assert_eq!(
            retry_wait(&answer("Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT")),
            Some(MAX_DURATION)
        );
        let in_a_minute = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(60));
        let wait = retry_wait(&answer("Retry-After", &in_a_minute)).unwrap();
        assert!(wait > Duration::from_secs(50) && wait <= Duration::from_secs(60));
    }

    #[test]
    fn pauses_of_one_host_overlap_and_stay_within_the_budget() {
        let limiter = HostLimiter::new(2);
        let budget = Duration::from_secs(10);
        // Sixteen keys each told to wait 3s pause the host once, not sixteen times.
        for _ in 0..16 {
            assert!(limiter.pause("h", Duration::from_secs(3), budget));
        }
        assert!(limiter.lock()["h"].paused < Duration::from_secs(4));
        // Past the budget, no more pausing: the caller answers at once.
        assert!(!limiter.pause("h", Duration::from_secs(20), budget));
        assert!(!limiter.pause("h", MAX_DURATION, budget));
        assert!(!limiter.pause("h", Duration::MAX, Duration::MAX));
        // Other hosts are not affected.
        assert!(limiter.pause("other", Duration::from_secs(3), budget));
    }

    #[test]
    fn plain_http_needs_every_address_to_be_loopback() {
        let to = |addrs: &'static [&'static str]| {
            move |_: &str, port: u16| -> std::io::Result<Vec<SocketAddr>> {
                Ok(addrs
                    .iter()
                    .map(|a| SocketAddr::new(a.parse().unwrap(), port))
                    .collect())
            }
        };
        assert!(plain_http_allowed("127.0.0.1", 80, to(&["127.0.0.1"])).is_ok());
        assert!(plain_http_allowed("[::1]", 80, to(&["::1"])).is_ok());
        assert!(plain_http_allowed("a.localhost", 80, to(&["127.0.0.2", "::1"])).is_ok());
        for addrs in [
            &["203.0.113.9"][..],
            &["127.0.0.1", "203.0.113.9"][..],
            &["::ffff:127.0.0.1"][..],
            &[][..],
        ] {
            let err = plain_http_allowed("evil.localhost", 80, to(addrs)).unwrap_err();
            assert!(err.starts_with("refused: plain http"), "{addrs:?}: {err}");
        }
        let unresolved = |_: &str, _: u16| -> std::io::Result<Vec<SocketAddr>> {
            Err(std::io::Error::other("no such host"))
        };
        assert!(plain_http_allowed("x.localhost", 80, unresolved).is_err());
        // `localhost` itself resolves (from /etc/hosts) to loopback only.
        let system = |host: &str, port: u16| (host, port).to_socket_addrs().map(Iterator::collect);
        assert!(plain_http_allowed("localhost", 80, system).is_ok());
    }

    #[test]
    fn error_text_never_carries_a_url() {
        assert_eq!(
            first_words("bad uri https://h/pc_live_x here"),
            "bad uri".to_string()
        );
    }
}
