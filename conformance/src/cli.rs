//! The command line: `lrs-conformance --endpoint URL --xapi-version V …` runs the suite;
//! `lrs-conformance requirements …` prints the catalogue with the checks covering it.
//! Exit codes: 0 every MUST check passed, 1 some did not, 2 the run could not take place
//! (bad usage, unreachable LRS, refused token, unwritable report).

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::catalogue::{self, Catalogue};
use crate::check::Area;
use crate::config::{Auth, Config, Filter, XapiVersion};
use crate::report::{self, console, ReportTarget};

pub const EXIT_PASS: u8 = 0;
pub const EXIT_FAIL: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "lrs-conformance",
    version,
    about = "Audits an xAPI Learning Record Store against the xAPI 1.0.3 or 2.0 requirements",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print each requirement of the catalogue with the checks covering it.
    Requirements(RequirementsArgs),
}

#[derive(Debug, Args)]
struct RequirementsArgs {
    #[arg(long, value_enum, default_value = "2.0.0")]
    xapi_version: XapiVersion,
    /// Markdown instead of plain text.
    #[arg(long)]
    markdown: bool,
    /// Only the MUST coverage of both versions, as README.md shows it.
    #[arg(long, conflicts_with = "markdown")]
    coverage: bool,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The LRS's xAPI base IRI, e.g. https://lrs.example.com/xapi
    #[arg(long, env = "LRS_CONFORMANCE_ENDPOINT", required = true)]
    endpoint: Option<String>,
    #[arg(long, value_enum, default_value = "2.0.0")]
    xapi_version: XapiVersion,
    /// HTTP Basic user (key).
    #[arg(long, requires = "password", conflicts_with_all = ["token", "token_url"])]
    user: Option<String>,
    /// HTTP Basic password (secret).
    #[arg(
        long,
        env = "LRS_CONFORMANCE_PASSWORD",
        hide_env_values = true,
        requires = "user"
    )]
    password: Option<String>,
    /// A bearer token sent as-is.
    #[arg(
        long,
        env = "LRS_CONFORMANCE_TOKEN",
        hide_env_values = true,
        conflicts_with = "token_url"
    )]
    token: Option<String>,
    /// OAuth2 token endpoint for the client-credentials grant.
    #[arg(long, requires_all = ["client_id", "client_secret"])]
    token_url: Option<String>,
    #[arg(long, requires = "token_url")]
    client_id: Option<String>,
    #[arg(
        long,
        env = "LRS_CONFORMANCE_CLIENT_SECRET",
        hide_env_values = true,
        requires = "token_url"
    )]
    client_secret: Option<String>,
    /// Run only checks whose id, title or requirement id contains this (repeatable).
    #[arg(long)]
    grep: Vec<String>,
    /// Run only checks of this area (repeatable).
    #[arg(long, value_parser = parse_area)]
    area: Vec<Area>,
    /// Stop starting checks after the first MUST failure.
    #[arg(long)]
    bail: bool,
    /// Checks in flight at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,
    /// Seconds a request may take before it fails its check.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    timeout: u64,
    /// Reports to write: junit=FILE,json=FILE,html=FILE (any subset; repeatable).
    #[arg(long, value_parser = parse_report)]
    report: Vec<Vec<ReportTarget>>,
    /// No progress bar even on a terminal.
    #[arg(long)]
    no_progress: bool,
}

fn parse_area(name: &str) -> Result<Area, String> {
    Area::parse(name).ok_or_else(|| {
        let names: Vec<&str> = Area::ALL.iter().map(|a| a.as_str()).collect();
        format!("unknown area `{name}`; one of {}", names.join(", "))
    })
}

fn parse_report(spec: &str) -> Result<Vec<ReportTarget>, String> {
    report::parse_targets(spec)
}

impl RunArgs {
    fn config(self) -> Config {
        let auth = match (self.user, self.password, self.token, self.token_url) {
            (Some(user), Some(password), _, _) => Auth::Basic { user, password },
            (_, _, Some(token), _) => Auth::Bearer(token),
            (_, _, _, Some(token_url)) => Auth::ClientCredentials {
                token_url,
                client_id: self.client_id.unwrap_or_default(),
                client_secret: self.client_secret.unwrap_or_default(),
            },
            _ => Auth::None,
        };
        Config {
            endpoint: self.endpoint.unwrap_or_default(),
            version: self.xapi_version,
            auth,
            timeout: Duration::from_secs(self.timeout),
            concurrency: usize::from(self.concurrency),
            filter: Filter {
                grep: self.grep,
                areas: self.area,
            },
            bail: self.bail,
            progress: !self.no_progress,
        }
    }
}

/// Parses the process arguments and runs; the binary's whole `main`.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    ExitCode::from(match cli.command {
        Some(Command::Requirements(args)) => requirements(&args),
        None => run(cli.run),
    })
}

fn requirements(args: &RequirementsArgs) -> u8 {
    let checks = crate::checks::all();
    let text = if args.coverage {
        catalogue::readme_block(&checks)
    } else {
        Catalogue::load(args.xapi_version).map(|c| {
            let mut text = String::new();
            if args.markdown {
                text.push_str("## MUST coverage\n\n");
                text.push_str(&catalogue::coverage_markdown(&checks).unwrap_or_default());
                text.push('\n');
            }
            text + &catalogue::listing(&c, &checks, args.markdown)
        })
    };
    match text {
        Ok(text) => {
            print!("{text}");
            EXIT_PASS
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_USAGE
        }
    }
}

fn run(args: RunArgs) -> u8 {
    let targets: Vec<ReportTarget> = args.report.iter().flatten().cloned().collect();
    let config = args.config();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return EXIT_USAGE;
        }
    };
    let report = match runtime.block_on(crate::run(&config)) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    print!("{}", console::render(&report));
    if let Err(e) = report::write_all(&report, &targets) {
        eprintln!("error: {e}");
        return EXIT_USAGE;
    }
    if report.passed() {
        EXIT_PASS
    } else {
        EXIT_FAIL
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("lrs-conformance").chain(args.iter().copied()))
    }

    #[test]
    fn run_flags_become_a_config() {
        let cli = parse(&[
            "--endpoint",
            "http://127.0.0.1:1/xapi",
            "--xapi-version",
            "1.0.3",
            "--user",
            "k",
            "--password",
            "s",
            "--grep",
            "put",
            "--area",
            "alternate-syntax",
            "--bail",
            "--concurrency",
            "3",
            "--report",
            "junit=a.xml,html=b.html",
            "--report",
            "json=c.json",
        ])
        .unwrap();
        assert_eq!(cli.run.report.iter().flatten().count(), 3);
        let config = cli.run.config();
        assert_eq!(config.version, XapiVersion::V1_0_3);
        assert!(matches!(config.auth, Auth::Basic { ref user, .. } if user == "k"));
        assert_eq!(config.filter.areas, [Area::AlternateSyntax]);
        assert_eq!(config.concurrency, 3);
        assert!(config.bail);
    }

    #[test]
    fn usage_errors_are_refused() {
        assert!(parse(&[]).is_err(), "an endpoint is required");
        assert!(
            parse(&["--endpoint", "x", "--user", "k"]).is_err(),
            "user without password"
        );
        assert!(parse(&[
            "--endpoint",
            "x",
            "--token",
            "t",
            "--user",
            "k",
            "--password",
            "p"
        ])
        .is_err());
        assert!(parse(&["--endpoint", "x", "--token-url", "http://t"]).is_err());
        assert!(parse(&["--endpoint", "x", "--area", "nowhere"]).is_err());
        assert!(parse(&["--endpoint", "x", "--concurrency", "0"]).is_err());
        assert!(parse(&["requirements", "--xapi-version", "1.0.3", "--markdown"]).is_ok());
    }

    #[test]
    fn client_credentials_need_all_three_flags() {
        let cli = parse(&[
            "--endpoint",
            "x",
            "--token-url",
            "http://t/token",
            "--client-id",
            "id",
            "--client-secret",
            "s",
        ])
        .unwrap();
        assert!(matches!(
            cli.run.config().auth,
            Auth::ClientCredentials { .. }
        ));
    }
}
