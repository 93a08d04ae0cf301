//! The answer matcher against the official script's verdicts (`scripts/make_matcher_cases.py`
//! runs the official `string_match` on each case and stores what it says).

use crate::common;

use auscult::benchmark::answer::is_correct;
use common::fixture;

#[test]
fn verdicts_equal_the_official_scripts() {
    let text = std::fs::read_to_string(fixture("benchmark/matcher_cases.json")).unwrap();
    let cases: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert!(cases.len() >= 30);
    for case in &cases {
        let prediction = case["prediction"].as_str().unwrap();
        let answer = case["answer"].as_str().unwrap();
        let choices: Vec<String> = serde_json::from_value(case["choices"].clone()).unwrap();
        let expected = case["correct"].as_bool().unwrap();
        assert_eq!(is_correct(prediction, answer, &choices), expected, "{case}");
    }
}
