//! Step segmentation on realistic reasoning outputs, tokenized by a real byte-level BPE
//! tokenizer (the tiny_a fixture's, trained on English only, so every CJK character spans
//! several tokens): each step's text is exactly what its tokens decode to.

use crate::common;

use auscult::model::{Processor, TextStream};
use auscult::trace::{split_steps, StepKind, StepRules};
use common::fixture;

fn pieces(text: &str) -> Vec<String> {
    let processor = Processor::load(
        &fixture("qwen2_audio/tiny_a"),
        483,
        auscult::model::AudioTokenRate::Pooled,
    )
    .unwrap();
    let ids = processor
        .tokenizer()
        .encode(text, false)
        .unwrap()
        .get_ids()
        .to_vec();
    let mut stream = TextStream::new(&processor);
    let mut pieces: Vec<String> = ids.iter().map(|&id| stream.push(id).unwrap()).collect();
    let tail = stream.finish().unwrap();
    pieces.last_mut().unwrap().push_str(&tail);
    assert_eq!(pieces.concat(), text, "the pieces rebuild the text");
    pieces
}

fn steps_of(text: &str) -> Vec<(StepKind, String)> {
    let pieces = pieces(text);
    let steps = split_steps(&pieces, &StepRules::default());
    for step in &steps {
        let from_tokens = pieces[step.tokens[0]..step.tokens[1]].concat();
        assert_eq!(from_tokens.trim(), step.text, "step text = its tokens");
        assert_eq!(&text[step.bytes[0]..step.bytes[1]], from_tokens);
    }
    steps.into_iter().map(|s| (s.kind, s.text)).collect()
}

#[test]
fn tagged_perception_then_reasoning() {
    let text = "<perception>At 0.5 s there is a rising chirp.\nAt 2.1 s a noise burst follows.</perception>\n\
                <think>The chirp rises, so the pitch goes up.</think>\n<answer>Rising</answer>";
    let steps = steps_of(text);
    let kinds: Vec<StepKind> = steps.iter().map(|s| s.0).collect();
    assert_eq!(
        kinds,
        vec![
            StepKind::Perception,
            StepKind::Perception,
            StepKind::Reasoning,
            StepKind::Answer
        ],
        "{steps:#?}"
    );
    assert_eq!(steps[1].1, "At 2.1 s a noise burst follows.</perception>");
    assert!(steps[0].1.starts_with("<perception>At 0.5 s"));
}

#[test]
fn numbered_steps() {
    let text = "Step 1: I hear two tones.\nStep 2: The second tone is higher than the first.\nStep 3: So the pitch is rising.\nThe answer is A.";
    let steps = steps_of(text);
    assert_eq!(steps.len(), 4, "{steps:#?}");
    assert_eq!(steps[0].0, StepKind::Perception);
    assert_eq!(steps[3], (StepKind::Answer, "The answer is A.".to_owned()));
}

#[test]
fn free_prose_with_a_list() {
    let text = "Let me listen to the audio carefully.\n\nThe options are:\n1. a dog\n2. a cat\n\nThe sound is a bark, so the answer is a dog.";
    let steps = steps_of(text);
    let texts: Vec<&str> = steps.iter().map(|s| s.1.as_str()).collect();
    assert_eq!(
        texts,
        vec![
            "Let me listen to the audio carefully.",
            "The options are:",
            "1. a dog",
            "2. a cat",
            "The sound is a bark, so the answer is a dog."
        ]
    );
}

#[test]
fn mixed_languages_and_a_cut_inside_a_characters_tokens() {
    // A blank line right before Chinese text: the cut falls where "音" starts, and its first
    // byte-level tokens decode to nothing on their own.
    let text =
        "I hear a tone.\n\n音频中有一个上升的音调。然后是一段噪声。\n\nThe answer is Rising.";
    let all = pieces(text);
    let empty = all.iter().filter(|p| p.is_empty()).count();
    assert!(empty > 0, "multi-byte characters span several tokens");
    let steps = steps_of(text);
    let texts: Vec<&str> = steps.iter().map(|s| s.1.as_str()).collect();
    assert_eq!(
        texts,
        vec![
            "I hear a tone.",
            "音频中有一个上升的音调。然后是一段噪声。",
            "The answer is Rising."
        ]
    );
}

#[test]
fn a_long_paragraph_is_cut_at_sentences() {
    let sentence = "The tone stays at the same pitch and the same loudness for a while. ";
    let text = sentence.repeat(6) + "Therefore the pitch is steady.";
    let steps = steps_of(&text);
    assert_eq!(steps.len(), 7, "{steps:#?}");
    assert_eq!(steps[6].1, "Therefore the pitch is steady.");
}
