//! The layering of the crate, checked: the import graph of its top-level modules has no
//! cycle, and the xAPI model imports nothing of the crate. Read from the source tree, so
//! `cargo test` fails as soon as a `use crate::…` line points back up.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// Every `crate::name` a module's files mention outside comments.
fn imports_of(path: &Path, own: &str, modules: &BTreeSet<String>, out: &mut BTreeSet<String>) {
    if path.is_dir() {
        let mut entries: Vec<_> = fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for entry in entries {
            imports_of(&entry, own, modules, out);
        }
        return;
    }
    if path.extension().is_none_or(|e| e != "rs") {
        return;
    }
    let text = fs::read_to_string(path).unwrap_or_default();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        for (at, _) in code.match_indices("crate::") {
            let name: String = code[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if name != own && modules.contains(&name) {
                out.insert(name);
            }
        }
    }
}

fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules: BTreeSet<String> = fs::read_dir(&src)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let module = name.strip_suffix(".rs").unwrap_or(&name).to_owned();
            let is_module = e.path().is_dir() || name.ends_with(".rs");
            (is_module && !["lib", "main", "layers"].contains(&module.as_str())).then_some(module)
        })
        .collect();
    modules
        .iter()
        .map(|m| {
            let mut imports = BTreeSet::new();
            for path in [src.join(m), src.join(format!("{m}.rs"))] {
                if path.exists() {
                    imports_of(&path, m, &modules, &mut imports);
                }
            }
            (m.clone(), imports)
        })
        .collect()
}

/// A cycle through `from`, as the path of modules that closes it.
fn cycle_from(graph: &Graph, from: &str) -> Option<Vec<String>> {
    let mut stack = vec![(from.to_owned(), vec![from.to_owned()])];
    let mut seen = BTreeSet::new();
    while let Some((module, path)) = stack.pop() {
        for next in graph.get(&module).into_iter().flatten() {
            if next == from {
                let mut cycle = path.clone();
                cycle.push(from.to_owned());
                return Some(cycle);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push((next.clone(), longer));
            }
        }
    }
    None
}

#[test]
fn top_level_modules_import_each_other_without_cycles() {
    let graph = graph();
    assert!(graph.len() > 5, "modules not found: {graph:?}");
    let cycles: Vec<String> = graph
        .keys()
        .filter_map(|m| cycle_from(&graph, m))
        .map(|c| c.join(" → "))
        .collect();
    assert!(
        cycles.is_empty(),
        "module cycles: {cycles:#?}\nimports: {graph:#?}"
    );
}

#[test]
fn the_xapi_model_imports_nothing_of_the_crate() {
    let graph = graph();
    assert_eq!(graph.get("xapi"), Some(&BTreeSet::new()), "{graph:#?}");
}

#[test]
fn a_cycle_is_found() {
    let graph: Graph = [("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")]
        .into_iter()
        .fold(Graph::new(), |mut g, (from, to)| {
            g.entry(from.into()).or_default().insert(to.into());
            g
        });
    assert_eq!(
        cycle_from(&graph, "a"),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    assert_eq!(cycle_from(&graph, "d"), None);
}
