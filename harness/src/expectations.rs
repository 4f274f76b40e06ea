//! The expectations file: every upstream file or directive that is skipped, and why.
//!
//! `corpus/expectations.txt` has one rule per line:
//!
//! ```text
//! skip <path-pattern>[:<line>] [engines=<name>,<name>|layer] -- <reason>
//! any-trap <path-pattern>:<line> [engines=<name>,<name>|layer] -- <reason>
//! ```
//!
//! `skip` does not run the file (or the directive). `any-trap` runs the `assert_trap` directive and accepts any
//! trap, whatever its class: for the places where the specification and wasmtime trap for different reasons
//! (the reason says which is which).
//!
//! A pattern is a path relative to the conformance root (or starting with `corpus/`), with `*` matching within
//! one path component and `**` any number of components. With `:<line>` the rule skips only the directive that
//! starts on that line. `engines=` limits the rule to some engines (`layer` means both component-layer
//! engines). Nothing is skipped without a rule, and every skip is reported with its reason.

use std::path::Path;

/// One rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The path pattern.
    pub pattern: String,
    /// The directive line, if the rule is for one directive.
    pub line: Option<usize>,
    /// The engines it applies to (empty = all).
    pub engines: Vec<String>,
    /// Why.
    pub reason: String,
    /// `any-trap` rather than `skip`.
    pub any_trap: bool,
}

/// All rules.
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    /// The rules, in file order.
    pub rules: Vec<Rule>,
}

impl Expectations {
    /// Reads an expectations file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)?;
        Self::parse(&text)
    }

    /// Parses expectations text.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let mut rules = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (head, reason) = line
                .split_once(" -- ")
                .ok_or_else(|| anyhow::anyhow!("expectations line {}: missing ` -- <reason>`", n + 1))?;
            let mut words = head.split_whitespace();
            let any_trap = match words.next() {
                Some("skip") => false,
                Some("any-trap") => true,
                _ => anyhow::bail!("expectations line {}: expected `skip` or `any-trap`", n + 1),
            };
            let target = words.next().ok_or_else(|| anyhow::anyhow!("expectations line {}: no path", n + 1))?;
            let (pattern, line_no) = match target.rsplit_once(':') {
                Some((p, l)) if l.chars().all(|c| c.is_ascii_digit()) => (p.to_owned(), Some(l.parse()?)),
                _ => (target.to_owned(), None),
            };
            let mut engines = Vec::new();
            for w in words {
                let list = w
                    .strip_prefix("engines=")
                    .ok_or_else(|| anyhow::anyhow!("expectations line {}: unexpected `{w}`", n + 1))?;
                engines.extend(list.split(',').map(str::to_owned));
            }
            anyhow::ensure!(!any_trap || line_no.is_some(), "expectations line {}: `any-trap` needs a line", n + 1);
            rules.push(Rule { pattern, line: line_no, engines, reason: reason.trim().to_owned(), any_trap });
        }
        Ok(Expectations { rules })
    }

    /// Why the whole file is skipped on `engine`, if it is.
    pub fn file_skip(&self, path: &str, engine: &str) -> Option<&str> {
        self.rules
            .iter()
            .find(|r| !r.any_trap && r.line.is_none() && applies(r, engine) && glob(&r.pattern, path))
            .map(|r| r.reason.as_str())
    }

    /// Why the directive at `line` is skipped on `engine`, if it is.
    pub fn directive_skip(&self, path: &str, line: usize, engine: &str) -> Option<&str> {
        self.rules
            .iter()
            .find(|r| !r.any_trap && r.line == Some(line) && applies(r, engine) && glob(&r.pattern, path))
            .map(|r| r.reason.as_str())
    }

    /// Why the `assert_trap` at `line` accepts a trap of any class on `engine`, if it does.
    pub fn any_trap(&self, path: &str, line: usize, engine: &str) -> Option<&str> {
        self.rules
            .iter()
            .find(|r| r.any_trap && r.line == Some(line) && applies(r, engine) && glob(&r.pattern, path))
            .map(|r| r.reason.as_str())
    }
}

/// Whether rule `r` applies to `engine` (a self-test engine `<kind>!<fault>` as its kind).
fn applies(r: &Rule, engine: &str) -> bool {
    let engine = engine.split('!').next().unwrap_or(engine);
    r.engines.is_empty() || r.engines.iter().any(|e| e == engine || (e == "layer" && engine.starts_with("layer-")))
}

/// Matches `path` against a pattern with `*` (within a component) and `**` (any components).
pub fn glob(pattern: &str, path: &str) -> bool {
    let p: Vec<&str> = pattern.split('/').collect();
    let s: Vec<&str> = path.split('/').collect();
    glob_parts(&p, &s)
}

fn glob_parts(p: &[&str], s: &[&str]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some(&"**") => (0..=s.len()).any(|i| glob_parts(&p[1..], &s[i..])),
        Some(pc) => !s.is_empty() && glob_component(pc.as_bytes(), s[0].as_bytes()) && glob_parts(&p[1..], &s[1..]),
    }
}

fn glob_component(p: &[u8], s: &[u8]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some(b'*') => (0..=s.len()).any(|i| glob_component(&p[1..], &s[i..])),
        Some(c) => s.first() == Some(c) && glob_component(&p[1..], &s[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("component-model/async/**", "component-model/async/a/b.wast"));
        assert!(glob("a/*.wast", "a/x.wast"));
        assert!(!glob("a/*.wast", "a/b/x.wast"));
        assert!(glob("**/strings.wast", "x/y/strings.wast"));
    }

    #[test]
    fn rules_parse_and_match() {
        let e = Expectations::parse("# c\nskip a/**  -- async\nskip b/x.wast:12 engines=layer -- differs\n").unwrap();
        assert_eq!(e.file_skip("a/z.wast", "wasmtime"), Some("async"));
        assert_eq!(e.directive_skip("b/x.wast", 12, "layer-wasmi"), Some("differs"));
        assert_eq!(e.directive_skip("b/x.wast", 12, "wasmtime"), None);
        assert!(Expectations::parse("skip x").is_err());
    }
}
