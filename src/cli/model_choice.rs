//! Command-line values for the model's load choices (`--dtype`, `--quantize`, `--device`): the
//! model layer names each choice (`Display`/`FromStr`) and documents it, and this turns them into
//! a clap value parser, so `--help` and the error for a bad value list the same possible values,
//! each with its doc line, that `clap::ValueEnum` listed when the model derived it.

use std::str::FromStr;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use strum::{EnumMessage, IntoEnumIterator};

/// A value parser for `T` that accepts exactly its spellings (`T`'s `FromStr`), listing them in
/// declaration order.
pub fn model_choice<T>() -> impl TypedValueParser<Value = T>
where
    T: IntoEnumIterator + EnumMessage + FromStr + Clone + Send + Sync + 'static,
    &'static str: From<T>,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    let values = T::iter().map(|value| {
        let help = value.get_documentation().map(summary);
        let name: &'static str = value.into();
        match help {
            Some(help) => PossibleValue::new(name).help(help),
            None => PossibleValue::new(name),
        }
    });
    PossibleValuesParser::new(values).try_map(|name| name.parse::<T>())
}

/// A doc comment as clap's derive shows a value's help: its first paragraph on one line, without
/// the closing full stop.
fn summary(doc: &str) -> String {
    let paragraph = doc.split("\n\n").next().unwrap_or_default();
    let line = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
    line.strip_suffix('.').unwrap_or(&line).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_doc_comment_becomes_one_line_without_its_full_stop() {
        assert_eq!(
            summary("4-bit values in blocks (4.5 bits a\nweight).\n"),
            "4-bit values in blocks (4.5 bits a weight)"
        );
        assert_eq!(summary("An NVIDIA GPU."), "An NVIDIA GPU");
        assert_eq!(summary("First.\n\nMore."), "First");
    }
}
