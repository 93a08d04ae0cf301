//! The heads view (`H`): every (layer, head) ranked over the open examples by how it listens
//! (`report::heads`), a cursor over the ranking, and choosing one: the inspector then shows that
//! layer and head. The ranking is computed when the view opens, over every example: the shown
//! one's attention is in memory, the others' sidecars are read one at a time and let go.

use super::{Action, Example, Inspector, Layers};
use crate::model::AttentionRows;
use crate::report::heads::{ExampleHeads, HeadRanking, HeadTally};
use crate::trace::metrics::Heads;
use crate::trace::read_sidecar;

/// The open heads view.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadsView {
    pub ranking: HeadRanking,
    /// The ranking's row under the cursor.
    pub cursor: usize,
    /// Examples left out of the ranking (no attention, an unreadable sidecar, another model),
    /// and the first one's reason.
    pub left_out: usize,
    pub first_reason: Option<String>,
}

impl HeadsView {
    /// Ranks the heads over `examples`.
    pub fn over(examples: &[Example]) -> Self {
        let mut tally = HeadTally::default();
        let mut left_out = 0;
        let mut first_reason = None;
        for example in examples {
            if let Err(why) = add_example(&mut tally, example) {
                left_out += 1;
                first_reason.get_or_insert_with(|| format!("{}: {why}", example.trace.id));
            }
        }
        Self {
            ranking: tally.ranking(),
            cursor: 0,
            left_out,
            first_reason,
        }
    }
}

/// Adds one example's attention (in memory, else read from its sidecar) to `tally`.
fn add_example(tally: &mut HeadTally, example: &Example) -> Result<(), String> {
    let read;
    let rows: &AttentionRows = match (&example.attention, &example.sidecar) {
        (Some(rows), _) => rows,
        (None, Some(path)) => {
            read = read_sidecar(path).map_err(|e| format!("{e:#}"))?;
            &read.generated
        }
        (None, None) => return Err("no attention captured".into()),
    };
    let spans = example
        .truth
        .as_ref()
        .map_or_else(Vec::new, |truth| truth.claimed_event_spans(&example.trace));
    tally.add(&ExampleHeads {
        rows,
        steps: &example.trace.steps,
        event_spans: &spans,
        seconds_per_audio_token: example.trace.audio.seconds_per_audio_token,
    })
}

impl Inspector {
    /// `H`: opens the heads view (ranking the heads now) or closes it.
    pub(super) fn toggle_heads_view(&mut self) {
        if self.heads_view.take().is_some() {
            return;
        }
        let view = HeadsView::over(&self.examples);
        if view.ranking.rows.is_empty() {
            self.message = Some("no example has attention captured: no heads to rank".into());
            return;
        }
        // The pop-up list would cover it (a docked list stays beside it).
        if self.list_is_popup() {
            self.list_open = false;
        }
        self.heads_view = Some(view);
    }

    /// While the heads view is open (and the help is not) it takes the keys: the step keys move
    /// its cursor, Enter chooses, Esc closes; the help, quit and `H` itself work as anywhere;
    /// other keys do nothing. Returns whether it took `action`.
    pub(super) fn heads_view_takes(&mut self, action: Action) -> bool {
        if self.help {
            return false;
        }
        let Some(view) = &mut self.heads_view else {
            return false;
        };
        let last = view.ranking.rows.len().saturating_sub(1);
        match action {
            Action::ToggleHelp | Action::Quit | Action::ToggleHeadsView => return false,
            Action::NextStep => view.cursor = (view.cursor + 1).min(last),
            Action::PreviousStep => view.cursor = view.cursor.saturating_sub(1),
            Action::FirstStep => view.cursor = 0,
            Action::LastStep => view.cursor = last,
            Action::Open => self.choose_head(),
            Action::Back => self.heads_view = None,
            _ => self.message = Some("heads view: ↑/↓ choose, enter shows, esc closes".into()),
        }
        true
    }

    /// Shows the head under the cursor: its layer alone and that head; the view closes.
    fn choose_head(&mut self) {
        let Some(view) = self.heads_view.take() else {
            return;
        };
        let Some(row) = view.ranking.rows.get(view.cursor) else {
            return;
        };
        self.layers = Layers::One(row.layer);
        self.heads = Heads::One(row.head);
        let (.., head_maps) = self.dims();
        self.message = Some(if head_maps {
            format!("layer {}, head {}: its map", row.layer, row.head)
        } else {
            format!(
                "layer {}, head {}: its audio ratio (no per-head maps: the map is the head mean)",
                row.layer, row.head
            )
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::example_traces::{example_trace, tones_spec};
    use crate::report::heads::RankBasis;
    use crate::trace::write_sidecar;
    use crate::truth::Truth;

    /// The tones example with its clip's events as captions give them (its labels say which
    /// steps claim them), as often as `copies`.
    fn with_events(copies: usize) -> Inspector {
        let spec = tones_spec();
        let caption = crate::tui::state::tests::tones_caption();
        let examples = (0..copies)
            .map(|_| {
                let (trace, arrays) = example_trace(&spec);
                let mut example = Example::new(trace, Some(arrays.generated));
                example.set_truth(Truth::from_caption(&caption));
                example
            })
            .collect();
        let mut state = Inspector::new(examples);
        state.list_open = false;
        state
    }

    #[test]
    fn the_view_ranks_every_head_and_choosing_one_shows_it() {
        let mut state = with_events(1);
        state.step = 3;
        state.update(Action::ToggleHeadsView);
        let view = state.heads_view.as_ref().expect("open");
        let (layers, heads, ..) = state.dims();
        assert_eq!(view.ranking.rows.len(), layers * heads);
        let RankBasis::PeakInEvent { n } = view.ranking.basis() else {
            panic!("{:?}", view.ranking.basis());
        };
        assert!(n > 0);
        // The step keys move the cursor, not the step; other keys do nothing while it is open.
        state.update(Action::NextStep);
        state.update(Action::NextStep);
        state.update(Action::PreviousStep);
        state.update(Action::NextExample);
        state.update(Action::NextLayer);
        assert_eq!((state.step, state.layers), (3, Layers::All));
        let view = state.heads_view.as_ref().unwrap();
        assert_eq!(view.cursor, 1);
        let chosen = view.ranking.rows[1].clone();
        state.update(Action::Open);
        assert!(state.heads_view.is_none(), "choosing closes the view");
        assert_eq!(state.layers, Layers::One(chosen.layer));
        assert_eq!(state.heads, Heads::One(chosen.head));
        assert_eq!(state.map_selection().heads, Heads::One(chosen.head));
        assert!(state.message.as_deref().unwrap().contains("its map"));
        // Esc closes without choosing; H opens and closes.
        state.update(Action::ToggleHeadsView);
        state.update(Action::LastStep);
        state.update(Action::Back);
        assert!(state.heads_view.is_none());
        assert_eq!(state.heads, Heads::One(chosen.head));
        state.update(Action::ToggleHeadsView);
        state.update(Action::ToggleHeadsView);
        assert!(state.heads_view.is_none());
    }

    #[test]
    fn without_head_maps_it_ranks_by_ratio_and_still_chooses_the_head() {
        let mut state = with_events(1);
        state.examples[0].attention.as_mut().unwrap().head_maps = None;
        state.update(Action::ToggleHeadsView);
        let view = state.heads_view.as_ref().unwrap();
        assert_eq!(view.ranking.basis(), RankBasis::NoHeadMaps);
        let ratios: Vec<f64> = view
            .ranking
            .rows
            .iter()
            .map(|r| r.mean_audio_ratio)
            .collect();
        assert!(ratios.windows(2).all(|w| w[0] >= w[1]), "{ratios:?}");
        let top = view.ranking.rows[0].clone();
        state.update(Action::Open);
        assert_eq!(
            (state.layers, state.heads),
            (Layers::One(top.layer), Heads::One(top.head))
        );
        assert_eq!(state.map_selection().heads, Heads::Mean);
        assert!(state
            .message
            .as_deref()
            .unwrap()
            .contains("no per-head maps"));
    }

    #[test]
    fn examples_on_disk_are_read_and_an_unreadable_one_is_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = with_events(3);
        let in_memory = HeadsView::over(&state.examples);
        // Example 1's attention on disk, example 2's sidecar gone.
        let (_, arrays) = example_trace(&tones_spec());
        let sidecar = dir.path().join("tones.attn.safetensors");
        write_sidecar(&sidecar, &arrays).unwrap();
        state.examples[1].attention = None;
        state.examples[1].sidecar = Some(sidecar);
        state.examples[2].attention = None;
        state.examples[2].sidecar = Some(dir.path().join("gone.attn.safetensors"));
        state.update(Action::ToggleHeadsView);
        let view = state.heads_view.as_ref().unwrap();
        assert_eq!(view.ranking.examples, 2);
        assert_eq!(view.left_out, 1);
        assert!(view.first_reason.as_deref().unwrap().contains("gone.attn"));
        // Two copies of one example rank as one does, with twice the claims.
        assert_eq!(view.ranking.claims, 2 * in_memory.ranking.claims / 3);
        let order = |v: &HeadsView| -> Vec<(usize, usize)> {
            v.ranking.rows.iter().map(|r| (r.layer, r.head)).collect()
        };
        assert_eq!(order(view), order(&in_memory));
        assert!(state.examples[1].attention.is_none(), "read, then let go");
    }

    #[test]
    fn no_attention_no_view() {
        let mut state = with_events(1);
        state.examples[0].attention = None;
        state.update(Action::ToggleHeadsView);
        assert!(state.heads_view.is_none());
        assert!(state.message.as_deref().unwrap().contains("no heads"));
    }
}
