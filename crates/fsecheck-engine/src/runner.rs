//! Checking many inputs on a rayon pool and emitting their reports in input order, once they and
//! every input before them are done. Workers pull inputs in order from a shared counter and hand
//! their results over in small batches, so the reorder window stays small; a bounded channel
//! keeps a slow sink from piling reports up in memory. A panic while checking one input becomes an
//! `internal/panic` finding on that input's report and the run goes on.

use crate::input::Input;
use fsecheck_core::{Finding, Stage};
use fsecheck_report::{DocumentReport, Kind};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// The per-input check. It gives a report, or something that carries one (`T`), e.g. a report
/// with its JSON rendered by the worker.
pub type CheckFn<'a, T = DocumentReport> = dyn Fn(&Input) -> T + Sync + 'a;

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

/// Results a worker hands over at once. Small, so that the output stays close behind the
/// checking (a record waits for at most this many inputs of the same worker).
const BATCH: usize = 8;

/// Check every input with `jobs` workers and call `emit` for each result in input order. A
/// panic gives the `internal/panic` report, as a `T`.
pub fn run_ordered<T: Send + From<DocumentReport>>(
    inputs: &[Input],
    jobs: usize,
    check: &CheckFn<'_, T>,
    mut emit: impl FnMut(T),
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
    let (tx, rx) = mpsc::sync_channel::<Vec<(usize, T)>>(jobs * 4);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            pool.scope(|s| {
                for _ in 0..jobs {
                    let tx = tx.clone();
                    let next = &next;
                    s.spawn(move |_| {
                        // Results go out in small batches: one hand-over (and wake-up of the
                        // emitting thread) per batch rather than per input.
                        let mut batch = Vec::with_capacity(BATCH);
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(input) = inputs.get(i) else { break };
                            batch.push((i, check_one(input, check)));
                            if batch.len() == BATCH && tx.send(std::mem::take(&mut batch)).is_err()
                            {
                                return;
                            }
                        }
                        if !batch.is_empty() {
                            let _ = tx.send(batch);
                        }
                    });
                }
            });
            drop(tx);
        });
        let mut pending: BTreeMap<usize, T> = BTreeMap::new();
        let mut want = 0usize;
        for batch in rx.iter() {
            pending.extend(batch);
            while let Some(r) = pending.remove(&want) {
                emit(r);
                want += 1;
            }
        }
    });
    panic::set_hook(previous_hook);
}

fn check_one<T: From<DocumentReport>>(input: &Input, check: &CheckFn<'_, T>) -> T {
    match panic::catch_unwind(AssertUnwindSafe(|| check(input))) {
        Ok(r) => r,
        Err(_) => panic_report(input).into(),
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
