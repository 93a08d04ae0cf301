//! Reasoning steps: a generation split into contiguous runs of tokens, each with its text.
//!
//! The text is cut at structural tags (`<think>`, `<perception>`, `<answer>`, `<review>`, any
//! `<tag>…</tag>`), "Step N:" markers, list items, line breaks and blank lines, and sentence ends
//! inside long paragraphs. Every cut is then moved to a token boundary, so a step's text is exactly what its
//! tokens decode to (a cut inside a multi-byte character's tokens goes before the character).
//! Each step gets a kind from its enclosing tag or, outside tags, from cue words; all of it is
//! configurable through `StepRules`.

use serde::{Deserialize, Serialize};

/// What a step does in the chain of thought.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Perception,
    Reasoning,
    Answer,
    Review,
    Other,
}

/// How text is cut into steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct StepRules {
    /// Cut at `<tag>` and `</tag>`.
    pub tags: bool,
    /// Cut before "Step N:" (and "Step N." / "**Step N**").
    pub step_markers: bool,
    /// Cut before list items ("- ", "* ", "1. ", "1) ").
    pub list_items: bool,
    /// Cut at blank lines.
    pub blank_lines: bool,
    /// Cut at every line break (one step per line, the usual shape of chain-of-thought text).
    pub line_breaks: bool,
    /// Paragraphs longer than this many characters are cut at sentence ends (0: never).
    pub long_paragraph_chars: usize,
    /// Tag name → kind; other tags give `Other`.
    pub tag_kinds: Vec<(String, StepKind)>,
    /// A step using one of these words (case-insensitive, whole words), or naming a time in
    /// seconds ("at 1.2 s", "3 seconds"), describes the audio: it is perception, outside tags
    /// and inside a reasoning tag alike (a chain of thought inside `<think>` is mostly
    /// reasoning, but its "I hear a dog at 2 s" lines are what CAFE checks).
    pub perception_cues: Vec<String>,
    /// …unless it opens with one of these phrases (case-insensitive): "So there are 4 sounds"
    /// draws a conclusion from what was heard.
    pub inference_openers: Vec<String>,
    /// Outside tags: a step with one of these phrases is the answer.
    pub answer_cues: Vec<String>,
}

impl Default for StepRules {
    fn default() -> Self {
        let kinds = [
            ("think", StepKind::Reasoning),
            ("reasoning", StepKind::Reasoning),
            ("perception", StepKind::Perception),
            ("caption", StepKind::Perception),
            ("answer", StepKind::Answer),
            ("review", StepKind::Review),
            ("summary", StepKind::Review),
        ];
        Self {
            tags: true,
            step_markers: true,
            list_items: true,
            blank_lines: true,
            line_breaks: true,
            long_paragraph_chars: 300,
            tag_kinds: kinds.iter().map(|(t, k)| (t.to_string(), *k)).collect(),
            perception_cues: [
                "hear",
                "heard",
                "hears",
                "hearing",
                "audio",
                "sound",
                "sounds",
                "clip",
                "listen",
                "listening",
                "noise",
                "tone",
                "tones",
                "voice",
                "speech",
                "music",
                "silence",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            inference_openers: [
                "so",
                "therefore",
                "thus",
                "hence",
                "overall",
                "in total",
                "altogether",
                "that is all",
                "this means",
                "which means",
                "because",
                "since",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            answer_cues: ["<answer>", "the answer is", "final answer", "answer:"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

/// One step: a token range and the text those tokens decode to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Step {
    pub index: usize,
    /// Generated-token range `[start, end)`.
    pub tokens: [usize; 2],
    /// Byte range `[start, end)` of the generated text.
    pub chars: [usize; 2],
    pub kind: StepKind,
    /// The step's text, trimmed of surrounding whitespace.
    pub text: String,
}

/// Where each piece starts in the pieces' concatenation (a trace's `generation.piece_offsets`).
pub fn piece_offsets(pieces: &[String]) -> Vec<usize> {
    pieces
        .iter()
        .scan(0, |end, piece| {
            let start = *end;
            *end += piece.len();
            Some(start)
        })
        .collect()
}

/// Splits a generation into steps. `pieces[k]` is the text token `k` adds; their concatenation
/// is the generated text.
pub fn split_steps(pieces: &[String], rules: &StepRules) -> Vec<Step> {
    let text: String = pieces.concat();
    // Token k covers text[starts[k]..starts[k + 1]].
    let mut starts = Vec::with_capacity(pieces.len() + 1);
    let mut offset = 0;
    for piece in pieces {
        starts.push(offset);
        offset += piece.len();
    }
    starts.push(offset);

    let segments = segment_text(&text, rules);
    // Each cut moves to the start of the first token that ends after it.
    let mut token_cuts: Vec<usize> = segments
        .iter()
        .skip(1)
        .map(|segment| token_at(&starts, segment.start))
        .collect();
    token_cuts.insert(0, 0);
    token_cuts.push(pieces.len());

    let mut steps = Vec::new();
    for (i, window) in token_cuts.windows(2).enumerate() {
        let (first, end) = (window[0], window[1]);
        if end <= first {
            continue;
        }
        let (byte_start, byte_end) = (starts[first], starts[end]);
        let step_text = text[byte_start..byte_end].trim();
        if step_text.is_empty() {
            continue;
        }
        let enclosing = segments[i.min(segments.len() - 1)].tag.clone();
        steps.push(Step {
            index: steps.len(),
            tokens: [first, end],
            chars: [byte_start, byte_end],
            kind: kind_of(step_text, enclosing.as_deref(), rules),
            text: step_text.to_owned(),
        });
    }
    steps
}

/// The token a cut at byte `at` goes before: the one holding that byte, moved back over empty
/// pieces just before it (they are the first bytes of the same multi-byte character).
fn token_at(starts: &[usize], at: usize) -> usize {
    let tokens = starts.len() - 1;
    let mut k = (0..tokens).find(|&k| starts[k + 1] > at).unwrap_or(tokens);
    while k > 0 && starts[k - 1] == starts[k] {
        k -= 1;
    }
    k
}

/// A piece of text between two cuts, and the innermost tag around it.
#[derive(Debug, Clone, PartialEq)]
struct Segment {
    start: usize,
    tag: Option<String>,
}

fn segment_text(text: &str, rules: &StepRules) -> Vec<Segment> {
    // Cuts with the tag in force after each.
    let mut cuts: Vec<(usize, Option<String>)> = vec![(0, None)];
    let mut open: Vec<String> = Vec::new();
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .filter(|&i| i < text.len())
        .collect();

    if rules.tags {
        let mut search = 0;
        while let Some(found) = text[search..].find('<') {
            let at = search + found;
            let Some(close) = text[at..].find('>') else {
                break;
            };
            let inner = &text[at + 1..at + close];
            let end = at + close + 1;
            search = end;
            let (closing, name) = match inner.strip_prefix('/') {
                Some(name) => (true, name),
                None => (false, inner),
            };
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                continue;
            }
            if closing {
                if let Some(position) = open.iter().rposition(|t| t == name) {
                    open.truncate(position);
                }
                cuts.push((end, open.last().cloned()));
            } else {
                open.push(name.to_owned());
                cuts.push((at, Some(name.to_owned())));
            }
        }
    }
    // The tag in force at a position: that of the last tag cut at or before it (tag cuts are
    // in text order).
    let tag_cuts = cuts.clone();
    let tag_at = |at: usize| -> Option<String> {
        tag_cuts
            .iter()
            .rev()
            .find(|(c, _)| *c <= at)
            .and_then(|(_, t)| t.clone())
    };
    let mut extra: Vec<usize> = Vec::new();
    for &line in &line_starts {
        let rest = &text[line..];
        let trimmed = rest.trim_start_matches([' ', '\t']);
        let indent = rest.len() - trimmed.len();
        let marked = rules.step_markers && is_step_marker(trimmed)
            || rules.list_items && is_list_item(trimmed);
        if marked || rules.line_breaks && line > 0 {
            extra.push(line + indent);
        }
    }
    if rules.blank_lines {
        let mut search = 0;
        while let Some(found) = text[search..].find("\n\n") {
            let at = search + found;
            let after = at + text[at..].len() - text[at..].trim_start().len();
            extra.push(after);
            search = at + 2;
        }
    }
    // Inline "Step N:" that does not start a line.
    if rules.step_markers {
        // "step " is ASCII, so matching it byte by byte, ignoring ASCII case, on the text itself
        // finds only character boundaries (lower-casing first would shift offsets: `ẞ` and `İ`
        // change length).
        let bytes = text.as_bytes();
        for at in 1..bytes.len().saturating_sub(4) {
            if bytes[at..at + 5].eq_ignore_ascii_case(b"step ")
                && is_step_marker(&text[at..])
                && !line_starts.contains(&at)
            {
                extra.push(at);
            }
        }
    }
    for at in extra {
        let tag = tag_at(at);
        cuts.push((at, tag));
    }
    sort_cuts(&mut cuts);

    // Long paragraphs: cut at sentence ends.
    if rules.long_paragraph_chars > 0 {
        let mut more = Vec::new();
        for (i, (start, tag)) in cuts.iter().enumerate() {
            let end = cuts.get(i + 1).map_or(text.len(), |c| c.0);
            if text[*start..end].chars().count() > rules.long_paragraph_chars {
                for at in sentence_ends(&text[*start..end]) {
                    more.push((start + at, tag.clone()));
                }
            }
        }
        cuts.extend(more);
        sort_cuts(&mut cuts);
    }
    cuts.into_iter()
        .map(|(start, tag)| Segment { start, tag })
        .collect()
}

/// Orders cuts by position; of cuts at one position the last made wins (a tag opening at the
/// very start replaces the initial untagged cut).
fn sort_cuts(cuts: &mut Vec<(usize, Option<String>)>) {
    cuts.sort_by_key(|(at, _)| *at);
    cuts.reverse();
    cuts.dedup_by_key(|(at, _)| *at);
    cuts.reverse();
}

/// "Step 3:", "step 3.", "**Step 3**", "Step 3 -".
fn is_step_marker(line: &str) -> bool {
    let line = line.trim_start_matches(['*', '#', ' ']);
    let Some(rest) = line
        .get(..5)
        .filter(|p| p.eq_ignore_ascii_case("step "))
        .map(|_| &line[5..])
    else {
        return false;
    };
    let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
    digits > 0 && rest[digits..].starts_with([':', '.', '*', ' ', ')', '-'])
}

/// "- item", "* item", "• item", "1. item", "2) item".
fn is_list_item(line: &str) -> bool {
    if line.starts_with("- ") || line.starts_with("* ") || line.starts_with("• ") {
        return true;
    }
    let digits = line.chars().take_while(|c| c.is_ascii_digit()).count();
    digits > 0
        && digits < 4
        && (line[digits..].starts_with(". ") || line[digits..].starts_with(") "))
}

/// Byte offsets just after sentence ends: `.`, `!`, `?` then whitespace, or a CJK full stop.
fn sentence_ends(paragraph: &str) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut chars = paragraph.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        let end = i + c.len_utf8();
        let cut = match c {
            '。' | '！' | '？' => true,
            '.' | '!' | '?' => next.is_some_and(char::is_whitespace),
            _ => false,
        };
        if cut && end < paragraph.trim_end().len() {
            // Start the next sentence after the whitespace.
            let rest = &paragraph[end..];
            ends.push(end + rest.len() - rest.trim_start().len());
        }
    }
    ends
}

fn kind_of(text: &str, tag: Option<&str>, rules: &StepRules) -> StepKind {
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

    /// Lower-casing `ẞ` shortens it and `İ` lengthens it: offsets found in a lower-cased copy
    /// cut inside a character of the original (this panicked).
    #[test]
    fn inline_markers_after_characters_that_change_length_when_lower_cased() {
        for text in ["ẞéstep 1: İ", "İ step 2: ẞ", "ẞ Step 3: x", "aİstep 1. b"] {
            let steps = split_steps(&pieces(text), &StepRules::default());
            let joined: String = steps
                .iter()
                .map(|s| &text[s.chars[0]..s.chars[1]])
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
            assert_eq!(from_tokens, text[step.chars[0]..step.chars[1]]);
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
    fn seconds_are_named_as_numbers_with_a_unit() {
        let said = |text: &str| names_seconds(&text.split(' ').collect::<Vec<_>>());
        assert!(said("at 0.4 s"));
        assert!(said("for 3 seconds"));
        assert!(said("near 2s"));
        assert!(!said("the s sound"));
        assert!(!said("option 2"));
        assert!(!said("s"));
    }

    #[test]
    fn free_prose_lists_and_blank_lines() {
        let text = "First I listen to the clip.\n\nThe options are:\n- a dog\n- a cat\n\nThe answer is a dog.";
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
}
