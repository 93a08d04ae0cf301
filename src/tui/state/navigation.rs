//! Moving through the traces file: the step keys (which move the list's cursor instead while the
//! list is a pop-up), the example keys (over the examples the filters let through, round at the
//! ends), and what changing example resets.

use super::{Action, Inspector};

impl Inspector {
    /// Next, previous, first or last step; in the pop-up list, next or previous row.
    pub(super) fn move_step(&mut self, action: Action) {
        let last_step = self.steps().saturating_sub(1);
        let in_list = self.list_open && !self.searching;
        match action {
            Action::NextStep | Action::PreviousStep if in_list && self.list_is_popup() => {
                let rows = self.visible_examples().len();
                self.list_cursor = if action == Action::NextStep {
                    (self.list_cursor + 1).min(rows.saturating_sub(1))
                } else {
                    self.list_cursor.saturating_sub(1)
                };
            }
            Action::NextStep => self.step = (self.step + 1).min(last_step),
            Action::PreviousStep => self.step = self.step.saturating_sub(1),
            Action::FirstStep => self.step = 0,
            Action::LastStep => self.step = last_step,
            _ => {}
        }
    }

    /// The next (`forward`) or previous example the filters let through, round at the ends; the
    /// first one shown when the current one is filtered out.
    pub(super) fn move_example(&mut self, forward: bool) {
        let visible = self.visible_examples();
        if visible.is_empty() {
            self.message = Some("no example matches the filters".into());
            return;
        }
        let row = visible.iter().position(|&i| i == self.current);
        let n = visible.len();
        let next = match (row, forward) {
            (None, _) => 0,
            (Some(r), true) => (r + 1) % n,
            (Some(r), false) => (r + n - 1) % n,
        };
        self.list_cursor = next;
        self.select_example(visible[next]);
    }

    /// Shows example `index` from its first step, the whole clip, the playhead at the start.
    pub(super) fn select_example(&mut self, index: usize) {
        if index != self.current {
            self.current = index;
            self.step = 0;
            self.view = (0.0, 1.0);
            self.playhead = 0.0;
            self.play_window = None;
            self.fit_selection();
            self.fit_evidence();
        }
    }
}
