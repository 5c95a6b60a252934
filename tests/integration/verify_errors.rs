//! How a live check that gets no answer says why: the cause and the host, never a bare
//! "uncategorized error"; and `keyhound verify` at a terminal does not echo the key.

use std::io::{Read, Write};
use std::net::TcpListener;

use crate::support::*;

/// `keyhound verify --rule PC_RULE --endpoint PC_RULE=URL`, the key on stdin.
fn verify_at(tree: &Tree, url: &str, env: &[(&str, &str)]) -> Run {
    let args = ["verify", "--rule", PC_RULE, "--endpoint"];
    let endpoint = format!("{PC_RULE}={url}");
    let mut cmd = tree.command(&args);
    cmd.arg(&endpoint);
    for var in [
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.write_stdin(pc_live(671));
    Run::of(cmd, &args)
}

/// A port on 127.0.0.1 that nothing listens on.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn a_refused_connection_names_the_host_and_port() {
    let tree = Tree::new(&[]);
    let port = closed_port();
    let run = verify_at(&tree, &format!("http://127.0.0.1:{port}"), &[]);
    run.assert_code(2);
    assert!(
        run.stdout
            .contains(&format!("unknown (connection refused by 127.0.0.1:{port})")),
        "{}",
        run.dump()
    );
    assert!(!run.stdout.contains("uncategorized"), "{}", run.dump());
}

#[test]
fn a_refusing_proxy_is_named_as_the_proxy() {
    let tree = Tree::new(&[]);
    let port = closed_port();
    let run = verify_at(
        &tree,
        "https://api.political-comms.invalid",
        &[("HTTPS_PROXY", &format!("http://127.0.0.1:{port}"))],
    );
    run.assert_code(2);
    assert!(
        run.stdout.contains(&format!(
            "connection refused by the proxy 127.0.0.1:{port} (for api.political-comms.invalid)"
        )),
        "{}",
        run.dump()
    );
}

#[test]
fn a_tls_failure_says_tls_and_names_the_host() {
    // A server that answers a TLS handshake with plain text.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten().take(2) {
            let mut stream = stream;
            let mut buf = [0u8; 512];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let tree = Tree::new(&[]);
    let run = verify_at(
        &tree,
        &format!("https://127.0.0.1:{port}"),
        &[("SSL_CERT_FILE", "/nonexistent/keyhound-test-ca.pem")],
    );
    run.assert_code(2);
    assert!(
        run.stdout.contains("unknown (TLS: ") && run.stdout.contains("(127.0.0.1)"),
        "{}",
        run.dump()
    );
    // The system store honours SSL_CERT_FILE, and a broken one is said, not ignored.
    assert!(
        run.stdout.contains("system certificates not loaded"),
        "{}",
        run.dump()
    );
}

/// Runs ARGV on a pseudo-terminal; once the program's prompt is shown and it has turned the
/// terminal's echo off, types $KEY and a newline; prints everything the terminal showed.
const ON_A_TERMINAL: &str = r#"
import os, pty, sys, termios, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
shown = b""
def read_some():
    global shown
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        return False
    shown += chunk
    return bool(chunk)
while b"(not shown)" not in shown and read_some():
    pass
deadline = time.time() + 30
while termios.tcgetattr(fd)[3] & termios.ECHO and time.time() < deadline:
    time.sleep(0.01)
os.write(fd, os.environ["KEY"].encode() + b"\n")
while read_some():
    pass
os.waitpid(pid, 0)
sys.stdout.buffer.write(shown)
"#;

/// `keyhound verify` on a terminal: the key typed is read, and not echoed back.
#[test]
#[cfg(unix)]
fn verify_does_not_echo_a_key_typed_at_a_terminal() {
    if std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("verify_does_not_echo_a_key_typed_at_a_terminal needs python3 for a pty");
        return;
    }
    let tree = Tree::new(&[]);
    let key = pc_live(672);
    let exe = assert_cmd::cargo::cargo_bin("keyhound");
    let endpoint = format!("{PC_RULE}=http://127.0.0.1:{}", closed_port());
    let mut cmd = assert_cmd::Command::new("python3");
    cmd.args(["-c", ON_A_TERMINAL])
        .arg(&exe)
        .args(["verify", "--rule", PC_RULE, "--endpoint", &endpoint])
        .current_dir(tree.path())
        .env("NO_COLOR", "1")
        .env("KEY", &key)
        .timeout(std::time::Duration::from_secs(60));
    let run = Run::of(cmd, &["verify (on a terminal)"]);
    assert!(
        run.stdout.contains("(not shown)"),
        "the prompt: {}",
        run.dump()
    );
    assert!(
        run.stdout
            .contains(&format!("{PC_RULE} pc_live_*****: unknown")),
        "the key was read: {}",
        run.dump()
    );
    run.assert_nowhere(pc_body(&key));
}
