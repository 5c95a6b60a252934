//! AWS Signature Version 4, as a check needs it: sign one request with a key id and secret,
//! for one service and region, at a given time.
//!
//! A dedicated SDK signer (`aws-sigv4`) pulls in far more than a scanner should build; the
//! algorithm is three hashes and an HMAC chain (hmac + sha2), proven below against AWS's
//! published test suite.

use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// What signs a request.
pub struct Credentials<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

/// A request as it will be sent: `path_and_query` as in its URL (percent-encoded), `host` as in
/// its Host header, and the headers the rule sets.
pub struct Unsigned<'a> {
    pub method: &'a str,
    pub host: &'a str,
    pub path_and_query: &'a str,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// The headers to add to the request: `X-Amz-Date` and `Authorization`.
pub fn sign(req: &Unsigned<'_>, creds: &Credentials<'_>, at: SystemTime) -> Vec<(String, String)> {
    let amz_date = amz_date(at);
    let date = &amz_date[..8];
    // Signed: host, x-amz-date, and every header the rule sets (content-type above all).
    let mut signed: Vec<(String, String)> = vec![
        ("host".to_string(), req.host.to_string()),
        ("x-amz-date".to_string(), amz_date.clone()),
    ];
    for (name, value) in req.headers {
        let name = name.to_ascii_lowercase();
        if signed.iter().any(|(n, _)| *n == name) {
            continue;
        }
        signed.push((name, value.clone()));
    }
    signed.sort();
    let canonical_headers: String = signed
        .iter()
        .map(|(n, v)| format!("{n}:{}\n", collapse_spaces(v)))
        .collect();
    let signed_names: Vec<&str> = signed.iter().map(|(n, _)| n.as_str()).collect();
    let signed_names = signed_names.join(";");
    let (path, query) = req
        .path_and_query
        .split_once('?')
        .unwrap_or((req.path_and_query, ""));
    let canonical = format!(
        "{}\n{}\n{}\n{canonical_headers}\n{signed_names}\n{}",
        req.method,
        canonical_uri(path),
        canonical_query(query),
        hex(&Sha256::digest(req.body))
    );
    let scope = format!("{date}/{}/{}/aws4_request", creds.region, creds.service);
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let key = [date, creds.region, creds.service, "aws4_request"]
        .iter()
        .fold(
            format!("AWS4{}", creds.secret_access_key).into_bytes(),
            |key, part| hmac(&key, part.as_bytes()),
        );
    let signature = hex(&hmac(&key, to_sign.as_bytes()));
    vec![
        ("X-Amz-Date".to_string(), amz_date),
        (
            "Authorization".to_string(),
            format!(
                "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_names}, \
                 Signature={signature}",
                creds.access_key_id
            ),
        ),
    ]
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `YYYYMMDDTHHMMSSZ` in UTC.
fn amz_date(at: SystemTime) -> String {
    let secs = at
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let t =
        time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A header value with its runs of spaces collapsed and its ends trimmed.
fn collapse_spaces(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Each path segment URI-encoded (again, for services other than S3, as AWS specifies).
fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".to_string();
    }
    path.split('/')
        .map(|segment| uri_encode(segment.as_bytes()))
        .collect::<Vec<_>>()
        .join("/")
}

/// Parameters decoded, re-encoded strictly, and sorted by name then value.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&percent_decode(k)),
                uri_encode(&percent_decode(v)),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn uri_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    //! Vectors from AWS's Signature Version 4 test suite (aws-sig-v4-test-suite: get-vanilla,
    //! get-vanilla-query-order-key-case, get-vanilla-query-order-key, post-vanilla,
    //! post-x-www-form-urlencoded), all signed by AKIDEXAMPLE for `service` in us-east-1 at
    //! 20150830T123600Z.
    use super::*;

    const AT: u64 = 1_440_938_160; // 2015-08-30T12:36:00Z

    fn sig(method: &str, pq: &str, headers: &[(&str, &str)], body: &str) -> String {
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let req = Unsigned {
            method,
            host: "example.amazonaws.com",
            path_and_query: pq,
            headers: &headers,
            body: body.as_bytes(),
        };
        let creds = Credentials {
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: concat!("wJalrXUtnFEMI/K7MDENG+bPxRfiCY", "EXAMPLEKEY"),
            region: "us-east-1",
            service: "service",
        };
        let out = sign(
            &req,
            &creds,
            UNIX_EPOCH + std::time::Duration::from_secs(AT),
        );
        assert_eq!(out[0], ("X-Amz-Date".into(), "20150830T123600Z".into()));
        out[1].1.clone()
    }

    const PREFIX: &str =
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ";

    #[test]
    fn get_vanilla() {
        assert_eq!(
            sig("GET", "/", &[], ""),
            format!("{PREFIX}SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        );
    }

    #[test]
    fn get_vanilla_query_order_key_case_and_key() {
        assert!(
            sig("GET", "/?Param2=value2&Param1=value1", &[], "").ends_with(
                "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
            )
        );
        assert!(
            sig("GET", "/?Param1=value2&Param1=Value1", &[], "").ends_with(
                "Signature=eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"
            )
        );
    }

    #[test]
    fn post_vanilla() {
        assert!(sig("POST", "/", &[], "").ends_with(
            "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        ));
    }

    #[test]
    fn post_x_www_form_urlencoded() {
        assert_eq!(
            sig(
                "POST",
                "/",
                &[("Content-Type", "application/x-www-form-urlencoded")],
                "Param1=value1"
            ),
            format!("{PREFIX}SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a")
        );
    }
}
