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
