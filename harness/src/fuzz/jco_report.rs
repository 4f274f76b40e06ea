//! jco findings as upstream-ready reports.
//!
//! A divergence in which jco alone disagrees with wasmtime and component-layer ([`Blame::Jco`]) is jco's, and a
//! jco maintainer should be able to act on it without our harness: next to the shrunk regression (the `.wast` or
//! `.case` the fuzz loop writes, in `corpus/jco/` beside `corpus/regressions/`), a Markdown report gives the jco
//! version, what the other engines did and what jco did, the WIT (the generator's own world), the component as
//! WAT (wasmprinter) and a JavaScript snippet that transpiles and calls it. Reduction to a hand-minimal component
//! is left to the triager (see the reports already in `corpus/jco/`).

use std::path::{Path, PathBuf};

use component_gen::case::export_path;
use component_gen::Case;

use crate::diff::Divergence;
use crate::engine::jco::convert::lower_camel;
use crate::engine::jco::JCO_VERSION;

/// Where jco findings go: `corpus/jco/` beside `corpus/regressions/`, or `DIR/jco/` for any other directory.
pub fn jco_dir(regressions: &Path) -> PathBuf {
    match (regressions.file_name(), regressions.parent()) {
        (Some(n), Some(parent)) if n == "regressions" => parent.join("jco"),
        _ => regressions.join("jco"),
    }
}

/// The report of divergence `d` of `case`, whose regression is the file `regression`.
pub fn render(case: &Case, d: &Divergence, regression: &str) -> String {
    let name = Path::new(regression).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let wasm = name.rsplit_once('.').map_or(name.clone(), |(stem, _)| format!("{stem}.wasm"));
    let wat = wasmprinter::print_bytes(&case.component).unwrap_or_else(|e| format!(";; wasmprinter: {e}"));
    let mut s = format!("# jco {JCO_VERSION}: {} differs from wasmtime and component-layer\n\n", d.what);
    s.push_str(&format!(
        "- **jco**: `@bytecodealliance/jco` {JCO_VERSION} (npm), transpiled with default options (`instantiation: \
         sync`), Node {}\n",
        node_version()
    ));
    s.push_str(&format!("- **Found by**: `component-harness fuzz`, seed {} tier {}\n", case.seed, case.tier));
    s.push_str(&format!("- **Regression**: `{name}` (replays on every engine)\n\n## Outcomes\n\n"));
    if let Some(e) = &d.expected {
        s.push_str(&format!("Expected (the case's own expectation): `{e}`\n\n"));
    }
    for (engine, outcome) in &d.outcomes {
        let wrong = if d.wrong.contains(engine) { " (wrong)" } else { "" };
        s.push_str(&format!("- {engine}{wrong}: `{}`", outcome.replace('`', "'")));
        // The compared class hides which check failed: the engine's own message says it.
        if let Some((_, f)) = d.failures.iter().find(|(e, _)| e == engine) {
            let message = f.message().lines().next().unwrap_or_default();
            if !outcome.contains(message) {
                s.push_str(&format!(" (`{}`)", message.replace('`', "'")));
            }
        }
        s.push('\n');
    }
    s.push_str(&format!("\n## WIT\n\n```wit\n{}```\n\n", case.wit()));
    s.push_str(&format!("## Component (WAT)\n\n```wat\n{wat}\n```\n\n"));
    s.push_str(&format!("## JavaScript\n\n```js\n{}```\n", snippet(case, d, &wasm)));
    s
}

/// A snippet that transpiles the component and makes the diverging call (its arguments as the case has them; the
/// host imports print their arguments and return `undefined`, so imports that must answer need filling in).
fn snippet(case: &Case, d: &Divergence, wasm: &str) -> String {
    let call = d.call.and_then(|i| case.calls.get(i));
    let invoke = match call {
        Some(c) => {
            let path: Vec<String> = export_path(&c.export).into_iter().map(lower_camel).collect();
            let args: Vec<String> = c.args.iter().map(crate::wave::to_wave).collect();
            format!(
                "// the call: {}({})\nconsole.log(api.{}(/* arguments as above, in jco's JS form */));\n",
                c.export,
                args.join(", "),
                path.join(".")
            )
        }
        None => "// the divergence is in loading the component: transpile or instantiate fails\n".into(),
    };
    format!(
        "// node repro.mjs  (Node 20; npm i @bytecodealliance/jco@{JCO_VERSION}); {wasm}: the WAT above, assembled\n\
         import fs from 'node:fs';\n\
         import {{ transpile }} from '@bytecodealliance/jco';\n\
         const {{ files }} = await transpile(fs.readFileSync('{wasm}'), {{ name: 'c', instantiation: {{ tag: 'sync' }} }});\n\
         fs.mkdirSync('out', {{ recursive: true }});\n\
         for (const [n, b] of Object.entries(files)) fs.writeFileSync(`out/${{n}}`, b);\n\
         const {{ instantiate }} = await import('./out/c.js');\n\
         const host = new Proxy({{}}, {{ get: (_, m) => new Proxy({{}}, {{ get: (_, f) => (...a) => console.log('host', m, f, a) }}) }});\n\
         const api = instantiate((n) => new WebAssembly.Module(fs.readFileSync(`out/${{n}}`)), host);\n\
         {invoke}"
    )
}

fn node_version() -> String {
    std::process::Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "(unknown)".into())
}

/// Writes the report beside the regression file: `<regression>.md`.
pub fn write(case: &Case, d: &Divergence, regression: &str) -> anyhow::Result<String> {
    let path = format!("{regression}.md");
    std::fs::write(&path, render(case, d, regression))?;
    Ok(path)
}
