//! Comparing two traces files: pairing by id, which side the keys move, B following A's view,
//! and the pair filter.

use super::*;
use crate::example_traces::{demo_set_specs, example_trace, ExampleSpec};
use crate::tui::filter::PairOutcome;

/// `spec` answered directly: one line, `<answer>…</answer>`, with `choice` of its choices.
pub(crate) fn direct(spec: &ExampleSpec, choice: usize) -> ExampleSpec {
    let line: &'static str = format!("<answer>{}</answer>", spec.choices[choice]).leak();
    ExampleSpec {
        lines: vec![(line, None, None)],
        missed: Vec::new(),
        ..spec.clone()
    }
}

fn examples(specs: &[ExampleSpec]) -> Vec<Example> {
    specs
        .iter()
        .map(|spec| {
            let (trace, arrays) = example_trace(spec);
            Example::new(trace, Some(arrays.generated))
        })
        .collect()
}

/// The demo set (A, reasoning) against its items answered directly (B, in reverse order), the
/// first right and the others wrong.
fn compared() -> Inspector {
    let specs = demo_set_specs();
    let mut b: Vec<ExampleSpec> = specs
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let right = spec.choices.iter().position(|c| *c == spec.answer).unwrap();
            direct(spec, if i == 0 { right } else { (right + 1) % 4 })
        })
        .collect();
    b.reverse();
    let mut state = Inspector::new(examples(&specs));
    state.list_open = false;
    state
        .start_comparison(examples(&b), ["think".into(), "direct".into()])
        .unwrap();
    state
}

#[test]
fn pairs_follow_the_item_ids_whatever_the_order() {
    let state = compared();
    let comparison = state.comparison.as_ref().unwrap();
    assert_eq!(comparison.partners, vec![Some(2), Some(1), Some(0)]);
    assert_eq!(
        state.partner().unwrap().trace.id,
        state.example().unwrap().trace.id
    );
    assert_eq!(state.message, None, "every item has its partner");
}

#[test]
fn the_step_keys_move_the_side_in_focus() {
    let mut state = compared();
    let other_steps = state.partner().unwrap().trace.steps.len();
    state.update(Action::NextStep);
    state.update(Action::NextStep);
    assert_eq!(state.step, 2);
    assert_eq!(state.comparison.as_ref().unwrap().other.step, 0);
    state.update(Action::SwitchSide);
    state.update(Action::LastStep);
    assert_eq!(state.step, 2, "A stays where it was");
    let other = &state.comparison.as_ref().unwrap().other;
    assert_eq!(other.step, other_steps - 1);
    state.update(Action::SwitchSide);
    state.update(Action::PreviousStep);
    assert_eq!(state.step, 1);
}

#[test]
fn the_example_keys_move_the_pair_and_b_follows_the_view() {
    let mut state = compared();
    state.update(Action::SwitchSide);
    state.update(Action::LastStep);
    state.update(Action::NextExample);
    let comparison = state.comparison.as_ref().unwrap();
    assert_eq!(state.current, 1);
    assert_eq!(comparison.other.current, 1);
    assert_eq!(
        comparison.other.step, 0,
        "a new pair starts at its first step"
    );
    for action in [
        Action::NextLayer,
        Action::NextHeads,
        Action::ZoomIn,
        Action::PanRight,
        Action::NextColourScale,
    ] {
        state.update(action);
    }
    let other = &state.comparison.as_ref().unwrap().other;
    assert_eq!(other.layers, state.layers);
    assert_eq!(other.heads, state.heads);
    assert_eq!(other.view, state.view);
    assert_ne!(state.view, (0.0, 1.0));
    assert_eq!(other.scale, state.scale);
}

#[test]
fn the_outcome_filter_filters_pairs() {
    let mut state = compared();
    let outcomes: Vec<Option<PairOutcome>> = (0..3).map(|i| state.pair_outcome(i)).collect();
    let a_right: Vec<bool> = state
        .examples
        .iter()
        .map(|e| e.trace.answer.as_ref().unwrap().correct)
        .collect();
    // B answers the first item right and the others wrong.
    let expected: Vec<Option<PairOutcome>> = a_right
        .iter()
        .enumerate()
        .map(|(i, &a)| Some(PairOutcome::of(a, i == 0)))
        .collect();
    assert_eq!(outcomes, expected);
    for wanted in PairOutcome::ALL {
        state.update(Action::FilterOutcome);
        assert_eq!(state.filters.pair, Some(wanted));
        let shown: Vec<usize> = (0..3).filter(|&i| expected[i] == Some(wanted)).collect();
        assert_eq!(state.visible_examples(), shown, "{wanted:?}");
        assert!(state.filters.describe().contains(wanted.describe()));
    }
    state.update(Action::FilterOutcome);
    assert_eq!(state.filters.pair, None);
    assert_eq!(state.visible_examples().len(), 3);
}

#[test]
fn files_without_a_shared_item_are_refused_and_one_alone_is_said() {
    let specs = demo_set_specs();
    let mut state = Inspector::new(examples(&specs[..1]));
    let why = state
        .start_comparison(examples(&specs[1..]), ["a".into(), "b".into()])
        .unwrap_err();
    assert!(why.contains("share no item id"), "{why}");
    assert!(state.comparison.is_none());
    state
        .start_comparison(examples(&specs), ["a".into(), "b".into()])
        .unwrap();
    let message = state.message.clone().unwrap();
    assert!(
        message.contains("1 pair;") && message.contains("2 of b"),
        "{message}"
    );
}

#[test]
fn switching_sides_without_a_comparison_says_how_to_compare() {
    let mut state = Inspector::new(examples(&demo_set_specs()[..1]));
    state.update(Action::SwitchSide);
    assert!(state.message.as_deref().unwrap().contains("--compare"));
}

#[test]
fn an_id_twice_in_a_pairs_both_with_one_partner() {
    let specs = demo_set_specs();
    let mut state = Inspector::new(examples(&[specs[0].clone(), specs[0].clone()]));
    state
        .start_comparison(examples(&specs[..1]), ["a".into(), "b".into()])
        .unwrap();
    let message = state.message.clone().unwrap_or_default();
    assert!(
        !message.contains("of b"),
        "B has no unpaired example: {message}"
    );
    assert_eq!(
        state.comparison.as_ref().unwrap().partners,
        vec![Some(0), Some(0)]
    );
}

#[test]
fn with_b_in_focus_keys_that_work_on_a_say_so_and_overlays_keep_their_keys() {
    let mut state = compared();
    state.update(Action::SwitchSide);
    for action in [
        Action::PlayStepWindow,
        Action::HideAudioFromStep,
        Action::MeasureReliance,
    ] {
        assert_eq!(state.update(action), Effect::None);
        assert!(state.message.as_deref().unwrap().contains("works on A"));
    }
    // The search moves A's steps, and B follows A's example as it is typed.
    state.update(Action::Search);
    assert!(!state.moves_other_step(Action::NextStep));
    for c in "before the noise".chars() {
        state.type_search(SearchKey::Char(c));
    }
    let comparison = state.comparison.as_ref().unwrap();
    assert_eq!(
        comparison.other.examples[comparison.other.current].trace.id,
        state.example().unwrap().trace.id
    );
}

#[test]
fn esc_after_a_search_goes_back_to_the_example_and_step_it_began_on() {
    let mut state = compared();
    state.update(Action::NextExample);
    state.update(Action::NextStep);
    let before = (state.current, state.step);
    state.update(Action::Search);
    // Only the first example's question has "tones come before".
    for c in "tones come before".chars() {
        state.type_search(SearchKey::Char(c));
    }
    assert_ne!(state.current, before.0);
    state.update(Action::Back);
    assert_eq!((state.current, state.step), before);
    let comparison = state.comparison.as_ref().unwrap();
    assert_eq!(
        comparison.partner_of(state.current),
        Some(comparison.other.current)
    );
}
