//! The `X-Experience-API-Version` header: which versions we accept and which we answer with.

use std::fmt;

pub const HEADER: &str = "X-Experience-API-Version";

/// The two xAPI major lines we serve. 1.0.x requests are answered as 1.0.3, 2.0.x as 2.0.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum XapiVersion {
    V1,
    V2,
}

impl XapiVersion {
    /// Parses a header value: `1.0`, `1.0.0`–`1.0.9…` and `2.0`, `2.0.x` are accepted.
    pub fn parse(raw: &str) -> Option<Self> {
        let mut parts = raw.trim().split('.');
        let (major, minor) = (parts.next()?, parts.next()?);
        let patch = parts.next();
        if parts.next().is_some() || minor != "0" {
            return None;
        }
        if let Some(p) = patch {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
        }
        match major {
            "1" => Some(XapiVersion::V1),
            "2" => Some(XapiVersion::V2),
            _ => None,
        }
    }

    /// The version string sent back in the response header.
    pub fn header_value(self) -> &'static str {
        match self {
            XapiVersion::V1 => "1.0.3",
            XapiVersion::V2 => "2.0.0",
        }
    }

    /// The `version` written into a stored statement that arrived without one.
    pub fn statement_default(self) -> &'static str {
        match self {
            XapiVersion::V1 => "1.0.0",
            XapiVersion::V2 => "2.0.0",
        }
    }

    /// Every version listed by the About resource.
    pub const SUPPORTED: [&'static str; 5] = ["1.0.0", "1.0.1", "1.0.2", "1.0.3", "2.0.0"];
}

impl fmt::Display for XapiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.header_value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_versions_clients_send() {
        for v in ["1.0", "1.0.0", "1.0.1", "1.0.2", "1.0.3", "2.0.0", "2.0"] {
            assert!(XapiVersion::parse(v).is_some(), "{v}");
        }
        assert_eq!(XapiVersion::parse("1.0.2"), Some(XapiVersion::V1));
        assert_eq!(XapiVersion::parse("2.0.0"), Some(XapiVersion::V2));
    }

    #[test]
    fn rejects_unknown_versions() {
        for v in [
            "", "0.95", "0.9", "1", "1.1", "1.1.0", "3.0.0", "1.0.x", "1.0.", "1.0.0.0", "2.1.0",
        ] {
            assert_eq!(XapiVersion::parse(v), None, "{v}");
        }
    }
}
