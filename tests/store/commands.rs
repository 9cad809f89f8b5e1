//! The `lrsgate tenant` and `lrsgate credential` commands on a store file.

use std::process::{Command, Output};

use lrsgate::store::Store;

fn lrsgate(store: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lrsgate"))
        .args(args)
        .args(["--store", store])
        .env_remove("LRSGATE_CONFIG")
        .env_remove("LRSGATE_STORE")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn tenants_and_credentials_are_managed_from_the_shell() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("lrs.db").display());

    let created = lrsgate(&store, &["tenant", "create", "acme"]);
    assert!(created.status.success(), "{created:?}");
    let again = lrsgate(&store, &["tenant", "create", "acme"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    assert!(stdout(&lrsgate(&store, &["tenant", "list"])).contains("acme"));

    let issued = lrsgate(
        &store,
        &[
            "credential",
            "create",
            "--tenant",
            "acme",
            "--name",
            "LinkedIn Learning",
            "--scope",
            "xapi:write",
        ],
    );
    assert!(issued.status.success(), "{issued:?}");
    let text = stdout(&issued);
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .map(|v| v.trim().to_owned())
            .unwrap()
    };
    let (key, secret) = (field("key:"), field("secret:"));
    assert_eq!(secret.len(), 40);

    let listed = stdout(&lrsgate(
        &store,
        &["credential", "list", "--tenant", "acme"],
    ));
    assert!(listed.contains(&key) && listed.contains("statements/write"));
    assert!(!listed.contains(&secret), "secrets are shown once");

    let bad_scope = lrsgate(
        &store,
        &[
            "credential",
            "create",
            "--tenant",
            "acme",
            "--name",
            "x",
            "--scope",
            "everything",
        ],
    );
    assert!(!bad_scope.status.success());

    // What the commands wrote is what the server reads.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let stored = runtime.block_on(async {
        let s = Store::open(&store).await.unwrap();
        s.credentials.credential(&key).await.unwrap().unwrap()
    });
    assert_eq!(stored.scopes, "statements/write state define profile");
    assert_ne!(stored.secret_hash, secret);

    let wrong_tenant = lrsgate(
        &store,
        &["credential", "revoke", "--tenant", "default", &key],
    );
    assert!(!wrong_tenant.status.success());
    let revoked = lrsgate(&store, &["credential", "revoke", "--tenant", "acme", &key]);
    assert!(revoked.status.success(), "{revoked:?}");
    assert!(!stdout(&lrsgate(
        &store,
        &["credential", "list", "--tenant", "acme"]
    ))
    .contains(&key));
}

/// `serve` with its standard output on a pipe: plain log lines (no terminal colour codes),
/// and the start-up line names the store.
#[test]
fn serve_logs_plain_text_to_a_pipe() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("lrs.db").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_lrsgate"))
        .args(["serve", "--listen", "127.0.0.1:0", "--store", &store])
        .args(["--log", "info", "--log-format", "text"])
        .env("LRSGATE_CREDENTIALS", "k:s")
        .env_remove("LRSGATE_CONFIG")
        .env_remove("NO_COLOR")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // Bounded: the start-up line comes within the first few lines (or the pipe closes).
    let mut lines = Vec::new();
    let mut started = false;
    for line in BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .take(50)
    {
        started = line.contains("lrsgate listening");
        lines.push(line);
        if started {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(started, "no start-up line: {lines:?}");
    assert!(
        lines.last().is_some_and(|l| l.contains("lrs.db")),
        "{lines:?}"
    );
    assert!(
        lines.iter().all(|l| !l.contains('\u{1b}')),
        "colour codes in piped logs: {lines:?}"
    );
}

/// The store URL's password never reaches logs or error messages.
#[cfg(feature = "mongodb")]
#[test]
fn a_store_password_is_not_shown_in_errors() {
    let url =
        "mongodb://ops:s3cret-pw@127.0.0.1:9/lrs?serverSelectionTimeoutMS=200&connectTimeoutMS=200";
    let out = Command::new(env!("CARGO_BIN_EXE_lrsgate"))
        .args(["serve", "--listen", "127.0.0.1:0", "--store", url])
        .env_remove("LRSGATE_CONFIG")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(shown.contains("ops:***@127.0.0.1:9"), "{shown}");
    assert!(!shown.contains("s3cret-pw"), "{shown}");
}

/// `--help` names both store backends.
#[test]
fn help_names_both_store_urls() {
    let out = Command::new(env!("CARGO_BIN_EXE_lrsgate"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = stdout(&out);
    assert!(
        help.contains("sqlite://PATH") && help.contains("mongodb://"),
        "{help}"
    );
}
