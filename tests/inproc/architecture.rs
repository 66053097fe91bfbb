//! Architecture invariant: imports follow the data. No file of `src/` depends on itself
//! through other files of `src/`, and the same holds in `actors/src/`: two modules that
//! import each other (directly or round a longer loop) cannot be read, tested or moved one
//! at a time. Cargo forbids cycles only between crates, so this test reads the sources.
//!
//! The graph has one node per file. An edge `a.rs -> b.rs` is any path in `a.rs` that names
//! something defined in `b.rs`: `use crate::…`, `use super::…`, `use self::…`, `use child::…`,
//! and the same paths written inline in code (`crate::store::checkpoint(..)`,
//! `super::Fatal`, `wire::decode_input(..)` after `use crate::wire`). A path is followed
//! through the re-exports it passes (`use crate::kafka::RunStats` depends on the file that
//! defines `RunStats`, not on `kafka/mod.rs`), so a facade neither hides a dependency nor
//! invents one. A parent's `pub use child::Item` is such a facade and is not itself an edge,
//! unless the parent's own code uses `Item`. Comments and strings are ignored; a
//! `#[cfg(test)]` module counts as code of its file; paths into other crates do not count.
//! Binaries (`main.rs`, `bin/`) are separate crates and are not scanned.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::{Path, PathBuf};

#[test]
fn src_has_no_import_cycle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let graph = Graph::scan(&root.join("src"));
    assert!(
        graph.files.len() >= 40 && graph.edge_count() >= 60,
        "the scan looks broken: {} files, {} edges",
        graph.files.len(),
        graph.edge_count()
    );
    assert_no_cycles(&graph, root);
}

/// The actors crate, checked separately so each tree's verdict is visible on its own.
#[test]
fn actors_src_has_no_import_cycle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let graph = Graph::scan(&root.join("actors/src"));
    assert!(
        graph.files.len() >= 10 && graph.edge_count() >= 10,
        "the scan looks broken: {} files, {} edges",
        graph.files.len(),
        graph.edge_count()
    );
    assert_no_cycles(&graph, root);
}

/// The check itself: a planted cycle is found, and what is not a cycle is not reported.
/// The independent model of the rules (`src/model/`) is a second reading of RULES.md: it may
/// use the wire's owned input type and nothing of the core it checks, or it would only prove
/// that the core agrees with itself.
#[test]
fn the_model_shares_no_code_with_the_core() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    collect_rs(&root.join("src/model"), &mut files);
    assert!(files.len() >= 5, "src/model has {} files", files.len());
    let mut offenders = Vec::new();
    for f in &files {
        let code = strip(&std::fs::read_to_string(f).expect("read"));
        for (n, line) in code.lines().enumerate() {
            let uses_core = line.contains("pitboss_actors");
            let uses_crate = line
                .match_indices("crate::")
                .any(|(i, _)| !line[i..].starts_with("crate::wire"));
            if uses_core || uses_crate {
                offenders.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "the model imports what it checks:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_check_finds_planted_cycles_and_only_those() {
    let dir = std::env::temp_dir().join(format!("pitboss-architecture-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let write = |rel: &str, text: &str| {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write(
        "lib.rs",
        "pub mod a;\npub mod b;\npub mod k;\n// use crate::b::Cycle;  (a comment)\n",
    );
    // a -> b through a facade re-export, b -> a through an inline path: a cycle.
    write(
        "a.rs",
        "use crate::k::Stats;\npub struct A;\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
    );
    write(
        "b.rs",
        "pub fn f() -> crate::a::A { let _q = '\\''; let _s = \"crate::k::Tp\"; crate::a::A }\n",
    );
    // k/mod.rs defines Tp and re-exports Stats from its child, which uses Tp: no cycle.
    write(
        "k/mod.rs",
        "mod stats;\npub use stats::Stats;\npub type Tp = (u8, i32);\n",
    );
    write(
        "k/stats.rs",
        "use super::Tp;\nuse crate::b::f;\npub struct Stats(pub Vec<Tp>);\n",
    );
    let graph = Graph::scan(&dir);
    let cycles = graph.cycles();
    let names: Vec<Vec<String>> = cycles
        .iter()
        .map(|c| c.files.iter().map(|f| graph.rel(f, &dir)).collect())
        .collect();
    assert_eq!(
        names,
        vec![vec![
            "a.rs".to_string(),
            "b.rs".to_string(),
            "k/stats.rs".to_string()
        ]],
        "{}",
        graph.report(&dir)
    );
    // Without the inline path in b.rs nothing is left.
    write("b.rs", "pub fn f() {}\n");
    let graph = Graph::scan(&dir);
    assert!(graph.cycles().is_empty(), "{}", graph.report(&dir));
    // A parent that uses what it re-exports from a child that uses the parent: a cycle.
    write(
        "k/mod.rs",
        "mod stats;\npub use stats::Stats;\npub type Tp = (u8, i32);\npub fn g(_: &Stats) {}\n",
    );
    let graph = Graph::scan(&dir);
    assert_eq!(graph.cycles().len(), 1, "{}", graph.report(&dir));
    let _ = std::fs::remove_dir_all(&dir);
}

fn assert_no_cycles(graph: &Graph, root: &Path) {
    let cycles = graph.cycles();
    assert!(
        cycles.is_empty(),
        "import cycles between files (break each by moving what both sides need into its \
         own file, or by passing it in):\n{}",
        graph.report(root)
    );
}

/// One import, written in `file` at `line`, of something defined in the edge's target.
#[derive(Clone, Debug)]
struct Edge {
    line: usize,
    path: String,
}

struct Cycle {
    /// The files of one strongly connected component, sorted.
    files: Vec<PathBuf>,
    /// One loop through them, as (from, to, edge) steps.
    loop_steps: Vec<(PathBuf, PathBuf, Edge)>,
}

#[derive(Default)]
struct Graph {
    files: Vec<PathBuf>,
    edges: BTreeMap<PathBuf, BTreeMap<PathBuf, Vec<Edge>>>,
}

impl Graph {
    fn scan(src: &Path) -> Graph {
        let crate_ = Crate::read(src);
        let mut g = Graph {
            files: crate_.files.iter().map(|f| f.path.clone()).collect(),
            ..Graph::default()
        };
        for f in &crate_.files {
            for (target, edge) in crate_.dependencies(f) {
                if target != f.path {
                    g.edges
                        .entry(f.path.clone())
                        .or_default()
                        .entry(target)
                        .or_default()
                        .push(edge);
                }
            }
        }
        g
    }

    fn edge_count(&self) -> usize {
        self.edges.values().map(BTreeMap::len).sum()
    }

    fn rel(&self, p: &Path, root: &Path) -> String {
        p.strip_prefix(root).unwrap_or(p).display().to_string()
    }

    /// Strongly connected components of more than one file (Tarjan), each with one loop.
    fn cycles(&self) -> Vec<Cycle> {
        let index: HashMap<&PathBuf, usize> =
            self.files.iter().enumerate().map(|(i, f)| (f, i)).collect();
        let succ: Vec<Vec<usize>> = self
            .files
            .iter()
            .map(|f| {
                self.edges
                    .get(f)
                    .map(|m| m.keys().filter_map(|t| index.get(t).copied()).collect())
                    .unwrap_or_default()
            })
            .collect();
        let comps = tarjan(&succ);
        let mut out = Vec::new();
        for comp in comps.into_iter().filter(|c| c.len() > 1) {
            let members: BTreeSet<usize> = comp.iter().copied().collect();
            let start = *members.iter().next().expect("non-empty");
            // Shortest way back to `start` within the component (BFS).
            let mut prev: HashMap<usize, usize> = HashMap::new();
            let mut queue = VecDeque::from([start]);
            let mut end = None;
            'bfs: while let Some(n) = queue.pop_front() {
                for &s in &succ[n] {
                    if !members.contains(&s) {
                        continue;
                    }
                    if s == start {
                        end = Some(n);
                        break 'bfs;
                    }
                    if let std::collections::hash_map::Entry::Vacant(e) = prev.entry(s) {
                        e.insert(n);
                        queue.push_back(s);
                    }
                }
            }
            let mut chain = Vec::new();
            let mut n = end.expect("a component of two or more files has a loop");
            loop {
                chain.push(n);
                if n == start {
                    break;
                }
                n = prev[&n];
            }
            chain.reverse();
            chain.push(start);
            let loop_steps = chain
                .windows(2)
                .map(|w| {
                    let (a, b) = (&self.files[w[0]], &self.files[w[1]]);
                    let e = self.edges[a][b][0].clone();
                    (a.clone(), b.clone(), e)
                })
                .collect();
            let mut files: Vec<PathBuf> = members.iter().map(|&i| self.files[i].clone()).collect();
            files.sort();
            out.push(Cycle { files, loop_steps });
        }
        out.sort_by(|a, b| a.files.cmp(&b.files));
        out
    }

    fn report(&self, root: &Path) -> String {
        let mut s = String::new();
        for c in self.cycles() {
            let names: Vec<String> = c.files.iter().map(|f| self.rel(f, root)).collect();
            s += &format!("- {} files: {}\n", names.len(), names.join(", "));
            s += "  one loop:\n";
            for (a, b, e) in &c.loop_steps {
                s += &format!(
                    "    {}:{} uses {} (defined in {})\n",
                    self.rel(a, root),
                    e.line,
                    e.path,
                    self.rel(b, root)
                );
            }
            if c.files.len() > 2 {
                s += "  every import between them:\n";
                for a in &c.files {
                    for (b, edges) in self.edges.get(a).into_iter().flatten() {
                        if c.files.contains(b) {
                            s += &format!(
                                "    {}:{} uses {} (defined in {})\n",
                                self.rel(a, root),
                                edges[0].line,
                                edges[0].path,
                                self.rel(b, root)
                            );
                        }
                    }
                }
            }
        }
        s
    }
}

fn tarjan(succ: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct T<'a> {
        succ: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    impl T<'_> {
        fn visit(&mut self, v: usize) {
            self.index[v] = Some(self.next);
            self.low[v] = self.next;
            self.next += 1;
            self.stack.push(v);
            self.on_stack[v] = true;
            for i in 0..self.succ[v].len() {
                let w = self.succ[v][i];
                match self.index[w] {
                    None => {
                        self.visit(w);
                        self.low[v] = self.low[v].min(self.low[w]);
                    }
                    Some(iw) if self.on_stack[w] => self.low[v] = self.low[v].min(iw),
                    Some(_) => {}
                }
            }
            if Some(self.low[v]) == self.index[v] {
                let mut comp = Vec::new();
                loop {
                    let w = self.stack.pop().expect("on the stack");
                    self.on_stack[w] = false;
                    comp.push(w);
                    if w == v {
                        break;
                    }
                }
                self.out.push(comp);
            }
        }
    }
    let n = succ.len();
    let mut t = T {
        succ,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if t.index[v].is_none() {
            t.visit(v);
        }
    }
    t.out
}

/// A `use` binding: `name` (None for a glob) stands for `segs`, resolved from `scope`.
#[derive(Clone, Debug)]
struct Binding {
    scope: Vec<String>,
    segs: Vec<String>,
    name: Option<String>,
    public: bool,
    line: usize,
}

/// A path written in code, outside `use` items.
struct InlinePath {
    scope: Vec<String>,
    segs: Vec<String>,
    line: usize,
}

struct SourceFile {
    path: PathBuf,
    /// The module the file is (`[]` for lib.rs).
    module: Vec<String>,
    bindings: Vec<Binding>,
    inline_paths: Vec<InlinePath>,
    /// Identifiers written outside `use` items (to tell whether a re-export is used).
    idents: BTreeSet<String>,
}

struct Crate {
    files: Vec<SourceFile>,
    /// Every module (files and inline `mod x { .. }`) and the file it is written in.
    modules: BTreeMap<Vec<String>, usize>,
}

impl Crate {
    fn read(src: &Path) -> Crate {
        let mut paths = Vec::new();
        collect_rs(src, &mut paths);
        paths.sort();
        let mut files = Vec::new();
        let mut modules = BTreeMap::new();
        for p in paths {
            let rel = p.strip_prefix(src).expect("under src");
            let parts: Vec<String> = rel
                .iter()
                .map(|c| c.to_string_lossy().into_owned())
                .collect();
            if parts == ["main.rs"] || parts.first().is_some_and(|f| f == "bin") {
                continue;
            }
            let mut module: Vec<String> = parts.clone();
            let last = module.pop().expect("a file name");
            match last.as_str() {
                "lib.rs" | "mod.rs" => {}
                other => module.push(other.trim_end_matches(".rs").to_string()),
            }
            let text = std::fs::read_to_string(&p).expect("readable source");
            let (f, inline_mods) = parse(&p, module, &strip(&text));
            let i = files.len();
            modules.insert(f.module.clone(), i);
            for m in inline_mods {
                modules.entry(m).or_insert(i);
            }
            files.push(f);
        }
        Crate { files, modules }
    }

    /// Every file `f` depends on, with the import that says so.
    fn dependencies(&self, f: &SourceFile) -> Vec<(PathBuf, Edge)> {
        let mut out = Vec::new();
        for b in &f.bindings {
            let facade = b.public
                && b.scope == f.module
                && self.is_child(&f.module, &b.segs)
                && b.name.as_ref().is_none_or(|n| !f.idents.contains(n));
            if facade {
                continue;
            }
            if let Some(t) = self.resolve(&b.scope, &b.segs, 0) {
                out.push((
                    self.files[t].path.clone(),
                    Edge {
                        line: b.line,
                        path: b.segs.join("::"),
                    },
                ));
            }
        }
        for p in &f.inline_paths {
            if let Some(t) = self.resolve(&p.scope, &p.segs, 0) {
                out.push((
                    self.files[t].path.clone(),
                    Edge {
                        line: p.line,
                        path: p.segs.join("::"),
                    },
                ));
            }
        }
        out
    }

    /// `segs` starts at a child module of `module` (`child::…` or `self::child::…`).
    fn is_child(&self, module: &[String], segs: &[String]) -> bool {
        let segs = if segs.first().is_some_and(|s| s == "self") {
            &segs[1..]
        } else {
            segs
        };
        segs.len() > 1 && self.modules.contains_key(&join(module, &segs[0]))
    }

    fn binding(&self, module: &[String], name: &str) -> Option<&Binding> {
        let file = &self.files[*self.modules.get(module)?];
        file.bindings
            .iter()
            .find(|b| b.scope == module && b.name.as_deref() == Some(name))
    }

    /// The file that defines what `segs`, written in module `scope`, names; `None` outside
    /// the crate.
    fn resolve(&self, scope: &[String], segs: &[String], depth: usize) -> Option<usize> {
        if depth > 32 || segs.is_empty() {
            return None;
        }
        let mut m: Vec<String>;
        let rest: &[String];
        match segs[0].as_str() {
            "crate" => {
                m = Vec::new();
                rest = &segs[1..];
            }
            "self" => {
                m = scope.to_vec();
                rest = &segs[1..];
            }
            "super" => {
                m = scope.to_vec();
                let mut i = 0;
                while segs.get(i).is_some_and(|s| s == "super") {
                    m.pop()?;
                    i += 1;
                }
                rest = &segs[i..];
            }
            first => {
                if self.modules.contains_key(&join(scope, first)) {
                    m = scope.to_vec();
                    rest = segs;
                } else {
                    let b = self.binding(scope, first)?;
                    let mut full = b.segs.clone();
                    full.extend_from_slice(&segs[1..]);
                    return self.resolve(&b.scope.clone(), &full, depth + 1);
                }
            }
        }
        for (i, seg) in rest.iter().enumerate() {
            let child = join(&m, seg);
            if self.modules.contains_key(&child) {
                m = child;
                continue;
            }
            if let Some(b) = self.binding(&m, seg) {
                let mut full = b.segs.clone();
                full.extend_from_slice(&rest[i + 1..]);
                return self.resolve(&b.scope.clone(), &full, depth + 1);
            }
            break;
        }
        self.modules.get(&m).copied()
    }
}

fn join(m: &[String], s: &str) -> Vec<String> {
    let mut v = m.to_vec();
    v.push(s.to_string());
    v
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        panic!("cannot read {}", dir.display());
    };
    for e in entries {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            collect_rs(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The source with comments, string and character literals blanked (newlines kept).
fn strip(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |ch: char| if ch == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < c.len() {
        let at = |k: usize| c.get(i + k).copied().unwrap_or('\0');
        if at(0) == '/' && at(1) == '/' {
            while i < c.len() && c[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if at(0) == '/' && at(1) == '*' {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(c[i]));
                    i += 1;
                }
            }
        } else if (at(0) == 'r' || (at(0) == 'b' && at(1) == 'r'))
            && !c
                .get(i.wrapping_sub(1))
                .is_some_and(|p| p.is_alphanumeric() || *p == '_')
            && {
                let s = if at(0) == 'b' { 2 } else { 1 };
                let mut k = s;
                while at(k) == '#' {
                    k += 1;
                }
                at(k) == '"'
            }
        {
            // Raw string: r"..", r#".."#, br"..".
            let s = if at(0) == 'b' { 2 } else { 1 };
            let mut hashes = 0;
            while at(s + hashes) == '#' {
                hashes += 1;
            }
            for _ in 0..s + hashes + 1 {
                out.push(' ');
            }
            i += s + hashes + 1;
            while i < c.len() {
                if c[i] == '"' && (1..=hashes).all(|h| c.get(i + h) == Some(&'#')) {
                    for _ in 0..=hashes {
                        out.push(' ');
                    }
                    i += hashes + 1;
                    break;
                }
                out.push(blank(c[i]));
                i += 1;
            }
        } else if at(0) == '"' {
            out.push(' ');
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < c.len() {
                    out.push(blank(c[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if at(0) == '\'' {
            // A character literal ('a', '\n', '\u{1F600}') or a lifetime ('a).
            if at(1) == '\\' {
                // Skip the escaped character, so that '\'' does not end at the escaped quote.
                let mut k = 3;
                while i + k < c.len() && c[i + k] != '\'' {
                    k += 1;
                }
                for _ in 0..=k {
                    out.push(' ');
                }
                i += k + 1;
            } else if at(2) == '\'' {
                out.push_str("   ");
                i += 3;
            } else {
                out.push(' ');
                i += 1;
            }
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

#[derive(Clone, Debug, PartialEq)]
struct Tok {
    text: String,
    line: usize,
}

fn tokens(code: &str) -> Vec<Tok> {
    let c: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == ':' && c.get(i + 1) == Some(&':') {
            out.push(Tok {
                text: "::".into(),
                line,
            });
            i += 2;
        } else if ch.is_alphabetic() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            let mut text: String = c[start..i].iter().collect();
            if text == "r" && c.get(i) == Some(&'#') {
                // A raw identifier: r#type.
                i += 1;
                let s = i;
                while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                    i += 1;
                }
                text = c[s..i].iter().collect();
            }
            out.push(Tok { text, line });
        } else if ch.is_ascii_digit() {
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_' || c[i] == '.') {
                i += 1;
            }
        } else {
            out.push(Tok {
                text: ch.to_string(),
                line,
            });
            i += 1;
        }
    }
    out
}

/// The bindings, inline paths and identifiers of one file, and its inline modules.
fn parse(path: &Path, module: Vec<String>, code: &str) -> (SourceFile, Vec<Vec<String>>) {
    let t = tokens(code);
    let mut f = SourceFile {
        path: path.to_path_buf(),
        module: module.clone(),
        bindings: Vec::new(),
        inline_paths: Vec::new(),
        idents: BTreeSet::new(),
    };
    let mut inline_mods = Vec::new();
    // Open inline modules: (name, brace depth inside them).
    let mut scopes: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let scope_of = |scopes: &[(String, usize)]| {
        let mut s = module.clone();
        s.extend(scopes.iter().map(|(n, _)| n.clone()));
        s
    };
    let mut i = 0;
    while i < t.len() {
        let tok = t[i].text.as_str();
        match tok {
            "{" => {
                depth += 1;
                i += 1;
            }
            "}" => {
                if scopes.last().is_some_and(|(_, d)| *d == depth) {
                    scopes.pop();
                }
                depth = depth.saturating_sub(1);
                i += 1;
            }
            "mod" if t.get(i + 2).is_some_and(|n| n.text == "{") => {
                let name = t[i + 1].text.clone();
                depth += 1;
                scopes.push((name, depth));
                inline_mods.push(scope_of(&scopes));
                i += 3;
            }
            "use" => {
                let public = is_public(&t, i);
                let scope = scope_of(&scopes);
                let mut j = i + 1;
                let mut found = Vec::new();
                use_tree(&t, &mut j, Vec::new(), &mut found);
                for (segs, name, line) in found {
                    f.bindings.push(Binding {
                        scope: scope.clone(),
                        segs,
                        name,
                        public,
                        line,
                    });
                }
                while j < t.len() && t[j].text != ";" {
                    j += 1;
                }
                i = j + 1;
            }
            _ => {
                let is_ident = tok
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_alphabetic() || c == '_');
                if is_ident {
                    f.idents.insert(tok.to_string());
                }
                let after_colons = i > 0 && t[i - 1].text == "::";
                let starts_path = is_ident
                    && !after_colons
                    && t.get(i + 1).is_some_and(|n| n.text == "::")
                    && t.get(i + 2).is_some_and(|n| is_word(&n.text));
                if starts_path {
                    let mut segs = vec![tok.to_string()];
                    let mut j = i + 1;
                    while t.get(j).is_some_and(|n| n.text == "::")
                        && t.get(j + 1).is_some_and(|n| is_word(&n.text))
                    {
                        segs.push(t[j + 1].text.clone());
                        j += 2;
                    }
                    f.inline_paths.push(InlinePath {
                        scope: scope_of(&scopes),
                        segs,
                        line: t[i].line,
                    });
                    i = j;
                } else {
                    i += 1;
                }
            }
        }
    }
    (f, inline_mods)
}

fn is_word(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
}

/// `pub use`, `pub(crate) use`, `pub(in …) use`.
fn is_public(t: &[Tok], use_at: usize) -> bool {
    let Some(mut k) = use_at.checked_sub(1) else {
        return false;
    };
    if t[k].text == ")" {
        while k > 0 && t[k].text != "(" {
            k -= 1;
        }
        let Some(before) = k.checked_sub(1) else {
            return false;
        };
        k = before;
    }
    t[k].text == "pub"
}

/// Parses a use tree at `t[*j]`, appending (path, bound name, line) for every leaf.
fn use_tree(
    t: &[Tok],
    j: &mut usize,
    prefix: Vec<String>,
    out: &mut Vec<(Vec<String>, Option<String>, usize)>,
) {
    let mut path = prefix;
    loop {
        let Some(tok) = t.get(*j) else { return };
        match tok.text.as_str() {
            "::" => *j += 1,
            "{" => {
                *j += 1;
                while t.get(*j).is_some_and(|n| n.text != "}") {
                    use_tree(t, j, path.clone(), out);
                    if t.get(*j).is_some_and(|n| n.text == ",") {
                        *j += 1;
                    }
                }
                *j += 1;
                return;
            }
            "*" => {
                *j += 1;
                out.push((path, None, tok.line));
                return;
            }
            w if is_word(w) => {
                path.push(w.to_string());
                *j += 1;
                if t.get(*j).is_some_and(|n| n.text == "::") {
                    continue;
                }
                if path.len() > 1 && path.last().is_some_and(|s| s == "self") {
                    path.pop();
                }
                let mut name = path.last().cloned();
                if t.get(*j).is_some_and(|n| n.text == "as") {
                    name = t.get(*j + 1).map(|n| n.text.clone());
                    *j += 2;
                }
                out.push((path, name, tok.line));
                return;
            }
            _ => return,
        }
    }
}
