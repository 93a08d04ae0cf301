//! The Python package's ports of `split_steps` (`python/auscult/steps.py`) and `TextStream`
//! (`python/auscult/text.py`) are held to tables this crate writes: `python/tests/data/
//! steps_cases.json` (pieces, optional rule overrides, and the steps `split_steps` gives) and
//! `python/tests/data/text_stream_cases.json` (ids and the pieces `TextStream` gives with the
//! tiny_a fixture's tokenizer). pytest requires the ports to give exactly these; this test
//! requires the tables to be what the crate gives now.
//!
//! The inputs: every text of `tests/steps.rs` and `src/trace/steps/tests.rs`, cut into pieces by
//! tiny_a's tokenizer through `TextStream` (CJK and other multi-byte characters span several
//! tokens, the first ones empty) and into words as the unit tests cut them; the example traces'
//! pieces; rule overrides; edge cases; and 200 texts drawn by a seeded generator from fragments
//! (tags, markers, numbers, cue words, line breaks, sentence ends, characters whose case
//! mapping changes their length, Devanagari, U+001C, U+3000).
//!
//! Regenerate with `UPDATE_PYTHON_STEPS=1 cargo test --test all python_steps::`, then run it
//! again without the variable.

use crate::common;

use auscult::model::{AudioTokenRate, Processor, TextStream};
use auscult::trace::{split_steps, Step, StepRules};
use common::{repo_path, update_mode};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

const UPDATE: &str = "UPDATE_PYTHON_STEPS";
const STEPS_TABLE: &str = "python/tests/data/steps_cases.json";
const TEXT_STREAM_TABLE: &str = "python/tests/data/text_stream_cases.json";
const TOKENIZER: &str = "tests/fixtures/qwen2_audio/tiny_a/tokenizer.json";
const RANDOM_TEXTS: usize = 200;
const RANDOM_ID_RUNS: usize = 40;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct StepsTable {
    about: String,
    cases: Vec<StepsCase>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct StepsCase {
    name: String,
    pieces: Vec<String>,
    /// Fields over `StepRules::default()`, as a rules file gives them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rules: Option<Value>,
    expected: Vec<Step>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct TextStreamTable {
    about: String,
    tokenizer: String,
    cases: Vec<TextStreamCase>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct TextStreamCase {
    name: String,
    ids: Vec<u32>,
    /// What the processor decodes the ids to, special tokens left out.
    text: String,
    /// One per id: `TextStream::push`, `finish()`'s tail joined to the last.
    pieces: Vec<String>,
}

// --- the texts of the Rust tests --------------------------------------------------------------

/// `tests/steps.rs`'s texts.
fn integration_test_texts() -> Vec<(&'static str, String)> {
    vec![
        (
            "tagged perception then reasoning",
            "<perception>At 0.5 s there is a rising chirp.\nAt 2.1 s a noise burst follows.</perception>\n\
             <think>The chirp rises, so the pitch goes up.</think>\n<answer>Rising</answer>"
                .to_owned(),
        ),
        (
            "numbered steps",
            "Step 1: I hear two tones.\nStep 2: The second tone is higher than the first.\nStep 3: So the pitch is rising.\nThe answer is A."
                .to_owned(),
        ),
        (
            "free prose with a list",
            "Let me listen to the audio carefully.\n\nThe options are:\n1. a dog\n2. a cat\n\nThe sound is a bark, so the answer is a dog."
                .to_owned(),
        ),
        (
            "mixed languages",
            "I hear a tone.\n\n音频中有一个上升的音调。然后是一段噪声。\n\nThe answer is Rising.".to_owned(),
        ),
        (
            "a long paragraph",
            "The tone stays at the same pitch and the same loudness for a while. ".repeat(6)
                + "Therefore the pitch is steady.",
        ),
    ]
}

/// `src/trace/steps/tests.rs`'s texts.
fn unit_test_texts() -> Vec<(&'static str, String)> {
    let mut texts: Vec<(&'static str, String)> = [
        "ẞéstep 1: İ",
        "İ step 2: ẞ",
        "ẞ Step 3: x",
        "aİstep 1. b",
        "İntro ẞ then Step 2: more",
    ]
    .into_iter()
    .map(|text| {
        (
            "inline marker after a length-changing character",
            text.to_owned(),
        )
    })
    .collect();
    texts.extend([
        (
            "tagged reasoning",
            "<think>I hear a rising chirp at the start. Then a noise burst.</think>\n<answer>B</answer>".to_owned(),
        ),
        (
            "numbered steps inside think",
            "<think>Step 1: The audio has two tones.\nStep 2: The second is higher.\nStep 3: So the pitch rises.</think><answer>Rising</answer>".to_owned(),
        ),
        (
            "perception lines inside think",
            "<think>I listen to the clip from start to end.\nSound 1 at 0.4 s: a soft rising chirp lasting 0.4 s.\nA bird chirps at 2s.\nThe second is higher.\nThat is all: 2 sounds.\nSo there are 2 sounds.</think>\n<answer>2</answer>".to_owned(),
        ),
        (
            "free prose, lists and blank lines",
            "First I listen to the clip.\n\nThe options are:\n- a dog\n- a cat\n\nThe answer is a dog.".to_owned(),
        ),
        (
            "long paragraphs split at sentences, CJK included",
            "The tone is steady and loud for a while. ".repeat(10) + "音频中有一个上升的音调。然后是噪声。",
        ),
        ("rules can turn cuts off", "Step 1: a.\nStep 2: b.".to_owned()),
    ]);
    texts
}

/// Pieces as `src/trace/steps/tests.rs` cuts them: words with their leading space.
fn word_pieces(text: &str) -> Vec<String> {
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

/// A text with every kind of cut and kind, for the rule overrides.
const RICH_TEXT: &str =
    "<think>Step 1: I hear a dog at 1.5 s.\nStep 2: So the sound is a bark. It repeats! \
    Then silence?\n\n- first item\n1. second\n</think>\n<answer>The answer is A.</answer>\n\
    Final words. More words. 音频。然后！";

fn rule_overrides() -> Vec<Value> {
    vec![
        json!({"tags": false}),
        json!({"step_markers": false}),
        json!({"list_items": false}),
        json!({"blank_lines": false}),
        json!({"line_breaks": false}),
        json!({"long_paragraph_chars": 0}),
        json!({"long_paragraph_chars": 10}),
        json!({"tag_kinds": [["THINK", "answer"], ["answer", "review"]]}),
        json!({"tag_kinds": []}),
        json!({"perception_cues": ["BARK"]}),
        json!({"perception_cues": []}),
        json!({"inference_openers": []}),
        json!({"inference_openers": ["the"]}),
        json!({"answer_cues": ["FINAL"]}),
        json!({"answer_cues": []}),
        json!({"tags": false, "step_markers": false, "list_items": false, "blank_lines": false,
               "line_breaks": false, "long_paragraph_chars": 0}),
        // serde reads a struct from an array too: the first fields in declaration order.
        json!([false, true, true, true, false, 12]),
    ]
}

/// Edge cases: pieces as given, with the rules' overrides if any.
fn edge_cases() -> Vec<(&'static str, Vec<&'static str>, Option<Value>)> {
    let short = || Some(json!({"long_paragraph_chars": 5}));
    vec![
        ("no pieces", vec![], None),
        ("one empty piece", vec![""], None),
        ("empty pieces only", vec!["", "", ""], None),
        ("a space", vec![" "], None),
        ("line breaks only", vec!["\n\n\n"], None),
        (
            "whitespace of all kinds",
            vec![" \t\n ", "\u{3000}", "\u{85}\u{a0}"],
            None,
        ),
        ("U+001C alone", vec!["\u{1c}"], None),
        (
            "U+001C between words",
            vec!["a\u{1c}b", "\n", "\u{1c}\u{1c}"],
            None,
        ),
        (
            "U+001C after a full stop",
            vec!["One thing.\u{1c}Two things. Three."],
            short(),
        ),
        ("U+3000 alone", vec!["\u{3000}"], None),
        (
            "U+3000 after a full stop",
            vec!["One thing.\u{3000}Two things."],
            short(),
        ),
        ("sharp s", vec!["ẞ"], None),
        ("dotted capital I", vec!["İ"], None),
        (
            "dotted capital I before a cue",
            vec!["İ", " HEAR", " it"],
            None,
        ),
        ("Greek capital sigma", vec!["ΑΣ", " sound"], None),
        ("Devanagari", vec!["ध्वनि", " सुनाई", " देती", " है"], None),
        (
            "a Devanagari vowel sign glued to a cue word",
            vec!["I", " heardि", " it"],
            None,
        ),
        (
            "a Devanagari digit before seconds",
            vec!["at", " १", " s"],
            None,
        ),
        (
            "U+001C splits a cue word off",
            vec!["I heard\u{1c}it"],
            None,
        ),
        ("CJK sentence ends", vec!["。！？"], None),
        (
            "CJK sentence ends in a long paragraph",
            vec!["a。b！c？d"],
            short(),
        ),
        (
            "Latin sentence ends without a space",
            vec!["a.b!c?d. e"],
            short(),
        ),
        ("bullets", vec!["• item\n• two\n•three"], None),
        ("nested tags", vec!["<a><b>x</a>y"], None),
        (
            "a tag split over pieces",
            vec!["<", "think", ">", "I hear", "</", "think>"],
            None,
        ),
        ("an unclosed tag", vec!["<think", " no"], None),
        ("not tags", vec!["< >x <a b>y <> </> <é>z"], None),
        ("a closing tag never opened", vec!["</think>x\ny"], None),
        (
            "the same tag twice",
            vec!["<think><think>x</think>y\n</think>z"],
            None,
        ),
        ("an answer tag", vec!["<answer>A</answer>"], None),
        ("a marker filling the text", vec!["Step 1:"], None),
        ("a marker without its end", vec!["Step 1"], None),
        ("a marker without digits", vec!["Step :", " x"], None),
        (
            "inline markers",
            vec!["a step 1: x", "step 2: y", " **Step 3** z"],
            None,
        ),
        (
            "marker styles",
            vec!["**Step 2** x\n## step 3 - y\nStep 10) z\n  \tStep 4: w"],
            None,
        ),
        (
            "marker styles, no line-break cuts",
            vec!["a\n**Step 2** x\n## step 3 - y\nb Step 10) z\n  \tStep 4: w\n#Step 5.v"],
            Some(json!({"line_breaks": false})),
        ),
        (
            "list numbers",
            vec!["1) a\n22. b\n333) c\n4444. d\n-x\n- y"],
            None,
        ),
        (
            "list items, no line-break cuts",
            vec!["a\n1) a\n22. b\n333) c\n4444. d\n-x\n- y\n* z\n• w\n\t- v\n1.x"],
            Some(json!({"line_breaks": false})),
        ),
        (
            "blank lines, no line-break cuts",
            vec!["a\n \n b\n\n\n c\n\t\n\u{3000}d\n\n"],
            Some(json!({"line_breaks": false})),
        ),
        (
            "numbers Rust parses",
            vec!["inf s\n", "nan seconds\n", "1e3s\n", ".5 s\n", "3.s"],
            None,
        ),
        (
            "numbers Rust does not parse",
            vec!["1.5.2 s\n", "1e s\n", "e3 s\n", "0x1 s"],
            None,
        ),
        (
            "a marker and a number before a conclusion",
            vec!["Step 1: So I hear a dog"],
            None,
        ),
        (
            "a tag name before a conclusion",
            vec!["<think>So I hear</think>"],
            None,
        ),
        (
            "a stop token's empty piece",
            vec!["I hear a dog.", "\n", "The answer is A.", ""],
            None,
        ),
        (
            "empty pieces before a cut",
            vec!["x.", "\n\n", "", "", "音", "", "", "频"],
            None,
        ),
        (
            "empty pieces at the start",
            vec!["", "", "音", "\n", "b"],
            None,
        ),
        (
            "answer cue İ",
            vec!["İt is", "\nit is"],
            Some(json!({"answer_cues": ["İ"]})),
        ),
        (
            "cue words in other cases",
            vec!["ẞ is loud\n", "I see a CHİRP"],
            Some(json!({"perception_cues": ["ß", "chi̇rp"]})),
        ),
    ]
}

// --- the seeded generator ---------------------------------------------------------------------

/// SplitMix64: a fixed sequence for a seed, whatever crate versions the build uses.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const FRAGMENTS: &[&str] = &[
    "<think>",
    "</think>",
    "<answer>",
    "</answer>",
    "<perception>",
    "</perception>",
    "<review>",
    "</review>",
    "<Caption>",
    "<x-y_1>",
    "</nope>",
    "<bad tag>",
    "<",
    ">",
    "</>",
    "Step 1: ",
    "step 2. ",
    "**Step 3** ",
    "## Step 4 - ",
    "STEP 12) ",
    "Step x: ",
    "Step",
    "1. ",
    "2) ",
    "1234. ",
    "- ",
    "* ",
    "• ",
    "\n",
    "\n",
    "\n\n",
    "\n \n",
    "  ",
    "\t",
    " ",
    " ",
    ".",
    "!",
    "?",
    ". ",
    "。",
    "！",
    "？",
    "I hear a dog",
    "I listen",
    " at 1.5 s",
    " 2s",
    " 3 seconds",
    " .5 sec",
    " nan s",
    " inf seconds",
    " 1e3s",
    "So ",
    "Therefore ",
    "That is all",
    "because ",
    "the answer is B",
    "Answer: ",
    "Final answer",
    " sound",
    " Voice",
    " music",
    "ẞ",
    "İ",
    "ΑΣ",
    "ध्वनि",
    "ि",
    "\u{1c}",
    "\u{3000}",
    "\u{85}",
    "\u{a0}",
    "音频",
    "声音",
    "🎵",
    "0.4",
    "The tone rises",
    " a",
    " the",
    "x",
];

fn random_text(rng: &mut SplitMix64) -> String {
    let fragments = 1 + rng.below(40);
    (0..fragments)
        .map(|_| FRAGMENTS[rng.below(FRAGMENTS.len())])
        .collect()
}

/// Pieces as a byte-level tokenizer might give them: a few characters each, and a multi-byte
/// character now and then after empty pieces (its first bytes' tokens), sometimes a stop
/// token's empty piece at the end.
fn random_pieces(text: &str, rng: &mut SplitMix64) -> Vec<String> {
    let mut pieces: Vec<String> = Vec::new();
    for c in text.chars() {
        if c.len_utf8() > 1 && rng.below(2) == 0 {
            pieces.extend((1..c.len_utf8()).map(|_| String::new()));
            pieces.push(c.to_string());
        } else if pieces.is_empty() || rng.below(3) == 0 {
            pieces.push(c.to_string());
        } else {
            pieces.last_mut().unwrap().push(c);
        }
    }
    if rng.below(4) == 0 {
        pieces.push(String::new());
    }
    pieces
}

fn random_rules(index: usize, rng: &mut SplitMix64) -> Option<Value> {
    const TOGGLES: [&str; 5] = [
        "tags",
        "step_markers",
        "list_items",
        "blank_lines",
        "line_breaks",
    ];
    if index.is_multiple_of(5) {
        Some(json!({"long_paragraph_chars": 5 + rng.below(40)}))
    } else if index % 7 == 3 {
        let toggle = TOGGLES[rng.below(TOGGLES.len())];
        Some(json!({ toggle: false }))
    } else if index % 11 == 6 {
        Some(json!({"line_breaks": false, "long_paragraph_chars": rng.below(30)}))
    } else {
        None
    }
}

// --- building the tables ----------------------------------------------------------------------

/// The processor of the checkpoint whose tokenizer is `TOKENIZER`.
fn tiny_a() -> Processor {
    let dir = repo_path(TOKENIZER).parent().unwrap().to_owned();
    Processor::load(&dir, 483, AudioTokenRate::Pooled).unwrap()
}

fn ids_of(processor: &Processor, text: &str) -> Vec<u32> {
    processor
        .tokenizer()
        .encode(text, false)
        .unwrap()
        .get_ids()
        .to_vec()
}

/// What the runner records for `ids`: each id's piece, `finish()`'s tail on the last.
fn stream_pieces(processor: &Processor, ids: &[u32]) -> Vec<String> {
    let mut stream = TextStream::new(processor);
    let mut pieces: Vec<String> = ids.iter().map(|&id| stream.push(id).unwrap()).collect();
    let tail = stream.finish().unwrap();
    if let Some(last) = pieces.last_mut() {
        last.push_str(&tail);
    }
    pieces
}

fn token_pieces(processor: &Processor, text: &str) -> Vec<String> {
    stream_pieces(processor, &ids_of(processor, text))
}

fn rules_from(overrides: Option<&Value>) -> StepRules {
    overrides.map_or_else(StepRules::default, |value| {
        serde_json::from_value(value.clone()).expect("rule overrides are a valid rules file")
    })
}

fn case(name: String, pieces: Vec<String>, rules: Option<Value>) -> StepsCase {
    let expected = split_steps(&pieces, &rules_from(rules.as_ref()));
    StepsCase {
        name,
        pieces,
        rules,
        expected,
    }
}

/// Each example trace's pieces, from its text and piece offsets.
fn example_trace_pieces() -> Vec<(String, Vec<String>)> {
    let lines = std::fs::read_to_string(repo_path("assets/examples/traces.jsonl")).unwrap();
    lines
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let trace: Value = serde_json::from_str(line).unwrap();
            let generation = &trace["generation"];
            let text = generation["text"].as_str().unwrap();
            let offsets: Vec<usize> = generation["piece_offsets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o.as_u64().unwrap() as usize)
                .collect();
            let pieces = (0..offsets.len())
                .map(|k| {
                    let end = offsets.get(k + 1).copied().unwrap_or(text.len());
                    text[offsets[k]..end].to_owned()
                })
                .collect();
            (trace["id"].as_str().unwrap().to_owned(), pieces)
        })
        .collect()
}

fn steps_table(processor: &Processor) -> StepsTable {
    let mut cases = Vec::new();
    for (source, texts) in [
        ("tests/steps.rs", integration_test_texts()),
        ("src/trace/steps/tests.rs", unit_test_texts()),
    ] {
        for (name, text) in texts {
            let tokens = token_pieces(processor, &text);
            assert_eq!(tokens.concat(), text, "tiny_a's pieces rebuild {name:?}");
            cases.push(case(
                format!("{source}: {name}, tiny_a tokens"),
                tokens,
                None,
            ));
            cases.push(case(
                format!("{source}: {name}, words"),
                word_pieces(&text),
                None,
            ));
        }
    }
    let hand_split = ["I hear it.", "\n\n", "", "音", "频", "。"];
    cases.push(case(
        "src/trace/steps/tests.rs: a cut inside a multi-byte character's tokens".to_owned(),
        hand_split.iter().map(|p| p.to_string()).collect(),
        None,
    ));
    cases.push(case(
        "src/trace/steps/tests.rs: rules turn cuts off".to_owned(),
        word_pieces("Step 1: a.\nStep 2: b."),
        Some(json!({"step_markers": false, "line_breaks": false})),
    ));
    for (id, pieces) in example_trace_pieces() {
        cases.push(case(format!("example trace {id}"), pieces, None));
    }
    let rich = token_pieces(processor, RICH_TEXT);
    cases.push(case(
        "rich text, default rules".to_owned(),
        rich.clone(),
        None,
    ));
    for overrides in rule_overrides() {
        cases.push(case(
            format!("rich text, rules {overrides}"),
            rich.clone(),
            Some(overrides),
        ));
    }
    // Each edge case as given, and with a piece per character: cuts inside one piece collapse
    // to its token, so only the second shows every cut.
    for (name, pieces, rules) in edge_cases() {
        let characters: Vec<String> = pieces.concat().chars().map(String::from).collect();
        let pieces: Vec<String> = pieces.into_iter().map(str::to_owned).collect();
        if characters != pieces {
            cases.push(case(
                format!("edge: {name}, a piece per character"),
                characters,
                rules.clone(),
            ));
        }
        cases.push(case(format!("edge: {name}"), pieces, rules));
    }
    let mut rng = SplitMix64(20);
    for index in 0..RANDOM_TEXTS {
        let text = random_text(&mut rng);
        // Half cut by the real tokenizer, half by hand.
        let (how, pieces) = if index.is_multiple_of(2) {
            ("tiny_a tokens", token_pieces(processor, &text))
        } else {
            ("random pieces", random_pieces(&text, &mut rng))
        };
        let rules = random_rules(index, &mut rng);
        cases.push(case(format!("random {index}, {how}"), pieces, rules));
    }
    StepsTable {
        about: format!(
            "Written by tests/python_steps.rs ({UPDATE}=1): for each case, the steps the crate's \
             split_steps gives for the pieces, under StepRules::default() with `rules`' fields \
             in place of its own. python/tests/test_steps.py requires auscult.steps to give \
             exactly these."
        ),
        cases,
    }
}

fn text_stream_table(processor: &Processor) -> TextStreamTable {
    let mut runs: Vec<(String, Vec<u32>)> = Vec::new();
    for (name, text) in integration_test_texts()
        .into_iter()
        .chain(unit_test_texts())
    {
        runs.push((format!("encoded: {name}"), ids_of(processor, &text)));
    }
    for text in [
        "音频 🎵 ध्वनि ẞ İ ΑΣ",
        "\u{1c}\u{3000}。！？• \u{85}\u{a0}",
        RICH_TEXT,
    ] {
        runs.push((format!("encoded: {text:?}"), ids_of(processor, text)));
    }
    // A character's tokens cut short, at the end and before more text.
    let sound = ids_of(processor, "音频");
    let note = ids_of(processor, "🎵");
    runs.push((
        "a character cut short at the end".to_owned(),
        sound[..sound.len() - 1].to_vec(),
    ));
    runs.push((
        "a character cut short before ASCII".to_owned(),
        [&note[..1], &ids_of(processor, "ok")[..]].concat(),
    ));
    runs.push((
        "a character's tokens around special tokens".to_owned(),
        [&[483, note[0]][..], &[482], &note[1..], &[480]].concat(),
    ));
    runs.push((
        "special tokens only".to_owned(),
        vec![484, 483, 483, 485, 482],
    ));
    runs.push(("no ids".to_owned(), vec![]));
    let vocabulary = processor.tokenizer().get_vocab_size(true) as u64;
    let mut rng = SplitMix64(21);
    for index in 0..RANDOM_ID_RUNS {
        let length = 1 + rng.below(30);
        let ids = (0..length)
            .map(|_| (rng.next() % vocabulary) as u32)
            .collect();
        runs.push((format!("random ids {index}"), ids));
    }
    let cases = runs
        .into_iter()
        .map(|(name, ids)| TextStreamCase {
            text: processor.decode(&ids).unwrap(),
            pieces: stream_pieces(processor, &ids),
            name,
            ids,
        })
        .collect();
    TextStreamTable {
        about: format!(
            "Written by tests/python_steps.rs ({UPDATE}=1): for each case, what the crate's \
             Processor decodes the ids to and the pieces its TextStream gives (one per id, \
             finish()'s tail on the last), with this tokenizer. python/tests/test_text.py \
             requires auscult.text to give exactly these."
        ),
        tokenizer: TOKENIZER.to_owned(),
        cases,
    }
}

/// A table as JSON with one case a line: `fields` first, then `"cases"`; diffs show which
/// cases changed, and the file stays a few hundred kilobytes.
fn one_case_a_line<T: Serialize>(fields: &[(&str, &str)], cases: &[T]) -> String {
    let mut json = String::from("{\n");
    for (name, value) in fields {
        let value = serde_json::to_string(value).unwrap();
        json += &format!("  \"{name}\": {value},\n");
    }
    let cases: Vec<String> = cases
        .iter()
        .map(|case| format!("    {}", serde_json::to_string(case).unwrap()))
        .collect();
    json + "  \"cases\": [\n" + &cases.join(",\n") + "\n  ]\n}\n"
}

fn steps_json(table: &StepsTable) -> String {
    one_case_a_line(&[("about", &table.about)], &table.cases)
}

fn text_stream_json(table: &TextStreamTable) -> String {
    one_case_a_line(
        &[("about", &table.about), ("tokenizer", &table.tokenizer)],
        &table.cases,
    )
}

fn read_committed(path: &str) -> String {
    std::fs::read_to_string(repo_path(path)).unwrap_or_else(|e| {
        panic!("{path} cannot be read ({e}): run {UPDATE}=1 cargo test --test all python_steps::")
    })
}

#[test]
fn the_python_steps_table_holds_the_steps_the_crate_gives() {
    let generated = steps_json(&steps_table(&tiny_a()));
    if update_mode::requested(UPDATE) {
        std::fs::write(repo_path(STEPS_TABLE), &generated).unwrap();
        update_mode::rewrote(UPDATE, STEPS_TABLE);
    }
    let committed = read_committed(STEPS_TABLE);
    let table: StepsTable = serde_json::from_str(&committed).unwrap();
    assert!(
        table.cases.len() > RANDOM_TEXTS,
        "{} cases",
        table.cases.len()
    );
    // The steps of the committed inputs, case by case, then the inputs themselves.
    for case in &table.cases {
        let steps = split_steps(&case.pieces, &rules_from(case.rules.as_ref()));
        assert_eq!(
            steps, case.expected,
            "{STEPS_TABLE}, case {:?}: the crate now gives other steps; run {UPDATE}=1 cargo \
             test --test all python_steps::, then again without it, and port the change to \
             python/auscult/steps.py",
            case.name
        );
    }
    assert!(
        committed == generated,
        "{STEPS_TABLE}'s inputs are not the ones this test makes (a text, tokenizer or \
         generator changed): run {UPDATE}=1 cargo test --test all python_steps::, then again \
         without it"
    );
}

#[test]
fn the_python_text_stream_table_holds_the_pieces_the_crate_gives() {
    let processor = tiny_a();
    let generated = text_stream_json(&text_stream_table(&processor));
    if update_mode::requested(UPDATE) {
        std::fs::write(repo_path(TEXT_STREAM_TABLE), &generated).unwrap();
        update_mode::rewrote(UPDATE, TEXT_STREAM_TABLE);
    }
    let committed = read_committed(TEXT_STREAM_TABLE);
    let table: TextStreamTable = serde_json::from_str(&committed).unwrap();
    for case in &table.cases {
        assert_eq!(
            (
                processor.decode(&case.ids).unwrap(),
                stream_pieces(&processor, &case.ids)
            ),
            (case.text.clone(), case.pieces.clone()),
            "{TEXT_STREAM_TABLE}, case {:?}: the crate now decodes or streams these ids \
             otherwise; run {UPDATE}=1 cargo test --test all python_steps::, then again without \
             it, and port the change to python/auscult/text.py",
            case.name
        );
    }
    // The table tests what it is meant to: characters split over tokens, held back.
    let held_back = table
        .cases
        .iter()
        .flat_map(|c| c.pieces.iter().zip(&c.ids))
        .filter(|(piece, _)| piece.is_empty())
        .count();
    assert!(held_back > 100, "{held_back} empty pieces");
    assert!(
        committed == generated,
        "{TEXT_STREAM_TABLE}'s ids are not the ones this test makes (a text, tokenizer or \
         generator changed): run {UPDATE}=1 cargo test --test all python_steps::, then again \
         without it"
    );
}
