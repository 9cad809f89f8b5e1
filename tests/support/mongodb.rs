//! A MongoDB-protocol server for the tests. `MONGODB_URI` points the tests at a server of
//! your own (a real replica set, say); without it, SecantusDB (a MongoDB-wire-compatible
//! server on PyPI) is installed into a virtualenv under `~/.cache/lrsgate` once and
//! started on a free port on 127.0.0.1 for this test binary, stopping when it exits.
//! Each caller gets a database of its own.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::OnceLock;
use std::time::Duration;

const SECANTUS: &str = "secantusdb==0.7.0b3";

/// A `mongodb://` URL naming a fresh database.
pub fn fresh_database_url() -> String {
    let base = server_uri();
    let name = format!("lrsgate_test_{}", uuid::Uuid::new_v4().simple());
    lrsgate::store::with_database(base, &name)
}

/// The server this test binary uses, and the process it started (if any).
struct Server {
    uri: String,
    _process: Option<Child>,
}

fn server_uri() -> &'static str {
    static SERVER: OnceLock<Server> = OnceLock::new();
    &SERVER
        .get_or_init(|| match std::env::var("MONGODB_URI") {
            Ok(uri) if !uri.is_empty() => Server {
                uri,
                _process: None,
            },
            _ => start_secantus(),
        })
        .uri
}

fn start_secantus() -> Server {
    let venv = PathBuf::from(std::env::var("HOME").expect("HOME is set"))
        .join(".cache/lrsgate/mongo-venv");
    let daemon = venv.join("bin/secantusd-py");
    if !daemon.exists() {
        let created = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 runs");
        assert!(created.success(), "python3 -m venv failed");
        let installed = Command::new(venv.join("bin/pip"))
            .args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                SECANTUS,
            ])
            .status()
            .expect("pip runs");
        assert!(installed.success(), "pip install {SECANTUS} failed");
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    // The shell stops the server once this test process is gone.
    let script = format!(
        "\"$0\" --host 127.0.0.1 --port {port} --storage-path :memory: --log-level WARNING & server=$!; \
         while kill -0 {parent} 2>/dev/null; do sleep 1; done; kill $server",
        parent = std::process::id()
    );
    let mut process = Command::new("sh")
        .args(["-c", &script])
        .arg(&daemon)
        .spawn()
        .expect("secantusd-py starts");
    for _ in 0..240 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Server {
                uri: format!("mongodb://127.0.0.1:{port}/?directConnection=true"),
                _process: Some(process),
            };
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let _ = process.kill();
    let _ = process.wait();
    panic!("SecantusDB did not open 127.0.0.1:{port} within 60 s");
}
