//! Checking many inputs on a rayon pool and emitting their reports in input order, each as soon as
//! it and every input before it are done. Workers pull inputs in order from a shared counter, so
//! the reorder window stays about as small as the number of workers; a bounded channel keeps a
//! slow sink from piling reports up in memory. A panic while checking one input becomes an
//! `internal/panic` finding on that input's report and the run goes on.

use crate::input::Input;
use fsecheck_core::{Finding, Stage};
use fsecheck_report::{DocumentReport, Kind};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// The per-input check.
pub type CheckFn<'a> = dyn Fn(&Input) -> DocumentReport + Sync + 'a;

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn panic_report(input: &Input) -> DocumentReport {
    let what = LAST_PANIC
        .with(|p| p.borrow_mut().take())
        .unwrap_or_else(|| "unknown panic".to_string());
    let mut r = DocumentReport::new(input.display(), Kind::Other);
    r.findings.push(
        Finding::error(
            "internal/panic",
            Stage::Internal,
            format!("internal error while checking this document: {what}"),
        )
        .with_hint(
            "This is a bug in fsecheck, not necessarily in the document. Please report it with \
             the document (or a redacted copy). The other documents were checked normally.",
        ),
    );
    r.finish();
    r
}

/// Check every input with `jobs` workers and call `emit` for each report in input order.
pub fn run_ordered(
    inputs: &[Input],
    jobs: usize,
    check: &CheckFn<'_>,
    mut emit: impl FnMut(DocumentReport),
) {
    let jobs = jobs.max(1);
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(jobs).build() {
        Ok(p) => p,
        Err(_) => {
            // Could not start threads: check sequentially rather than not at all.
            for i in inputs {
                emit(check_one(i, check));
            }
            return;
        }
    };
    let previous_hook = panic::take_hook();
    panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_string());
        let loc = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("{msg}{loc}")));
    }));
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::sync_channel::<(usize, DocumentReport)>(jobs * 4);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            pool.scope(|s| {
                for _ in 0..jobs {
                    let tx = tx.clone();
                    let next = &next;
                    s.spawn(move |_| loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(input) = inputs.get(i) else { break };
                        if tx.send((i, check_one(input, check))).is_err() {
                            break;
                        }
                    });
                }
            });
            drop(tx);
        });
        let mut pending: BTreeMap<usize, DocumentReport> = BTreeMap::new();
        let mut want = 0usize;
        for (i, report) in rx.iter() {
            pending.insert(i, report);
            while let Some(r) = pending.remove(&want) {
                emit(r);
                want += 1;
            }
        }
    });
    panic::set_hook(previous_hook);
}

fn check_one(input: &Input, check: &CheckFn<'_>) -> DocumentReport {
    match panic::catch_unwind(AssertUnwindSafe(|| check(input))) {
        Ok(r) => r,
        Err(_) => panic_report(input),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn ordered_output_and_panics_isolated() {
        let inputs: Vec<Input> = (0..200)
            .map(|i| Input::File(PathBuf::from(format!("doc{i:03}.xml"))))
            .collect();
        let check = |i: &Input| {
            let name = i.display();
            if name.ends_with("7.xml") {
                panic!("boom on {name}");
            }
            // Uneven work so completion order differs from input order.
            if name.ends_with("0.xml") {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            let mut r = DocumentReport::new(name, Kind::Xml);
            r.finish();
            r
        };
        let mut seen = Vec::new();
        run_ordered(&inputs, 4, &check, |r| seen.push(r));
        assert_eq!(seen.len(), 200);
        for (i, r) in seen.iter().enumerate() {
            assert_eq!(r.path, format!("doc{i:03}.xml"));
            if r.path.ends_with("7.xml") {
                assert_eq!(r.findings[0].id, "internal/panic");
                assert!(
                    r.findings[0].message.contains("boom on"),
                    "{}",
                    r.findings[0].message
                );
            } else {
                assert!(r.findings.is_empty());
            }
        }
    }
}
