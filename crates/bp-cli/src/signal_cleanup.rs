//! Removal of the temporary output file when SIGINT, SIGTERM or SIGHUP ends
//! `bp`.
//!
//! A signal whose default action terminates the process runs no destructor,
//! so without a handler `bp gzip -o OUT` would leave its hidden temporary
//! file behind on Ctrl-C, `kill` or a closed terminal. The handler removes
//! the registered file, then re-raises the signal with its default action,
//! so that `bp` still dies by that signal.
//!
//! Dying by the signal, rather than calling `_exit(128 + signal)`, reports
//! to the parent how `bp` ended. A shell shows both as status 128 + the
//! signal number. But a shell that waits for a child during Ctrl-C (bash, for
//! one) aborts the running script or loop only when that child died by
//! SIGINT, not when it exited with status 130.

#[cfg(unix)]
pub use unix::SignalCleanup;

#[cfg(not(unix))]
pub use other::SignalCleanup;

#[cfg(unix)]
mod unix {
    use std::{
        ffi::{c_char, c_int, CString},
        io, mem,
        os::unix::ffi::OsStrExt,
        path::Path,
        ptr,
        sync::{
            atomic::{AtomicPtr, Ordering},
            Once,
        },
    };

    /// Signals after which the temporary file is removed. Each terminates
    /// the process by default and is sent by a user or a terminal, not by
    /// a fault in `bp`.
    const SIGNALS: [c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

    /// The file that the handler removes: a NUL-terminated path from
    /// `CString::into_raw`, or null when no file is registered.
    ///
    /// The code that swaps a non-null pointer out of this slot owns it, so
    /// the path is freed at most once and never while the handler reads it.
    /// `SignalCleanup::drop` frees it. The handler never frees it, because
    /// freeing is not async-signal-safe and the process ends right after.
    static REGISTERED_PATH: AtomicPtr<c_char> = AtomicPtr::new(ptr::null_mut());

    static INSTALL_HANDLERS: Once = Once::new();

    /// A registration of one file for removal on SIGINT, SIGTERM or SIGHUP,
    /// which lasts until it is dropped.
    ///
    /// Only one file can be registered at a time, which is all that `bp`
    /// needs because it writes one output file per run. A second
    /// registration while the first is alive protects nothing.
    pub struct SignalCleanup {
        /// Whether this value put its path into `REGISTERED_PATH`.
        registered: bool,
    }

    impl SignalCleanup {
        /// Registers `path` for removal if one of the signals arrives before
        /// the returned value is dropped, and installs the handlers on first
        /// use.
        pub fn register(path: &Path) -> Self {
            // Only a path with a NUL byte fails here, and no file can have
            // such a path, so there is nothing to remove.
            let Ok(path) = CString::new(path.as_os_str().as_bytes()) else {
                return Self { registered: false };
            };
            INSTALL_HANDLERS.call_once(install_handlers);

            let path = path.into_raw();
            // Release: a handler that swaps the pointer out with Acquire,
            // on any thread, reads the path's bytes as written here.
            let registered = REGISTERED_PATH
                .compare_exchange(ptr::null_mut(), path, Ordering::Release, Ordering::Relaxed)
                .is_ok();
            if !registered {
                // SAFETY: `path` came from `into_raw` above and was not
                // published, so this is its only owner.
                drop(unsafe { CString::from_raw(path) });
            }
            Self { registered }
        }
    }

    impl Drop for SignalCleanup {
        fn drop(&mut self) {
            if !self.registered {
                return;
            }
            // Acquire pairs with the Release in `register`. A null result
            // means a handler took the path and the process is ending.
            let path = REGISTERED_PATH.swap(ptr::null_mut(), Ordering::Acquire);
            if !path.is_null() {
                // SAFETY: only `register` stores non-null pointers, each from
                // `CString::into_raw`, and the swap made this call their
                // only owner, so no handler can read it any more.
                drop(unsafe { CString::from_raw(path) });
            }
        }
    }

    /// Installs `remove_and_reraise` for every signal in `SIGNALS` that is
    /// not ignored.
    ///
    /// A signal ignored at startup stays ignored, as `nohup` and a
    /// non-interactive shell's `&` expect of SIGHUP and SIGINT. If a call
    /// fails, that signal keeps its action and can leave the file behind, as
    /// before this module existed. No error is reported, because the output
    /// itself is unaffected.
    fn install_handlers() {
        for signal in SIGNALS {
            if is_ignored(signal).unwrap_or(true) {
                continue;
            }
            // SAFETY: `sigaction` is plain data, so all zeros is a valid
            // value, and every field that matters is set below.
            let mut action: libc::sigaction = unsafe { mem::zeroed() };
            action.sa_sigaction = remove_and_reraise as extern "C" fn(c_int) as libc::sighandler_t;
            // SA_RESETHAND restores the default action as the handler starts,
            // so the handler's `raise` terminates the process.
            action.sa_flags = libc::SA_RESETHAND;
            // SAFETY: `action.sa_mask` is a valid sigset_t to initialize.
            // Blocking the other signals while the handler runs keeps one
            // handler from interrupting another on the same thread.
            unsafe {
                libc::sigemptyset(&mut action.sa_mask);
                for blocked in SIGNALS {
                    libc::sigaddset(&mut action.sa_mask, blocked);
                }
            }
            // SAFETY: `action` is fully initialized, and its handler is
            // async-signal-safe (see `remove_and_reraise`).
            unsafe { libc::sigaction(signal, &action, ptr::null_mut()) };
        }
    }

    /// Returns whether `signal` is ignored.
    fn is_ignored(signal: c_int) -> io::Result<bool> {
        // SAFETY: all zeros is a valid `sigaction`, overwritten below.
        let mut current: libc::sigaction = unsafe { mem::zeroed() };
        // SAFETY: a null new action only reads the current one into
        // `current`, which is valid for writes.
        if unsafe { libc::sigaction(signal, ptr::null(), &mut current) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(current.sa_sigaction == libc::SIG_IGN)
    }

    /// Removes the registered file, then raises `signal` again.
    ///
    /// Only async-signal-safe operations run here: an atomic swap, `unlink`
    /// and `raise`. There is no allocation, lock or `std::fs` call. The
    /// signal is blocked while the handler runs, so the re-raised signal
    /// stays pending until the handler returns and then ends the process
    /// with the default action that SA_RESETHAND restored. `unlink` may
    /// change errno, which does not matter because nothing runs after.
    extern "C" fn remove_and_reraise(signal: c_int) {
        // Acquire pairs with the Release in `SignalCleanup::register`.
        let path = REGISTERED_PATH.swap(ptr::null_mut(), Ordering::Acquire);
        if !path.is_null() {
            // SAFETY: a non-null pointer in the slot is a NUL-terminated
            // string from `CString::into_raw`, and the swap made this
            // handler its owner, so nothing frees it while `unlink` reads
            // it. A failed unlink (the file is already gone) changes nothing.
            unsafe { libc::unlink(path) };
        }
        // SAFETY: `raise` is async-signal-safe and takes only an integer.
        unsafe { libc::raise(signal) };
    }
}

#[cfg(not(unix))]
mod other {
    use std::path::Path;

    /// NOTE: no handler exists outside Unix, so Ctrl-C or a killed process
    /// leaves the temporary file behind. The output file is still never
    /// partial.
    pub struct SignalCleanup;

    impl SignalCleanup {
        pub fn register(_path: &Path) -> Self {
            Self
        }
    }
}
