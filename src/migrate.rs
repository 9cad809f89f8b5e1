//! `lrsgate migrate`: copies every record of one store into another, empty one (either
//! backend to either), then reads the copy back and compares counts and checksums.

use std::time::Instant;

use anyhow::{bail, Context as _};
use indicatif::{ProgressBar, ProgressStyle};

use crate::redact::redacted_url;
use crate::store::transfer::{Record, RecordKind, Tally};
use crate::store::Store;

#[derive(clap::Args, Debug, Clone)]
pub struct MigrateArgs {
    /// Store to copy from: sqlite://PATH or mongodb://HOST/DATABASE. Stop the gateways
    /// writing to it first.
    #[arg(long)]
    pub from: String,
    /// Store to copy into, which must hold no records yet.
    #[arg(long)]
    pub to: String,
}

/// What was copied of one kind, as read from each side.
#[derive(Debug, Clone)]
pub struct KindReport {
    pub kind: RecordKind,
    pub source: Tally,
    pub target: Tally,
}

impl KindReport {
    pub fn verified(&self) -> bool {
        self.source == self.target
    }
}

#[derive(Debug, Clone)]
pub struct MigrationReport {
    pub kinds: Vec<KindReport>,
}

impl MigrationReport {
    pub fn verified(&self) -> bool {
        self.kinds.iter().all(KindReport::verified)
    }
}

pub async fn run(args: MigrateArgs) -> anyhow::Result<()> {
    if args.from == args.to {
        bail!("--from and --to name the same store");
    }
    let from = Store::open(&args.from)
        .await
        .with_context(|| format!("opening the source store {}", redacted_url(&args.from)))?;
    let to = Store::open(&args.to)
        .await
        .with_context(|| format!("opening the target store {}", redacted_url(&args.to)))?;
    let started = Instant::now();
    let report = copy_store(&from, &to, progress_bar).await?;
    println!(
        "{:<12} {:>10} {:>10}  checksum",
        "records", "source", "copied"
    );
    for k in &report.kinds {
        println!(
            "{:<12} {:>10} {:>10}  {} {}",
            k.kind.name(),
            k.source.count,
            k.target.count,
            k.source.checksum_hex(),
            if k.verified() { "ok" } else { "MISMATCH" }
        );
    }
    if !report.verified() {
        bail!(
            "the copy in {} differs from the source",
            redacted_url(&args.to)
        );
    }
    println!(
        "Copied and verified {} records in {:.1} s.",
        report.kinds.iter().map(|k| k.source.count).sum::<u64>(),
        started.elapsed().as_secs_f64()
    );
    println!(
        "Skill evidence is derived from tags: run `lrsgate retag --tenant NAME --store {}` for each tenant to rebuild it.",
        redacted_url(&args.to)
    );
    Ok(())
}

/// A progress bar on standard error (drawn only on a terminal).
pub fn progress_bar(len: u64, message: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(len).with_message(message);
    if let Ok(style) = ProgressStyle::with_template(
        "{msg:<9} [{bar:40}] {human_pos}/{human_len} records ({per_sec}, {eta} left)",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Copies everything from `from` into the empty `to`, then verifies the copy. `bar` makes
/// the progress bar for a phase from its length and name.
pub async fn copy_store(
    from: &Store,
    to: &Store,
    bar: impl Fn(u64, &'static str) -> ProgressBar,
) -> anyhow::Result<MigrationReport> {
    let mut total = 0;
    let mut counts = Vec::new();
    for kind in RecordKind::ALL {
        let held = to.transfer.count(kind).await?;
        // Every store starts with the default tenant.
        let fresh = if kind == RecordKind::Tenants { 1 } else { 0 };
        if held > fresh {
            bail!(
                "the target store already holds {held} {}: copy into an empty store",
                kind.name()
            );
        }
        let count = from.transfer.count(kind).await?;
        total += count;
        counts.push(count);
    }

    let copying = bar(total, "copying");
    let mut sources = Vec::new();
    for kind in RecordKind::ALL {
        let tally = each_page(from, kind, async |records| {
            copying.inc(records.len() as u64);
            to.transfer
                .import(records)
                .await
                .with_context(|| format!("writing {} to the target", kind.name()))
        })
        .await?;
        sources.push(tally);
    }
    copying.finish();

    for (kind, (count, tally)) in RecordKind::ALL.iter().zip(counts.iter().zip(&sources)) {
        let now = from.transfer.count(*kind).await?;
        if now != *count || tally.count != *count {
            bail!(
                "the source changed while it was copied ({} {} before, {now} after): stop every gateway writing to it and copy again into an empty store",
                count,
                kind.name()
            );
        }
    }

    let verifying = bar(total, "verifying");
    let mut kinds = Vec::new();
    for (kind, source) in RecordKind::ALL.into_iter().zip(sources) {
        let target = each_page(to, kind, async |records| {
            verifying.inc(records.len() as u64);
            Ok(())
        })
        .await?;
        kinds.push(KindReport {
            kind,
            source,
            target,
        });
    }
    verifying.finish();
    copy_teams(from, to).await?;
    Ok(MigrationReport { kinds })
}

/// Teams, with their ids, tenant by tenant. (Evidence is not copied: it is derived from
/// the statements' tags, and `lrsgate retag` rebuilds it on the target.)
async fn copy_teams(from: &Store, to: &Store) -> anyhow::Result<()> {
    const PAGE: u64 = 200;
    for tenant in from.tenants.tenants().await? {
        let mut after: Option<String> = None;
        loop {
            let teams = from
                .evidence
                .teams(tenant.id, after.as_deref(), PAGE)
                .await?;
            after = teams.last().map(|t| t.id.clone());
            let last_page = (teams.len() as u64) < PAGE;
            for team in teams {
                to.evidence
                    .put_team(tenant.id, team)
                    .await
                    .context("writing teams to the target")?;
            }
            if last_page {
                break;
            }
        }
    }
    Ok(())
}

/// Reads every record of a kind, a page at a time, tallies it and hands the page on.
async fn each_page(
    store: &Store,
    kind: RecordKind,
    mut visit: impl AsyncFnMut(Vec<Record>) -> anyhow::Result<()>,
) -> anyhow::Result<Tally> {
    let mut tally = Tally::default();
    let mut after = None;
    loop {
        let page = store
            .transfer
            .export(kind, after, kind.page_size())
            .await
            .with_context(|| format!("reading {}", kind.name()))?;
        for record in &page.records {
            tally.add(record);
        }
        visit(page.records).await?;
        after = page.next;
        if after.is_none() {
            return Ok(tally);
        }
    }
}
