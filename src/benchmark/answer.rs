//! Final answers: extracted from the generated text and scored with the official MMAU/MMAR
//! matcher (their evaluation scripts' `string_match`), quirks included, so accuracies are
//! comparable with published numbers.
//!
//! The matcher, as the official scripts write it:
//! ```python
//! def tokenize(text): return set(re.findall(r'\b\w+\b', text.lower()))
//! incorrect_tokens = union over choices whose tokens differ from the answer's of (tokenize(choice) - answer_tokens)
//! correct = answer_tokens.issubset(prediction_tokens) and prediction_tokens.isdisjoint(incorrect_tokens)
//! ```

use std::collections::BTreeSet;

use crate::trace::{AnswerRecord, BenchmarkRecord};

/// The answer of `text` to benchmark item `item`, extracted and scored.
pub fn score(text: &str, item: &BenchmarkRecord) -> AnswerRecord {
    let extracted = extract_answer(text);
    AnswerRecord {
        correct: is_correct(&extracted, &item.answer, &item.choices),
        extracted,
    }
}

/// The final answer of a generation: the text of the last `<answer>…</answer>` (across lines;
/// an unclosed last `<answer>` runs to the end), else the last non-empty line. Trimmed.
pub fn extract_answer(text: &str) -> String {
    const OPEN: &str = "<answer>";
    const CLOSE: &str = "</answer>";
    if let Some(open) = text.rfind(OPEN) {
        let inside = &text[open + OPEN.len()..];
        let inside = match inside.find(CLOSE) {
            Some(close) => &inside[..close],
            None => inside,
        };
        return inside.trim().to_owned();
    }
    text.lines()
        .rev()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or_default()
        .to_owned()
}

/// Python's `set(re.findall(r'\b\w+\b', text.lower()))`: the lowercased runs of word characters
/// (letters, digits, underscore).
pub fn answer_tokens(text: &str) -> BTreeSet<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|word| !word.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The official verdict for `prediction` (an extracted final answer, never the reasoning).
/// An empty prediction is wrong.
pub fn is_correct(prediction: &str, answer: &str, choices: &[String]) -> bool {
    let prediction_tokens = answer_tokens(prediction);
    if prediction_tokens.is_empty() {
        return false;
    }
    let answer_set = answer_tokens(answer);
    let incorrect: BTreeSet<String> = choices
        .iter()
        .map(|choice| answer_tokens(choice))
        .filter(|tokens| *tokens != answer_set)
        .flat_map(|tokens| tokens.into_iter())
        .filter(|token| !answer_set.contains(token))
        .collect();
    answer_set.is_subset(&prediction_tokens) && prediction_tokens.is_disjoint(&incorrect)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choices(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn extraction() {
        assert_eq!(
            extract_answer("<think>hmm</think>\n<answer>\n Man \n</answer>"),
            "Man"
        );
        assert_eq!(
            extract_answer("I will write <answer> </answer>.\n<answer>Dog</answer>"),
            "Dog"
        );
        assert_eq!(extract_answer("reasoning...\n<answer>Rising"), "Rising");
        assert_eq!(
            extract_answer("It is a dog.\nThe answer is B.\n\n"),
            "The answer is B."
        );
        assert_eq!(extract_answer(""), "");
    }

    #[test]
    fn tokenizer_is_pythons() {
        let tokens: Vec<String> = answer_tokens("A man's voice, (Speech_2)!")
            .into_iter()
            .collect();
        assert_eq!(tokens, vec!["a", "man", "s", "speech_2", "voice"]);
        assert_eq!(
            answer_tokens("Über café").into_iter().collect::<Vec<_>>(),
            vec!["café", "über"]
        );
    }

    /// Verdicts of the official script on the benchmark notes' example and on its quirks.
    #[test]
    fn official_verdicts() {
        let speaker = choices(&["Man", "Woman", "Child", "Robot"]);
        assert!(is_correct("Man", "Man", &speaker));
        assert!(is_correct("The speaker is a man.", "Man", &speaker));
        assert!(!is_correct("Woman", "Man", &speaker));
        // "man" is in the answer, "woman" is a wrong choice's word: mentioning both fails.
        assert!(!is_correct("A man, not a woman", "Man", &speaker));
        assert!(!is_correct("", "Man", &speaker));
        assert!(!is_correct("...", "Man", &speaker));

        // A wrong choice whose words are all in the answer adds nothing to the incorrect set.
        let barking = choices(&["Dog", "Dog barking", "Cat"]);
        assert!(is_correct("dog barking", "Dog barking", &barking));
        assert!(!is_correct("dog", "Dog barking", &barking));
        // ...and the shorter answer is failed by the longer choice's extra word.
        assert!(!is_correct("dog barking", "Dog", &barking));
        assert!(is_correct("a dog", "Dog", &barking));

        // Case and punctuation do not matter; any extra word of a wrong choice does.
        let pitch = choices(&["Rising pitch", "Falling pitch", "Constant pitch"]);
        assert!(is_correct("RISING-pitch.", "Rising pitch", &pitch));
        assert!(!is_correct("rising, then falling", "Rising pitch", &pitch));
        // Numbers are words too.
        let count = choices(&["2", "3", "4"]);
        assert!(is_correct("3 times", "3", &count));
        assert!(!is_correct("3 or 4", "3", &count));
        // An answer that shares every word with nothing else is matched by containment.
        let letters = choices(&["A", "B"]);
        assert!(is_correct("The answer is B", "B", &letters));
        // ...which is the known quirk: "a" in the sentence is option A's word.
        assert!(!is_correct("It is a B", "B", &letters));
    }
}
