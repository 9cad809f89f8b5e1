//! What a credential or token may do: the xAPI authorization scopes (xAPI 1.0.3 Part
//! Three §4.4 / IEEE 9274.1.1 "OAuth Authorization Scope"), the scopes of the gateway's own
//! APIs, and the `xapi:read|write|all` vocabulary OAuth2 clients such as LinkedIn Learning
//! and EdCast ask for.

use std::collections::BTreeSet;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Write any statement.
    StatementsWrite,
    /// Read any statement.
    StatementsRead,
    /// Read only statements whose authority is the caller.
    StatementsReadMine,
    /// Read and write State documents.
    State,
    /// (Re)define activities and agents: without it, statements are stored but their
    /// activity definitions and agent names do not update the Activities/Agents resources.
    Define,
    /// Read and write Activity and Agent Profile documents.
    Profile,
    /// Read everything on the xAPI resources.
    AllRead,
    /// Everything on the xAPI resources.
    All,
    /// Read skill evidence.
    EvidenceRead,
    /// Read competency frameworks.
    FrameworksRead,
    /// Create and change competency frameworks.
    FrameworksWrite,
    /// Link and unlink the identities of people.
    PeopleWrite,
    /// Manage the tenant's credentials.
    Admin,
    /// See the tenant's connectors and their status.
    ConnectorsRead,
    /// Configure, run and delete the tenant's connectors, replay dead letters.
    ConnectorsWrite,
    /// Create, change and delete opportunities (projects, assignments, jobs).
    OpportunitiesWrite,
}

const NAMES: [(Scope, &str); 16] = [
    (Scope::StatementsWrite, "statements/write"),
    (Scope::StatementsRead, "statements/read"),
    (Scope::StatementsReadMine, "statements/read/mine"),
    (Scope::State, "state"),
    (Scope::Define, "define"),
    (Scope::Profile, "profile"),
    (Scope::AllRead, "all/read"),
    (Scope::All, "all"),
    (Scope::EvidenceRead, "evidence:read"),
    (Scope::FrameworksRead, "frameworks:read"),
    (Scope::FrameworksWrite, "frameworks:write"),
    (Scope::PeopleWrite, "people:write"),
    (Scope::Admin, "admin"),
    (Scope::ConnectorsRead, "connectors:read"),
    (Scope::ConnectorsWrite, "connectors:write"),
    (Scope::OpportunitiesWrite, "opportunities:write"),
];

impl Scope {
    pub fn name(self) -> &'static str {
        NAMES
            .iter()
            .find(|(s, _)| *s == self)
            .map_or("", |(_, n)| n)
    }

    /// The scopes a name grants: one of ours, or an OAuth2 `xapi:` alias.
    fn expand(name: &str) -> Option<&'static [Scope]> {
        const READ: &[Scope] = &[Scope::AllRead];
        const WRITE: &[Scope] = &[
            Scope::StatementsWrite,
            Scope::State,
            Scope::Profile,
            Scope::Define,
        ];
        const ALL: &[Scope] = &[Scope::All];
        match name {
            "xapi:read" => Some(READ),
            "xapi:write" => Some(WRITE),
            "xapi:all" => Some(ALL),
            _ => NAMES
                .iter()
                .find(|(_, n)| *n == name)
                .map(|(s, _)| std::slice::from_ref(s)),
        }
    }
}

/// How much of the statements a caller may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementReads {
    All,
    /// Only statements whose authority is the caller.
    Mine,
}

/// A set of scopes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(BTreeSet<Scope>);

impl Scopes {
    /// Parses space- (or comma-) separated scope names; `Err` names the first unknown one.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut set = BTreeSet::new();
        for name in text
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|n| !n.is_empty())
        {
            let granted = Scope::expand(name).ok_or_else(|| name.to_owned())?;
            set.extend(granted.iter().copied());
        }
        Ok(Scopes(set))
    }

    pub fn of(scopes: &[Scope]) -> Self {
        Scopes(scopes.iter().copied().collect())
    }

    /// What the operator's own credentials get (the one created at first start and those
    /// configured with `LRSGATE_CREDENTIALS`): everything in their tenant, the xAPI
    /// resources and every gateway API. Reaching other tenants stays with the operator's
    /// admin credential; credentials made for partners are given narrower scopes.
    pub fn operator() -> Self {
        use Scope::*;
        Scopes::of(&[
            All,
            EvidenceRead,
            FrameworksRead,
            FrameworksWrite,
            PeopleWrite,
            Admin,
            ConnectorsRead,
            ConnectorsWrite,
            OpportunitiesWrite,
        ])
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn has(&self, s: Scope) -> bool {
        self.0.contains(&s)
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|s| s.name()).collect()
    }

    /// Whether every scope of `other` is granted by this set (an `all` grants every xAPI
    /// scope, `all/read` every xAPI read).
    pub fn covers(&self, other: &Scopes) -> bool {
        other.0.iter().all(|s| self.grants(*s))
    }

    /// Those of `wanted` this set grants.
    pub fn narrowed_to(&self, wanted: &Scopes) -> Scopes {
        Scopes(
            wanted
                .0
                .iter()
                .copied()
                .filter(|s| self.grants(*s))
                .collect(),
        )
    }

    fn grants(&self, s: Scope) -> bool {
        use Scope::*;
        self.has(s)
            || match s {
                StatementsWrite | State | Define | Profile | AllRead => self.has(All),
                StatementsRead => self.has(All) || self.has(AllRead),
                StatementsReadMine => {
                    self.has(All) || self.has(AllRead) || self.has(StatementsRead)
                }
                _ => false,
            }
    }

    pub fn can_write_statements(&self) -> bool {
        self.grants(Scope::StatementsWrite)
    }

    pub fn statement_reads(&self) -> Option<StatementReads> {
        if self.grants(Scope::StatementsRead) {
            Some(StatementReads::All)
        } else if self.has(Scope::StatementsReadMine) {
            Some(StatementReads::Mine)
        } else {
            None
        }
    }

    /// State documents: `state` or `all` for anything, `all/read` for reads.
    pub fn can_state(&self, write: bool) -> bool {
        self.grants(Scope::State) || (!write && self.grants(Scope::AllRead))
    }

    /// Activity and Agent Profile documents.
    pub fn can_profile(&self, write: bool) -> bool {
        self.grants(Scope::Profile) || (!write && self.grants(Scope::AllRead))
    }

    /// The Activities and Agents resources (reads of what statements defined).
    pub fn can_read_definitions(&self) -> bool {
        self.grants(Scope::AllRead) || self.grants(Scope::Profile) || self.grants(Scope::Define)
    }

    pub fn can_define(&self) -> bool {
        self.grants(Scope::Define)
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(text: &str) -> Scopes {
        Scopes::parse(text).unwrap_or_default()
    }

    #[test]
    fn names_and_oauth_aliases_parse() {
        assert_eq!(
            scopes("statements/write statements/read/mine").names(),
            vec!["statements/write", "statements/read/mine"]
        );
        assert_eq!(scopes("xapi:all"), Scopes::of(&[Scope::All]));
        assert_eq!(scopes("xapi:read"), Scopes::of(&[Scope::AllRead]));
        assert!(scopes("xapi:write").can_write_statements());
        assert!(scopes("xapi:write").statement_reads().is_none());
        assert_eq!(Scopes::parse("all bogus"), Err("bogus".into()));
    }

    #[test]
    fn the_operator_credential_has_every_scope() {
        let every = Scopes::of(&NAMES.map(|(scope, _)| scope));
        assert!(Scopes::operator().covers(&every));
        let stored = Scopes::operator().to_string();
        assert_eq!(Scopes::parse(&stored), Ok(Scopes::operator()));
    }

    #[test]
    fn each_scope_allows_what_the_spec_says() {
        let all = scopes("all");
        assert!(all.can_write_statements() && all.can_state(true) && all.can_profile(true));
        assert_eq!(all.statement_reads(), Some(StatementReads::All));
        assert!(!all.has(Scope::Admin) && !all.grants(Scope::EvidenceRead));

        let read = scopes("all/read");
        assert!(!read.can_write_statements() && !read.can_state(true));
        assert!(read.can_state(false) && read.can_profile(false));
        assert_eq!(read.statement_reads(), Some(StatementReads::All));

        let mine = scopes("statements/read/mine");
        assert_eq!(mine.statement_reads(), Some(StatementReads::Mine));
        assert!(!mine.can_state(false) && !mine.can_read_definitions());

        let state = scopes("state");
        assert!(state.can_state(true) && !state.can_profile(false));
        assert!(state.statement_reads().is_none());

        let write = scopes("statements/write");
        assert!(write.can_write_statements() && !write.can_define());
    }

    #[test]
    fn a_token_gets_only_what_its_credential_grants() {
        let credential = scopes("all/read state");
        assert!(credential.covers(&scopes("statements/read state")));
        assert!(!credential.covers(&scopes("statements/write")));
        assert_eq!(
            credential.narrowed_to(&scopes("statements/read statements/write")),
            scopes("statements/read")
        );
    }
}
