//! `fsecheck`: check Italian FSE 2.0 CDA documents the way the Gateway FSE 2.0 does, offline.

mod audit;
mod catalog_info;
mod config;
mod explain;
mod filters;
mod merge;

use clap::{Args, Parser, Subcommand, ValueEnum};
use fsecheck_catalog::Catalog;
use fsecheck_engine::{
    collect_inputs, expand_archives, run_ordered, Engine, EngineOptions, Input, Metadata,
    WalkOptions,
};
use fsecheck_report::baseline::{Baseline, BaselineWriter};
use fsecheck_report::human::HumanSink;
use fsecheck_report::{FailOn, JsonSink, JsonlSink, Sink, Summary};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

// Parsing allocates and frees a tree per document on every worker: mimalloc's thread-local
// heaps keep that off the global lock and out of mmap/munmap (about 7% on the backbone).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "fsecheck",
    version,
    about = "Check FSE 2.0 CDA documents like the Gateway FSE 2.0, offline"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check documents and folders (recursively).
    Check(Box<CheckArgs>),
    /// Check like `check` and write an audit per document type (CSV, JSON, HTML) to --out DIR.
    Audit(Box<audit::AuditArgs>),
    /// Merge JSONL record files (e.g. shard outputs), each sorted by path, into one sorted stream.
    Merge(Box<merge::MergeArgs>),
    /// Inspect the catalog.
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// Manage the record cache of `--cache`.
    Cache {
        #[command(subcommand)]
        command: CacheCommand,
    },
    /// Explain a rule id: a built-in rule, or a schematron assert (`sch/ERRORE-5 --doc-type LDO`).
    Explain {
        /// The rule id, e.g. xml/not-well-formed or sch/ERRORE-5.
        id: String,
        /// Document type whose catalog schematron to read (LDO, VPS, ...); default: all.
        #[arg(long, value_name = "KEY")]
        doc_type: Option<String>,
        #[arg(long, value_name = "DIR")]
        catalog: Option<PathBuf>,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Output as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// Provenance, document types, schematron files and the versions written inside them.
    Info {
        #[arg(long, value_name = "DIR")]
        catalog: Option<PathBuf>,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Output as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum CacheCommand {
    /// Remove entries last written more than --older-than days ago (a document still in use is
    /// then checked once more and stored again), folders of other cache formats, and files left
    /// by interrupted runs.
    Prune {
        /// The cache folder (else `cache` in fsecheck.toml).
        #[arg(long, value_name = "DIR")]
        cache: Option<PathBuf>,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Age in days past which an entry goes (0: every entry).
        #[arg(long, value_name = "DAYS", default_value_t = 30)]
        older_than: u64,
        /// Count what would be removed; remove nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CdaModeArg {
    Attachment,
    Resource,
    Auto,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReleaseArg {
    Main,
    Release,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOnArg {
    Error,
    Warning,
    Never,
}

#[derive(Args)]
struct CheckArgs {
    /// Files and folders to check.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// The it-fse-catalogs checkout (else FSECHECK_CATALOG, else `catalog` in fsecheck.toml).
    #[arg(long, value_name = "DIR")]
    catalog: Option<PathBuf>,
    /// Apply this schematron file to every document instead of the catalog's choice.
    #[arg(long, value_name = "FILE")]
    schematron: Option<PathBuf>,
    /// Format written to standard output: human, json, jsonl, sarif, junit, gitlab, csv, html.
    #[arg(long, value_name = "FORMAT")]
    format: Option<String>,
    /// Also write FORMAT to FILE (repeatable), e.g. --output jsonl=report.jsonl.
    #[arg(long = "output", value_name = "FORMAT=FILE")]
    outputs: Vec<String>,
    /// Lowest severity that makes the exit code 1.
    #[arg(long, value_enum)]
    fail_on: Option<FailOnArg>,
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,
    /// Also check hidden files and folders (names starting with '.') found while walking.
    #[arg(long)]
    hidden: bool,
    /// Largest file accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024 * 1024)]
    max_size: u64,
    /// Publication request body (JSON) to check with the document(s), instead of X.json sidecars.
    #[arg(long, value_name = "FILE")]
    metadata: Option<PathBuf>,
    /// JWT (FSE-JWT-Signature payload token) to check with the document(s), instead of X.jwt sidecars.
    #[arg(long, value_name = "FILE")]
    jwt: Option<PathBuf>,
    /// Which gateway code line to emulate where they differ (release adds the LOINC ↔
    /// tipoDocumentoLivAlto correlation).
    #[arg(long, value_enum, default_value = "release")]
    gateway_release: ReleaseArg,
    /// Trust anchors for signature verification: a PEM/DER certificate file or a folder of them.
    #[arg(long, value_name = "FILE|DIR")]
    trust: Option<PathBuf>,
    /// Where to look for the CDA in a PDF: the gateway's ATTACHMENT or RESOURCE mode, or auto
    /// (RESOURCE then ATTACHMENT, as the gateway does when no mode is sent).
    #[arg(long, value_enum, default_value = "auto")]
    cda_mode: CdaModeArg,
    /// Config file (else the nearest fsecheck.toml upward).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Human output: only documents with warnings or errors, and the summary.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// No colours in human output (NO_COLOR is honoured too).
    #[arg(long)]
    no_color: bool,
    /// Hide the findings recorded in this baseline file: report only new ones.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Record the current warnings and errors in this baseline file.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Redact personal data in every format (default: only sarif, gitlab, junit and html).
    #[arg(long, conflicts_with = "no_redact")]
    redact: bool,
    /// Never redact personal data, not even in sarif, gitlab, junit and html.
    #[arg(long)]
    no_redact: bool,
    /// Skip walked files matching this glob (repeatable; adds to `exclude` in fsecheck.toml).
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// No progress bar (it is only ever shown on a terminal, and never with --quiet).
    #[arg(long)]
    no_progress: bool,
    /// Record cache for incremental runs: unchanged documents reuse their stored record (else
    /// `cache` in fsecheck.toml).
    #[arg(long, value_name = "DIR")]
    cache: Option<PathBuf>,
    /// With --cache: read and hash every document, even those whose file-system facts (inode,
    /// size, times) say they are unchanged since the run that stored them.
    #[arg(long, requires = "cache")]
    cache_rehash: bool,
    /// Check only shard I of N (1-based, e.g. 2/4): the inputs whose path hashes to it, after
    /// walking and archive expansion.
    #[arg(long, value_name = "I/N")]
    shard: Option<fsecheck_engine::Shard>,
    /// Zip archives: most entries in one archive.
    #[arg(long, value_name = "N")]
    archive_max_entries: Option<usize>,
    /// Zip archives: largest total uncompressed size of one archive's entries, in bytes (each
    /// entry is also held to --max-size).
    #[arg(long, value_name = "BYTES")]
    archive_max_total: Option<u64>,
    /// Zip archives: largest uncompressed/compressed ratio of an entry above 1 MiB.
    #[arg(long, value_name = "N")]
    archive_max_ratio: Option<u64>,
}

/// A usage or configuration error: exit code 2.
struct UsageError(String);

impl<T: std::fmt::Display> From<T> for UsageError {
    fn from(e: T) -> Self {
        UsageError(e.to_string())
    }
}

fn main() -> ExitCode {
    fsecheck_engine::rules::register_rules();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => check(*args, RunExtras::default()),
        Command::Audit(args) => audit::run(*args),
        Command::Merge(args) => merge::run(*args),
        Command::Catalog {
            command:
                CatalogCommand::Info {
                    catalog,
                    config,
                    json,
                },
        } => open_catalog(catalog.as_deref(), config.as_deref())
            .and_then(|c| catalog_info::print(&c, json).map_err(UsageError::from))
            .map(|()| ExitCode::SUCCESS),
        Command::Cache {
            command:
                CacheCommand::Prune {
                    cache,
                    config,
                    older_than,
                    dry_run,
                },
        } => prune_cache(cache, config.as_deref(), older_than, dry_run),
        Command::Explain {
            id,
            doc_type,
            catalog,
            config,
            json,
        } => explain::run(
            &id,
            doc_type.as_deref(),
            || open_catalog(catalog.as_deref(), config.as_deref()).map_err(|e| e.0),
            json,
        )
        .map_err(UsageError)
        .and_then(|known| {
            if known {
                Ok(ExitCode::SUCCESS)
            } else {
                Err(UsageError(explain::unknown(&id)))
            }
        }),
    };
    match result {
        Ok(code) => code,
        Err(UsageError(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}

/// `fsecheck cache prune`.
fn prune_cache(
    cache: Option<PathBuf>,
    config: Option<&std::path::Path>,
    older_than_days: u64,
    dry_run: bool,
) -> Result<ExitCode, UsageError> {
    let loaded = config::load(config)?;
    let dir = cache
        .or_else(|| loaded.config.cache.as_ref().map(|c| loaded.resolve(c)))
        .ok_or_else(|| {
            UsageError("no cache folder: give --cache DIR or set `cache` in fsecheck.toml".into())
        })?;
    if !dir.is_dir() {
        return Err(UsageError(format!(
            "--cache {}: no such folder",
            dir.display()
        )));
    }
    let now = std::time::SystemTime::now();
    let cutoff = match older_than_days {
        0 => now + std::time::Duration::from_secs(1),
        days => now
            .checked_sub(std::time::Duration::from_secs(days.saturating_mul(86_400)))
            .unwrap_or(std::time::UNIX_EPOCH),
    };
    let p = fsecheck_engine::cache::prune(&dir, cutoff, dry_run)
        .map_err(|e| UsageError(format!("--cache {}: {e}", dir.display())))?;
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    emit(&format!(
        "{}: {} file(s) {} ({:.1} MiB), {} kept ({:.1} MiB)\n",
        dir.display(),
        p.removed,
        if dry_run {
            "would be removed"
        } else {
            "removed"
        },
        mib(p.removed_bytes),
        p.kept,
        mib(p.kept_bytes)
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// Write a command's whole output to standard output. A reader that went away (`| head`) is not
/// an error: the rest is simply not wanted.
fn emit(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r,
    }
}

fn open_catalog(
    flag: Option<&std::path::Path>,
    config: Option<&std::path::Path>,
) -> Result<Catalog, UsageError> {
    let loaded = config::load(config)?;
    let (dir, _) = fsecheck_catalog::discover(flag, loaded.catalog().as_deref())?;
    Ok(Catalog::open(&dir)?)
}

/// Formats that redact personal data unless `--no-redact`.
const REDACTED_BY_DEFAULT: &[&str] = &["sarif", "gitlab", "junit", "html"];

#[allow(clippy::too_many_arguments)]
/// Colours on standard output: a terminal, and neither `--no-color` nor `NO_COLOR`.
fn stdout_color(no_color: bool) -> bool {
    !no_color
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stdout().is_terminal()
}

/// `--output FORMAT=FILE`.
fn output_spec(spec: &str) -> Result<(String, PathBuf), UsageError> {
    let (format, file) = spec
        .split_once('=')
        .ok_or_else(|| UsageError(format!("--output '{spec}': expected FORMAT=FILE")))?;
    Ok((format.to_string(), PathBuf::from(file)))
}

/// A sink writing `format` to a new `file` (no colours).
fn file_sink(
    format: &str,
    file: &std::path::Path,
    quiet: bool,
    meta: &serde_json::Value,
    redact: Option<bool>,
    fail_on: FailOn,
) -> Result<Box<dyn Sink>, UsageError> {
    let f = std::fs::File::create(file)
        .map_err(|e| UsageError(format!("--output {}: {e}", file.display())))?;
    let out = Box::new(std::io::BufWriter::new(f));
    make_sink(format, out, false, quiet, meta, redact, fail_on)
}

fn make_sink(
    format: &str,
    out: Box<dyn Write>,
    color: bool,
    quiet: bool,
    meta: &serde_json::Value,
    redact: Option<bool>,
    fail_on: FailOn,
) -> Result<Box<dyn Sink>, UsageError> {
    use fsecheck_report::{csvout, gitlab, html, junit, sarif};
    let redact = redact.unwrap_or(REDACTED_BY_DEFAULT.contains(&format));
    let sink: Box<dyn Sink> = match format {
        "human" => Box::new(HumanSink::new(out, color, quiet)),
        "json" => Box::new(JsonSink::new(out, meta.clone())),
        "jsonl" => Box::new(JsonlSink::new(out)),
        "sarif" => Box::new(sarif::SarifSink::new(out, redact)),
        "junit" => Box::new(junit::JunitSink::new(out, redact, fail_on)),
        "gitlab" => Box::new(gitlab::GitlabSink::new(out, redact)),
        "csv" => Box::new(csvout::CsvSink::new(out, redact)),
        "html" => Box::new(html::HtmlSink::new(out, redact)),
        other => {
            return Err(UsageError(format!(
                "unknown format '{other}' (this build supports: human, json, jsonl, sarif, junit, \
                 gitlab, csv, html)"
            )))
        }
    };
    // The formats without their own redaction get it by wrapping (only with --redact).
    Ok(if redact && matches!(format, "human" | "json" | "jsonl") {
        Box::new(fsecheck_report::redact::RedactingSink::new(sink))
    } else {
        sink
    })
}

fn read_arg_file(flag: &str, p: &std::path::Path) -> Result<(PathBuf, String), UsageError> {
    std::fs::read_to_string(p)
        .map(|t| (p.to_path_buf(), t))
        .map_err(|e| UsageError(format!("{flag} {}: {e}", p.display())))
}

fn explicit_metadata(args: &CheckArgs) -> Result<Metadata, UsageError> {
    Ok(Metadata {
        body: args
            .metadata
            .as_deref()
            .map(|p| read_arg_file("--metadata", p))
            .transpose()?,
        jwt: args
            .jwt
            .as_deref()
            .map(|p| read_arg_file("--jwt", p).map(|(p, t)| (p, t.trim().to_string())))
            .transpose()?,
    })
}

/// What a command built on `check` (audit) adds to the run.
#[derive(Default)]
struct RunExtras {
    /// More sinks, fed every record after the others.
    sinks: Vec<Box<dyn Sink>>,
    /// No `--format` sink on standard output (the extra sinks write there themselves).
    no_stdout_format: bool,
}

/// `fail-on` from the flag, else from the config file, else `error`.
fn resolve_fail_on(flag: Option<FailOnArg>, config: Option<&str>) -> Result<FailOn, UsageError> {
    Ok(match flag {
        Some(FailOnArg::Error) => FailOn::Error,
        Some(FailOnArg::Warning) => FailOn::Warning,
        Some(FailOnArg::Never) => FailOn::Never,
        None => match config {
            None | Some("error") => FailOn::Error,
            Some("warning") => FailOn::Warning,
            Some("never") => FailOn::Never,
            Some(x) => {
                return Err(UsageError(format!(
                    "config: fail-on '{x}' is not error, warning or never"
                )))
            }
        },
    })
}

fn check(args: CheckArgs, extras: RunExtras) -> Result<ExitCode, UsageError> {
    let started = Instant::now();
    let loaded = config::load(args.config.as_deref())?;
    let (catalog_dir, _) =
        fsecheck_catalog::discover(args.catalog.as_deref(), loaded.catalog().as_deref())?;
    let archive_limits = fsecheck_engine::ArchiveLimits {
        max_entry_size: args.max_size,
        max_entries: args
            .archive_max_entries
            .or(loaded.config.archive_max_entries)
            .unwrap_or(fsecheck_engine::ArchiveLimits::default().max_entries),
        max_total_size: args
            .archive_max_total
            .or(loaded.config.archive_max_total)
            .unwrap_or(fsecheck_engine::ArchiveLimits::default().max_total_size),
        max_ratio: args
            .archive_max_ratio
            .or(loaded.config.archive_max_ratio)
            .unwrap_or(fsecheck_engine::ArchiveLimits::default().max_ratio),
    };
    // The inputs are gathered (walk, excludes, archives, shard) while the catalog loads.
    let gathering = {
        let paths = args.paths.clone();
        let mut exclude = loaded.config.exclude.clone();
        exclude.extend(args.exclude.iter().cloned());
        let (hidden, shard) = (args.hidden, args.shard);
        std::thread::spawn(move || gather_inputs(&paths, &exclude, &archive_limits, hidden, shard))
    };
    let catalog = Arc::new(Catalog::open(&catalog_dir)?);
    if let Some(s) = &args.schematron {
        if !s.is_file() {
            return Err(UsageError(format!(
                "--schematron {}: no such file",
                s.display()
            )));
        }
    }
    let fail_on = resolve_fail_on(args.fail_on, loaded.config.fail_on.as_deref())?;
    let jobs = args
        .jobs
        .or(loaded.config.jobs)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if jobs == 0 {
        return Err(UsageError("--jobs must be at least 1".into()));
    }
    let stdout_format = args
        .format
        .clone()
        .or(loaded.config.format.clone())
        .unwrap_or_else(|| "human".into());
    let color = stdout_color(args.no_color);
    let meta = serde_json::json!({
        "tool": "fsecheck",
        "version": env!("CARGO_PKG_VERSION"),
        "catalog": {
            "path": catalog.root.to_string_lossy(),
            "commit": catalog.provenance.commit,
            "last_sync": catalog.provenance.last_sync,
            "fingerprint": catalog.provenance.fingerprint,
        },
    });
    let redact = match (args.redact, args.no_redact) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    // Formats that show snippets or redact the patient's data need the checked text.
    let needs_source = |f: &str| {
        matches!(f, "human" | "sarif" | "html")
            || redact.unwrap_or(REDACTED_BY_DEFAULT.contains(&f))
    };
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    let mut wants_source = false;
    if !extras.no_stdout_format {
        sinks.push(make_sink(
            &stdout_format,
            Box::new(std::io::BufWriter::new(std::io::stdout())),
            color,
            args.quiet,
            &meta,
            redact,
            fail_on,
        )?);
        wants_source = needs_source(&stdout_format);
    }
    let outputs: Vec<(String, PathBuf)> = if args.outputs.is_empty() {
        loaded
            .config
            .outputs
            .iter()
            .map(|(f, p)| (f.clone(), loaded.resolve(p)))
            .collect()
    } else {
        args.outputs
            .iter()
            .map(|spec| output_spec(spec))
            .collect::<Result<_, _>>()?
    };
    for (format, file) in &outputs {
        wants_source |= needs_source(format);
        sinks.push(file_sink(format, file, args.quiet, &meta, redact, fail_on)?);
    }
    // The formats written; the extra sinks (audit) read whole records.
    let formats: Vec<&str> = std::iter::once(stdout_format.as_str())
        .filter(|_| !extras.no_stdout_format)
        .chain(outputs.iter().map(|(f, _)| f.as_str()))
        .collect();
    let extras_read_text = extras.sinks.iter().any(|s| s.reads_finding_text());
    sinks.extend(extras.sinks);
    let overrides = filters::Overrides::parse(&loaded.config.severity)?;
    if let Some(t) = &loaded.config.trust_anchors {
        // Read by the signature stage; checked here so that a typo is a config error.
        let t = loaded.resolve(t);
        if !t.exists() {
            return Err(UsageError(format!(
                "config: trust-anchors {}: no such file or folder",
                t.display()
            )));
        }
    }
    let mut baseline = match &args.baseline {
        Some(p) => Some(Baseline::load(p)?),
        None => None,
    };
    let mut baseline_writer = args.write_baseline.as_ref().map(BaselineWriter::new);
    // --trust wins over `trust-anchors` in the config file.
    let trust_path = args.trust.clone().or_else(|| {
        loaded
            .config
            .trust_anchors
            .as_ref()
            .map(|t| loaded.resolve(t))
    });
    // The JSON of each record is rendered on the workers when nothing changes the record
    // after the check (severity overrides, a baseline) and a JSON format will write it; when
    // every output writes that JSON or reads no finding text (the audit), records from the
    // cache need not be read whole.
    let is_json = |f: &&str| matches!(*f, "json" | "jsonl");
    let prerender =
        formats.iter().any(is_json) && overrides.is_empty() && baseline.is_none() && !args.redact;
    let summary_only = formats.iter().all(is_json)
        && overrides.is_empty()
        && baseline.is_none()
        && !args.redact
        && !extras_read_text
        && baseline_writer.is_none();
    let cache_dir = args
        .cache
        .clone()
        .or_else(|| loaded.config.cache.as_ref().map(|c| loaded.resolve(c)));
    let engine = Engine::build(
        catalog,
        EngineOptions {
            limits: fsecheck_xml::Limits {
                max_bytes: args.max_size,
                ..Default::default()
            },
            schematron_override: args.schematron.clone(),
            keep_source: wants_source,
            metadata: fsecheck_metadata::Options {
                release: match args.gateway_release {
                    ReleaseArg::Main => fsecheck_metadata::GatewayRelease::Main,
                    ReleaseArg::Release => fsecheck_metadata::GatewayRelease::Release,
                },
                ..Default::default()
            },
            explicit_metadata: explicit_metadata(&args)?,
            pades: fsecheck_pades::Options {
                cda_mode: match args.cda_mode {
                    CdaModeArg::Attachment => fsecheck_pades::CdaMode::Attachment,
                    CdaModeArg::Resource => fsecheck_pades::CdaMode::Resource,
                    CdaModeArg::Auto => fsecheck_pades::CdaMode::Auto,
                },
                trust: match &trust_path {
                    Some(p) => fsecheck_pades::TrustStore::from_path(p)
                        .map_err(|e| UsageError(format!("--trust {}: {e}", p.display())))?,
                    None => fsecheck_pades::TrustStore::empty(),
                },
                gateway: match args.gateway_release {
                    ReleaseArg::Main => fsecheck_pades::GatewayVariant::Main,
                    ReleaseArg::Release => fsecheck_pades::GatewayVariant::Release,
                },
                ..Default::default()
            },
            archive: archive_limits,
        },
        cache_dir.as_deref(),
        fsecheck_engine::CacheOptions {
            rehash: args.cache_rehash,
            summary_only,
        },
    )?;
    let inputs = gathering
        .join()
        .map_err(|_| UsageError("internal error while gathering the inputs".into()))??;
    let progress = filters::progress(inputs.len(), args.quiet || args.no_progress);
    let mut outputs = Outputs::new(sinks);
    let mut io_error: Option<std::io::Error> = None;
    let check = |i: &Input| {
        let mut report = engine.check_input(i);
        // Taken out at once: nothing below may see it once the record changes.
        let rendered = report.rendered.take();
        let json = if prerender {
            rendered.or_else(|| serde_json::to_vec(&report).ok().map(Vec::into_boxed_slice))
        } else {
            None
        };
        Checked { report, json }
    };
    run_ordered(&inputs, jobs, &check, |Checked { mut report, json }| {
        progress.inc(1);
        overrides.apply(&mut report);
        if let Some(w) = baseline_writer.as_mut() {
            if let Err(e) = w.record(&report) {
                io_error.get_or_insert(e);
            }
        }
        if let Some(b) = baseline.as_mut() {
            b.apply(&mut report);
        }
        outputs.record(&report, json.as_deref());
    });
    progress.finish_and_clear();
    if let Some(cache) = engine.cache() {
        if let Err(e) = cache.save_index() {
            eprintln!("warning: --cache: the index of unchanged files could not be written: {e}");
        }
        if !args.quiet {
            eprintln!("{}", cache_line(&cache.stats));
        }
    }
    outputs.summary.elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Some(w) = baseline_writer.as_mut() {
        if let Err(e) = w.finish(&outputs.summary) {
            eprintln!("error: writing the baseline failed: {e}");
            return Ok(ExitCode::from(2));
        }
    }
    let (summary, write_error) = outputs.close();
    let io_error = io_error.or(write_error);
    let broken = engine.catalog_errors();
    // The stage data is freed by the process exit; dropping it piece by piece costs a
    // one-document run more than a tenth of its time.
    std::mem::forget(engine);
    if !broken.is_empty() {
        for e in &broken {
            eprintln!("error: {e}");
        }
        return Err(UsageError(
            "the catalog is broken (see above); fix or update it".into(),
        ));
    }
    Ok(exit_code(io_error, "the report", fail_on, &summary))
}

/// The exit code of a run that wrote `what`: 2 when writing failed (a reader that went away is
/// not a failure), else 1 or 0 by `--fail-on`.
/// The inputs of a run: the files under `paths`, less the excluded ones, zip archives replaced
/// by their entries (excludes apply to the archive and to `a.zip!/entry`), then the shard's part.
fn gather_inputs(
    paths: &[PathBuf],
    exclude: &[String],
    archive_limits: &fsecheck_engine::ArchiveLimits,
    hidden: bool,
    shard: Option<fsecheck_engine::Shard>,
) -> Result<Vec<Input>, UsageError> {
    let inputs = collect_inputs(
        paths,
        WalkOptions {
            hidden,
            ..Default::default()
        },
    );
    let excludes = filters::Excludes::new(exclude, paths)?;
    let inputs = excludes.filter(inputs);
    let inputs = excludes.filter(expand_archives(inputs, archive_limits, hidden));
    Ok(match shard {
        Some(shard) => shard.select(inputs),
        None => inputs,
    })
}

/// The outputs of a run: its sinks, the summary they end with, and the first error writing them.
pub(crate) struct Outputs {
    sinks: Vec<Box<dyn Sink>>,
    pub(crate) summary: Summary,
    error: Option<std::io::Error>,
}

impl Outputs {
    pub(crate) fn new(sinks: Vec<Box<dyn Sink>>) -> Self {
        Outputs {
            sinks,
            summary: Summary::default(),
            error: None,
        }
    }

    /// Count a record in the summary and write it to every sink; `json`: the record as JSON,
    /// when rendered already (the JSON sinks write it as is).
    pub(crate) fn record(&mut self, report: &fsecheck_report::DocumentReport, json: Option<&[u8]>) {
        self.summary.add(report);
        for s in self.sinks.iter_mut() {
            let written = match json {
                Some(json) => s.record_json(report, json),
                None => s.record(report),
            };
            if let Err(e) = written {
                self.error.get_or_insert(e);
            }
        }
    }

    /// Close every sink with the summary; the summary and the first write error.
    pub(crate) fn close(mut self) -> (Summary, Option<std::io::Error>) {
        for s in self.sinks.iter_mut() {
            if let Err(e) = s.finish(&self.summary) {
                self.error.get_or_insert(e);
            }
        }
        (self.summary, self.error)
    }
}

/// A checked input: its report, and the report's JSON when the workers render it.
struct Checked {
    report: fsecheck_report::DocumentReport,
    json: Option<Box<[u8]>>,
}

impl From<fsecheck_report::DocumentReport> for Checked {
    fn from(report: fsecheck_report::DocumentReport) -> Self {
        Checked { report, json: None }
    }
}

/// The cache's one line on standard error: what was reused, what was checked.
fn cache_line(stats: &fsecheck_engine::cache::Stats) -> String {
    use std::sync::atomic::Ordering::Relaxed;
    let hits = stats.hits.load(Relaxed);
    let unchanged = stats.unchanged.load(Relaxed);
    let mut line = format!(
        "cache: {hits} record(s) reused ({unchanged} known unchanged without reading), {} checked",
        stats.misses.load(Relaxed)
    );
    for (n, what) in [
        (stats.corrupt.load(Relaxed), "unsound entries ignored"),
        (stats.write_errors.load(Relaxed), "entries not written"),
    ] {
        if n > 0 {
            line.push_str(&format!(", {n} {what}"));
        }
    }
    line
}

fn exit_code(
    io_error: Option<std::io::Error>,
    what: &str,
    fail_on: FailOn,
    summary: &Summary,
) -> ExitCode {
    if let Some(e) = io_error {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: writing {what} failed: {e}");
            return ExitCode::from(2);
        }
    }
    if fail_on.fails(summary) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
