//! The terminal session: raw mode, the alternate screen and mouse reporting on entry, and all
//! three undone on every way out: a normal return, an error, a panic (a hook chained before
//! ratatui's own, for panics of the main thread), SIGTERM, SIGHUP or SIGINT (flags the loop checks
//! between frames), and the terminal itself going away.
//!
//! A terminal that goes away (a closed window, a killed tmux pane, a dropped SSH session) stays
//! readable forever with nothing to read. crossterm's default reader retries such a read without
//! end (crossterm issue #793), inside `event::poll`, where no flag is ever checked; auscult builds
//! crossterm with `use-dev-tty`, whose reader polls level-triggered and gives up at the poll's
//! timeout. Between polls `Session::stop` asks the terminal itself (poll(2), without reading)
//! whether it hung up. A watchdog thread ends the process a second after a hang-up or a signal if
//! the loop has not ended by then. Labels are on disk as soon as they are made, so ending there
//! loses nothing.

use std::io::stdout;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use ratatui::crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use ratatui::crossterm::execute;
use ratatui::DefaultTerminal;

/// How long the loop has to end on its own after a hang-up or a signal before the watchdog ends
/// the process.
const GRACE: Duration = Duration::from_secs(1);

/// Why the loop must stop without a key asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    Signal(i32),
    TerminalLost,
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Signal(signal) => write!(f, "stopped by signal {signal}"),
            Stop::TerminalLost => write!(f, "the terminal closed"),
        }
    }
}

/// A terminal in the inspector's modes; `restore` (or a panic, a signal, a hang-up) gives it
/// back.
pub struct Session {
    pub terminal: DefaultTerminal,
    signal: Arc<AtomicUsize>,
    watch: Arc<TerminalWatch>,
    /// Set when the loop is done, so the watchdog stands down.
    finished: Arc<AtomicBool>,
}

impl Session {
    pub fn start() -> Result<Self> {
        let signal = Arc::new(AtomicUsize::new(0));
        for number in [
            signal_hook::consts::SIGTERM,
            signal_hook::consts::SIGHUP,
            signal_hook::consts::SIGINT,
        ] {
            signal_hook::flag::register_usize(number, Arc::clone(&signal), number as usize)?;
        }
        let watch = Arc::new(TerminalWatch::open());
        let terminal = ratatui::try_init()?;
        // ratatui's hook restores raw mode and the screen; mouse reporting must go first. A
        // panic on another thread (the live run's worker) is caught there and reported as a
        // failed run: it must neither restore the terminal under the running view nor print
        // over it.
        let ratatui_hook = std::panic::take_hook();
        let main_thread = std::thread::current().id();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().id() != main_thread {
                return;
            }
            let _ = execute!(stdout(), DisableMouseCapture);
            ratatui_hook(info);
        }));
        execute!(stdout(), EnableMouseCapture)?;
        let finished = Arc::new(AtomicBool::new(false));
        spawn_watchdog(
            Arc::clone(&signal),
            Arc::clone(&watch),
            Arc::clone(&finished),
        );
        Ok(Self {
            terminal,
            signal,
            watch,
            finished,
        })
    }

    /// Why the loop must stop now, if it must.
    pub fn stop(&self) -> Option<Stop> {
        match self.signal.load(Ordering::Relaxed) {
            0 if self.watch.hung_up(Duration::ZERO) => Some(Stop::TerminalLost),
            0 => None,
            signal => Some(Stop::Signal(signal as i32)),
        }
    }

    pub fn restore(self) {
        self.finished.store(true, Ordering::Relaxed);
        let _ = execute!(stdout(), DisableMouseCapture);
        ratatui::restore();
    }
}

/// Ends the process `GRACE` after a signal or a hang-up unless the loop finishes first.
fn spawn_watchdog(signal: Arc<AtomicUsize>, watch: Arc<TerminalWatch>, finished: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        while !finished.load(Ordering::Relaxed) {
            let lost = watch.hung_up(Duration::from_millis(200));
            let number = signal.load(Ordering::Relaxed);
            if !lost && number == 0 {
                continue;
            }
            let deadline = Instant::now() + GRACE;
            while Instant::now() < deadline {
                if finished.load(Ordering::Relaxed) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            // The loop is stuck (in crossterm, on a dead terminal): restore what can be, say why
            // where it can still be seen, and go.
            let _ = execute!(stdout(), DisableMouseCapture);
            ratatui::restore();
            let stop = if number == 0 {
                Stop::TerminalLost
            } else {
                Stop::Signal(number as i32)
            };
            eprintln!("error: {stop}; every label made was already saved");
            std::process::exit(if number == 0 { 1 } else { 128 + number as i32 });
        }
    });
}

/// The terminal crossterm reads (standard input when it is one, else `/dev/tty`), polled without
/// reading from it.
struct TerminalWatch {
    #[cfg(unix)]
    fd: Option<std::os::fd::RawFd>,
    /// Keeps `/dev/tty` open when that is what is watched.
    #[cfg(unix)]
    _tty: Option<std::fs::File>,
}

#[cfg(unix)]
impl TerminalWatch {
    fn open() -> Self {
        use std::os::fd::AsRawFd;
        // SAFETY: isatty only inspects the descriptor.
        if unsafe { libc::isatty(libc::STDIN_FILENO) } == 1 {
            return Self {
                fd: Some(libc::STDIN_FILENO),
                _tty: None,
            };
        }
        let tty = std::fs::File::open("/dev/tty").ok();
        Self {
            fd: tty.as_ref().map(|f| f.as_raw_fd()),
            _tty: tty,
        }
    }

    /// poll(2) on the terminal for a hang-up or an error (nothing is read), up to `timeout`; the
    /// returned events, or `None` when nothing happened.
    fn poll(&self, timeout: Duration) -> Option<libc::c_short> {
        let fd = self.fd?;
        let mut entry = libc::pollfd {
            fd,
            events: 0,
            revents: 0,
        };
        let millis = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
        // SAFETY: one valid pollfd, for the duration of the call.
        let ready = unsafe { libc::poll(&mut entry, 1, millis) };
        (ready > 0).then_some(entry.revents)
    }

    fn lost(revents: libc::c_short) -> bool {
        revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0
    }

    fn hung_up(&self, timeout: Duration) -> bool {
        match self.fd {
            Some(_) => self.poll(timeout).is_some_and(Self::lost),
            None => {
                std::thread::sleep(timeout);
                false
            }
        }
    }
}

#[cfg(not(unix))]
impl TerminalWatch {
    fn open() -> Self {
        Self {}
    }

    fn hung_up(&self, timeout: Duration) -> bool {
        std::thread::sleep(timeout);
        false
    }
}
