//! The ground truth of a clip's time line: its events as named spans in seconds, and which of
//! them each step of a trace names. The inspector draws them in a lane under the time axis and
//! highlights the event the selected step talks about.
//!
//! Two sources: a synthetic item's exact events (a trace whose id is `synth-SEED` and whose
//! question and choices are that item's; `demo eval`, `demo items` and the bundled examples
//! write such traces), and a captions file's timed events (`inspect --captions`).

use crate::cafe::claims_of_step;
use crate::cafe::judge::Caption;
use crate::synth::benchmark_file::event_name;
use crate::synth::checker::label_steps_with_events;
use crate::synth::question::Item;
use crate::trace::{CafeLabel, Trace};

/// One event of the clip.
#[derive(Debug, Clone, PartialEq)]
pub struct TruthEvent {
    pub name: String,
    /// Seconds from the start of the clip.
    pub start: f64,
    pub end: f64,
}

/// Where the events come from.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    /// The synthetic item the trace asked about: its events are exact, and the CAFE checker
    /// says which one each perception claim names.
    Synthetic(Box<Item>),
    /// A captions file: the step names an event when it (or its label) says the event's name.
    Captions,
}

/// A clip's events, and how to tell which one a step names.
#[derive(Debug, Clone, PartialEq)]
pub struct Truth {
    pub events: Vec<TruthEvent>,
    source: Source,
}

impl Truth {
    /// The exact events of the synthetic item `trace` asked about, when it is one: its id is
    /// `synth-SEED` and the item of that seed asks the same question with the same choices.
    pub fn synthetic(trace: &Trace) -> Option<Truth> {
        let seed: u64 = trace.id.strip_prefix("synth-")?.parse().ok()?;
        let item = Item::generate(seed);
        let question = trace.prompt.question.as_deref()?;
        if question != item.question.text() || trace.prompt.choices != item.choices {
            return None;
        }
        let events = item
            .events
            .iter()
            .map(|e| TruthEvent {
                name: event_name(e),
                start: f64::from(e.onset),
                end: f64::from(e.end()),
            })
            .collect();
        Some(Truth {
            events,
            source: Source::Synthetic(Box::new(item)),
        })
    }

    /// A caption's timed events (`None` when it has none: names alone cannot be drawn).
    pub fn from_caption(caption: &Caption) -> Option<Truth> {
        let events: Vec<TruthEvent> = caption
            .events
            .iter()
            .flatten()
            .filter_map(|e| {
                e.span.map(|(start, end)| TruthEvent {
                    name: e.name.clone(),
                    start: f64::from(start),
                    end: f64::from(end),
                })
            })
            .collect();
        (!events.is_empty()).then_some(Truth {
            events,
            source: Source::Captions,
        })
    }

    /// Where the events came from, in a word for the screen.
    pub fn source_name(&self) -> &'static str {
        match self.source {
            Source::Synthetic(_) => "exact",
            Source::Captions => "captions",
        }
    }

    /// For each step of `trace`, the event it names: for a synthetic item the event the CAFE
    /// checker matched its perception claim with (none for a hallucinated claim); from captions,
    /// the event whose name the step's text or one of its labelled claims contains (the longest
    /// such name, and among events of that name the first no earlier step named).
    pub fn named_events(&self, trace: &Trace) -> Vec<Option<usize>> {
        let texts: Vec<&str> = trace.steps.iter().map(|s| s.text.as_str()).collect();
        match &self.source {
            Source::Synthetic(item) => label_steps_with_events(item, &texts).1,
            Source::Captions => {
                let mut named_before = vec![false; self.events.len()];
                (0..texts.len())
                    .map(|step| {
                        let mut said = texts[step].to_lowercase();
                        if let Some(labels) = &trace.labels {
                            for label in labels.steps.iter().filter(|l| l.step == step) {
                                said.push('\n');
                                said.push_str(&label.event.to_lowercase());
                            }
                        }
                        let longest = self
                            .events
                            .iter()
                            .map(|e| e.name.to_lowercase())
                            .filter(|name| said.contains(name.as_str()))
                            .max_by_key(|name| name.len())?;
                        let candidates: Vec<usize> = (0..self.events.len())
                            .filter(|&i| self.events[i].name.to_lowercase() == longest)
                            .collect();
                        let chosen = candidates
                            .iter()
                            .copied()
                            .find(|&i| !named_before[i])
                            .unwrap_or(candidates[0]);
                        named_before[chosen] = true;
                        Some(chosen)
                    })
                    .collect()
            }
        }
    }

    /// For each step of `trace`, the span in seconds of the event it names when it is a
    /// perception claim about it: a step whose CAFE labels (the one that counts of each claim)
    /// include a matched or misused claim; a hallucinated claim describes no event there, a
    /// neutral one none at all. A trace without labels counts only for a synthetic item, whose
    /// exact checker names an event only for a claim it labels matched or misused.
    pub fn claimed_event_spans(&self, trace: &Trace) -> Vec<Option<(f64, f64)>> {
        let claims_audio = |step: usize| match &trace.labels {
            Some(labels) => claims_of_step(labels, step).iter().any(|claim| {
                matches!(
                    claim.winner().label,
                    CafeLabel::Matched | CafeLabel::Misused
                )
            }),
            None => matches!(self.source, Source::Synthetic(_)),
        };
        self.named_events(trace)
            .into_iter()
            .enumerate()
            .map(|(step, event)| {
                let event = self.events.get(event?)?;
                claims_audio(step).then_some((event.start, event.end))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cafe::judge::CaptionEvent;
    use crate::example_traces::{example_trace, tones_spec};
    use crate::trace::{split_steps, Step, StepRules, TraceLabels};

    fn steps_of(text: &str) -> Vec<Step> {
        let pieces: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
        split_steps(&pieces, &StepRules::default())
    }

    #[test]
    fn a_synthetic_item_s_trace_gets_its_exact_events_and_the_claims_their_event() {
        let item = Item::generate(4 << 32 | 3);
        let mut trace = example_trace(&tones_spec()).0;
        trace.id = format!("synth-{}", item.seed);
        assert_eq!(Truth::synthetic(&trace), None, "another question: no truth");
        trace.prompt.question = Some(item.question.text());
        trace.prompt.choices = item.choices.clone();
        let truth = Truth::synthetic(&trace).unwrap();
        assert_eq!(truth.events.len(), item.events.len());
        assert!((truth.events[0].start - f64::from(item.events[0].onset)).abs() < 1e-9);
        // Steps written as the item's own target: each perception line names its event.
        let target = item.target_text();
        trace.steps = steps_of(&target);
        let named = truth.named_events(&trace);
        let perception: Vec<Option<usize>> = named.iter().copied().flatten().map(Some).collect();
        assert_eq!(
            perception,
            (0..item.events.len()).map(Some).collect::<Vec<_>>(),
            "{target}"
        );
        // Without labels the exact checker's verdict stands: every named event's span.
        trace.labels = None;
        let spans: Vec<_> = named
            .iter()
            .map(|e| e.map(|i| (truth.events[i].start, truth.events[i].end)))
            .collect();
        assert_eq!(truth.claimed_event_spans(&trace), spans);
    }

    #[test]
    fn captions_name_events_by_their_names() {
        let caption = Caption {
            caption: "a bark, a car, a bark".into(),
            events: Some(vec![
                CaptionEvent {
                    name: "dog bark".into(),
                    span: Some((0.5, 1.0)),
                },
                CaptionEvent {
                    name: "car".into(),
                    span: Some((1.0, 2.0)),
                },
                CaptionEvent {
                    name: "dog bark".into(),
                    span: Some((2.5, 3.0)),
                },
                CaptionEvent {
                    name: "wind".into(),
                    span: None,
                },
            ]),
        };
        let truth = Truth::from_caption(&caption).unwrap();
        assert_eq!(truth.events.len(), 3, "an untimed event is not drawn");
        let mut trace = example_trace(&tones_spec()).0;
        trace.steps =
            steps_of("A Dog bark first.\nThen a car passes.\nNothing else.\nAnother dog bark.");
        assert_eq!(
            truth.named_events(&trace),
            vec![Some(0), Some(1), None, Some(2)]
        );
        assert_eq!(
            Truth::from_caption(&Caption {
                caption: "x".into(),
                events: None
            }),
            None
        );
    }

    #[test]
    fn only_matched_or_misused_claims_give_their_event_s_span() {
        use crate::cafe::tests::label;
        let caption = Caption {
            caption: "a bark, a car".into(),
            events: Some(vec![
                CaptionEvent {
                    name: "dog bark".into(),
                    span: Some((0.5, 1.0)),
                },
                CaptionEvent {
                    name: "car".into(),
                    span: Some((1.0, 2.0)),
                },
            ]),
        };
        let truth = Truth::from_caption(&caption).unwrap();
        let mut trace = example_trace(&tones_spec()).0;
        trace.steps = steps_of("A dog bark.\nA car.\nThe car again.\nA dog bark, so A.");
        trace.labels = None;
        assert_eq!(
            truth.claimed_event_spans(&trace),
            vec![None; 4],
            "captions without labels: no step is known to be a claim"
        );
        trace.labels = Some(TraceLabels {
            steps: vec![
                label(0, "dog bark", CafeLabel::Matched, "auto"),
                label(1, "car", CafeLabel::Misused, "judge:m"),
                label(2, "car", CafeLabel::Hallucinated, "auto"),
                label(3, "so A", CafeLabel::Neutral, "auto"),
            ],
            missed: Vec::new(),
            targets: None,
        });
        assert_eq!(
            truth.claimed_event_spans(&trace),
            vec![Some((0.5, 1.0)), Some((1.0, 2.0)), None, None]
        );
    }
}
