//! Listing an organisation's repositories through its forge's API: GitHub (and GitHub
//! Enterprise) organisations, GitLab (and self-managed) groups with their subgroups.
//!
//! Only clone URLs come back: cloning uses the user's git and its credentials, never the API
//! token, and the token goes only to the API's own origin (a `Link` header naming another host
//! is refused, not followed). Rate limits are honoured with a bounded wait.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context as _, Result};
use serde::Deserialize;
use ureq::http;
use ureq::Agent;

/// Which repositories to leave out.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter {
    /// Keep archived repositories.
    pub archived: bool,
    /// Keep forks.
    pub forks: bool,
}

/// The longest wait for a rate limit to reset; longer, and the listing fails with the reason.
const MAX_WAIT: Duration = Duration::from_secs(120);
/// A page larger than this is not an API answer.
const BODY_LIMIT: u64 = 32 << 20;
/// A listing that does not end after this many pages is not a listing.
const MAX_PAGES: usize = 10_000;

/// Every repository of a GitHub organisation, as https clone URLs.
pub fn github(org: &str, api_url: Option<&str>, filter: Filter) -> Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Repo {
        clone_url: String,
        #[serde(default)]
        archived: bool,
        #[serde(default)]
        fork: bool,
    }
    let base = Base::parse(api_url.unwrap_or("https://api.github.com"))?;
    let token = std::env::var("GITHUB_TOKEN").ok().filter(|t| !t.is_empty());
    let mut headers = vec![
        ("Accept", "application/vnd.github+json".to_string()),
        ("X-GitHub-Api-Version", "2022-11-28".to_string()),
    ];
    if let Some(t) = token {
        headers.push(("Authorization", format!("Bearer {t}")));
    }
    let mut url = Some(format!(
        "{}/orgs/{}/repos?type=all&per_page=100",
        base.url,
        encode(org)
    ));
    let mut out = Vec::new();
    let mut pages = 0;
    while let Some(next) = url.take() {
        pages += 1;
        if pages > MAX_PAGES {
            bail!("the GitHub API kept returning pages after {MAX_PAGES}");
        }
        let page = get(&base, &next, &headers)?;
        let repos: Vec<Repo> = serde_json::from_slice(&page.body)
            .context("the GitHub API's answer is not a list of repositories")?;
        out.extend(
            repos
                .into_iter()
                .filter(|r| (filter.archived || !r.archived) && (filter.forks || !r.fork))
                .map(|r| r.clone_url),
        );
        url = page.header("link").and_then(next_link);
        if let Some(u) = &url {
            base.check_same_origin(u)?;
        }
    }
    Ok(out)
}

/// Every project of a GitLab group and its subgroups, as https clone URLs.
pub fn gitlab(group: &str, api_url: Option<&str>, filter: Filter) -> Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Project {
        http_url_to_repo: String,
        #[serde(default)]
        archived: bool,
        #[serde(default)]
        forked_from_project: Option<serde_json::Value>,
    }
    let root = api_url
        .unwrap_or("https://gitlab.com")
        .trim_end_matches('/');
    let root = root.strip_suffix("/api/v4").unwrap_or(root);
    let base = Base::parse(&format!("{root}/api/v4"))?;
    let mut headers = Vec::new();
    if let Some(t) = std::env::var("GITLAB_TOKEN").ok().filter(|t| !t.is_empty()) {
        headers.push(("PRIVATE-TOKEN", t));
    }
    let first = format!(
        "{}/groups/{}/projects?include_subgroups=true&per_page=100&order_by=id&sort=asc{}",
        base.url,
        encode(group),
        if filter.archived {
            ""
        } else {
            "&archived=false"
        }
    );
    let mut page_no = String::from("1");
    let mut out = Vec::new();
    for _ in 0..MAX_PAGES {
        let page = get(&base, &format!("{first}&page={page_no}"), &headers)?;
        let projects: Vec<Project> = serde_json::from_slice(&page.body)
            .context("the GitLab API's answer is not a list of projects")?;
        out.extend(
            projects
                .into_iter()
                .filter(|p| {
                    (filter.archived || !p.archived)
                        && (filter.forks || p.forked_from_project.is_none())
                })
                .map(|p| p.http_url_to_repo),
        );
        match page.header("x-next-page").map(str::trim) {
            Some(next) if !next.is_empty() => {
                if !next.bytes().all(|b| b.is_ascii_digit()) {
                    bail!("the GitLab API's x-next-page is not a page number: {next:?}");
                }
                page_no = next.to_string();
            }
            _ => return Ok(out),
        }
    }
    bail!("the GitLab API kept returning pages after {MAX_PAGES}")
}

/// The API's origin: where the token may go.
struct Base {
    /// Without a trailing slash.
    url: String,
    origin: String,
    agent: Agent,
}

impl Base {
    /// https anywhere; http only to loopback (a local mock), where no proxy is used either.
    fn parse(url: &str) -> Result<Base> {
        let url = url.trim_end_matches('/').to_string();
        let origin = origin_of(&url).ok_or_else(|| anyhow!("`{url}` is not an http(s) URL"))?;
        let loopback = is_loopback(&origin);
        if origin.starts_with("http://") && !loopback {
            bail!("`{url}`: plain http only to loopback (127.0.0.1, ::1, localhost); use https");
        }
        let agent = Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .https_only(!loopback)
            .proxy(if loopback {
                None
            } else {
                ureq::Proxy::try_from_env()
            })
            .timeout_global(Some(Duration::from_secs(60)))
            .user_agent(concat!("keyhound/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Ok(Base { url, origin, agent })
    }

    fn check_same_origin(&self, url: &str) -> Result<()> {
        if origin_of(url).as_deref() != Some(self.origin.as_str()) {
            bail!(
                "the API's next page is on another origin than {}: refused (the token would go there)",
                self.origin
            );
        }
        Ok(())
    }
}

/// `scheme://authority` of an http(s) URL, lowercased.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    Some(format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

fn is_loopback(origin: &str) -> bool {
    let authority = origin.split_once("://").map_or(origin, |(_, a)| a);
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// One answered page.
struct Page {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Page {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// GETs one page; a rate-limited answer is retried after the wait the API names (at most
/// [`MAX_WAIT`], a few times). Errors never hold the token.
fn get(base: &Base, url: &str, headers: &[(&str, String)]) -> Result<Page> {
    for _ in 0..5 {
        let mut req = http::Request::builder().method("GET").uri(url);
        for (n, v) in headers {
            req = req.header(*n, v.as_str());
        }
        let req = req.body(()).map_err(|_| {
            anyhow!("cannot build a request to {url} (a token holds characters a header cannot)")
        })?;
        let mut resp = base.agent.run(req).map_err(|e| anyhow!("GET {url}: {e}"))?;
        let status = resp.status().as_u16();
        let page = Page {
            headers: resp
                .headers()
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: resp
                .body_mut()
                .with_config()
                .limit(BODY_LIMIT)
                .read_to_vec()
                .map_err(|e| anyhow!("GET {url}: {e}"))?,
        };
        let limited = status == 429
            || (status == 403
                && (page.header("x-ratelimit-remaining") == Some("0")
                    || page.header("retry-after").is_some()));
        if limited {
            let wait = rate_limit_wait(&page).unwrap_or(Duration::from_secs(1));
            if wait > MAX_WAIT {
                bail!(
                    "GET {url}: rate limited for {}s more, longer than the {}s keyhound waits; run again later",
                    wait.as_secs(),
                    MAX_WAIT.as_secs()
                );
            }
            std::thread::sleep(wait);
            continue;
        }
        if !(200..300).contains(&status) {
            let message = serde_json::from_slice::<serde_json::Value>(&page.body)
                .ok()
                .and_then(|v| {
                    v.get("message")
                        .or_else(|| v.get("error"))
                        .map(|m| m.as_str().map_or_else(|| m.to_string(), str::to_string))
                })
                .unwrap_or_default();
            bail!("GET {url}: HTTP {status} {message}");
        }
        // Out of requests for now: wait for the reset before the next page.
        if page.header("x-ratelimit-remaining") == Some("0") {
            if let Some(wait) = rate_limit_wait(&page).filter(|w| *w <= MAX_WAIT) {
                std::thread::sleep(wait);
            }
        }
        return Ok(page);
    }
    bail!("GET {url}: still rate limited after waiting as asked")
}

/// The wait a rate-limited answer asks for: `Retry-After` seconds, or the reset time
/// (`X-RateLimit-Reset` on GitHub, `RateLimit-Reset` on GitLab, Unix seconds).
fn rate_limit_wait(page: &Page) -> Option<Duration> {
    if let Some(secs) = page
        .header("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        return Some(Duration::from_secs(secs));
    }
    let reset = page
        .header("x-ratelimit-reset")
        .or_else(|| page.header("ratelimit-reset"))?
        .trim()
        .parse::<u64>()
        .ok()?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(reset.saturating_sub(now) + 1))
}

/// The `rel="next"` URL of a `Link` header.
fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"")
            .then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
    })
}

/// Percent-encodes a path segment (a GitLab group path's `/` included).
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers() {
        let link = r#"<https://api.github.com/organizations/1/repos?page=2>; rel="next", <https://api.github.com/organizations/1/repos?page=5>; rel="last""#;
        assert_eq!(
            next_link(link).as_deref(),
            Some("https://api.github.com/organizations/1/repos?page=2")
        );
        assert_eq!(next_link(r#"<https://x/?page=1>; rel="prev""#), None);
    }

    #[test]
    fn http_only_to_loopback() {
        assert!(Base::parse("http://127.0.0.1:8080/api").is_ok());
        assert!(Base::parse("http://localhost:1").is_ok());
        assert!(Base::parse("http://[::1]:1").is_ok());
        assert!(Base::parse("http://github.example.com/api/v3").is_err());
        assert!(Base::parse("https://github.example.com/api/v3").is_ok());
        assert!(Base::parse("ftp://h").is_err());
        let base = Base::parse("https://api.github.com").unwrap();
        assert!(base
            .check_same_origin("https://api.github.com/x?page=2")
            .is_ok());
        assert!(base.check_same_origin("https://evil.example/x").is_err());
        assert!(base
            .check_same_origin("https://api.github.com@evil.example/x")
            .is_err());
    }

    #[test]
    fn group_paths_are_one_segment() {
        assert_eq!(encode("acme/platform team"), "acme%2Fplatform%20team");
    }
}
