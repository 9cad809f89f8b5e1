//! The requirement catalogues (`conformance/requirements/xapi-*.toml`, embedded at build
//! time) and their join with the checks: which checks cover each requirement, and the
//! coverage table README.md shows. Checks name their requirement ids in code; the TOML
//! never names checks, so there is one source of truth for each fact.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::check::{Area, Check, Level};
use crate::config::XapiVersion;

const XAPI_1_0_3: &str = include_str!("../requirements/xapi-1.0.3.toml");
const XAPI_2_0_0: &str = include_str!("../requirements/xapi-2.0.0.toml");

/// One requirement the specification places on an LRS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// 1.0.3: `<About|Data|Communication> <anchor>`; 2.0.0: `<clause>#<n>`.
    pub id: String,
    pub level: Level,
    pub area: Area,
    /// A one-line paraphrase.
    pub text: String,
    /// The numbers of ADL's conformance requirements it maps to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adl: Vec<String>,
    /// Why no black-box check can decide it, when none can.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    requirement: Vec<Requirement>,
}

#[derive(Debug, thiserror::Error)]
#[error("the xAPI {version} requirement catalogue does not parse: {source}")]
pub struct CatalogueError {
    version: XapiVersion,
    source: toml::de::Error,
}

/// The requirements of one xAPI version, in catalogue order.
#[derive(Clone, Debug)]
pub struct Catalogue {
    pub version: XapiVersion,
    pub requirements: Vec<Requirement>,
}

impl Catalogue {
    pub fn load(version: XapiVersion) -> Result<Catalogue, CatalogueError> {
        let text = match version {
            XapiVersion::V1_0_3 => XAPI_1_0_3,
            XapiVersion::V2_0_0 => XAPI_2_0_0,
        };
        let file: File =
            toml::from_str(text).map_err(|source| CatalogueError { version, source })?;
        Ok(Catalogue {
            version,
            requirements: file.requirement,
        })
    }

    pub fn get(&self, id: &str) -> Option<&Requirement> {
        self.requirements.iter().find(|r| r.id == id)
    }

    /// The level a check reports with: the strongest of its requirements in this version.
    /// An id missing from the catalogue counts as MUST, so a gap never softens a verdict.
    pub fn level_of(&self, check: &Check) -> Level {
        check
            .requirement_ids(self.version)
            .map(|id| self.get(id).map_or(Level::Must, |r| r.level))
            .max()
            .unwrap_or(Level::Must)
    }

    /// The ids of the checks covering each requirement.
    pub fn covering<'c>(&self, checks: &'c [Check]) -> BTreeMap<&str, Vec<&'c str>> {
        let mut map: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for requirement in &self.requirements {
            map.entry(requirement.id.as_str()).or_default();
        }
        for check in checks {
            for id in check.requirement_ids(self.version) {
                if let Some(entry) = map.get_mut(id) {
                    entry.push(check.id);
                }
            }
        }
        map
    }

    /// MUST coverage per area.
    pub fn coverage(&self, checks: &[Check]) -> Vec<AreaCoverage> {
        let covering = self.covering(checks);
        Area::ALL
            .iter()
            .map(|&area| {
                let mut row = AreaCoverage {
                    area,
                    musts: 0,
                    covered: 0,
                    manual: 0,
                };
                for r in self
                    .requirements
                    .iter()
                    .filter(|r| r.area == area && r.level == Level::Must)
                {
                    row.musts += 1;
                    if covering.get(r.id.as_str()).is_some_and(|c| !c.is_empty()) {
                        row.covered += 1;
                    } else if r.manual.is_some() {
                        row.manual += 1;
                    }
                }
                row
            })
            .collect()
    }
}

/// How many MUST requirements of an area checks cover, and how many cannot be automated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AreaCoverage {
    pub area: Area,
    pub musts: usize,
    pub covered: usize,
    pub manual: usize,
}

/// The Markdown coverage table of both versions that README.md shows.
pub fn coverage_markdown(checks: &[Check]) -> Result<String, CatalogueError> {
    let tables = XapiVersion::ALL
        .iter()
        .map(|&v| Catalogue::load(v).map(|c| c.coverage(checks)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = String::from(
        "| area | 1.0.3 MUSTs | covered | manual | 2.0.0 MUSTs | covered | manual |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut totals = [0usize; 6];
    for (i, area) in Area::ALL.iter().enumerate() {
        let (a, b) = (tables[0][i], tables[1][i]);
        let cells = [a.musts, a.covered, a.manual, b.musts, b.covered, b.manual];
        for (t, c) in totals.iter_mut().zip(cells) {
            *t += c;
        }
        let _ = writeln!(
            out,
            "| {area} | {} | {} | {} | {} | {} | {} |",
            cells[0], cells[1], cells[2], cells[3], cells[4], cells[5]
        );
    }
    let _ = writeln!(
        out,
        "| **all** | **{}** | **{}** | **{}** | **{}** | **{}** | **{}** |",
        totals[0], totals[1], totals[2], totals[3], totals[4], totals[5]
    );
    Ok(out)
}

/// What README.md shows between its coverage markers: the coverage table, then per version
/// the MUST requirements no black-box check can decide, with the reason.
pub fn readme_block(checks: &[Check]) -> Result<String, CatalogueError> {
    let mut out = coverage_markdown(checks)?;
    for version in XapiVersion::ALL {
        let catalogue = Catalogue::load(version)?;
        let covering = catalogue.covering(checks);
        let manual: Vec<&Requirement> = catalogue
            .requirements
            .iter()
            .filter(|r| r.level == Level::Must)
            .filter(|r| covering.get(r.id.as_str()).is_none_or(Vec::is_empty))
            .filter(|r| r.manual.is_some())
            .collect();
        let _ = writeln!(
            out,
            "\nxAPI {version}: {} MUST requirements need a manual review:\n",
            manual.len()
        );
        for r in manual {
            let _ = writeln!(
                out,
                "- `{}` ({}): {}",
                r.id,
                r.area,
                r.manual.as_deref().unwrap_or_default()
            );
        }
    }
    Ok(out)
}

/// Every requirement of `catalogue` with the checks covering it, as text or Markdown.
pub fn listing(catalogue: &Catalogue, checks: &[Check], markdown: bool) -> String {
    let covering = catalogue.covering(checks);
    let mut out = String::new();
    if markdown {
        let _ = writeln!(out, "# xAPI {} requirements\n", catalogue.version);
        out.push_str("| id | level | area | requirement | checks |\n|---|---|---|---|---|\n");
    }
    for r in &catalogue.requirements {
        let checks = covering.get(r.id.as_str()).cloned().unwrap_or_default();
        let by = if !checks.is_empty() {
            checks.join(", ")
        } else if let Some(why) = &r.manual {
            format!("manual: {why}")
        } else {
            "not covered".to_owned()
        };
        if markdown {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                r.id,
                r.level,
                r.area,
                r.text.replace('|', "\\|"),
                by.replace('|', "\\|")
            );
        } else {
            let _ = writeln!(
                out,
                "{} [{} {}] {}\n    checks: {by}",
                r.id, r.level, r.area, r.text
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn catalogues() -> Vec<Catalogue> {
        XapiVersion::ALL
            .iter()
            .map(|&v| Catalogue::load(v).unwrap())
            .collect()
    }

    #[test]
    fn both_catalogues_parse_with_unique_ids() {
        for catalogue in catalogues() {
            assert!(!catalogue.requirements.is_empty());
            let mut seen = HashSet::new();
            for r in &catalogue.requirements {
                assert!(
                    seen.insert(r.id.as_str()),
                    "{}: duplicate id {}",
                    catalogue.version,
                    r.id
                );
                assert!(!r.text.trim().is_empty(), "{}: no text", r.id);
                assert!(!r.text.contains('\n'), "{}: text is one line", r.id);
                if let Some(why) = &r.manual {
                    assert!(!why.trim().is_empty(), "{}: empty manual reason", r.id);
                }
            }
        }
    }

    #[test]
    fn id_forms_follow_each_version() {
        let [v1, v2] = [&catalogues()[0], &catalogues()[1]];
        for r in &v1.requirements {
            assert!(
                ["About ", "Data ", "Communication "]
                    .iter()
                    .any(|p| r.id.starts_with(p)),
                "1.0.3 id {} is not `<About|Data|Communication> <anchor>`",
                r.id
            );
        }
        for r in &v2.requirements {
            let (clause, n) = r.id.split_once('#').unwrap_or(("", ""));
            assert!(
                clause.starts_with("4.")
                    && clause.split('.').all(|p| p.parse::<u32>().is_ok())
                    && n.parse::<u32>().is_ok(),
                "2.0.0 id {} is not `<clause>#<n>`",
                r.id
            );
        }
    }

    #[test]
    fn every_requirement_a_check_names_is_in_its_catalogue() {
        let checks = crate::checks::all();
        for catalogue in catalogues() {
            for check in &checks {
                for id in check.requirement_ids(catalogue.version) {
                    assert!(
                        catalogue.get(id).is_some(),
                        "check {} names {id}, which the xAPI {} catalogue lacks",
                        check.id,
                        catalogue.version
                    );
                }
            }
        }
    }

    #[test]
    fn every_must_is_covered_by_a_check_or_explained() {
        let checks = crate::checks::all();
        let mut gaps = Vec::new();
        for catalogue in catalogues() {
            let covering = catalogue.covering(&checks);
            for r in &catalogue.requirements {
                let covered = covering.get(r.id.as_str()).is_some_and(|c| !c.is_empty());
                if r.level == Level::Must && !covered && r.manual.is_none() {
                    gaps.push(format!("xAPI {} [{}] {}", catalogue.version, r.area, r.id));
                }
            }
        }
        assert!(
            gaps.is_empty(),
            "{} MUST requirements have neither a check nor a manual reason:\n{}",
            gaps.len(),
            gaps.join("\n")
        );
    }

    #[test]
    fn a_check_reports_with_its_strongest_level() {
        let v1 = Catalogue::load(XapiVersion::V1_0_3).unwrap();
        let ok = |_cx: crate::check::Ctx| async { Ok(()) };
        let should = Check::new(Area::Statements, "statements.x", "x", ok)
            .v1(&["Communication 2.1.1.s2.b3"]);
        assert_eq!(v1.level_of(&should), Level::Should);
        let both = should.clone().v1(&["Communication 2.1.1.s2.b2"]);
        assert_eq!(v1.level_of(&both), Level::Must);
    }
}

#[cfg(test)]
mod readme {
    //! README.md shows the coverage block between two markers; this keeps it equal to the
    //! generated one. `LRS_CONFORMANCE_BLESS=1 cargo test -p lrs-conformance readme`
    //! rewrites the block (and nothing else) when checks or catalogues change.

    use super::*;

    const BEGIN: &str = "<!-- conformance-coverage:begin -->\n";
    const END: &str = "<!-- conformance-coverage:end -->";

    #[test]
    fn readme_shows_the_generated_coverage() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
        let readme = std::fs::read_to_string(path).unwrap();
        let start = readme
            .find(BEGIN)
            .expect("README.md has the coverage begin marker")
            + BEGIN.len();
        let end = readme[start..]
            .find(END)
            .expect("README.md has the coverage end marker")
            + start;
        let generated = readme_block(&crate::checks::all()).unwrap();
        if readme[start..end] == generated {
            return;
        }
        if std::env::var_os("LRS_CONFORMANCE_BLESS").is_some() {
            let updated = format!("{}{generated}{}", &readme[..start], &readme[end..]);
            std::fs::write(path, updated).unwrap();
            return;
        }
        panic!(
            "README.md's conformance coverage is stale; run \
             `LRS_CONFORMANCE_BLESS=1 cargo test -p lrs-conformance readme` to regenerate it"
        );
    }
}
