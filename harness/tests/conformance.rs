//! The conformance suites as libtest-mimic trials: one per (file, engine), named
//! `component-model/values/strings.wast::layer-wasmi`. Files skipped by `corpus/expectations.txt` are reported
//! as ignored trials. The components wit-component emits are trials too, named
//! `wit-component/<name>.wat::<engine>`: each must load, be refused, instantiate or trap as wasmtime 48 does.

use std::sync::Arc;

use component_harness::{conform, engines, toolchain};
use libtest_mimic::{Arguments, Failed, Trial};

fn main() {
    let args = Arguments::from_args();
    let exp = Arc::new(conform::expectations().expect("corpus/expectations.txt parses"));
    let engines: Vec<Arc<dyn engines::Engine>> = engines::ENGINE_NAMES
        .iter()
        .map(|n| Arc::from(engines::by_name(n).expect("known engine")))
        .collect();
    let mut trials = Vec::new();
    for file in conform::default_files() {
        for engine in &engines {
            let name = format!("{}::{}", file.label, engine.name());
            let skipped = exp.file_skip(&file.label, engine.name()).is_some();
            let (file, engine, exp) = (file.clone(), engine.clone(), exp.clone());
            trials.push(
                Trial::test(name, move || {
                    let run = conform::run_one(&file, engine.as_ref(), &exp);
                    if run.passed() {
                        Ok(())
                    } else {
                        Err(Failed::from(run.failure_summary()))
                    }
                })
                .with_ignored_flag(skipped),
            );
        }
    }
    for case in toolchain::cases().expect("wit-component/index.tsv is readable") {
        for engine in &engines {
            let label = format!("wit-component/{}", case.name);
            let skipped = exp.file_skip(&label, engine.name()).is_some();
            let (case, engine) = (case.clone(), engine.clone());
            trials.push(
                Trial::test(format!("{label}::{}", engine.name()), move || {
                    toolchain::run_case(&case, engine.as_ref()).map_err(Failed::from)
                })
                .with_ignored_flag(skipped),
            );
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
