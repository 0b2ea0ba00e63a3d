//! `fsecheck merge FILE...`: a streaming k-way merge of JSONL record files (shard outputs of
//! `check`, each sorted by path as `check` writes it) into one stream sorted by path, written to
//! the same sinks `check` has where records suffice, with the summary and exit code `check` would
//! give. Memory holds one record per input file.
//!
//! Every inconsistency stops the merge with a message naming the file and line, and exit code 2:
//! a line that is not a record, a record of another schema version, a file not sorted by path, and
//! the same path in two places (overlapping shards, or one shard given twice). What was written
//! before is then incomplete.

use crate::{make_sink, resolve_fail_on, FailOnArg, UsageError, REDACTED_BY_DEFAULT};
use clap::Args;
use fsecheck_report::{DocumentReport, Sink, SCHEMA_VERSION};
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Args)]
pub(crate) struct MergeArgs {
    /// JSONL record files (`check --format jsonl` or `--output jsonl=FILE`), each sorted by path.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Format written to standard output: jsonl (default), json, csv, human; sarif, junit, gitlab
    /// and html with --no-redact.
    #[arg(long, value_name = "FORMAT")]
    format: Option<String>,
    /// Also write FORMAT to FILE (repeatable), e.g. --output json=report.json.
    #[arg(long = "output", value_name = "FORMAT=FILE")]
    outputs: Vec<String>,
    /// Also write the audit of the merged records (audit.csv, audit.json, audit.html) to DIR.
    #[arg(long, value_name = "DIR")]
    audit: Option<PathBuf>,
    /// Lowest severity that makes the exit code 1.
    #[arg(long, value_enum)]
    fail_on: Option<FailOnArg>,
    /// Config file for `fail-on` (else the nearest fsecheck.toml upward).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Human output: only documents with warnings or errors; no audit table.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// No colours in human output (NO_COLOR is honoured too).
    #[arg(long)]
    no_color: bool,
    /// Allow sarif, junit, gitlab and html without redaction: records carry no document text, so
    /// these formats cannot mask the patient's data as `check` does.
    #[arg(long)]
    no_redact: bool,
}

/// The order `check` emits records in: `collect_inputs` sorts inputs by `Path` (component-wise,
/// so `a/b` comes before `a-b`), and a record's `path` is its input's path.
pub(crate) fn path_order(a: &str, b: &str) -> Ordering {
    Path::new(a).cmp(Path::new(b))
}

/// One input file: its reader and the record read last.
struct Source {
    name: String,
    reader: Box<dyn BufRead>,
    line: u64,
    buf: String,
    previous: Option<String>,
}

impl Source {
    fn open(path: &Path) -> Result<Source, UsageError> {
        let f = std::fs::File::open(path)
            .map_err(|e| UsageError(format!("merge: {}: {e}", path.display())))?;
        Ok(Source {
            name: path.display().to_string(),
            reader: Box::new(BufReader::with_capacity(256 * 1024, f)),
            line: 0,
            buf: String::new(),
            previous: None,
        })
    }

    fn at(&self) -> String {
        format!("{}:{}", self.name, self.line)
    }

    /// The next record, checked for schema version and order; `None` at the end.
    fn next(&mut self) -> Result<Option<DocumentReport>, UsageError> {
        loop {
            self.buf.clear();
            let n = self
                .reader
                .read_line(&mut self.buf)
                .map_err(|e| UsageError(format!("{}: cannot read: {e}", self.at())))?;
            if n == 0 {
                return Ok(None);
            }
            self.line += 1;
            let text = self.buf.trim();
            if text.is_empty() {
                continue;
            }
            let r: DocumentReport = serde_json::from_str(text).map_err(|e| {
                UsageError(format!(
                    "{}: not a report record ({e}); merge reads the JSONL that `fsecheck check \
                     --format jsonl` writes, one record per line",
                    self.at()
                ))
            })?;
            if r.schema_version != SCHEMA_VERSION {
                return Err(UsageError(format!(
                    "{}: record schema_version {} (this fsecheck reads {SCHEMA_VERSION})",
                    self.at(),
                    r.schema_version
                )));
            }
            if let Some(prev) = &self.previous {
                match path_order(prev, &r.path) {
                    Ordering::Less => {}
                    Ordering::Equal => {
                        return Err(UsageError(format!(
                            "{}: duplicate path '{}' (also on an earlier line of this file)",
                            self.at(),
                            r.path
                        )))
                    }
                    Ordering::Greater => {
                        return Err(UsageError(format!(
                            "{}: '{}' comes after '{prev}' but sorts before it: the file is not \
                             sorted by path as `fsecheck check` writes it",
                            self.at(),
                            r.path
                        )))
                    }
                }
            }
            self.previous = Some(r.path.clone());
            return Ok(Some(r));
        }
    }
}

/// Heap entry: the path of a source's current record.
#[derive(PartialEq, Eq)]
struct Head {
    path: String,
    source: usize,
}

impl Ord for Head {
    fn cmp(&self, other: &Self) -> Ordering {
        path_order(&self.path, &other.path).then(self.source.cmp(&other.source))
    }
}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Merge `sources` in path order, calling `emit` for each record. Duplicate paths across
/// sources are an error naming both places.
fn merge_records(
    mut sources: Vec<Source>,
    mut emit: impl FnMut(DocumentReport),
) -> Result<(), UsageError> {
    let mut current: Vec<Option<DocumentReport>> = Vec::with_capacity(sources.len());
    let mut heap = BinaryHeap::new();
    for (i, s) in sources.iter_mut().enumerate() {
        let r = s.next()?;
        if let Some(r) = &r {
            heap.push(Reverse(Head {
                path: r.path.clone(),
                source: i,
            }));
        }
        current.push(r);
    }
    let mut last: Option<(String, String)> = None;
    while let Some(Reverse(Head { source, .. })) = heap.pop() {
        let Some(record) = current[source].take() else {
            continue;
        };
        let here = sources[source].at();
        if let Some((path, at)) = &last {
            if path_order(path, &record.path) == Ordering::Equal {
                return Err(UsageError(format!(
                    "duplicate path '{path}' in {at} and {here}: the inputs overlap (the same \
                     shard twice, or shards of different runs)"
                )));
            }
        }
        if let Some(next) = sources[source].next()? {
            heap.push(Reverse(Head {
                path: next.path.clone(),
                source,
            }));
            current[source] = Some(next);
        }
        last = Some((record.path.clone(), here));
        emit(record);
    }
    Ok(())
}

pub(crate) fn run(args: MergeArgs) -> Result<ExitCode, UsageError> {
    let started = Instant::now();
    let loaded = crate::config::load(args.config.as_deref())?;
    let fail_on = resolve_fail_on(args.fail_on, loaded.config.fail_on.as_deref())?;
    let sources = args
        .files
        .iter()
        .map(|p| Source::open(p))
        .collect::<Result<Vec<_>, _>>()?;
    let meta = serde_json::json!({
        "tool": "fsecheck",
        "version": env!("CARGO_PKG_VERSION"),
        "merged_from": args.files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
    });
    let redact = args.no_redact.then_some(false);
    let usable = |format: &str| -> Result<(), UsageError> {
        if REDACTED_BY_DEFAULT.contains(&format) && !args.no_redact {
            return Err(UsageError(format!(
                "merge: {format} output redacts the patient's data read from the documents, and \
                 JSONL records do not carry the documents' text; write {format} per shard with \
                 `check --output {format}=FILE`, or pass --no-redact to write it unredacted"
            )));
        }
        Ok(())
    };
    let stdout_format = args.format.clone().unwrap_or_else(|| "jsonl".into());
    usable(&stdout_format)?;
    let color = crate::stdout_color(args.no_color);
    let mut sinks: Vec<Box<dyn Sink>> = vec![make_sink(
        &stdout_format,
        Box::new(std::io::BufWriter::new(std::io::stdout())),
        color,
        args.quiet,
        &meta,
        redact,
        fail_on,
    )?];
    for spec in &args.outputs {
        let (format, file) = crate::output_spec(spec)?;
        usable(&format)?;
        sinks.push(crate::file_sink(
            &format, &file, args.quiet, &meta, redact, fail_on,
        )?);
    }
    if let Some(dir) = &args.audit {
        crate::audit::prepare_out("--audit", dir)?;
        sinks.push(Box::new(fsecheck_audit::AuditSink::new(
            dir,
            crate::audit::table_writer(args.quiet, true),
        )));
    }
    let mut outputs = crate::Outputs::new(sinks);
    merge_records(sources, |report| outputs.record(&report, None))?;
    outputs.summary.elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (summary, io_error) = outputs.close();
    Ok(crate::exit_code(
        io_error,
        "the merged report",
        fail_on,
        &summary,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(name: &str, lines: &[&str]) -> Source {
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        Source {
            name: name.into(),
            reader: Box::new(std::io::Cursor::new(text.into_bytes())),
            line: 0,
            buf: String::new(),
            previous: None,
        }
    }

    fn rec(path: &str) -> String {
        serde_json::to_string(&DocumentReport::new(path, fsecheck_report::Kind::Xml)).unwrap()
    }

    fn merged(sources: Vec<Source>) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        merge_records(sources, |r| out.push(r.path)).map_err(|e| e.0)?;
        Ok(out)
    }

    #[test]
    fn merges_in_path_order_component_wise() {
        let a = source("a", &[&rec("d/a-b.xml"), &rec("d/c.xml")]);
        let b = source("b", &[&rec("d/a/b.xml"), "", &rec("e.xml")]);
        let c = source("c", &[]);
        assert_eq!(
            merged(vec![a, b, c]).unwrap(),
            ["d/a/b.xml", "d/a-b.xml", "d/c.xml", "e.xml"]
        );
    }

    #[test]
    fn duplicates_bad_lines_and_disorder_name_file_and_line() {
        let e = merged(vec![
            source("s1", &[&rec("a.xml"), &rec("b.xml")]),
            source("s2", &[&rec("b.xml")]),
        ])
        .unwrap_err();
        assert!(e.contains("duplicate path 'b.xml' in s1:2 and s2:1"), "{e}");
        let e = merged(vec![source("s1", &[&rec("a.xml"), "{\"path\": 3}"])]).unwrap_err();
        assert!(e.starts_with("s1:2: not a report record"), "{e}");
        let e = merged(vec![source("s1", &[&rec("b.xml"), &rec("a.xml")])]).unwrap_err();
        assert!(e.starts_with("s1:2: 'a.xml' comes after 'b.xml'"), "{e}");
        let e = merged(vec![source("s1", &[&rec("d/a.xml"), &rec("d//a.xml")])]).unwrap_err();
        assert!(e.starts_with("s1:2: duplicate path"), "{e}");
        let v2 = rec("a.xml").replace("\"schema_version\":1", "\"schema_version\":2");
        let e = merged(vec![source("s1", &[&v2])]).unwrap_err();
        assert!(e.contains("schema_version 2"), "{e}");
    }
}
