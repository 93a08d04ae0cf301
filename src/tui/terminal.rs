//! The terminal session: raw mode, the alternate screen and mouse reporting on entry, and all
//! three undone on every way out: a normal return, an error, a panic (a hook chained before
//! ratatui's own, for panics of the main thread) and SIGTERM or SIGHUP (flags the loop checks
//! between frames).

use std::io::stdout;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Result;
use ratatui::crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use ratatui::crossterm::execute;
use ratatui::DefaultTerminal;

/// A terminal in the inspector's modes; `restore` (or a panic, or a signal) gives it back.
pub struct Session {
    pub terminal: DefaultTerminal,
    terminate: Arc<AtomicBool>,
}

impl Session {
    pub fn start() -> Result<Self> {
        let terminate = Arc::new(AtomicBool::new(false));
        for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
            signal_hook::flag::register(signal, Arc::clone(&terminate))?;
        }
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
        Ok(Self {
            terminal,
            terminate,
        })
    }

    /// Whether SIGTERM or SIGHUP asked the inspector to stop.
    pub fn terminated(&self) -> bool {
        self.terminate.load(Ordering::Relaxed)
    }

    pub fn restore(self) {
        let _ = execute!(stdout(), DisableMouseCapture);
        ratatui::restore();
    }
}
