//! CPU time and peak resident memory from the kernel's resource usage
//! counters (`getrusage(2)` and `wait4(2)`).

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ExitStatus};
use std::time::Duration;

/// Resource usage of a process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// User plus system CPU time of every thread.
    pub cpu: Duration,
    /// Peak resident set size in KiB.
    pub max_rss_kib: u64,
}

fn duration_of(time: libc::timeval) -> Duration {
    Duration::from_secs(time.tv_sec as u64) + Duration::from_micros(time.tv_usec as u64)
}

fn usage_of(raw: &libc::rusage) -> Usage {
    Usage {
        cpu: duration_of(raw.ru_utime) + duration_of(raw.ru_stime),
        // Linux reports ru_maxrss in KiB.
        max_rss_kib: raw.ru_maxrss as u64,
    }
}

/// Returns the resource usage of this process so far: all its threads,
/// finished ones included.
pub fn own() -> Usage {
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut raw: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `raw` is a valid, writable `rusage` for the whole call.
    let result = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut raw) };
    assert_eq!(result, 0, "getrusage(RUSAGE_SELF) failed");
    usage_of(&raw)
}

/// Waits for `child` to exit and returns its exit status with its own
/// resource usage (not that of other children). Pipes to the child that
/// are still in `child` are closed first.
///
/// # Errors
///
/// The error of `wait4`, if it fails.
pub fn wait_with_usage(child: Child) -> io::Result<(ExitStatus, Usage)> {
    let pid = child.id() as libc::pid_t;
    // `wait4` below reaps the child. std's `Child` has no `Drop` that waits
    // or kills, so dropping it leaves the child to that call.
    drop(child);

    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut raw: libc::rusage = unsafe { std::mem::zeroed() };
    let mut status: libc::c_int = 0;
    loop {
        // SAFETY: `status` and `raw` are valid and writable for the call;
        // `pid` is our own child, which nothing else reaps.
        let result = unsafe { libc::wait4(pid, &mut status, 0, &mut raw) };
        if result == pid {
            break;
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
    Ok((ExitStatus::from_raw(status), usage_of(&raw)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};

    #[test]
    fn own_cpu_time_grows_with_work() {
        let before = own();
        let mut state = 1u64;
        for step in 0..50_000_000u64 {
            state = std::hint::black_box(state.wrapping_mul(31).wrapping_add(step));
        }
        let after = own();

        assert!(after.cpu > before.cpu, "{before:?} then {after:?}");
        assert!(after.max_rss_kib > 0);
    }

    #[test]
    fn wait_with_usage_reports_exit_status() {
        let child = Command::new("sh")
            .args(["-c", "exit 3"])
            .stdin(Stdio::null())
            .spawn()
            .unwrap();

        let (status, usage) = wait_with_usage(child).unwrap();

        assert_eq!(status.code(), Some(3));
        assert!(usage.max_rss_kib > 0, "{usage:?}");
    }
}
