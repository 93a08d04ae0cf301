//! The prompts the demo model answers, each with the assistant text it is trained to write: its
//! own phrasing ("… Choose one: a; b."), and the two R1-AQA benchmark prompts that `batch` sends
//! (`benchmark::prompt`): direct ("… Output the final answer in <answer> </answer>."), answered
//! with the answer alone, and reasoning ("Output the thinking process in <think> </think> …"),
//! answered with the same perception-then-reasoning chain as its own prompt.

use serde::{Deserialize, Serialize};

use super::question::Item;
use crate::benchmark::prompt::{benchmark_prompt, R1_AQA, R1_AQA_THINK};

/// A way of asking an item's question.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::EnumIter,
    strum::EnumMessage,
    strum::IntoStaticStr,
)]
pub enum PromptStyle {
    /// The demo's own phrasing, answered with reasoning.
    #[strum(serialize = "demo")]
    #[serde(rename = "demo")]
    Demo,
    /// R1-AQA's direct prompt (`--prompt-template r1-aqa`, `batch`'s default), answered with
    /// `<answer>…</answer>` alone.
    #[strum(serialize = "r1-aqa")]
    #[serde(rename = "r1-aqa")]
    R1Aqa,
    /// R1-AQA's reasoning prompt (`r1-aqa-think`), answered with `<think>…</think>` then the
    /// answer.
    #[strum(serialize = "r1-aqa-think")]
    #[serde(rename = "r1-aqa-think")]
    R1AqaThink,
}

impl PromptStyle {
    /// The user turn asking `item`'s question.
    pub fn user_prompt(self, item: &Item) -> String {
        let question = item.question.text();
        match self {
            PromptStyle::Demo => format!("{question} Choose one: {}.", item.choices.join("; ")),
            PromptStyle::R1Aqa => benchmark_prompt(R1_AQA, &question, &item.choices),
            PromptStyle::R1AqaThink => benchmark_prompt(R1_AQA_THINK, &question, &item.choices),
        }
    }

    /// What the assistant should write for `item` (without the end-of-turn token).
    pub fn target_text(self, item: &Item) -> String {
        match self {
            PromptStyle::R1Aqa => format!("<answer>{}</answer>", item.answer),
            PromptStyle::Demo | PromptStyle::R1AqaThink => item.target_text(),
        }
    }

    /// "direct" or "reasoning": how the prompt asks to be answered.
    pub fn answer_kind(self) -> &'static str {
        match self {
            PromptStyle::R1Aqa => "direct",
            PromptStyle::Demo | PromptStyle::R1AqaThink => "reasoning",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::benchmark::answer::{extract_answer, is_correct};

    #[test]
    fn each_prompt_asks_the_same_question_and_its_target_answers_it() {
        let item = Item::generate(11);
        let choices = crate::benchmark::prompt::python_list_repr(&item.choices);
        assert!(PromptStyle::Demo
            .user_prompt(&item)
            .ends_with(&format!("Choose one: {}.", item.choices.join("; "))));
        assert_eq!(
            PromptStyle::R1Aqa.user_prompt(&item),
            format!(
                "{} Please choose the answer from the following options: {choices}. Output the final answer in <answer> </answer>.",
                item.question.text()
            )
        );
        assert!(PromptStyle::R1AqaThink
            .user_prompt(&item)
            .contains("Output the thinking process in <think> </think>"));
        for style in [
            PromptStyle::Demo,
            PromptStyle::R1Aqa,
            PromptStyle::R1AqaThink,
        ] {
            let target = style.target_text(&item);
            assert!(
                is_correct(&extract_answer(&target), &item.answer, &item.choices),
                "{style}: {target}"
            );
            assert_eq!(style.to_string().parse::<PromptStyle>().unwrap(), style);
        }
        assert_eq!(
            PromptStyle::R1Aqa.target_text(&item),
            format!("<answer>{}</answer>", item.answer)
        );
        assert!(PromptStyle::R1AqaThink
            .target_text(&item)
            .starts_with("<think>"));
    }
}
