//! Driving the real `auscult` binary through a pseudo-terminal, for the end-to-end tests.
//!
//! `Pty::spawn` starts the binary in a 100×30 pty (portable-pty) with `TERM=xterm-256color`; a
//! background thread parses everything it writes into a screen (vt100). Tests type keys, wait
//! (bounded: a timeout panics with the screen as it was) for what the screen should show, and at
//! the end check that the program left the terminal as it found it.

#![cfg(unix)]
#![allow(dead_code)]

use std::io::{ErrorKind, Read, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use portable_pty::{native_pty_system, Child, CommandBuilder, ExitStatus, MasterPty, PtySize};

use super::polling::poll_until;

pub const ROWS: u16 = 30;
pub const COLS: u16 = 100;
/// How long the screen may take to show what a test waits for: generous, for a debug build on a
/// busy machine; a passing test waits a fraction of it.
pub const SCREEN_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the program may take to exit once told to.
pub const EXIT_TIMEOUT: Duration = Duration::from_secs(5);

pub const ENTER_ALTERNATE_SCREEN: &[u8] = b"\x1b[?1049h";
pub const LEAVE_ALTERNATE_SCREEN: &[u8] = b"\x1b[?1049l";
pub const HIDE_CURSOR: &[u8] = b"\x1b[?25l";
pub const SHOW_CURSOR: &[u8] = b"\x1b[?25h";
/// The local-mode flags of a cooked terminal; raw mode clears them.
pub const COOKED: libc::tcflag_t = libc::ICANON | libc::ECHO;
/// Every local-mode flag raw mode (`cfmakeraw`) clears; a restored terminal has them as before.
pub const RAW_CLEARS: libc::tcflag_t =
    libc::ICANON | libc::ECHO | libc::ECHONL | libc::ISIG | libc::IEXTEN;

// --- Reading the screen ------------------------------------------------------------------------

/// Every cell with its row and column.
pub fn cells(screen: &vt100::Screen) -> impl Iterator<Item = (u16, u16, &vt100::Cell)> {
    (0..ROWS).flat_map(move |row| {
        (0..COLS).filter_map(move |col| screen.cell(row, col).map(|cell| (row, col, cell)))
    })
}

pub fn has_colour(screen: &vt100::Screen) -> bool {
    cells(screen).any(|(_, _, cell)| {
        cell.fgcolor() != vt100::Color::Default || cell.bgcolor() != vt100::Color::Default
    })
}

pub fn has_row_starting(screen: &vt100::Screen, prefix: &str) -> bool {
    screen.rows(0, COLS).any(|row| row.starts_with(prefix))
}

/// The rows above the heatmap, whose selected row starts with the marker.
pub fn header(screen: &vt100::Screen) -> Vec<String> {
    screen
        .rows(0, COLS)
        .take_while(|row| !row.starts_with('▶'))
        .collect()
}

/// The help overlay: a box titled " keys (? again: the legend) " listing the
/// actions. The status line's "? keys" is not it.
pub fn help_shown(screen: &vt100::Screen) -> bool {
    let text = screen.contents();
    text.contains(" keys (? again: the legend) ─") && text.contains("next step")
}

/// The screen, row by row, numbered, for a failure message.
pub fn dump(screen: &vt100::Screen) -> String {
    let mut text = String::from("--- screen ---\n");
    for (i, row) in screen.rows(0, COLS).enumerate() {
        text.push_str(&format!("{i:2}|{row}\n"));
    }
    text.push_str("--------------");
    text
}

// --- Reading the raw stream --------------------------------------------------------------------

pub fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// Where the last cursor move (`ESC [ row ; col H`) starts: ratatui positions the cursor to
/// draw, so everything after it comes after the last frame's drawing.
pub fn last_cursor_move(raw: &[u8]) -> Option<usize> {
    (0..raw.len()).rev().find(|&i| {
        raw[i..].strip_prefix(b"\x1b[").is_some_and(|rest| {
            let params = rest
                .iter()
                .take_while(|b| b.is_ascii_digit() || **b == b';')
                .count();
            rest.get(params) == Some(&b'H')
        })
    })
}

/// The end of the raw stream, escaped, for a failure message.
pub fn tail(raw: &[u8]) -> String {
    format!("{}", raw[raw.len().saturating_sub(400)..].escape_ascii())
}

pub fn local_flags(master: &dyn MasterPty) -> libc::tcflag_t {
    let termios: libc::termios = master
        .get_termios()
        .expect("the pty's termios can be read")
        .into();
    termios.c_lflag
}

// --- The pty -----------------------------------------------------------------------------------

/// What the program has written so far.
pub struct Output {
    pub parser: vt100::Parser,
    pub raw: Vec<u8>,
    /// The reader met the end of the stream: no process holds the pty's slave side any more.
    pub closed: bool,
}

pub struct Shared {
    output: Mutex<Output>,
    changed: Condvar,
}

/// `auscult` running in a pty, its output read by a background thread into [`Output`].
pub struct Pty {
    child: Box<dyn Child + Send + Sync>,
    master: Box<dyn MasterPty + Send>,
    writer: Box<dyn Write + Send>,
    shared: Arc<Shared>,
    /// The pty's local-mode flags before the program ran.
    flags_before: libc::tcflag_t,
}

impl Pty {
    /// Starts `auscult args` in the crate's directory, with `env` on top of this process's
    /// environment less `NO_COLOR`.
    pub fn spawn(args: &[&str], env: &[(&str, &str)]) -> Pty {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pty opens");
        let flags_before = local_flags(&*pair.master);
        assert_eq!(
            flags_before & COOKED,
            COOKED,
            "a fresh pty is in cooked mode"
        );

        let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_auscult"));
        command.args(args);
        command.cwd(env!("CARGO_MANIFEST_DIR"));
        command.env("TERM", "xterm-256color");
        command.env_remove("NO_COLOR");
        for (key, value) in env {
            command.env(key, value);
        }
        let child = pair
            .slave
            .spawn_command(command)
            .expect("auscult starts in the pty");
        // Now only the child holds the slave side, so the reader meets the end of the stream
        // when the child exits.
        drop(pair.slave);

        let mut reader = pair.master.try_clone_reader().expect("the pty reads");
        let writer = pair.master.take_writer().expect("the pty writes");
        let shared = Arc::new(Shared {
            output: Mutex::new(Output {
                parser: vt100::Parser::new(ROWS, COLS, 0),
                raw: Vec::new(),
                closed: false,
            }),
            changed: Condvar::new(),
        });
        let feed = Arc::clone(&shared);
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    // EIO on Linux once the slave side is closed.
                    Err(_) => break,
                };
                let mut output = feed.output.lock().unwrap_or_else(PoisonError::into_inner);
                output.parser.process(&buf[..n]);
                output.raw.extend_from_slice(&buf[..n]);
                drop(output);
                feed.changed.notify_all();
            }
            feed.output
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .closed = true;
            feed.changed.notify_all();
        });

        Pty {
            child,
            master: pair.master,
            writer,
            shared,
            flags_before,
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, Output> {
        self.shared
            .output
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub fn dump(&self) -> String {
        dump(self.lock().parser.screen())
    }

    /// Waits until `done` holds for what the program wrote; panics with the screen after
    /// `timeout`.
    pub fn wait_until(&self, what: &str, timeout: Duration, done: impl Fn(&Output) -> bool) {
        let (output, result) = self
            .shared
            .changed
            .wait_timeout_while(self.lock(), timeout, |output| !done(output))
            .unwrap_or_else(PoisonError::into_inner);
        if result.timed_out() {
            let screen = dump(output.parser.screen());
            drop(output);
            panic!("waited {timeout:?} for {what}; the screen shows\n{screen}");
        }
    }

    /// Waits until the screen satisfies `done`.
    pub fn wait_for(&self, what: &str, done: impl Fn(&vt100::Screen) -> bool) {
        self.wait_until(what, SCREEN_TIMEOUT, |output| done(output.parser.screen()));
    }

    /// Waits until the output ends with a whole frame and `read` finds what it looks for on the
    /// screen, and returns what it read there. A screen read while a frame is half drawn can mix
    /// old and new cells (the digits of "#19" and "#20" as "#29"); ratatui hides the cursor after
    /// drawing each frame (the inspector never shows one), so output that ends with
    /// [`HIDE_CURSOR`] ends with a whole frame.
    pub fn read_whole_frame<T>(&self, what: &str, read: impl Fn(&vt100::Screen) -> Option<T>) -> T {
        let at_frame_end = |output: &Output| output.raw.ends_with(HIDE_CURSOR);
        let (output, result) = self
            .shared
            .changed
            .wait_timeout_while(self.lock(), SCREEN_TIMEOUT, |output| {
                !(at_frame_end(output) && read(output.parser.screen()).is_some())
            })
            .unwrap_or_else(PoisonError::into_inner);
        if result.timed_out() {
            let screen = dump(output.parser.screen());
            drop(output);
            panic!(
                "waited {SCREEN_TIMEOUT:?} for {what} on a whole frame; the screen shows\n{screen}"
            );
        }
        read(output.parser.screen()).expect("the wait ended on what `read` finds")
    }

    /// Resizes the terminal (the program gets SIGWINCH) and the screen model with it.
    pub fn resize(&mut self, rows: u16, cols: u16) {
        self.lock().parser.set_size(rows, cols);
        self.master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("the pty resizes");
    }

    /// `q`, then exit status 0 and the terminal as it was.
    pub fn quit_cleanly(&mut self) {
        self.press("q");
        let status = self.wait_exit();
        assert!(
            status.success(),
            "q: auscult exited with {status:?}\n{}",
            self.dump()
        );
        self.assert_terminal_restored();
    }

    /// Types `keys`.
    pub fn press(&mut self, keys: &str) {
        self.writer
            .write_all(keys.as_bytes())
            .and_then(|()| self.writer.flush())
            .unwrap_or_else(|e| panic!("typing {keys:?}: {e}\n{}", self.dump()));
    }

    pub fn signal(&self, signal: libc::c_int) {
        let pid = self.child.process_id().expect("the child has a pid");
        let pid = libc::pid_t::try_from(pid).expect("the pid fits a pid_t");
        // SAFETY: kill has no memory-safety preconditions; `pid` is our own child, not reaped.
        let result = unsafe { libc::kill(pid, signal) };
        assert_eq!(
            result,
            0,
            "kill({pid}, {signal}): {}",
            std::io::Error::last_os_error()
        );
    }

    pub fn assert_running(&mut self) {
        let status = self.child.try_wait().expect("the child can be polled");
        assert!(
            status.is_none(),
            "auscult exited early with {status:?}\n{}",
            self.dump()
        );
    }

    pub fn assert_raw_mode(&self) {
        let flags = local_flags(&*self.master);
        assert_eq!(
            flags & COOKED,
            0,
            "auscult is drawing but the pty is not in raw mode (local flags {flags:#o})"
        );
    }

    /// Waits for the child to exit and for the reader to have read all it wrote.
    pub fn wait_exit(&mut self) -> ExitStatus {
        // portable-pty's child has no wait with a timeout: poll it.
        let mut status = None;
        let exited = poll_until(EXIT_TIMEOUT, || {
            status = self.child.try_wait().expect("the child can be polled");
            status.is_some()
        });
        let Some(status) = status.filter(|_| exited.is_ok()) else {
            panic!(
                "auscult still runs {EXIT_TIMEOUT:?} after being told to exit\n{}",
                self.dump()
            );
        };
        self.wait_until("the end of the output", EXIT_TIMEOUT, |output| {
            output.closed
        });
        status
    }

    /// After exit: the last frame is followed by leaving the alternate screen and showing the
    /// cursor, mouse reporting is off, and the pty is back in cooked mode.
    pub fn assert_terminal_restored(&self) {
        let output = self.lock();
        let raw = &output.raw;
        let screen = output.parser.screen();
        let last_frame = last_cursor_move(raw);
        let after = |sequence: &[u8], undone_by: &[u8]| {
            rfind(raw, sequence).is_some_and(|at| {
                Some(at) > last_frame && rfind(raw, undone_by).is_none_or(|undo| undo < at)
            })
        };
        assert!(
            after(LEAVE_ALTERNATE_SCREEN, ENTER_ALTERNATE_SCREEN) && !screen.alternate_screen(),
            "the alternate screen was not left (\\x1b[?1049l) after the last frame; \
             the output ends with\n{}",
            tail(raw)
        );
        assert!(
            after(SHOW_CURSOR, HIDE_CURSOR) && !screen.hide_cursor(),
            "the cursor was not shown again (\\x1b[?25h) after the last frame; \
             the output ends with\n{}",
            tail(raw)
        );
        assert_eq!(
            screen.mouse_protocol_mode(),
            vt100::MouseProtocolMode::None,
            "mouse reporting is still on; the output ends with\n{}",
            tail(raw)
        );
        drop(output);

        let flags = local_flags(&*self.master);
        assert_eq!(
            flags & COOKED,
            COOKED,
            "the pty is not back in cooked mode: ICANON and ECHO should be set \
             (local flags {flags:#o}, before {:#o})",
            self.flags_before
        );
        assert_eq!(
            flags & RAW_CLEARS,
            self.flags_before & RAW_CLEARS,
            "the pty's local flags differ from before the run ({flags:#o}, before {:#o})",
            self.flags_before
        );
    }
}

impl Drop for Pty {
    /// A failed test leaves no program behind.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
    }
}
