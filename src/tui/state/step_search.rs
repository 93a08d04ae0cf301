//! The search finds text inside the steps of the example shown: as the query is typed the
//! selection jumps to the first step at or after where the search began that contains it (any
//! case), Tab goes on to the next (round at the end), and Esc goes back to where it began. What
//! was found is kept as counts for the status line, so a 2,000-step trace is searched once per
//! key, not once per frame.

use super::Inspector;

/// What the search found in the example shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepMatches {
    /// Steps whose text contains the query.
    pub total: usize,
    /// Which of them is selected (0-based), when the selected step is one.
    pub selected: Option<usize>,
}

impl Inspector {
    /// Selects the first step from `from` on (round at the end) whose text contains the query,
    /// and counts the steps that do; no query, no counts.
    pub(super) fn find_step(&mut self, from: usize) {
        let query = self.filters.query.to_lowercase();
        let Some(example) = self.example().filter(|_| !query.is_empty()) else {
            self.step_matches = None;
            return;
        };
        let hits: Vec<usize> = example
            .trace
            .steps
            .iter()
            .enumerate()
            .filter(|(_, step)| step.text.to_lowercase().contains(&query))
            .map(|(i, _)| i)
            .collect();
        if let Some(&hit) = hits.iter().find(|&&i| i >= from).or(hits.first()) {
            self.step = hit;
        }
        self.step_matches = Some(StepMatches {
            total: hits.len(),
            selected: hits.iter().position(|&i| i == self.step),
        });
    }

    /// Tab while searching: the next step that contains the query.
    pub(super) fn next_step_match(&mut self) {
        self.find_step(self.step + 1);
    }
}
