//! Clicks and the wheel, already resolved (by `tui::mouse`) to what was under the pointer: a
//! step, a heatmap cell or a time on the timeline, an example in the list, a scroll. A click on
//! a cell also seeks the player there; the wheel does what the step or example keys do. In a
//! comparison, a click on a side's heatmap puts that side in focus.

use super::{Action, Effect, Inspector, Pointer, Side};

impl Inspector {
    /// Handles a click or the wheel, already resolved to what was under the pointer.
    pub fn point(&mut self, pointer: Pointer) -> Effect {
        let place = (self.current, self.step);
        let effect = self.point_at(pointer);
        if place != (self.current, self.step) {
            self.on_step_changed();
        }
        self.sync_comparison();
        effect
    }

    fn point_at(&mut self, pointer: Pointer) -> Effect {
        if self.typing.is_some() {
            // The typed text belongs where typing began; enter or esc first.
            return Effect::None;
        }
        self.message = None;
        match pointer {
            Pointer::SelectStep(step) => {
                self.focus(Side::A);
                self.step = step.min(self.steps().saturating_sub(1));
            }
            Pointer::SelectCell { step, seconds } => {
                if let Some(step) = step {
                    self.focus(Side::A);
                    self.step = step.min(self.steps().saturating_sub(1));
                }
                return Effect::Seek(seconds);
            }
            Pointer::SelectOtherStep(step) => {
                self.focus(Side::B);
                if let Some(comparison) = &mut self.comparison {
                    let other = &mut comparison.other;
                    other.step = step.min(other.steps().saturating_sub(1));
                }
            }
            Pointer::SelectExample(index) => self.click_example(index),
            Pointer::Scroll { down, in_list } => {
                return self.update(scroll_action(down, in_list, self.list_is_popup()))
            }
        }
        Effect::None
    }

    /// Opens the example clicked in the list (closing the pop-up list).
    fn click_example(&mut self, index: usize) {
        if index >= self.examples.len() {
            return;
        }
        self.select_example(index);
        if let Some(row) = self.visible_examples().iter().position(|&i| i == index) {
            self.list_cursor = row;
        }
        if self.list_is_popup() {
            self.list_open = false;
        }
    }
}

/// The key the wheel stands for: over the list, the example keys (in the pop-up list, the keys
/// that move its cursor, as j/k do there); elsewhere, the step keys.
fn scroll_action(down: bool, in_list: bool, list_is_popup: bool) -> Action {
    match (in_list && list_is_popup, in_list, down) {
        (true, _, true) => Action::NextStep,
        (true, _, false) => Action::PreviousStep,
        (false, true, true) => Action::NextExample,
        (false, true, false) => Action::PreviousExample,
        (false, false, true) => Action::NextStep,
        (false, false, false) => Action::PreviousStep,
    }
}
