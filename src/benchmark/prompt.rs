//! Benchmark prompts: a question and its choices turned into the text of the user turn.
//!
//! The default is the R1-AQA style used by the Qwen2-Audio evaluations; users can give their own template with `{question}` and
//! `{choices}` placeholders.

/// R1-AQA: the question, the choices as a Python list, and where to put the answer.
pub const R1_AQA: &str = "{question} Please choose the answer from the following options: {choices}. Output the final answer in <answer> </answer>.";

/// R1-AQA's reasoning variant.
pub const R1_AQA_THINK: &str = "{question} Please choose the answer from the following options: {choices}. Output the thinking process in <think> </think> and final answer in <answer> </answer>.";

/// A named built-in template, or the text itself when the name is unknown.
pub fn template_by_name(name_or_text: &str) -> &str {
    match name_or_text {
        "r1-aqa" => R1_AQA,
        "r1-aqa-think" => R1_AQA_THINK,
        text => text,
    }
}

/// Fills `template`'s `{question}` and `{choices}` (a Python list repr, as the reference
/// scripts print it).
pub fn benchmark_prompt(template: &str, question: &str, choices: &[String]) -> String {
    template
        .replace("{choices}", &python_list_repr(choices))
        .replace("{question}", question)
}

/// `repr()` of a Python list of strings: `['Man', 'Woman']`.
pub fn python_list_repr(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| python_str_repr(s)).collect();
    format!("[{}]", quoted.join(", "))
}

/// `repr()` of a Python string: single quotes unless the text holds a single quote and no double
/// quote; backslashes, the chosen quote and control characters escaped.
pub fn python_str_repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_print_as_python_does() {
        let choices = vec!["Man".to_owned(), "Woman".to_owned()];
        assert_eq!(python_list_repr(&choices), "['Man', 'Woman']");
        assert_eq!(python_str_repr("it's"), "\"it's\"");
        assert_eq!(python_str_repr("say \"hi\" it's"), "'say \"hi\" it\\'s'");
        assert_eq!(python_str_repr("a\\b\n"), "'a\\\\b\\n'");
    }

    #[test]
    fn r1_aqa_prompt() {
        let prompt = benchmark_prompt(R1_AQA, "Who speaks?", &["Man".into(), "Woman".into()]);
        assert_eq!(
            prompt,
            "Who speaks? Please choose the answer from the following options: ['Man', 'Woman']. Output the final answer in <answer> </answer>."
        );
    }
}
