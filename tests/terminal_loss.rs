//! A terminal that goes away under the inspector ends it. The case that used to spin forever:
//! auscult started by a shell (`sh -c 'auscult …; sleep 30'`, as a wrapper script, tmux or
//! `ssh host 'cd x && auscult'` start it), so it is not the session's leader and gets no SIGHUP
//! of its own; then the terminal's master side closes (a killed tmux pane, a closed window, a
//! dropped SSH connection). Its terminal reads end-of-file for ever after, which crossterm's
//! reader retried without end (crossterm issue #793).
//!
//! Linux only: the shell's child is found in `/proc`.

#![cfg(target_os = "linux")]

use crate::common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::polling::{poll_until, wait_until};
use portable_pty::{native_pty_system, CommandBuilder, PtySize};

/// How long auscult may take to end once its terminal is gone: the inspector's one-second grace
/// and a margin for a loaded CI machine.
const END_WITHIN: Duration = Duration::from_secs(5);
const START_WITHIN: Duration = Duration::from_secs(60);

/// `sh -c '<auscult> ARGS; sleep 30'` on a pty whose master side only this test holds, read by a
/// thread that gives its descriptor back on request (so dropping the master closes it).
struct Session {
    master: Option<Box<dyn portable_pty::MasterPty + Send>>,
    shell: Box<dyn portable_pty::Child + Send + Sync>,
    screen: Arc<Mutex<vt100::Parser>>,
    stop_reading: Arc<AtomicBool>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Session {
    fn start(args: &str) -> Self {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: 24,
                cols: 80,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pty opens");
        let mut command = CommandBuilder::new("sh");
        command.arg("-c");
        command.arg(format!(
            "'{}' {args}; sleep 30",
            env!("CARGO_BIN_EXE_auscult")
        ));
        command.cwd(env!("CARGO_MANIFEST_DIR"));
        command.env("TERM", "xterm-256color");
        let shell = pair.slave.spawn_command(command).expect("sh starts");
        drop(pair.slave);

        let fd = pair
            .master
            .as_raw_fd()
            .expect("the master has a descriptor");
        let screen = Arc::new(Mutex::new(vt100::Parser::new(24, 80, 0)));
        let stop_reading = Arc::new(AtomicBool::new(false));
        let reader = {
            let (screen, stop) = (Arc::clone(&screen), Arc::clone(&stop_reading));
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                while !stop.load(Ordering::Relaxed) {
                    let mut entry = libc::pollfd {
                        fd,
                        events: libc::POLLIN,
                        revents: 0,
                    };
                    // SAFETY: one valid pollfd; the descriptor outlives this thread (the test
                    // joins it before dropping the master).
                    if unsafe { libc::poll(&mut entry, 1, 20) } <= 0 {
                        continue;
                    }
                    // SAFETY: `buf` is writable for its length.
                    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
                    if n <= 0 {
                        break;
                    }
                    screen.lock().unwrap().process(&buf[..n as usize]);
                }
            })
        };
        Self {
            master: Some(pair.master),
            shell,
            screen,
            stop_reading,
            reader: Some(reader),
        }
    }

    fn wait_for_screen(&self, what: &str, done: impl Fn(&str) -> bool) {
        let contents = || self.screen.lock().unwrap().screen().contents();
        wait_until(
            what,
            START_WITHIN,
            || done(&contents()),
            || format!("the screen shows\n{}", contents()),
        );
    }

    /// auscult's pid: the shell's only child.
    fn auscult_pid(&self) -> u32 {
        let shell = self.shell.process_id().expect("sh has a pid");
        let children =
            std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children")).unwrap();
        let pids: Vec<u32> = children
            .split_whitespace()
            .map(|p| p.parse().unwrap())
            .collect();
        assert_eq!(pids.len(), 1, "sh's children: {pids:?}");
        pids[0]
    }

    /// Closes every descriptor of the master side: the terminal hangs up.
    fn close_terminal(&mut self) {
        self.stop_reading.store(true, Ordering::Relaxed);
        self.reader.take().unwrap().join().unwrap();
        drop(self.master.take());
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.shell.kill();
    }
}

/// Whether `pid` has ended (gone, or a zombie waiting for its parent).
fn ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // "pid (comm) S ...": the state follows the last ')'.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
    }
}

fn assert_ends(pid: u32, what: &str) {
    if poll_until(END_WITHIN, || ended(pid)).is_err() {
        // SAFETY: kill has no memory-safety preconditions; the pid is auscult's.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        panic!("auscult ({what}) still ran {END_WITHIN:?} after its terminal closed");
    }
}

#[test]
fn closing_the_terminal_ends_the_inspector() {
    let mut session = Session::start("inspect assets/demo/demo-tones.json");
    session.wait_for_screen("the question", |s| {
        s.contains("How many tones come before the noise")
    });
    let pid = session.auscult_pid();
    session.close_terminal();
    assert_ends(pid, "inspecting a trace");
}

#[test]
fn closing_the_terminal_ends_a_live_run() {
    // A run long enough to be going when the terminal closes.
    let mut session = Session::start(
        "inspect --model assets/demo-model --audio assets/examples/clips/synth-30064771072.wav \
         --prompt 'How many sounds are there?' --max-new-tokens 100000 --min-new-tokens 100000",
    );
    session.wait_for_screen("tokens streaming", |s| s.contains("tokens"));
    let pid = session.auscult_pid();
    session.close_terminal();
    assert_ends(pid, "a live run");
}
