//! The conformance suite: which files, run on which engines, and how results are reported.
//!
//! The default set is every `.wast` (and CLI `.wat`) file of the vendored upstream suites in `corpus/upstream/`
//! — the component-model, wasmtime and wasm-tools suites — plus the project's own cases in the rest of
//! `corpus/`. Files or directives that need features the
//! synchronous component model does not have are skipped by rules in `corpus/expectations.txt`, each with its
//! reason, so every skip is visible in the report.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::engine::{Engine, EngineSpec};
use crate::expectations::Expectations;
use crate::fuzz::regress::CaseFile;
use crate::wast::{run_file, DirResult, Directive, FileRun};

/// A file of the suite.
#[derive(Debug, Clone)]
pub struct SuiteFile {
    /// Its label: the path relative to the conformance root, or `corpus/…`.
    pub label: String,
    /// Where it is.
    pub path: PathBuf,
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("harness is inside the workspace").to_path_buf()
}

/// The upstream conformance data: `$COMPONENT_LAYER_CONFORMANCE` (for testing against another copy of the
/// suites), or the vendored copy in `corpus/upstream/`.
pub fn conformance_root() -> PathBuf {
    match std::env::var_os("COMPONENT_LAYER_CONFORMANCE") {
        Some(p) => PathBuf::from(p),
        None => corpus_root().join("upstream"),
    }
}

/// The corpus directory.
pub fn corpus_root() -> PathBuf {
    workspace_root().join("corpus")
}

/// The expectations file.
pub fn expectations() -> anyhow::Result<Expectations> {
    Expectations::load(&corpus_root().join("expectations.txt"))
}

/// The upstream suites the runner covers (the wit-component components are run by their own trials).
const SUITES: [&str; 3] = ["component-model", "wasmtime-misc", "wasm-tools"];

/// The default set of files: every upstream suite file and the corpus.
pub fn default_files() -> Vec<SuiteFile> {
    let root = conformance_root();
    let mut files = Vec::new();
    for suite in SUITES {
        collect(&root, &root.join(suite), &mut files, "");
    }
    let corpus = corpus_root();
    // The vendored suites live in the corpus too; they were collected above, under their upstream labels. The
    // WASI programs of corpus/wasi are not conformance files: harness/tests/wasi.rs runs them with a WASI host.
    let skipped = [corpus.join("upstream"), corpus.join("wasi")];
    for entry in std::fs::read_dir(&corpus).into_iter().flatten().flatten() {
        let path = entry.path();
        if skipped.contains(&path) {
            continue;
        }
        if path.is_dir() {
            collect(&corpus, &path, &mut files, "corpus/");
        } else if is_suite_file(&path) {
            files.push(SuiteFile { label: label(&corpus, &path, "corpus/"), path });
        }
    }
    files.sort_by(|a, b| a.label.cmp(&b.label));
    files
}

/// Files under the given paths (files or directories), labelled as [`label_of`] says.
pub fn files_under(paths: &[PathBuf]) -> Vec<SuiteFile> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let (base, prefix) = suite_base(p);
            collect(&base, p, &mut files, prefix);
        } else {
            files.push(SuiteFile { label: label_of(p), path: p.clone() });
        }
    }
    files.sort_by(|a, b| a.label.cmp(&b.label));
    files
}

/// The label of a file for reports and the expectations file, however its path is written (relative, absolute,
/// through symlinks): its path relative to the conformance root if it is in the upstream suites, `corpus/…` if
/// it is in the corpus, else the path as given.
pub fn label_of(path: &Path) -> String {
    let (base, prefix) = suite_base(path);
    label(&base, path, prefix)
}

/// The root a path's label is relative to, and the label's prefix.
fn suite_base(path: &Path) -> (PathBuf, &'static str) {
    let canonical = path.canonicalize().ok();
    let under = |root: &Path| canonical.as_ref().zip(root.canonicalize().ok()).is_some_and(|(p, r)| p.starts_with(r));
    let (root, corpus) = (conformance_root(), corpus_root());
    if under(&root) {
        (root, "")
    } else if under(&corpus) {
        (corpus, "corpus/")
    } else {
        (PathBuf::new(), "")
    }
}

fn label(base: &Path, path: &Path, prefix: &str) -> String {
    let rel = match (path.canonicalize(), base.canonicalize()) {
        (Ok(p), Ok(b)) => p.strip_prefix(&b).map(Path::to_path_buf).unwrap_or_else(|_| path.to_path_buf()),
        _ => path.to_path_buf(),
    };
    format!("{prefix}{}", rel.to_string_lossy().replace('\\', "/"))
}

fn is_suite_file(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "wast" || e == "wat" || e == "case")
}

fn collect(base: &Path, dir: &Path, out: &mut Vec<SuiteFile>, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(base, &p, out, prefix);
        } else if is_suite_file(&p) {
            out.push(SuiteFile { label: label(base, &p, prefix), path: p });
        }
    }
}

/// Runs one file on a fresh engine.
pub fn run_one(file: &SuiteFile, engine: &EngineSpec, exp: &Expectations) -> FileRun {
    if let Some(reason) = exp.file_skip(&file.label, &engine.name()) {
        return FileRun {
            path: file.label.clone(),
            engine: engine.name(),
            skipped: Some(reason.to_owned()),
            error: None,
            directives: Vec::new(),
        };
    }
    run_one_on(file, engine.open().as_mut(), exp)
}

/// Runs one file (`.wast`, or a `.case` regression) on `engine`.
pub fn run_one_on(file: &SuiteFile, engine: &mut dyn Engine, exp: &Expectations) -> FileRun {
    let mut run = FileRun {
        path: file.label.clone(),
        engine: engine.name().to_owned(),
        skipped: exp.file_skip(&file.label, engine.name()).map(str::to_owned),
        error: None,
        directives: Vec::new(),
    };
    if run.skipped.is_some() {
        return run;
    }
    if file.path.extension().is_some_and(|e| e == "case") {
        match CaseFile::load(&file.path) {
            Ok(case) => {
                run.directives = case
                    .run_calls(engine)
                    .into_iter()
                    .enumerate()
                    .map(|(i, r)| Directive {
                        line: i + 1,
                        kind: "call".into(),
                        result: r.map_or(DirResult::Pass, DirResult::Fail),
                    })
                    .collect();
            }
            Err(e) => run.error = Some(format!("cannot load {}: {e:#}", file.path.display())),
        }
        return run;
    }
    match std::fs::read_to_string(&file.path) {
        Ok(text) => run_file(&file.label, &text, engine, exp),
        Err(e) => {
            run.error = Some(format!("cannot read {}: {e}", file.path.display()));
            run
        }
    }
}

/// Runs every file on every named engine, `jobs` at a time; `progress` is called after each run.
pub fn run_all(
    files: &[SuiteFile],
    engs: &[EngineSpec],
    exp: &Expectations,
    jobs: usize,
    progress: &(dyn Fn(&FileRun) + Sync),
) -> anyhow::Result<Vec<FileRun>> {
    let work: Vec<(usize, usize)> = (0..files.len()).flat_map(|f| (0..engs.len()).map(move |e| (f, e))).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(vec![None; work.len()]);
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&(f, e)) = work.get(i) else { break };
                let run = run_one(&files[f], &engs[e], exp);
                progress(&run);
                results.lock().expect("no panics while holding the lock")[i] = Some(run);
            });
        }
    });
    Ok(results.into_inner().expect("threads joined").into_iter().flatten().collect())
}

/// Totals for one suite and engine.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Tally {
    /// Files that passed.
    pub passed: usize,
    /// Files that failed.
    pub failed: usize,
    /// Files skipped entirely.
    pub skipped: usize,
    /// Directives passed, failed, skipped (in files that ran).
    pub directives: (usize, usize, usize),
}

/// The suite a file belongs to, for the table: its first two path components.
pub fn suite_of(label: &str) -> String {
    label.split('/').take(2).collect::<Vec<_>>().join("/")
}

/// Tallies per (suite, engine).
pub fn tally(runs: &[FileRun]) -> Vec<(String, String, Tally)> {
    let mut out: Vec<(String, String, Tally)> = Vec::new();
    for r in runs {
        let suite = suite_of(&r.path);
        let idx = match out.iter().position(|(s, e, _)| *s == suite && *e == r.engine) {
            Some(i) => i,
            None => {
                out.push((suite, r.engine.clone(), Tally::default()));
                out.len() - 1
            }
        };
        let t = &mut out[idx].2;
        if r.skipped.is_some() {
            t.skipped += 1;
        } else if r.passed() {
            t.passed += 1;
        } else {
            t.failed += 1;
        }
        let (p, f, s) = r.counts();
        t.directives.0 += p;
        t.directives.1 += f;
        t.directives.2 += s;
    }
    out.sort_by(|a, b| a.0.cmp(&b.0).then(engine_rank(&a.1).cmp(&engine_rank(&b.1))));
    out
}

fn engine_rank(e: &str) -> usize {
    crate::engine::ENGINE_NAMES.iter().position(|n| *n == e).unwrap_or(usize::MAX)
}

/// The Markdown table of pass/fail/skip per suite and engine.
pub fn markdown_table(runs: &[FileRun]) -> String {
    let mut s = String::from(
        "| suite | engine | files passed | failed | skipped | directives passed | failed | skipped |\n|---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for (suite, engine, t) in tally(runs) {
        s.push_str(&format!(
            "| {suite} | {engine} | {} | {} | {} | {} | {} | {} |\n",
            t.passed, t.failed, t.skipped, t.directives.0, t.directives.1, t.directives.2
        ));
    }
    s
}

/// The closing line: `N passed, M failed, K skipped` over (file, engine) runs.
pub fn summary_line(runs: &[FileRun]) -> String {
    let passed = runs.iter().filter(|r| r.passed()).count();
    let skipped = runs.iter().filter(|r| r.skipped.is_some()).count();
    let failed = runs.len() - passed - skipped;
    format!("{passed} passed, {failed} failed, {skipped} skipped")
}
