//! The spectrogram strip over the heatmap: the clip's log-mel picture on the shared time axis,
//! ink for energy above the clip's background (its median level is white) so it reads in print
//! and never looks like the heatmap's colour scale; or, without the clip, a framed note saying
//! it was not found.

use super::layout::{TimeAxis, MUTED, RULE, SMALL_SIZE};
use super::spectrogram::LogMelPicture;
use super::svg::{hex, Anchor, Svg, TextStyle};

/// The strip's height: one pixel per mel band.
pub const STRIP_HEIGHT: f64 = super::spectrogram::BANDS as f64;
/// Width of one time column of the picture.
const COLUMN: f64 = 2.0;
/// Grey levels the picture is drawn in (neighbouring cells of one level merge; each level is
/// one path).
const LEVELS: f32 = 20.0;

/// Draws the strip at `top`: the picture, or `missing` (what to say without one).
pub fn draw(
    svg: &mut Svg,
    picture: Option<&LogMelPicture>,
    missing: &str,
    axis: &TimeAxis,
    label_right: f64,
    top: f64,
) {
    svg.open_crisp_group("spectrogram");
    let small = TextStyle::new(SMALL_SIZE, MUTED).anchored(Anchor::End);
    svg.text(label_right, top + 11.0, "log-mel", small);
    svg.text(label_right, top + 23.0, "0–8 kHz", small);
    match picture {
        Some(picture) => draw_picture(svg, picture, axis, top),
        None => {
            svg.outline(axis.x, top, axis.width, STRIP_HEIGHT, RULE, 0.8);
            svg.text(
                axis.x + axis.width / 2.0,
                top + STRIP_HEIGHT / 2.0 + 4.0,
                missing,
                TextStyle::new(SMALL_SIZE, MUTED)
                    .italic()
                    .anchored(Anchor::Middle),
            );
        }
    }
    svg.close_group();
}

fn draw_picture(svg: &mut Svg, picture: &LogMelPicture, axis: &TimeAxis, top: f64) {
    let columns = (axis.width / COLUMN).floor().max(1.0) as usize;
    let clip_end = picture.seconds();
    // What most of the clip is (its median, the background) is white; ink grows from there.
    let floor = picture.median();
    // Each level's cells, as runs along a band.
    let mut by_level: Vec<Vec<(f64, f64, f64, f64)>> = vec![Vec::new(); LEVELS as usize + 1];
    for band in 0..picture.bands {
        let y = top + (picture.bands - 1 - band) as f64;
        let mut run: Option<(f64, f64, u8)> = None;
        for column in 0..columns {
            let x0 = axis.x + column as f64 * COLUMN;
            let x1 = (x0 + COLUMN).min(axis.x + axis.width);
            let (t0, t1) = (axis.seconds_at(x0), axis.seconds_at(x1));
            let level = if t0 >= clip_end || t1 <= 0.0 {
                0
            } else {
                let above = (picture.level(band, t0, t1) - floor) / (1.0 - floor).max(1e-6);
                (above.clamp(0.0, 1.0) * LEVELS).round() as u8
            };
            match &mut run {
                Some(current) if current.2 == level => current.1 = x1,
                _ => {
                    if let Some((a, b, l)) = run.replace((x0, x1, level)) {
                        by_level[usize::from(l)].push((a, y, b - a, 1.0));
                    }
                }
            }
        }
        if let Some((a, b, l)) = run {
            by_level[usize::from(l)].push((a, y, b - a, 1.0));
        }
    }
    for (level, rects) in by_level.iter().enumerate().skip(1) {
        svg.rects_path(rects, &grey(level as f32 / LEVELS));
    }
}

/// The ink of a level in 0..=1: white for silence, near black for the loudest.
fn grey(level: f32) -> String {
    let ink = level.clamp(0.0, 1.0).powf(1.3);
    let value = (255.0 - ink * 235.0).round() as u8;
    hex((value, value, value))
}
