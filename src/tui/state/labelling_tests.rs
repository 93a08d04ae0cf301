//! Labelling, tested without a terminal: keys give journal actions, saved entries change what
//! the state shows, and nothing changes until an entry is saved.

use super::*;
use crate::cafe::journal::{AnnotatorLabels, JournalEntry, LabelOp};
use crate::example_traces::{example_trace, order_spec, tones_spec};
use crate::trace::CafeLabel;

fn labelling_state() -> Inspector {
    let examples = [tones_spec(), order_spec()]
        .iter()
        .map(|spec| {
            let (trace, arrays) = example_trace(spec);
            Example::new(trace, Some(arrays.generated))
        })
        .collect();
    let mut state = Inspector::new(examples);
    state.list_open = false;
    state.start_labelling(Labelling::new("ann", AnnotatorLabels::new("ann")));
    state
}

/// What the app does with `Effect::Record`: the journal gives the entry its seq, then the state
/// applies it.
fn save(state: &mut Inspector, effect: Effect) -> JournalEntry {
    let Effect::Record { trace, op } = effect else {
        panic!("expected a journal action, got {effect:?}");
    };
    let seq = state.labelling.as_ref().unwrap().mine.next_seq();
    let entry = JournalEntry {
        seq,
        time: "2026-11-26T00:00:00.000Z".into(),
        annotator: "ann".into(),
        trace,
        op,
    };
    state.on_recorded(Ok(entry.clone()));
    entry
}

/// A key, and its journal action saved.
fn act(state: &mut Inspector, action: Action) -> JournalEntry {
    let effect = state.update(action);
    save(state, effect)
}

fn type_text(state: &mut Inspector, text: &str) -> Effect {
    for c in text.chars() {
        assert_eq!(state.type_entry(EntryKey::Char(c)), Effect::None);
    }
    state.type_entry(EntryKey::Commit)
}

#[test]
fn without_a_name_the_label_keys_say_how_to_start() {
    let (trace, _) = example_trace(&tones_spec());
    let mut state = Inspector::new(vec![Example::new(trace, None)]);
    assert_eq!(state.update(Action::LabelMisused), Effect::None);
    assert!(state
        .message
        .as_deref()
        .unwrap()
        .contains("--annotator NAME"));
    assert_eq!(state.update(Action::Undo), Effect::None);
}

#[test]
fn a_label_key_labels_the_selected_claim_once_it_is_saved() {
    let mut state = labelling_state();
    let total = state
        .examples
        .iter()
        .map(|e| e.trace.steps.len())
        .sum::<usize>();
    assert_eq!((total, state.examples[0].trace.steps.len()), (23, 12));
    assert_eq!(state.labelling.as_ref().unwrap().progress, (0, total));
    state.update(Action::NextStep);
    let claims = state.current_claims();
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0].winner.as_ref().unwrap().source, "auto");
    assert_eq!(claims[0].mine, None);

    let effect = state.update(Action::LabelMisused);
    // Nothing shows as labelled before the journal has it.
    assert_eq!(state.current_claims()[0].mine, None);
    let entry = save(&mut state, effect);
    assert_eq!(
        entry.op,
        LabelOp::Label {
            step: 1,
            event: "tone A4 (440 Hz)".into(),
            label: CafeLabel::Misused
        }
    );
    let claim = &state.current_claims()[0];
    assert_eq!(claim.mine, Some(CafeLabel::Misused));
    assert_eq!(claim.winner.as_ref().unwrap().source, "human:ann");
    assert_eq!(claim.others[0].source, "auto");
    assert_eq!(
        state.message.as_deref(),
        Some("saved #1 · MIS tone A4 (440 Hz)")
    );
    assert_eq!(state.labelling.as_ref().unwrap().progress, (1, total));
    // The metrics count the human label.
    let counts = crate::cafe::CafeCounts::of(state.examples[0].trace.labels.as_ref().unwrap());
    assert_eq!(counts.misused, 3);

    // A failed save changes nothing and says so.
    let effect = state.update(Action::LabelMatched);
    assert!(matches!(effect, Effect::Record { .. }));
    state.on_recorded(Err(
        "run.ann.labels.jsonl: cannot save: No space left on device".into(),
    ));
    assert!(state.message.as_deref().unwrap().starts_with("NOT SAVED"));
    assert_eq!(state.current_claims()[0].mine, Some(CafeLabel::Misused));
}

#[test]
fn a_step_without_claims_is_labelled_as_a_whole_and_clear_takes_it_off() {
    let mut state = labelling_state();
    let claims = state.current_claims();
    assert!(claims[0].placeholder);
    assert_eq!(claims[0].event, crate::cafe::WHOLE_STEP);
    let entry = act(&mut state, Action::LabelNeutral);
    assert!(matches!(
        entry.op,
        LabelOp::Label {
            step: 0,
            label: CafeLabel::Neutral,
            ..
        }
    ));
    assert!(!state.current_claims()[0].placeholder);
    let entry = act(&mut state, Action::ClearLabel);
    assert!(matches!(entry.op, LabelOp::Clear { step: 0, .. }));
    assert!(state.current_claims()[0].placeholder);
    assert_eq!(state.update(Action::ClearLabel), Effect::None);
    assert_eq!(
        state.message.as_deref(),
        Some("you have not labelled this claim")
    );
}

#[test]
fn undo_and_redo_record_entries_and_go_where_they_act() {
    let mut state = labelling_state();
    state.update(Action::NextStep);
    act(&mut state, Action::LabelHallucinated);
    state.update(Action::NextExample);
    assert_eq!(state.current, 1);
    let undo = act(&mut state, Action::Undo);
    assert_eq!(undo.op, LabelOp::Undo { target: 1 });
    assert_eq!(
        (state.current, state.step),
        (0, 1),
        "undo shows where it acted"
    );
    assert_eq!(state.current_claims()[0].mine, None);
    let redo = act(&mut state, Action::Redo);
    assert_eq!(redo.op, LabelOp::Redo { target: 1 });
    assert_eq!(
        state.current_claims()[0].mine,
        Some(CafeLabel::Hallucinated)
    );
    assert_eq!(state.update(Action::Redo), Effect::None);
    assert_eq!(state.message.as_deref(), Some("nothing to redo"));
}

#[test]
fn next_unlabelled_skips_done_steps_and_crosses_examples() {
    let mut state = labelling_state();
    // Label every step of the first example but step 5.
    for step in 0..12 {
        state.step = step;
        if step == 5 {
            continue;
        }
        for claim in 0..state.current_claims().len() {
            state.labelling.as_mut().unwrap().claim = claim;
            act(&mut state, Action::LabelMatched);
        }
    }
    state.step = 0;
    state.update(Action::NextUnlabelled);
    assert_eq!((state.current, state.step), (0, 5));
    act(&mut state, Action::LabelMatched);
    state.update(Action::NextUnlabelled);
    assert_eq!((state.current, state.step), (1, 0));
    assert_eq!(state.labelling.as_ref().unwrap().progress, (12, 23));
}

#[test]
fn notes_claims_and_missed_events_are_typed() {
    let mut state = labelling_state();
    state.step = 8;
    state.update(Action::Note);
    assert!(state.typing.is_none());
    assert_eq!(
        state.message.as_deref(),
        Some("label the claim first, then note it")
    );
    act(&mut state, Action::LabelMisused);
    state.update(Action::Note);
    let effect = type_text(&mut state, "a bird is not in the clip");
    let entry = save(&mut state, effect);
    assert!(matches!(entry.op, LabelOp::Note { step: 8, .. }));
    let claim = &state.current_claims()[0];
    assert_eq!(
        claim.winner.as_ref().unwrap().note.as_deref(),
        Some("a bird is not in the clip")
    );

    // A claim no source listed: typed, then labelled.
    state.update(Action::AddClaim);
    assert_eq!(type_text(&mut state, "a bird chirp"), Effect::None);
    let claims = state.current_claims();
    assert_eq!(claims.len(), 2);
    assert!(claims[1].placeholder);
    assert_eq!(state.labelling.as_ref().unwrap().claim, 1);
    let entry = act(&mut state, Action::LabelHallucinated);
    assert_eq!(
        entry.op,
        LabelOp::Label {
            step: 8,
            event: "a bird chirp".into(),
            label: CafeLabel::Hallucinated
        }
    );
    assert!(!state.current_claims()[1].placeholder);

    // A missed event, then the same again takes it back; esc drops what is typed.
    state.update(Action::AddMissed);
    let effect = type_text(&mut state, "a second sweep");
    let entry = save(&mut state, effect);
    assert_eq!(
        entry.op,
        LabelOp::Missed {
            event: "a second sweep".into()
        }
    );
    assert_eq!(
        state.examples[0]
            .trace
            .labels
            .as_ref()
            .unwrap()
            .missed
            .len(),
        1
    );
    state.update(Action::AddMissed);
    let effect = type_text(&mut state, "a second sweep");
    let entry = save(&mut state, effect);
    assert_eq!(
        entry.op,
        LabelOp::Unmissed {
            event: "a second sweep".into()
        }
    );
    assert!(state.examples[0]
        .trace
        .labels
        .as_ref()
        .unwrap()
        .missed
        .is_empty());
    state.update(Action::AddMissed);
    state.type_entry(EntryKey::Char('x'));
    assert_eq!(state.type_entry(EntryKey::Cancel), Effect::None);
    assert!(state.typing.is_none());
}

#[test]
fn a_live_run_is_not_labelled() {
    let mut state = Inspector::for_live_run(crate::trace::StepRules::default());
    state.labelling = Some(Labelling::new("ann", AnnotatorLabels::new("ann")));
    assert_eq!(state.update(Action::LabelMatched), Effect::None);
    assert!(state.message.as_deref().unwrap().contains("save it (s)"));
}

#[test]
fn next_unlabelled_copes_with_filters() {
    let mut state = labelling_state();
    // Nothing shown: a message, no panic.
    state.update(Action::Search);
    state.type_search(SearchKey::Char('#'));
    state.update(Action::NextUnlabelled);
    assert_eq!(
        state.message.as_deref(),
        Some("no example matches the filters")
    );
    // The current example hidden: from the first shown one, at its first step.
    state.update(Action::Back);
    state.step = 6;
    state.filters.query = "order".into();
    state.update(Action::NextUnlabelled);
    assert_eq!((state.current, state.step), (1, 0));
}

#[test]
fn undo_to_a_step_the_trace_no_longer_has_stays_in_range() {
    let mut state = labelling_state();
    let mut mine = AnnotatorLabels::new("ann");
    mine.apply(JournalEntry {
        seq: 1,
        time: String::new(),
        annotator: "ann".into(),
        trace: "demo-tones".into(),
        op: LabelOp::Label {
            step: 99,
            event: "from an older traces file".into(),
            label: CafeLabel::Matched,
        },
    })
    .unwrap();
    state.start_labelling(Labelling::new("ann", mine));
    state.update(Action::NextExample);
    let effect = state.update(Action::Undo);
    assert!(matches!(effect, Effect::Record { .. }));
    assert_eq!((state.current, state.step), (0, 11));
    let area = ratatui::layout::Rect::new(0, 0, 80, 24);
    let mut buf = ratatui::buffer::Buffer::empty(area);
    crate::tui::view::render(
        &state,
        &crate::tui::keys::KeyTable::default(),
        crate::tui::view::Palette::Monochrome,
        area,
        &mut buf,
    );
}

#[test]
fn a_click_while_typing_does_not_move_the_note() {
    let mut state = labelling_state();
    state.step = 1;
    act(&mut state, Action::LabelMisused);
    state.update(Action::Note);
    state.type_entry(EntryKey::Char('x'));
    assert_eq!(state.point(Pointer::SelectStep(2)), Effect::None);
    assert_eq!(state.step, 1, "the click is ignored while typing");
    // Even had the view moved, the note goes where typing began.
    state.step = 2;
    let effect = state.type_entry(EntryKey::Commit);
    let entry = save(&mut state, effect);
    assert_eq!(
        entry.op,
        LabelOp::Note {
            step: 1,
            event: "tone A4 (440 Hz)".into(),
            note: "x".into()
        }
    );
    assert_eq!(state.step, 1);
}

/// The progress counts each example in one pass over its labels; it agrees, step by step, with
/// asking whether each step is done: with nothing labelled, claims labelled one by one, a step
/// labelled as a whole, a typed claim waiting for its label (which undoes a done step), and a
/// label cleared.
#[test]
fn the_progress_count_agrees_with_step_done() {
    let agree = |state: &Inspector| {
        let mut sum = 0;
        for index in 0..state.examples.len() {
            let steps = state.examples[index].trace.steps.len();
            let asked = (0..steps).filter(|&s| state.step_done(index, s)).count();
            assert_eq!(state.done_steps(index), asked, "example {index}");
            sum += asked;
        }
        assert_eq!(state.labelling.as_ref().unwrap().progress.0, sum);
    };
    let mut state = labelling_state();
    agree(&state);
    act(&mut state, Action::LabelNeutral); // step 0, no claims: the whole step
    agree(&state);
    for step in 1..12 {
        state.step = step;
        for claim in 0..state.current_claims().len() {
            state.labelling.as_mut().unwrap().claim = claim;
            act(&mut state, Action::LabelMatched);
        }
        agree(&state);
    }
    state.step = 1;
    state.update(Action::AddClaim);
    assert_eq!(type_text(&mut state, "a dog barks"), Effect::None);
    assert!(
        !state.step_done(0, 1),
        "the typed claim is not labelled yet"
    );
    // Progress moves when a label is saved; the next one recounts the example.
    state.step = 2;
    act(&mut state, Action::ClearLabel);
    agree(&state);
    state.update(Action::NextExample);
    act(&mut state, Action::LabelHallucinated);
    agree(&state);
}
