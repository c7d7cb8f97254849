//! A problem found in a queues file, and where: byte offsets turned into line and column.

use std::ops::Range;
use std::path::{Path, PathBuf};

/// One problem, located in the file: the IVR checker's [`ivr::Diagnostic`] (always an error here), so
/// `helpline check` reports queues and scripts in one list, in one format.
pub type Problem = ivr::Diagnostic;

/// Collects the problems of one file.
pub(super) struct Ctx<'a> {
    file: PathBuf,
    source: &'a str,
    line_starts: Vec<usize>,
    pub(super) problems: Vec<Problem>,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(file: &Path, source: &'a str) -> Ctx<'a> {
        let mut line_starts = vec![0];
        line_starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
        Ctx {
            file: file.to_owned(),
            source,
            line_starts,
            problems: Vec::new(),
        }
    }

    /// Records a problem at `span`; an empty `hint` means none.
    pub(super) fn error(
        &mut self,
        span: Range<usize>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        let (line, col) = self.position(span.start);
        let hint = hint.into();
        self.problems.push(Problem {
            file: self.file.clone(),
            line,
            col,
            severity: ivr::Severity::Error,
            message: message.into(),
            hint: (!hint.is_empty()).then_some(hint),
        });
    }

    fn position(&self, offset: usize) -> (usize, usize) {
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        let col = self
            .source
            .get(start..offset.min(self.source.len()))
            .map_or(1, |s| s.chars().count() + 1);
        (line, col)
    }

    /// The problems in file order, each once.
    pub(super) fn finish(mut self) -> Vec<Problem> {
        self.problems
            .sort_by(|a, b| (a.line, a.col, &a.message).cmp(&(b.line, b.col, &b.message)));
        self.problems.dedup();
        self.problems
    }
}

/// `did you mean `x`?` for the closest of `known` to `given`, if one is close.
pub(super) fn did_you_mean<'k>(given: &str, known: impl IntoIterator<Item = &'k str>) -> String {
    let known: Vec<&str> = known.into_iter().collect();
    let prefixed = known
        .iter()
        .find(|k| given.len() >= 3 && (k.starts_with(given) || given.starts_with(**k)));
    let best = known
        .iter()
        .map(|k| (strsim::levenshtein(given, k), *k))
        .min();
    match (prefixed, best) {
        (_, Some((d, k))) if d <= 2.max(given.len() / 3) => format!("did you mean `{k}`?"),
        (Some(k), _) => format!("did you mean `{k}`?"),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_lines_and_columns() {
        let src = "a = 1\nbé = 2\n";
        let mut ctx = Ctx::new(Path::new("q.toml"), src);
        ctx.error(0..1, "first", "");
        ctx.error(11..12, "second", "fix it");
        let p = ctx.finish();
        assert_eq!((p[0].line, p[0].col), (1, 1));
        assert_eq!((p[1].line, p[1].col), (2, 5));
        assert_eq!(
            p[1].to_string(),
            "q.toml:2:5: error: second\n  hint: fix it"
        );
    }

    #[test]
    fn close_names_are_suggested() {
        assert_eq!(
            did_you_mean("ring_timout_secs", ["ring_timeout_secs", "retry_secs"]),
            "did you mean `ring_timeout_secs`?"
        );
        assert_eq!(did_you_mean("colour", ["strategy"]), "");
    }
}
