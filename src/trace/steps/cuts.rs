//! Where the generated text is cut into steps, by byte offset, before the cuts move to token
//! boundaries: at structural tags (`<think>`, `<perception>`, `<answer>`, `<review>`, any
//! `<tag>…</tag>`), "Step N:" markers, list items, line breaks and blank lines, and sentence ends
//! inside long paragraphs, each as `StepRules` allow. Each piece between cuts keeps the innermost
//! tag around it, which decides its kind.

use super::StepRules;

/// A piece of text between two cuts, and the innermost tag around it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Segment {
    pub start: usize,
    pub tag: Option<String>,
}

/// The pieces `text` is cut into, in order, the first at 0, each with the innermost tag in force
/// at its start.
pub(super) fn segment_text(text: &str, rules: &StepRules) -> Vec<Segment> {
    // Cuts with the tag in force after each.
    let mut cuts: Vec<(usize, Option<String>)> = vec![(0, None)];
    let mut open: Vec<String> = Vec::new();
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .filter(|&i| i < text.len())
        .collect();

    if rules.tags {
        let mut search = 0;
        while let Some(found) = text[search..].find('<') {
            let at = search + found;
            let Some(close) = text[at..].find('>') else {
                break;
            };
            let inner = &text[at + 1..at + close];
            let end = at + close + 1;
            search = end;
            let (closing, name) = match inner.strip_prefix('/') {
                Some(name) => (true, name),
                None => (false, inner),
            };
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                continue;
            }
            if closing {
                if let Some(position) = open.iter().rposition(|t| t == name) {
                    open.truncate(position);
                }
                cuts.push((end, open.last().cloned()));
            } else {
                open.push(name.to_owned());
                cuts.push((at, Some(name.to_owned())));
            }
        }
    }
    // The tag in force at a position: that of the last tag cut at or before it (tag cuts are
    // in text order).
    let tag_cuts = cuts.clone();
    let tag_at = |at: usize| -> Option<String> {
        tag_cuts
            .iter()
            .rev()
            .find(|(c, _)| *c <= at)
            .and_then(|(_, t)| t.clone())
    };
    let mut extra: Vec<usize> = Vec::new();
    for &line in &line_starts {
        let rest = &text[line..];
        let trimmed = rest.trim_start_matches([' ', '\t']);
        let indent = rest.len() - trimmed.len();
        let marked = rules.step_markers && is_step_marker(trimmed)
            || rules.list_items && is_list_item(trimmed);
        if marked || rules.line_breaks && line > 0 {
            extra.push(line + indent);
        }
    }
    if rules.blank_lines {
        let mut search = 0;
        while let Some(found) = text[search..].find("\n\n") {
            let at = search + found;
            let after = at + text[at..].len() - text[at..].trim_start().len();
            extra.push(after);
            search = at + 2;
        }
    }
    // Inline "Step N:" that does not start a line.
    if rules.step_markers {
        // "step " is ASCII, so matching it byte by byte, ignoring ASCII case, on the text itself
        // finds only character boundaries (lower-casing first would shift offsets: `ẞ` and `İ`
        // change length).
        let bytes = text.as_bytes();
        for at in 1..bytes.len().saturating_sub(4) {
            if bytes[at..at + 5].eq_ignore_ascii_case(b"step ")
                && is_step_marker(&text[at..])
                && !line_starts.contains(&at)
            {
                extra.push(at);
            }
        }
    }
    for at in extra {
        let tag = tag_at(at);
        cuts.push((at, tag));
    }
    sort_cuts(&mut cuts);

    // Long paragraphs: cut at sentence ends.
    if rules.long_paragraph_chars > 0 {
        let mut more = Vec::new();
        for (i, (start, tag)) in cuts.iter().enumerate() {
            let end = cuts.get(i + 1).map_or(text.len(), |c| c.0);
            if text[*start..end].chars().count() > rules.long_paragraph_chars {
                for at in sentence_ends(&text[*start..end]) {
                    more.push((start + at, tag.clone()));
                }
            }
        }
        cuts.extend(more);
        sort_cuts(&mut cuts);
    }
    cuts.into_iter()
        .map(|(start, tag)| Segment { start, tag })
        .collect()
}

/// Orders cuts by position; of cuts at one position the last made wins (a tag opening at the
/// very start replaces the initial untagged cut).
fn sort_cuts(cuts: &mut Vec<(usize, Option<String>)>) {
    cuts.sort_by_key(|(at, _)| *at);
    cuts.reverse();
    cuts.dedup_by_key(|(at, _)| *at);
    cuts.reverse();
}

/// "Step 3:", "step 3.", "**Step 3**", "Step 3 -".
fn is_step_marker(line: &str) -> bool {
    let line = line.trim_start_matches(['*', '#', ' ']);
    let Some(rest) = line
        .get(..5)
        .filter(|p| p.eq_ignore_ascii_case("step "))
        .map(|_| &line[5..])
    else {
        return false;
    };
    let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
    digits > 0 && rest[digits..].starts_with([':', '.', '*', ' ', ')', '-'])
}

/// "- item", "* item", "• item", "1. item", "2) item".
fn is_list_item(line: &str) -> bool {
    if line.starts_with("- ") || line.starts_with("* ") || line.starts_with("• ") {
        return true;
    }
    let digits = line.chars().take_while(|c| c.is_ascii_digit()).count();
    digits > 0
        && digits < 4
        && (line[digits..].starts_with(". ") || line[digits..].starts_with(") "))
}

/// Byte offsets just after sentence ends: `.`, `!`, `?` then whitespace, or a CJK full stop.
fn sentence_ends(paragraph: &str) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut chars = paragraph.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        let end = i + c.len_utf8();
        let cut = match c {
            '。' | '！' | '？' => true,
            '.' | '!' | '?' => next.is_some_and(char::is_whitespace),
            _ => false,
        };
        if cut && end < paragraph.trim_end().len() {
            // Start the next sentence after the whitespace.
            let rest = &paragraph[end..];
            ends.push(end + rest.len() - rest.trim_start().len());
        }
    }
    ends
}
