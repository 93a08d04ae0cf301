//! `auscult play`: plays a clip, or a range of it, showing the playhead; the headless face of
//! the player the inspector uses.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::Args;

use crate::audio::decode_file;
use crate::audio::playback::{PlaybackClip, Player};

#[derive(Debug, Args)]
pub struct PlayArgs {
    /// Audio file: WAV, FLAC, MP3, Ogg Vorbis or AAC/M4A.
    pub audio: PathBuf,
    /// Start of the range to play, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 0.0)]
    pub from: f64,
    /// End of the range to play, in seconds (default: the end of the clip).
    #[arg(long, value_name = "SECONDS")]
    pub to: Option<f64>,
}

/// How often the playhead line is redrawn.
const REFRESH: Duration = Duration::from_millis(100);

pub fn run(args: PlayArgs) -> Result<()> {
    let audio = decode_file(&args.audio, 16_000)?;
    let clip = PlaybackClip::new(audio.source.clone(), audio.source_rate);
    let mut player = Player::open(&clip);
    if let Some(notice) = player.take_notice() {
        eprintln!("{notice}");
    }
    let end = args.to.unwrap_or(clip.duration_seconds());
    player.play_range(args.from, end);
    let interactive = std::io::stderr().is_terminal();
    while player.is_playing() {
        if interactive {
            eprint!(
                "\r{:7.2} s / {:.2} s",
                player.position(),
                clip.duration_seconds()
            );
            std::io::stderr().flush()?;
        }
        std::thread::sleep(REFRESH);
    }
    if let Some(notice) = player.take_notice() {
        eprintln!("\n{notice}");
    }
    eprintln!(
        "{}played {}: {:.2} s to {:.2} s",
        if interactive { "\r" } else { "" },
        args.audio.display(),
        args.from.clamp(0.0, clip.duration_seconds()),
        player.position()
    );
    Ok(())
}
