//! The hand-written example chains of thought over the bundled demo clip
//! (`assets/demo/tones.wav`): what each step says, which event it is about and the CAFE label its
//! claim deserves. `assets/README.md` says how the clip was made.

use super::{ClipEvent, ExampleSpec};
use crate::trace::CafeLabel;

/// The events of the bundled demo clip `assets/demo/tones.wav` (`assets/README.md` says how it
/// was made).
fn tones_events() -> Vec<ClipEvent> {
    vec![
        ClipEvent {
            name: "tone A4 (440 Hz)",
            start: 0.0,
            end: 0.6,
        },
        ClipEvent {
            name: "tone C#5 (554 Hz)",
            start: 0.6,
            end: 1.2,
        },
        ClipEvent {
            name: "tone E5 (659 Hz)",
            start: 1.2,
            end: 1.8,
        },
        ClipEvent {
            name: "pink noise burst",
            start: 1.8,
            end: 2.3,
        },
        ClipEvent {
            name: "sweep 880 → 220 Hz",
            start: 2.3,
            end: 3.5,
        },
    ]
}

/// The bundled demo clip (`assets/demo/tones.wav`) and a chain of thought that perceives it well
/// at first and gets the last event wrong.
pub fn tones_spec() -> ExampleSpec {
    use CafeLabel::*;
    ExampleSpec {
        id: "demo-tones",
        clip_path: "assets/demo/tones.wav",
        clip_seconds: 3.5,
        events: tones_events(),
        question: "How many tones come before the noise, and does the final sweep rise or fall?",
        choices: vec![
            "Three, falling",
            "Three, rising",
            "Two, falling",
            "Four, rising",
        ],
        answer: "Three, falling",
        task: Some("counting"),
        lines: vec![
            (
                "<think>First I listen for the separate sounds in the clip.",
                None,
                None,
            ),
            (
                "At 0.0 s there is a steady tone, about 440 Hz.",
                Some(0),
                Some(Matched),
            ),
            (
                "At 0.6 s a second tone starts, a little higher.",
                Some(1),
                Some(Matched),
            ),
            (
                "At 1.2 s a third tone, higher again.",
                Some(2),
                Some(Matched),
            ),
            (
                "At 1.8 s the tones stop and a short burst of noise follows.",
                Some(3),
                Some(Matched),
            ),
            (
                "After the noise there is a sweep that lasts about a second.",
                Some(4),
                Some(Matched),
            ),
            ("So three tones come before the noise.", None, Some(Neutral)),
            (
                "The tones rise step by step, so the sounds go up in pitch.",
                Some(2),
                Some(Misused),
            ),
            (
                "A bird chirps near the end of the sweep.",
                Some(4),
                Some(Hallucinated),
            ),
            (
                "The sweep follows the same pattern, so it rises too.",
                Some(4),
                Some(Misused),
            ),
            (
                "Three tones and a rising sweep match option B.</think>",
                None,
                Some(Neutral),
            ),
            ("<answer>Three, rising</answer>", None, None),
        ],
        missed: vec![],
        layers: 4,
        heads: 4,
        seed: 7,
    }
}

/// The demo clip again, asked what follows the third tone: a chain of thought that keeps every
/// event in order and answers right.
pub fn order_spec() -> ExampleSpec {
    use CafeLabel::*;
    ExampleSpec {
        id: "demo-tones-order",
        clip_path: "assets/demo/tones.wav",
        clip_seconds: 3.5,
        events: tones_events(),
        question: "What sound comes right after the third tone?",
        choices: vec![
            "A burst of noise",
            "A fourth, higher tone",
            "A falling sweep",
            "Silence",
        ],
        answer: "A burst of noise",
        task: Some("temporal order"),
        lines: vec![
            (
                "<think>The question is about order, so I follow the sounds one by one.",
                None,
                None,
            ),
            (
                "The clip starts with a steady tone near 440 Hz.",
                Some(0),
                Some(Matched),
            ),
            (
                "At 0.6 s it steps up to a second, higher tone.",
                Some(1),
                Some(Matched),
            ),
            (
                "At 1.2 s a third tone starts, higher again, near 660 Hz.",
                Some(2),
                Some(Matched),
            ),
            (
                "The third tone stops at about 1.8 s.",
                Some(2),
                Some(Matched),
            ),
            (
                "Right after it comes a short hiss of broadband noise.",
                Some(3),
                Some(Matched),
            ),
            (
                "The noise ends at about 2.3 s, when a tone starts gliding down.",
                Some(4),
                Some(Matched),
            ),
            (
                "No fourth tone and no silence come between the third tone and the noise.",
                Some(3),
                Some(Matched),
            ),
            (
                "So the sound right after the third tone is the noise, and the glide comes later.",
                None,
                Some(Neutral),
            ),
            ("That matches option A.</think>", None, Some(Neutral)),
            ("<answer>A burst of noise</answer>", None, None),
        ],
        missed: vec![],
        layers: 4,
        heads: 4,
        seed: 11,
    }
}

/// The demo clip asked about durations: a chain of thought that hears a voice that is not there
/// in its first claim, miscounts the tones from then on, cuts the sweep short, and answers wrong.
pub fn duration_spec() -> ExampleSpec {
    use CafeLabel::*;
    ExampleSpec {
        id: "demo-tones-duration",
        clip_path: "assets/demo/tones.wav",
        clip_seconds: 3.5,
        events: tones_events(),
        question: "How long is the final sweep compared with each tone?",
        choices: vec!["Longer", "Shorter", "About the same"],
        answer: "Longer",
        task: Some("duration"),
        lines: vec![
            (
                "<think>I need how long each tone lasts and how long the sweep at the end lasts.",
                None,
                None,
            ),
            (
                "The clip opens with a voice counting \"one, two\" before the tones.",
                None,
                Some(Hallucinated),
            ),
            (
                "After the count the first tone starts, at about 0.6 s.",
                Some(1),
                Some(Misused),
            ),
            (
                "A second tone follows at 1.2 s, a little higher.",
                Some(2),
                Some(Misused),
            ),
            (
                "The tones stop at 1.8 s, so each lasts about 0.6 s.",
                Some(2),
                Some(Matched),
            ),
            (
                "Then comes a burst of noise, about half a second long.",
                Some(3),
                Some(Matched),
            ),
            (
                "After the noise a tone slides down in pitch.",
                Some(4),
                Some(Matched),
            ),
            (
                "The slide fades out at about 2.9 s, so it lasts about 0.6 s too.",
                Some(4),
                Some(Misused),
            ),
            (
                "That gives two tones of 0.6 s and a slide of 0.6 s.",
                None,
                Some(Neutral),
            ),
            (
                "So the sweep is about as long as each tone.",
                None,
                Some(Neutral),
            ),
            ("That is option C.</think>", None, Some(Neutral)),
            ("<answer>About the same</answer>", None, None),
        ],
        // The first tone: the voice took its place.
        missed: vec![0],
        layers: 4,
        heads: 4,
        seed: 23,
    }
}

/// The examples of the bundled traces file `assets/demo/demo-set.jsonl`, in its order.
pub fn demo_set_specs() -> Vec<ExampleSpec> {
    vec![tones_spec(), order_spec(), duration_spec()]
}
