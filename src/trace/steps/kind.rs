//! How a step's kind is decided: inside a tag, from the tag (a reasoning tag's step that
//! describes the audio is perception); outside tags, from answer cues, then from what describes
//! the audio (perception cue words or a time in seconds, unless it opens as a conclusion).

use super::{StepKind, StepRules};

/// The kind of a step with `text`, inside `tag` (innermost) if any.
pub(super) fn kind_of(text: &str, tag: Option<&str>, rules: &StepRules) -> StepKind {
    let lower = text.to_lowercase();
    if let Some(tag) = tag {
        let kind = rules
            .tag_kinds
            .iter()
            .find(|(t, _)| t.eq_ignore_ascii_case(tag))
            .map_or(StepKind::Other, |(_, k)| *k);
        return if kind == StepKind::Reasoning && describes_audio(&lower, rules) {
            StepKind::Perception
        } else {
            kind
        };
    }
    if rules
        .answer_cues
        .iter()
        .any(|cue| lower.contains(&cue.to_lowercase()))
    {
        return StepKind::Answer;
    }
    if describes_audio(&lower, rules) {
        return StepKind::Perception;
    }
    StepKind::Other
}

/// A lower-cased step that says what the audio holds: a perception cue word or a time in
/// seconds, and no opening that marks it as a conclusion.
fn describes_audio(lower: &str, rules: &StepRules) -> bool {
    // Tags the step carries ("<think>I hear…") are not its words.
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '.'))
        .map(|w| w.trim_end_matches('.'))
        .filter(|w| !w.is_empty())
        .collect();
    // The opening, past tags and a "Step N" marker.
    let opening: Vec<&str> = words
        .iter()
        .copied()
        .skip_while(|w| {
            rules.tag_kinds.iter().any(|(t, _)| t == w) || *w == "step" || w.parse::<f64>().is_ok()
        })
        .take(3)
        .collect();
    let opening = opening.join(" ");
    let concludes = rules.inference_openers.iter().any(|opener| {
        let opener = opener.to_lowercase();
        opening == opener || opening.starts_with(&format!("{opener} "))
    });
    if concludes {
        return false;
    }
    let cue = rules
        .perception_cues
        .iter()
        .any(|cue| words.contains(&cue.to_lowercase().as_str()));
    cue || names_seconds(&words)
}

/// "0.4 s", "2 seconds", "1.5 sec": a number followed by a unit of seconds.
fn names_seconds(words: &[&str]) -> bool {
    words.windows(2).any(|pair| {
        pair[0].parse::<f64>().is_ok()
            && matches!(pair[1], "s" | "sec" | "secs" | "second" | "seconds")
    }) || words.iter().any(|w| {
        w.strip_suffix('s')
            .is_some_and(|number| !number.is_empty() && number.parse::<f64>().is_ok())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_named_as_numbers_with_a_unit() {
        let said = |text: &str| names_seconds(&text.split(' ').collect::<Vec<_>>());
        assert!(said("at 0.4 s"));
        assert!(said("for 3 seconds"));
        assert!(said("near 2s"));
        assert!(!said("the s sound"));
        assert!(!said("option 2"));
        assert!(!said("s"));
    }
}
