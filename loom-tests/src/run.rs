//! Running models: preemption bounds, measurements and failure reports.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::trace;

/// How to explore one model.
#[derive(Clone, Copy, Debug)]
pub struct Model {
    /// Name printed in the summary and in failure reports.
    pub name: &'static str,
    /// Maximum number of preemptions per execution, or `None` to explore every
    /// interleaving. The `LOOM_MAX_PREEMPTIONS` environment variable, when
    /// set, takes precedence.
    pub preemption_bound: Option<usize>,
}

impl Model {
    /// Creates a model explored without a preemption bound.
    pub const fn unbounded(name: &'static str) -> Self {
        Self {
            name,
            preemption_bound: None,
        }
    }

    /// Creates a model explored with at most `bound` preemptions per execution.
    pub const fn bounded(name: &'static str, bound: usize) -> Self {
        Self {
            name,
            preemption_bound: Some(bound),
        }
    }
}

/// Size and duration of one model run.
#[derive(Clone, Copy, Debug)]
pub struct ModelSummary {
    /// Executions (interleavings) that loom ran.
    pub executions: usize,
    /// Wall-clock time of the whole exploration.
    pub elapsed: Duration,
    /// The preemption bound in force, `None` when unbounded.
    pub preemption_bound: Option<usize>,
}

/// A failure that loom found in a model that was expected to fail.
#[derive(Debug)]
pub struct Violation {
    /// The panic message: a failed assertion of the model, or loom's deadlock report.
    pub message: String,
    /// The events of the failing execution, see [`trace`].
    pub events: Vec<String>,
    /// Executions run up to and including the failing one.
    pub summary: ModelSummary,
}

/// Runs `body` in every execution that loom explores for `model` and returns
/// what was explored.
///
/// Prints a one-line summary to stderr (shown with `--nocapture`). Set
/// `LOOM_LOG=trace` to also see loom's own log of every operation.
///
/// # Panics
///
/// If an execution fails: an assertion of `body` fails, loom finds a
/// deadlock, a data race or a leak. The events of the failing execution are
/// printed before the panic continues.
pub fn check<F>(model: &Model, body: F) -> ModelSummary
where
    F: Fn() + Sync + Send + 'static,
{
    let (result, summary) = explore(model, body);
    match result {
        Ok(()) => {
            eprintln!("{}: {}", model.name, describe(&summary));
            summary
        }
        Err(payload) => {
            let message = panic_message(payload.as_ref());
            eprintln!(
                "{}: FAILED after {}: {message}",
                model.name,
                describe(&summary)
            );
            print_events(&trace::take());
            panic::resume_unwind(payload)
        }
    }
}

/// Runs `body` like [`check`] and returns the violation that loom must find in
/// it, so that a test of a broken design passes only if the checker catches
/// the bug.
///
/// Prints the panic message and the events of the failing execution.
///
/// # Panics
///
/// If every explored execution passes.
pub fn expect_violation<F>(model: &Model, body: F) -> Violation
where
    F: Fn() + Sync + Send + 'static,
{
    let (result, summary) = explore(model, body);
    let payload = match result {
        Ok(()) => panic!(
            "{}: no violation found in {}; the model cannot tell the broken design from a correct one",
            model.name,
            describe(&summary)
        ),
        Err(payload) => payload,
    };

    let violation = Violation {
        message: panic_message(payload.as_ref()),
        events: trace::take(),
        summary,
    };
    eprintln!(
        "{}: violation found after {}: {}",
        model.name,
        describe(&summary),
        violation.message
    );
    print_events(&violation.events);
    violation
}

/// Spawns a loom thread named `name`; the name labels the thread's events in
/// the [`trace`] and in loom's reports.
pub fn spawn_named<F, T>(name: &str, body: F) -> loom::thread::JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    loom::thread::Builder::new()
        .name(name.to_owned())
        .spawn(body)
        .expect("loom threads are spawned in the model and cannot fail to start")
}

/// Explores `model`, catching the panic of a failing execution.
fn explore<F>(model: &Model, body: F) -> (Result<(), Box<dyn Any + Send>>, ModelSummary)
where
    F: Fn() + Sync + Send + 'static,
{
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = model.preemption_bound;
    }
    let preemption_bound = builder.preemption_bound;

    let executions = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&executions);
    let run_all = move || {
        builder.check(move || {
            counted.fetch_add(1, Ordering::Relaxed);
            trace::clear();
            body();
        })
    };

    let start = Instant::now();
    let result = panic::catch_unwind(AssertUnwindSafe(|| with_loom_log(run_all)));
    let summary = ModelSummary {
        executions: executions.load(Ordering::Relaxed),
        elapsed: start.elapsed(),
        preemption_bound,
    };
    (result, summary)
}

/// Runs `body` with loom's own operation log, printed as test output, when
/// `LOOM_LOG` is set. `loom::model` does the same, but `Builder::check`
/// alone installs no logger (loom 0.7.3).
fn with_loom_log(body: impl FnOnce()) {
    if std::env::var_os("LOOM_LOG").is_none() {
        body();
        return;
    }

    let subscriber = tracing_subscriber::fmt::Subscriber::builder()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("LOOM_LOG"))
        .with_test_writer()
        .without_time()
        .finish();
    tracing::subscriber::with_default(subscriber, body);
}

fn describe(summary: &ModelSummary) -> String {
    let bound = match summary.preemption_bound {
        Some(bound) => format!("preemption bound {bound}"),
        None => "no preemption bound".to_owned(),
    };
    format!(
        "{} executions in {:.2?} ({bound})",
        summary.executions, summary.elapsed
    )
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "(panic payload is not a string)".to_owned()
    }
}

fn print_events(events: &[String]) {
    eprintln!("events of the failing execution, in the order loom ran them:");
    for (step, event) in events.iter().enumerate() {
        eprintln!("  {step:>3}  {event}");
    }
}
