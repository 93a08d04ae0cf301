//! A figure's SVG drawn to a PNG: usvg reads it with a font database holding only the bundled
//! fonts (so the picture is the same on any machine, fonts installed or not), resvg draws it on
//! a white page `scale` times the SVG's size, and tiny-skia encodes it.

use anyhow::{anyhow, Context, Result};
use resvg::{tiny_skia, usvg};

use super::text::{BOLD_FONT_BYTES, FONT_BYTES, FONT_FAMILY};

/// The PNG of `svg` at `scale` pixels per SVG pixel.
pub fn svg_to_png(svg: &str, scale: f32) -> Result<Vec<u8>> {
    if !(scale.is_finite() && scale > 0.0) {
        return Err(anyhow!(
            "the PNG scale must be a positive number (got {scale})"
        ));
    }
    let mut options = usvg::Options {
        font_family: FONT_FAMILY.to_owned(),
        ..usvg::Options::default()
    };
    let fonts = options.fontdb_mut();
    fonts.load_font_data(FONT_BYTES.to_vec());
    fonts.load_font_data(BOLD_FONT_BYTES.to_vec());
    fonts.set_sans_serif_family(FONT_FAMILY);
    let tree = usvg::Tree::from_str(svg, &options).context("the figure's SVG does not parse")?;
    let size = tree.size();
    let (width, height) = (
        (size.width() * scale).round() as u32,
        (size.height() * scale).round() as u32,
    );
    let mut pixmap = tiny_skia::Pixmap::new(width, height)
        .ok_or_else(|| anyhow!("a {width} × {height} image is too large to draw"))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| anyhow!("cannot encode the PNG: {e}"))
}
