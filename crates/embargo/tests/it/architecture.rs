//! The shape of the code, checked: no import cycle between the modules of
//! any crate, no adapter of the server importing another, and no HTML
//! rendered under the JSON API.
//!
//! A module is a source file (`desk/cases.rs` is `desk::cases`, a folder's
//! `mod.rs` is the folder). A module depends on another when it names it by
//! a `crate::` path outside its tests. A module and its own parent or child
//! are one unit (a parent declares its children; a child may use its
//! parent's items), so those edges are not counted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The crates' `src` folders, from this crate's manifest.
fn crate_sources() -> Vec<(String, PathBuf)> {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(crates)
        .unwrap()
        .filter_map(|e| {
            let dir = e.ok()?.path();
            let src = dir.join("src");
            src.is_dir()
                .then(|| (dir.file_name().unwrap().to_string_lossy().into_owned(), src))
        })
        .collect();
    out.sort();
    assert!(out.len() >= 5, "{out:?}");
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `desk::cases` for `src/desk/cases.rs`; the crate root is "".
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts.join("::")
}

/// The code outside `#[cfg(test)]` modules (a test may reach anywhere) and
/// outside comments (a doc link is no dependency).
fn without_tests(text: &str) -> String {
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .map(|l| format!("{l}\n"))
        .collect();
    let mut out = String::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        // Skip the item: to its closing brace at depth zero, or to `;`.
        let mut depth = 0usize;
        let mut end = after.len();
        for (i, c) in after.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    end = i + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Every module path named after `crate::`, braces of a `use` expanded.
fn crate_paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        let preceded = rest[..at].chars().last();
        rest = &rest[at + "crate::".len()..];
        if preceded.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `embargo_crate::`, not `crate::`
        }
        let path: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        let path = path.trim_end_matches(':').to_owned();
        if rest[path.len()..].starts_with("::{") || rest[path.len()..].starts_with('{') {
            let group_start = rest.find('{').unwrap();
            let group_end = rest[group_start..]
                .find('}')
                .map_or(rest.len(), |e| group_start + e);
            for item in rest[group_start + 1..group_end].split(',') {
                let item = item.trim().trim_start_matches('{').trim();
                let prefix = if path.is_empty() {
                    String::new()
                } else {
                    format!("{path}::")
                };
                out.push(format!(
                    "{prefix}{}",
                    item.split(" as ").next().unwrap_or("").trim()
                ));
            }
        }
        out.push(path);
    }
    out
}

/// Each crate's module graph: module → the modules it depends on.
fn graphs() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let mut all = BTreeMap::new();
    for (name, src) in crate_sources() {
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        let modules: BTreeMap<String, PathBuf> = files
            .iter()
            .map(|f| (module_of(&src, f), f.clone()))
            .collect();
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (module, file) in &modules {
            let text = without_tests(&std::fs::read_to_string(file).unwrap());
            let deps = graph.entry(module.clone()).or_default();
            for path in crate_paths(&text) {
                // The longest prefix of the path that is a module.
                let mut target = path.as_str();
                while !modules.contains_key(target) {
                    match target.rfind("::") {
                        Some(i) => target = &target[..i],
                        None => {
                            target = "";
                            break;
                        }
                    }
                }
                let related = target.is_empty()
                    || module.is_empty()
                    || target == module
                    || module.starts_with(&format!("{target}::"))
                    || target.starts_with(&format!("{module}::"));
                if !related {
                    deps.insert(target.to_owned());
                }
            }
        }
        all.insert(name, graph);
    }
    all
}

/// The strongly connected groups of more than one module (Tarjan).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.graph.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut group = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    group.push(w.to_owned());
                    if w == v {
                        break;
                    }
                }
                if group.len() > 1 {
                    group.sort();
                    self.found.push(group);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !walk.index.contains_key(v.as_str()) {
            walk.visit(v);
        }
    }
    walk.found
}

#[test]
fn no_crate_has_an_import_cycle_between_its_modules() {
    let mut found = Vec::new();
    for (name, graph) in graphs() {
        for group in cycles(&graph) {
            // Name the edges that close the circle, to say what to untie.
            let edges: Vec<String> = group
                .iter()
                .flat_map(|m| {
                    graph[m]
                        .iter()
                        .filter(|d| group.contains(d))
                        .map(move |d| format!("{m} -> {d}"))
                })
                .collect();
            found.push(format!("{name}: {}", edges.join(", ")));
        }
    }
    assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
}

/// The server's adapters: each translates between the outside and the
/// application layer, and none reaches into another.
const ADAPTERS: [&str; 4] = ["api", "desk", "pages", "mailbox"];

#[test]
fn no_adapter_imports_another_and_the_api_renders_no_html() {
    let graph = &graphs()["server"];
    let top = |m: &str| m.split("::").next().unwrap_or("").to_owned();
    let mut found = Vec::new();
    for (module, deps) in graph {
        let own = top(module);
        if !ADAPTERS.contains(&own.as_str()) {
            continue;
        }
        for dep in deps {
            let theirs = top(dep);
            if theirs != own && ADAPTERS.contains(&theirs.as_str()) {
                found.push(format!("{module} -> {dep}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "adapters importing adapters:\n{}",
        found.join("\n")
    );
    // No HTML under api/: no template, no tag written by hand.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/src/api");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for file in files {
        let text = without_tests(&std::fs::read_to_string(&file).unwrap());
        for marker in [
            "<h1",
            "<p>",
            "<li>",
            "<dt>",
            "<html",
            "<table",
            "minijinja",
            "text/html",
            // Nor the public documents: they are pages/documents.rs's.
            "<?xml",
            "atom+xml",
            "text/markdown",
        ] {
            assert!(
                !text.contains(marker),
                "{} renders HTML or a document (`{marker}`); the API answers JSON, \
                 pages belong to pages/ or desk/",
                file.display()
            );
        }
    }
    // The public pages are templates: no markup written in code.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/src/pages");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for file in files {
        let text = without_tests(&std::fs::read_to_string(&file).unwrap());
        for marker in ["<h1", "<h2", "<p>", "<li>", "<form", "<pre>", "<entry>"] {
            assert!(
                !text.contains(marker),
                "{} writes markup (`{marker}`) in code; it belongs in templates/",
                file.display()
            );
        }
    }
}

/// The store keeps data and decides nothing: what follows from an event
/// (reactions, notices) and what a command does are decided in core and
/// carried out by the application layer.
#[test]
fn the_store_decides_nothing() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../store/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for file in files {
        let text = without_tests(&std::fs::read_to_string(&file).unwrap());
        for marker in [
            "reactions",
            "Notice::of",
            "decide(",
            "Notice::finding_deadline",
            "portfolio::changes",
            "rule_for",
        ] {
            assert!(
                !text.contains(marker),
                "{} decides (`{marker}`); that is core's, carried out by the app layer",
                file.display()
            );
        }
    }
}

/// The store reads rows by column name, never by position: a column added
/// to a SELECT cannot shift what another one means.
#[test]
fn the_store_reads_rows_by_column_name() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../store/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let positional = line.match_indices("try_get").any(|(at, _)| {
                let rest = line[at + "try_get".len()..].trim_start_matches(|c| c != '(');
                rest.chars().nth(1).is_some_and(|c| c.is_ascii_digit())
            });
            assert!(
                !positional,
                "{}:{}: a row read by position: {}",
                file.display(),
                n + 1,
                line.trim()
            );
        }
    }
}
