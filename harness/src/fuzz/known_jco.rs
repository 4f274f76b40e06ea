//! Known jco bugs: recognising a jco finding that is already reported.
//!
//! jco 1.35 has a handful of bugs that random cases meet all the time (narrow integer results, `flags` with unused
//! bits, unchecked list ranges): a two-minute run finds each of them again and again, and the one new bug among
//! two dozen findings drowns. So every report in `corpus/jco/` has a signature in `corpus/jco/known.txt`, the fuzz
//! loop loads that index once ([`KnownJco::load`]) and ships it to its workers with the [`super::FuzzOptions`],
//! and a divergence blamed on jco that matches a signature is counted under the bug's name instead of being shrunk
//! and written ([`super::process_case`]). Only unmatched jco findings become new regressions and reports.
//!
//! Outcomes alone cannot tell the bugs apart (two different bugs both make jco return where the others trap
//! `misaligned`), so a signature also looks at the engines' own messages, which the differ keeps beside the
//! compared classes ([`Divergence::failures`]): jco's `TypeError: flags have extraneous bits set`, or wasmtime's
//! `realloc return: result not aligned`.
//!
//! # The index
//!
//! One signature a line: the bug's name, its report (a file beside the index), and clauses that must all hold.
//! Several lines with one name are alternatives (a bug that shows in several ways). `#` starts a comment line.
//!
//! ```text
//! # name                   report                       clauses
//! flags-extra-bits         flags-extra-bits.md          jco~"flags have extraneous bits set"
//! import-called-from-realloc import-called-from-realloc.md others="trap (cannot leave)"
//! ```
//!
//! Clauses (a value is one word or a `"quoted string"`, without escapes; text matches ignore case):
//! * `jco=CLASS`: jco's outcome is of this class: `ok` (it returned, or loaded the component), or a failure's
//!   compared class (`trap`, `trap (out of bounds)`, `unsupported`, …).
//! * `jco~TEXT`: TEXT occurs in jco's outcome or its failure message.
//! * `others=CLASS`, `others~TEXT`: the same, for at least one of the other engines.
//! * `what~TEXT`: TEXT occurs in what diverged (`loading the component`, ``result of `f` ``).
//! * `wit~TEXT`: TEXT occurs in the case's WIT world.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::diff::Divergence;
use crate::engine::{EngineKind, EngineSpec};

/// The signatures of the known jco bugs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct KnownJco {
    /// The signatures, in index order: the first that matches names the bug.
    pub signatures: Vec<Signature>,
}

/// One way a known bug shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Signature {
    /// The bug's name (`flags-extra-bits`).
    pub name: String,
    /// Its report, relative to the index (`flags-extra-bits.md`).
    pub report: String,
    /// The index line it comes from.
    pub line: usize,
    /// What must hold, all of it.
    pub clauses: Vec<Clause>,
}

/// A condition on a divergence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Clause {
    /// The outcome class of `who` (for `Others`: of one of them) is this.
    Is(Who, String),
    /// This text occurs in the outcome or failure message of `who` (for `Others`: of one of them).
    Says(Who, String),
    /// This text occurs in what diverged.
    What(String),
    /// This text occurs in the case's WIT.
    Wit(String),
}

/// Whose outcome a clause looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Who {
    /// jco.
    Jco,
    /// Any engine but jco.
    Others,
}

/// A line of the index that does not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexError {
    /// Its number, from 1.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

impl std::fmt::Display for IndexError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for IndexError {}

/// One engine's outcome as a clause sees it.
struct Side {
    /// `ok`, or the failure's compared class.
    class: String,
    /// The outcome text and the failure message, lower case.
    text: String,
}

impl KnownJco {
    /// Reads the index at `path` and checks that every report it names exists beside it.
    pub fn load(path: &Path) -> anyhow::Result<KnownJco> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading the known jco bugs {}: {e}", path.display()))?;
        let known = KnownJco::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        if let Some(s) = known.signatures.iter().find(|s| !dir.join(&s.report).is_file()) {
            anyhow::bail!("{}: line {}: no report `{}` beside the index", path.display(), s.line, s.report);
        }
        Ok(known)
    }

    /// Parses an index (see the module docs).
    pub fn parse(text: &str) -> Result<KnownJco, IndexError> {
        let mut signatures = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let err = |message: String| IndexError { line, message };
            let words = split_words(trimmed).map_err(err)?;
            let [name, report, clauses @ ..] = words.as_slice() else {
                return Err(err("expected a name, a report and at least one clause".into()));
            };
            if !report.ends_with(".md") {
                return Err(err(format!("the report `{report}` is not a Markdown file")));
            }
            if clauses.is_empty() {
                return Err(err(format!("`{name}` has no clause: it would match every jco finding")));
            }
            let clauses = clauses.iter().map(|c| parse_clause(c)).collect::<Result<Vec<_>, _>>().map_err(err)?;
            signatures.push(Signature { name: name.clone(), report: report.clone(), line, clauses });
        }
        Ok(KnownJco { signatures })
    }

    /// The known bug divergence `d` of a case with WIT `wit` shows, if any: `d` must be jco's alone (jco wrong,
    /// at least one other engine compared).
    pub fn matching(&self, d: &Divergence, wit: &str) -> Option<&Signature> {
        let is_jco = |e: &str| EngineSpec::parse(e).is_ok_and(|s| s.kind == EngineKind::Jco);
        let [wrong] = d.wrong.as_slice() else { return None };
        if !is_jco(wrong) {
            return None;
        }
        let side = |engine: &str, outcome: &str| {
            let failure = d.failures.iter().find(|(e, _)| e == engine).map(|(_, f)| f);
            Side {
                class: failure.map_or_else(|| "ok".to_owned(), |f| f.key()),
                text: format!("{outcome}\n{}", failure.map_or("", |f| f.message())).to_lowercase(),
            }
        };
        let jco = d.outcomes.iter().find(|(e, _)| e == wrong).map(|(e, o)| side(e, o))?;
        let others: Vec<Side> = d.outcomes.iter().filter(|(e, _)| !is_jco(e)).map(|(e, o)| side(e, o)).collect();
        if others.is_empty() {
            return None;
        }
        let (what, wit) = (d.what.to_lowercase(), wit.to_lowercase());
        let holds = |c: &Clause| match c {
            Clause::Is(Who::Jco, class) => jco.class == *class,
            Clause::Is(Who::Others, class) => others.iter().any(|o| o.class == *class),
            Clause::Says(Who::Jco, text) => jco.text.contains(text.as_str()),
            Clause::Says(Who::Others, text) => others.iter().any(|o| o.text.contains(text.as_str())),
            Clause::What(text) => what.contains(text.as_str()),
            Clause::Wit(text) => wit.contains(text.as_str()),
        };
        self.signatures.iter().find(|s| s.clauses.iter().all(holds))
    }
}

/// The words of a line: runs of non-blanks, where a `"…"` (without escapes) may hold blanks.
fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                word.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if quoted {
        return Err("unterminated quote".into());
    }
    if !word.is_empty() {
        words.push(word);
    }
    Ok(words)
}

/// A clause: `field=value` or `field~value`, the value bare or quoted.
fn parse_clause(word: &str) -> Result<Clause, String> {
    let Some(at) = word.find(['=', '~']) else {
        return Err(format!("`{word}` is not a clause (`field=class` or `field~\"text\"`)"));
    };
    let (field, op, value) = (&word[..at], &word[at..=at], &word[at + 1..]);
    let value = match value.strip_prefix('"') {
        Some(v) => v.strip_suffix('"').ok_or_else(|| format!("`{word}`: text after the closing quote"))?,
        None => value,
    };
    if value.is_empty() || value.contains('"') {
        return Err(format!("`{word}`: an empty or badly quoted value"));
    }
    let text = value.to_lowercase();
    match (field, op) {
        ("jco", "=") => Ok(Clause::Is(Who::Jco, value.to_owned())),
        ("others", "=") => Ok(Clause::Is(Who::Others, value.to_owned())),
        ("jco", "~") => Ok(Clause::Says(Who::Jco, text)),
        ("others", "~") => Ok(Clause::Says(Who::Others, text)),
        ("what", "~") => Ok(Clause::What(text)),
        ("wit", "~") => Ok(Clause::Wit(text)),
        _ => Err(format!("unknown clause `{field}{op}` (known: jco=, jco~, others=, others~, what~, wit~)")),
    }
}

/// The tally of known bugs in a run, most frequent first: `flags-extra-bits 9, narrow-int-results 6`.
pub fn tally_text(tally: &std::collections::BTreeMap<String, u64>) -> String {
    let mut counts: Vec<(&String, &u64)> = tally.iter().collect();
    counts.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    counts.iter().map(|(name, n)| format!("{name} {n}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Failure, TrapClass};

    const INDEX: &str = r#"
# a comment, then a blank line

flags-extra-bits   flags-extra-bits.md   jco~"flags have extraneous bits set"
realloc-pointer    realloc.md            jco=ok others~"realloc return: result not aligned"
return-pointer     return-pointer.md     jco=ok others="trap (misaligned)"
"#;

    /// A call divergence in which jco alone is wrong.
    fn divergence(jco: Result<&str, Failure>, others: Failure) -> Divergence {
        let mut failures = vec![("wasmtime".to_owned(), others.clone()), ("layer-wasmi".to_owned(), others.clone())];
        let jco_outcome = match &jco {
            Ok(v) => v.to_string(),
            Err(f) => {
                failures.push(("jco".into(), f.clone()));
                f.key()
            }
        };
        Divergence {
            call: Some(0),
            what: "result of `l`".into(),
            wrong: vec!["jco".into()],
            outcomes: vec![
                ("jco".into(), jco_outcome),
                ("wasmtime".into(), others.key()),
                ("layer-wasmi".into(), others.key()),
            ],
            expected: None,
            agreed: None,
            host_side: false,
            failures,
        }
    }

    fn name<'a>(known: &'a KnownJco, d: &Divergence) -> Option<&'a str> {
        known.matching(d, "world case {}").map(|s| s.name.as_str())
    }

    #[test]
    fn a_known_finding_is_recognised_by_jcos_message() {
        let known = KnownJco::parse(INDEX).unwrap();
        assert_eq!(known.signatures.len(), 3);
        assert_eq!(known.signatures[0].line, 4);
        // The compared class is an open `trap`: only the message says which bug it is.
        let flags = divergence(
            Err(Failure::trap("TypeError: flags have extraneous bits set")),
            Failure::trap_of(TrapClass::Unreachable, "x"),
        );
        assert_eq!(name(&known, &flags), Some("flags-extra-bits"));
    }

    #[test]
    fn the_others_messages_tell_two_bugs_with_one_outcome_apart() {
        let known = KnownJco::parse(INDEX).unwrap();
        let realloc = divergence(Ok("ok 101"), Failure::trap("realloc return: result not aligned"));
        let ret = divergence(Ok("ok 101"), Failure::trap("unaligned pointer"));
        assert_eq!(name(&known, &realloc), Some("realloc-pointer"));
        assert_eq!(name(&known, &ret), Some("return-pointer"));
    }

    #[test]
    fn an_unknown_finding_is_not_recognised() {
        let known = KnownJco::parse(INDEX).unwrap();
        let other = divergence(
            Err(Failure::trap("TypeError: something new")),
            Failure::trap_of(TrapClass::OutOfBounds, "out of bounds"),
        );
        assert_eq!(name(&known, &other), None);
        // A known message, but the divergence is not jco's alone.
        let mut both = divergence(
            Err(Failure::trap("TypeError: flags have extraneous bits set")),
            Failure::trap_of(TrapClass::Unreachable, "x"),
        );
        both.wrong.push("layer-wasmi".into());
        assert_eq!(name(&known, &both), None);
        assert_eq!(name(&KnownJco::default(), &other), None);
    }

    #[test]
    fn malformed_lines_are_errors_with_their_line_number() {
        for (text, line, says) in [
            ("# c\nname report.md jco~\"open", 2, "unterminated quote"),
            ("\n\nname report.md", 3, "has no clause"),
            ("name", 1, "at least one clause"),
            ("name report.txt jco=ok", 1, "not a Markdown file"),
            ("ok a.md jco=ok\nname report.md who=ok", 2, "unknown clause"),
            ("name report.md jco", 1, "is not a clause"),
            ("name report.md jco=\"\"", 1, "empty or badly quoted"),
            ("name report.md jco~\"a\"b", 1, "after the closing quote"),
        ] {
            let e = KnownJco::parse(text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(e.message.contains(says), "{text:?}: {e}");
        }
    }

    #[test]
    fn the_corpus_index_parses_and_names_existing_reports() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/jco/known.txt");
        let known = KnownJco::load(&path).unwrap();
        assert!(known.signatures.len() >= 14);
    }

    #[test]
    fn the_tally_puts_the_most_frequent_first() {
        let tally = [("a".to_owned(), 1), ("b".to_owned(), 9), ("c".to_owned(), 6)].into_iter().collect();
        assert_eq!(tally_text(&tally), "b 9, c 6, a 1");
    }
}
