//! Splitting on small texts cut into pieces as a byte-level tokenizer might: each step's tokens
//! decode to its text, the cuts and kinds are the expected ones, and the rules turn cuts off.

use super::*;

/// Lower-casing `ẞ` shortens it and `İ` lengthens it: offsets found in a lower-cased copy
/// cut inside a character of the original (this panicked).
#[test]
fn inline_markers_after_characters_that_change_length_when_lower_cased() {
    for text in ["ẞéstep 1: İ", "İ step 2: ẞ", "ẞ Step 3: x", "aİstep 1. b"] {
        let steps = split_steps(&pieces(text), &StepRules::default());
        let joined: String = steps
            .iter()
            .map(|s| &text[s.bytes[0]..s.bytes[1]])
            .collect();
        assert_eq!(joined, text, "{text}");
    }
    let text = "İntro ẞ then Step 2: more";
    let steps = split_steps(&pieces(text), &StepRules::default());
    assert!(
        steps.iter().any(|s| s.text.starts_with("Step 2")),
        "the marker after ẞ and İ still starts a step: {steps:?}"
    );
}

/// Pieces as a byte-level tokenizer might cut them: words with their leading space.
fn pieces(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if (c == ' ' || c == '\n' || c == '<') && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        current.push(c);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn check_agreement(pieces: &[String], steps: &[Step]) {
    let text = pieces.concat();
    for step in steps {
        let from_tokens: String = pieces[step.tokens[0]..step.tokens[1]].concat();
        assert_eq!(from_tokens, text[step.bytes[0]..step.bytes[1]]);
        assert_eq!(from_tokens.trim(), step.text);
    }
    for pair in steps.windows(2) {
        assert!(pair[0].tokens[1] <= pair[1].tokens[0]);
    }
}

#[test]
fn tagged_reasoning() {
    let text = "<think>I hear a rising chirp at the start. Then a noise burst.</think>\n<answer>B</answer>";
    let p = pieces(text);
    let steps = split_steps(&p, &StepRules::default());
    check_agreement(&p, &steps);
    let kinds: Vec<StepKind> = steps.iter().map(|s| s.kind).collect();
    // What the model says it hears, inside `<think>`, is perception.
    assert_eq!(kinds, vec![StepKind::Perception, StepKind::Answer]);
    assert!(steps[0].text.starts_with("<think>I hear"));
    assert_eq!(steps[1].text, "<answer>B</answer>");
}

#[test]
fn numbered_steps_inside_think() {
    let text = "<think>Step 1: The audio has two tones.\nStep 2: The second is higher.\nStep 3: So the pitch rises.</think><answer>Rising</answer>";
    let p = pieces(text);
    let steps = split_steps(&p, &StepRules::default());
    check_agreement(&p, &steps);
    assert_eq!(steps.len(), 4, "{steps:#?}");
    assert!(steps[1].text.starts_with("Step 2:"));
    let kinds: Vec<StepKind> = steps.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [
            StepKind::Perception,
            StepKind::Reasoning,
            StepKind::Reasoning,
            StepKind::Answer
        ]
    );
}

/// The demo model's chains: its "Sound N at …" lines describe the clip; its conclusions
/// ("That is all", "So …") reason about what was heard, though they name sounds too.
#[test]
fn perception_lines_inside_think() {
    let text = "<think>I listen to the clip from start to end.\nSound 1 at 0.4 s: a soft rising chirp lasting 0.4 s.\nA bird chirps at 2s.\nThe second is higher.\nThat is all: 2 sounds.\nSo there are 2 sounds.</think>\n<answer>2</answer>";
    let p = pieces(text);
    let steps = split_steps(&p, &StepRules::default());
    check_agreement(&p, &steps);
    let kinds: Vec<StepKind> = steps.iter().map(|s| s.kind).collect();
    use StepKind::{Answer, Perception, Reasoning};
    assert_eq!(
        kinds,
        [Perception, Perception, Perception, Reasoning, Reasoning, Reasoning, Answer],
        "{steps:#?}"
    );
}

#[test]
fn free_prose_lists_and_blank_lines() {
    let text =
        "First I listen to the clip.\n\nThe options are:\n- a dog\n- a cat\n\nThe answer is a dog.";
    let p = pieces(text);
    let steps = split_steps(&p, &StepRules::default());
    check_agreement(&p, &steps);
    let texts: Vec<&str> = steps.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(
        texts,
        vec![
            "First I listen to the clip.",
            "The options are:",
            "- a dog",
            "- a cat",
            "The answer is a dog."
        ]
    );
    assert_eq!(steps[0].kind, StepKind::Perception);
    assert_eq!(steps[4].kind, StepKind::Answer);
    assert_eq!(steps[2].kind, StepKind::Other);
}

#[test]
fn long_paragraphs_split_at_sentences_including_cjk() {
    let sentence = "The tone is steady and loud for a while. ";
    let text = sentence.repeat(10) + "音频中有一个上升的音调。然后是噪声。";
    let p = pieces(&text);
    let steps = split_steps(&p, &StepRules::default());
    check_agreement(&p, &steps);
    assert!(steps.len() >= 10, "{}", steps.len());
    assert_eq!(steps[0].text, sentence.trim());
}

#[test]
fn a_cut_inside_a_multibyte_characters_tokens_moves_before_the_character() {
    // "音" arrives in two byte-level tokens: the first decodes to nothing, the second holds
    // the character. A blank-line cut just before "音" must not split them.
    let p: Vec<String> = ["I hear it.", "\n\n", "", "音", "频", "。"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let steps = split_steps(&p, &StepRules::default());
    check_agreement(&p, &steps);
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0].tokens, [0, 1]);
    assert_eq!(steps[1].tokens, [2, 6]);
    assert_eq!(steps[1].text, "音频。");
}

#[test]
fn rules_can_turn_cuts_off() {
    let text = "Step 1: a.\nStep 2: b.";
    let p = pieces(text);
    let rules = StepRules {
        step_markers: false,
        line_breaks: false,
        ..StepRules::default()
    };
    assert_eq!(split_steps(&p, &rules).len(), 1);
    assert_eq!(split_steps(&p, &StepRules::default()).len(), 2);
}
