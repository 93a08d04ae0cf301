//! The example list of a traces file: which examples the filters (outcome, or a pair's outcomes
//! in a comparison, task, label, search text) let through, the list's cursor among them, opening the example under it, and whether
//! the list docks beside the view or pops up over it. (The search also finds text inside the
//! steps of the example shown: `step_search`.)

use super::super::filter::{cycle, Filters, Outcome, PairOutcome};
use super::{Action, Inspector};
use crate::trace::CafeLabel;

/// A key typed into the search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchKey {
    Char(char),
    Backspace,
    /// The next step that contains the text.
    NextMatch,
}

impl Inspector {
    /// Indices of the examples the filters let through, in file order.
    pub fn visible_examples(&self) -> Vec<usize> {
        self.examples
            .iter()
            .enumerate()
            .filter(|(i, e)| {
                self.filters.matches(&e.trace)
                    && self
                        .filters
                        .pair
                        .is_none_or(|wanted| self.pair_outcome(*i) == Some(wanted))
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// Whether the list is drawn over the view rather than docked beside it (the layout's rule,
    /// asked with the width of the last draw).
    pub fn list_is_popup(&self) -> bool {
        !super::super::layout::list_docks(self.screen_width, self.examples.len())
    }

    pub(super) fn toggle_list(&mut self) {
        if self.examples.len() < 2 {
            self.message = Some("one example: open a traces file for a list".into());
        } else {
            self.list_open = !self.list_open;
            self.refilter();
        }
    }

    /// Enter: ends the search, and opens the example under the list's cursor (closing the
    /// pop-up list).
    pub(super) fn open_at_list_cursor(&mut self) {
        if self.searching {
            self.searching = false;
        }
        if self.list_open {
            if let Some(&index) = self.visible_examples().get(self.list_cursor) {
                self.select_example(index);
                if self.list_is_popup() {
                    self.list_open = false;
                }
            }
        }
    }

    /// Keys go to the search text from now, and the list shows what it finds.
    pub(super) fn start_search(&mut self) {
        self.searching = true;
        self.search_from = (self.current, self.step);
        self.step_matches = None;
        if self.examples.len() > 1 {
            self.list_open = true;
        }
    }

    /// A key typed while searching: the query narrows the list as it is typed, and the
    /// selection jumps to the steps of the example shown that contain it.
    pub fn type_search(&mut self, key: SearchKey) {
        match key {
            SearchKey::Char(c) => self.filters.query.push(c),
            SearchKey::Backspace => {
                self.filters.query.pop();
            }
            SearchKey::NextMatch => {
                let step = self.step;
                self.next_step_match();
                if step != self.step {
                    self.on_step_changed();
                }
                self.sync_comparison();
                return;
            }
        }
        let place = (self.current, self.step);
        self.refilter();
        let from = if self.search_from.0 == self.current {
            self.search_from.1
        } else {
            0
        };
        self.find_step(from);
        if place != (self.current, self.step) {
            self.on_step_changed();
        }
        self.sync_comparison();
    }

    /// A filter key: the next outcome, task or label filter, or none of them.
    pub(super) fn change_filter(&mut self, action: Action) {
        match action {
            Action::FilterOutcome if self.comparison.is_some() => {
                self.filters.pair = cycle(&self.filters.pair, &PairOutcome::ALL);
            }
            Action::FilterOutcome => {
                self.filters.outcome = match self.filters.outcome {
                    Outcome::All => Outcome::Correct,
                    Outcome::Correct => Outcome::Incorrect,
                    Outcome::Incorrect => Outcome::All,
                };
            }
            Action::FilterTask => {
                let tasks = self.tasks();
                if tasks.is_empty() {
                    self.message = Some("these traces name no tasks".into());
                    return;
                }
                self.filters.task = cycle(&self.filters.task, &tasks);
            }
            Action::FilterLabel => {
                use CafeLabel::*;
                self.filters.label = cycle(
                    &self.filters.label,
                    &[Hallucinated, Misused, Matched, Neutral],
                );
            }
            Action::ClearFilters => self.filters = Filters::default(),
            _ => return,
        }
        self.refilter();
    }

    /// The tasks of the examples, sorted, each once.
    fn tasks(&self) -> Vec<String> {
        let mut tasks: Vec<String> = self
            .examples
            .iter()
            .filter_map(|e| e.trace.benchmark.as_ref()?.task.clone())
            .collect();
        tasks.sort();
        tasks.dedup();
        tasks
    }

    /// After the filters change: keep the cursor on the current example if it still shows,
    /// otherwise move to the first that does.
    pub(super) fn refilter(&mut self) {
        let visible = self.visible_examples();
        match visible.iter().position(|&i| i == self.current) {
            Some(row) => self.list_cursor = row,
            None => {
                self.list_cursor = 0;
                match visible.first() {
                    Some(&first) => self.select_example(first),
                    None => self.message = Some("no example matches the filters".into()),
                }
            }
        }
    }
}
