//! `fsecheck audit PATH... --out DIR`: a `check` run (every check flag works) that also feeds
//! every record to the audit and writes `audit.csv`, `audit.json` and `audit.html` into DIR.
//!
//! Standard output gets the human table of the line over every document (nothing with
//! `--quiet`). `--format FORMAT` puts that format on standard output instead, as `check` does, and
//! the table goes to standard error; records can also go to files with `--output FORMAT=FILE`.

use crate::{check, CheckArgs, RunExtras, UsageError};
use clap::Args;
use fsecheck_audit::AuditSink;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub(crate) struct AuditArgs {
    #[command(flatten)]
    check: CheckArgs,
    /// Folder for audit.csv, audit.json and audit.html (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// Create the audit folder before the run, so that a bad `--out` fails at once (exit 2).
pub(crate) fn prepare_out(flag: &str, dir: &std::path::Path) -> Result<(), UsageError> {
    std::fs::create_dir_all(dir).map_err(|e| UsageError(format!("{flag} {}: {e}", dir.display())))
}

/// Where the human table goes: standard output when no other format is written there, standard
/// error when one is, nowhere with `--quiet`.
pub(crate) fn table_writer(quiet: bool, stdout_taken: bool) -> Option<Box<dyn Write>> {
    match (quiet, stdout_taken) {
        (true, _) => None,
        (false, false) => Some(Box::new(std::io::stdout())),
        (false, true) => Some(Box::new(std::io::stderr())),
    }
}

pub(crate) fn run(args: AuditArgs) -> Result<ExitCode, UsageError> {
    prepare_out("--out", &args.out)?;
    let stdout_taken = args.check.format.is_some();
    let sink = AuditSink::new(&args.out, table_writer(args.check.quiet, stdout_taken));
    check(
        args.check,
        RunExtras {
            sinks: vec![Box::new(sink)],
            no_stdout_format: !stdout_taken,
        },
    )
}
