//! Secrets kept out of what is shown: URLs (a store's, a connector's) are logged and put
//! into error messages only through [`redacted_url`].

/// A URL fit for logs and error messages: the password of its user information and the
/// values of query options that may carry secrets (`password`, `secret`, `token`, `key`
/// in their names, and MongoDB's `authMechanismProperties`, which can hold an AWS session
/// token) are replaced by `***`. Handles MongoDB's several-hosts form, which general URL
/// parsers refuse.
pub fn redacted_url(url: &str) -> String {
    const HIDDEN: &str = "***";
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest
        .find(['/', '?'])
        .map_or((rest, ""), |at| rest.split_at(at));
    let authority = match authority.rsplit_once('@') {
        Some((user_info, hosts)) => match user_info.split_once(':') {
            Some((user, _password)) => format!("{user}:{HIDDEN}@{hosts}"),
            None => format!("{user_info}@{hosts}"),
        },
        None => authority.to_owned(),
    };
    let path = match path.split_once('?') {
        Some((before, query)) => {
            let options: Vec<String> = query
                .split('&')
                .map(|option| match option.split_once('=') {
                    Some((name, _)) if is_secret_option(name) => format!("{name}={HIDDEN}"),
                    _ => option.to_owned(),
                })
                .collect();
            format!("{before}?{}", options.join("&"))
        }
        None => path.to_owned(),
    };
    format!("{scheme}://{authority}{path}")
}

fn is_secret_option(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "password",
        "secret",
        "token",
        "key",
        "authmechanismproperties",
    ]
    .iter()
    .any(|word| name.contains(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_their_secrets() {
        let cases = [
            ("sqlite://data/lrsgate.db", "sqlite://data/lrsgate.db"),
            ("data/lrsgate.db", "data/lrsgate.db"),
            (
                "mongodb://ops:s3cr%40t@db1:27017,db2:27017/lrs?replicaSet=rs0",
                "mongodb://ops:***@db1:27017,db2:27017/lrs?replicaSet=rs0",
            ),
            (
                "mongodb+srv://ops@cluster.example.com/?authMechanismProperties=AWS_SESSION_TOKEN:x&tlsCertificateKeyFilePassword=p&w=majority",
                "mongodb+srv://ops@cluster.example.com/?authMechanismProperties=***&tlsCertificateKeyFilePassword=***&w=majority",
            ),
            ("https://u:p@lrs.example.com?x=1", "https://u:***@lrs.example.com?x=1"),
            ("mongodb://h/db?token=abc", "mongodb://h/db?token=***"),
        ];
        for (url, shown) in cases {
            assert_eq!(redacted_url(url), shown, "{url}");
        }
    }
}
