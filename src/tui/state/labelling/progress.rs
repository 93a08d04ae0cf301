//! The progress count on the status line: how many steps of the traces file this annotator has
//! labelled every claim of, out of all steps.
//!
//! A step is done when `claims_at` would list at least one claim and this annotator labelled
//! each. Counting that by asking `claims_at` for every step groups an example's labels once per
//! step, and adding up the per-example counts after each example made starting labelling
//! quadratic in the traces file's size. Here each example is counted in one pass over its labels,
//! the total is added up once at the start, and a saved label recounts only its example and moves
//! the total by the difference. (The number of steps stays as it was at the start: labelling
//! refuses a live run, the only state whose steps grow.)

use std::collections::HashMap;

use super::super::Inspector;

impl Inspector {
    /// Counts every example's done steps, and the progress over them (at the start of labelling).
    pub(super) fn count_progress(&mut self) {
        let done: Vec<usize> = (0..self.examples.len())
            .map(|index| self.done_steps(index))
            .collect();
        let total = self.examples.iter().map(|e| e.trace.steps.len()).sum();
        if let Some(labelling) = &mut self.labelling {
            labelling.progress = (done.iter().sum(), total);
            labelling.done = done;
        }
    }

    /// Counts example `index`'s done steps again (after a label on it saved), and moves the
    /// progress by the difference.
    pub(super) fn recount(&mut self, index: usize) {
        let done = self.done_steps(index);
        if let Some(labelling) = &mut self.labelling {
            let before = std::mem::replace(&mut labelling.done[index], done);
            labelling.progress.0 = labelling.progress.0 + done - before;
        }
    }

    /// How many of example `index`'s steps are done, as `step_done` decides, in one pass over
    /// the example's labels: a claim is a step and an event, this annotator's if any of its
    /// labels is; a claim typed in and not labelled yet is one more claim of its step; a step
    /// without claims shows the whole step, not labelled.
    pub(in crate::tui::state) fn done_steps(&self, index: usize) -> usize {
        let (Some(labelling), Some(example)) = (&self.labelling, self.examples.get(index)) else {
            return 0;
        };
        let Some(labels) = &example.trace.labels else {
            return 0;
        };
        let source = labelling.mine.source();
        let mut labelled_by_me: HashMap<(usize, &str), bool> = HashMap::new();
        for label in &labels.steps {
            *labelled_by_me
                .entry((label.step, label.event.as_str()))
                .or_default() |= label.source == source;
        }
        // Per step: its claims, and how many of them this annotator labelled.
        let mut claims = vec![(0usize, 0usize); example.trace.steps.len()];
        for (&(step, _), &mine) in &labelled_by_me {
            if let Some((all, by_me)) = claims.get_mut(step) {
                *all += 1;
                *by_me += usize::from(mine);
            }
        }
        if let Some((at, step, event)) = &labelling.pending {
            if *at == index && !labelled_by_me.contains_key(&(*step, event.as_str())) {
                if let Some((all, _)) = claims.get_mut(*step) {
                    *all += 1;
                }
            }
        }
        claims
            .iter()
            .filter(|&&(all, by_me)| all > 0 && all == by_me)
            .count()
    }
}
