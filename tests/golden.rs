//! Golden reports: every shipped lab (`labs/*.rhai`, found in the directory) run with
//! `--deterministic` writes exactly the report.md and report.html committed in
//! `tests/golden/<lab>/`. A change to a lab, to labrun's analysis or to its report shows
//! up here as a line diff, to be read and then accepted with
//! `LABRUN_UPDATE_GOLDEN=1 cargo test --test golden` (which rewrites the golden files).
//!
//! Layout of `tests/golden/<lab>/`:
//! - `report.md`, `report.html`: the English report (`--lang en`, always tested);
//! - `report.<lang>.md`, `report.<lang>.html`: the report in another language, run with
//!   `--lang <lang>` whenever its report.<lang>.md exists (make the first one with
//!   `LABRUN_UPDATE_GOLDEN=1 LABRUN_GOLDEN_LANGS=zh cargo test --test golden`);
//! - `args`: extra command-line arguments for the lab's golden runs (e.g. `--network
//!   loopback`), when it has one; `varies.md` says why;
//! - `varies.md`: present only for a lab whose packets may change from run to run; it says
//!   what and why. That lab gets up to three runs per language and passes when one of them
//!   writes exactly its golden files: a real change to the lab or to labrun still fails.
//!
//! - `varies-figures.md`: present only for a lab whose figures (drawn from every frame)
//!   may change from run to run while its text does not; it says why. Its report.html is
//!   compared with each figure's drawing left out (report.md, the text, still exactly).
//!
//! Every Chinese report is also searched for English sentences left untranslated
//! (`common::english`) and for words the glossary replaces (docs/glossary-zh.md, "Replaced
//! words"): the test lists them.
//!
//! The labs run in two worker threads; a lab's languages run one after the other, never
//! two runs of the same lab at once (they would clash on loopback ports).

mod common;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

/// The student every golden report is made for.
const STUDENT: &str = "20215120807 Li Yihang";

/// Set to 1 to rewrite the golden files from this run.
const UPDATE: &str = "LABRUN_UPDATE_GOLDEN";

/// Extra languages to run every lab in (comma separated), e.g. `zh`.
const LANGS: &str = "LABRUN_GOLDEN_LANGS";

/// Labs run at the same time. Two keep the test short (the syn_craft lab mostly waits for
/// the server's retransmissions) without loading the machine so much that a kernel timer
/// (a delayed ACK) fires after the script moved on or after a capture stopped.
const WORKERS: usize = 2;

/// Runs of a lab that declares it varies (`varies.md`): one of them must match.
const ATTEMPTS_IF_VARIES: usize = 3;

/// Lines of diff printed per file at most.
const MAX_DIFF_LINES: usize = 40;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The stems of `labs/*.rhai`, sorted.
fn shipped_labs() -> Vec<String> {
    let mut labs: Vec<String> = std::fs::read_dir(root().join("labs"))
        .expect("the labs directory")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rhai"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    labs.sort();
    labs
}

/// The golden file of `file` ("report.md") in `lang`: report.md for English,
/// report.zh.md for Chinese.
fn golden_name(file: &str, lang: &str) -> String {
    match (lang, file.rsplit_once('.')) {
        ("en", _) | (_, None) => file.to_string(),
        (_, Some((stem, ext))) => format!("{stem}.{lang}.{ext}"),
    }
}

/// English, then every language a golden report.<lang>.md exists for or `LANGS` names.
fn languages(dir: &Path) -> Vec<String> {
    let mut langs = vec!["en".to_string()];
    let mut extra: Vec<String> = std::env::var(LANGS)
        .unwrap_or_default()
        .split(',')
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.filter_map(Result::ok) {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(lang) = name
                .strip_prefix("report.")
                .and_then(|r| r.strip_suffix(".md"))
            {
                extra.push(lang.to_string());
            }
        }
    }
    extra.sort();
    for l in extra {
        if !langs.contains(&l) {
            langs.push(l);
        }
    }
    langs
}

/// A short line diff of `golden` against `actual`: each changed line with its line number
/// (the golden file's for `-` and context, this run's for `+`) and one line of context
/// around each change, at most [`MAX_DIFF_LINES`] lines.
fn short_diff(golden: &str, actual: &str) -> String {
    let a: Vec<&str> = golden.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    // (mark, line number, text) for every line, in order.
    let mut ops: Vec<(char, usize, &str)> = Vec::new();
    // The common head and tail, and a longest-common-subsequence diff of the middle.
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    ops.extend((0..head).map(|i| (' ', i + 1, a[i])));
    let (am, bm) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    if am.len() * bm.len() > 4_000_000 {
        ops.extend(am.iter().enumerate().map(|(i, l)| ('-', head + i + 1, *l)));
        ops.extend(bm.iter().enumerate().map(|(j, l)| ('+', head + j + 1, *l)));
    } else {
        let mut lcs = vec![vec![0u32; bm.len() + 1]; am.len() + 1];
        for i in (0..am.len()).rev() {
            for j in (0..bm.len()).rev() {
                lcs[i][j] = if am[i] == bm[j] {
                    lcs[i + 1][j + 1] + 1
                } else {
                    lcs[i + 1][j].max(lcs[i][j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < am.len() || j < bm.len() {
            if i < am.len() && j < bm.len() && am[i] == bm[j] {
                ops.push((' ', head + i + 1, am[i]));
                i += 1;
                j += 1;
            } else if i < am.len() && (j == bm.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
                ops.push(('-', head + i + 1, am[i]));
                i += 1;
            } else {
                ops.push(('+', head + j + 1, bm[j]));
                j += 1;
            }
        }
    }
    ops.extend((a.len() - tail..a.len()).map(|i| (' ', i + 1, a[i])));
    let changed: Vec<bool> = ops.iter().map(|o| o.0 != ' ').collect();
    let near = |k: usize| {
        changed[k.saturating_sub(1)..=(k + 1).min(ops.len() - 1)]
            .iter()
            .any(|c| *c)
    };
    let clip = |s: &str| -> String {
        if s.chars().count() > 160 {
            format!("{}…", s.chars().take(160).collect::<String>())
        } else {
            s.to_string()
        }
    };
    let mut out = Vec::new();
    let mut last_shown: Option<usize> = None;
    for (k, (mark, n, text)) in ops.iter().enumerate() {
        if !near(k) {
            continue;
        }
        if last_shown.is_some_and(|l| l + 1 < k) {
            out.push("  ...".to_string());
        }
        out.push(format!("{mark} {n:>5} {}", clip(text)));
        last_shown = Some(k);
    }
    let more = out.len().saturating_sub(MAX_DIFF_LINES);
    out.truncate(MAX_DIFF_LINES);
    if more > 0 {
        out.push(format!("  ... and {more} more lines of diff"));
    }
    out.join("\n")
}

/// `html` with each `<figure>`'s content left out, for a lab whose figures vary.
fn without_figures(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<figure>") {
        out.push_str(&rest[..start + "<figure>".len()]);
        match rest[start..].find("</figure>") {
            Some(end) => rest = &rest[start + end..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// What checking one lab found.
#[derive(Default)]
struct Outcome {
    /// Problems that fail the test.
    failures: Vec<String>,
    /// Differences of a lab that declares it varies, and files rewritten.
    notes: Vec<String>,
}

/// Runs `lab` in each of its languages and compares (or, with `update`, rewrites) its
/// golden files.
fn check_lab(lab: &str, update: bool) -> Outcome {
    let mut outcome = Outcome::default();
    let dir = root().join("tests/golden").join(lab);
    let hint = format!(
        "{UPDATE}=1 cargo test --test golden (then read tests/golden/{lab}/ and commit it)"
    );
    if !update && !dir.join("report.md").is_file() {
        outcome.failures.push(format!(
            "labs/{lab}.rhai has no golden report: create it with {hint}"
        ));
        return outcome;
    }
    let varies = std::fs::read_to_string(dir.join("varies.md")).ok();
    let extra = std::fs::read_to_string(dir.join("args")).unwrap_or_default();
    let attempts = if varies.is_some() && !update {
        ATTEMPTS_IF_VARIES
    } else {
        1
    };
    for lang in languages(&dir) {
        let mut last = Outcome::default();
        for _ in 0..attempts {
            last = check_run(lab, &lang, &dir, &extra, update, &hint);
            if last.failures.is_empty() {
                break;
            }
        }
        if varies.is_some() && !last.failures.is_empty() {
            last.failures.push(format!(
                "none of {attempts} runs matched; labs/{lab}.rhai may vary (tests/golden/{lab}/varies.md), \
                 but never on every run"
            ));
        }
        outcome.failures.extend(last.failures);
        outcome.notes.extend(last.notes);
    }
    outcome
}

/// Runs `lab` once in `lang` and compares (or rewrites) its golden files; a Chinese report
/// is also searched for English sentences.
fn check_run(lab: &str, lang: &str, dir: &Path, extra: &str, update: bool, hint: &str) -> Outcome {
    let mut outcome = Outcome::default();
    let script = format!("labs/{lab}.rhai");
    let mut args: Vec<&str> = extra.split_whitespace().collect();
    args.extend(["--deterministic", "--student", STUDENT, "--lang", lang]);
    let run = common::lab::run_lab(&script, &args);
    if run.output.status.code() != Some(0) {
        outcome.failures.push(format!(
            "labrun {script} --deterministic --lang {lang} exited with {:?}; a golden report \
             comes from a run whose checks all pass:\n{}",
            run.output.status.code(),
            run.text()
        ));
        return outcome;
    }
    if lang == "zh" {
        let left = common::english::english_phrases(&run.read("report.md"));
        if !left.is_empty() {
            let list: Vec<String> = left
                .iter()
                .map(|(l, t)| format!("  line {l}: {t}"))
                .collect();
            outcome.failures.push(format!(
                "the Chinese report of labs/{lab}.rhai still has English sentences:\n{}",
                list.join("\n")
            ));
        }
    }
    if lang != "en" {
        for word in replaced_words_in(&run.read("report.md")) {
            outcome.failures.push(format!(
                "the Chinese report of labs/{lab}.rhai uses {word} (docs/glossary-zh.md)"
            ));
        }
    }
    let figures_vary = dir.join("varies-figures.md").is_file();
    for file in ["report.md", "report.html"] {
        let golden_path: PathBuf = dir.join(golden_name(file, lang));
        let actual = run.read(file);
        let golden = std::fs::read_to_string(&golden_path).ok();
        if golden.as_deref() == Some(actual.as_str()) {
            continue;
        }
        if figures_vary
            && file == "report.html"
            && golden.as_deref().map(without_figures) == Some(without_figures(&actual))
        {
            continue;
        }
        if update {
            std::fs::create_dir_all(dir).expect("create the golden directory");
            std::fs::write(&golden_path, &actual).expect("write the golden file");
            outcome
                .notes
                .push(format!("wrote {}", golden_path.display()));
            continue;
        }
        let Some(golden) = golden else {
            outcome.failures.push(format!(
                "{} is missing: create it with {hint}",
                golden_path.display()
            ));
            continue;
        };
        let text = format!(
            "{} differs from this run (- golden, + now):\n{}",
            golden_path.display(),
            short_diff(&golden, &actual)
        );
        outcome.failures.push(format!(
            "{text}\nIf the change is intended, accept it with {hint}"
        ));
    }
    outcome
}

/// The glossary's replaced words: (wrong, right) from the "Replaced words" table of
/// docs/glossary-zh.md, each cell's backticked words (`\|` standing for `|`).
fn replaced_words() -> Vec<(String, String)> {
    let text =
        std::fs::read_to_string(root().join("docs/glossary-zh.md")).expect("docs/glossary-zh.md");
    let section = text
        .split("\n## Replaced words")
        .nth(1)
        .expect("a \"Replaced words\" section in docs/glossary-zh.md");
    let ticked = |cell: &str| -> Vec<String> {
        cell.split('`')
            .skip(1)
            .step_by(2)
            .map(|w| w.replace("\\|", "|"))
            .collect()
    };
    let mut words = Vec::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        // Split on the pipes that are not escaped.
        let cells: Vec<&str> = line.split(" | ").collect();
        let right = ticked(cells[1]).join(" / ");
        for wrong in ticked(cells[0]) {
            words.push((wrong, right.clone()));
        }
    }
    assert!(words.len() > 5, "the glossary's replaced words: {words:?}");
    words
}

/// Each replaced word `markdown` contains, as "`wrong` (line n; write `right`)".
fn replaced_words_in(markdown: &str) -> Vec<String> {
    let words = replaced_words();
    let mut found = Vec::new();
    for (n, line) in markdown.lines().enumerate() {
        for (wrong, right) in &words {
            if line.contains(wrong.as_str()) {
                found.push(format!("`{wrong}` (line {}; write `{right}`)", n + 1));
            }
        }
    }
    found
}

#[test]
fn chinese_golden_reports_use_the_glossary() {
    let mut failures = Vec::new();
    for lab in shipped_labs() {
        let path = root().join("tests/golden").join(&lab).join("report.zh.md");
        let Ok(md) = std::fs::read_to_string(&path) else {
            continue;
        };
        for word in replaced_words_in(&md) {
            failures.push(format!("{}: {word}", path.display()));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    // The check itself finds a replaced word.
    assert_eq!(
        replaced_words_in("| 序号 | 时间 | 源地址 |\n挑战 ACK").len(),
        2
    );
}

#[test]
fn every_lab_writes_its_golden_report() {
    if !common::is_root() {
        return common::skip_or_fail(
            "the labs' sandboxes, raw sockets and captures need root here (run the tests as root)",
        );
    }
    if !common::have_program("nft") && !Path::new("/usr/sbin/nft").exists() {
        return common::skip_or_fail(
            "nft is not installed (apt-get install nftables): the scan and syn_craft labs need it",
        );
    }
    let update = std::env::var(UPDATE).is_ok_and(|v| v == "1");
    let started = Instant::now();
    let queue = Mutex::new(shipped_labs());
    let done: Mutex<Vec<(String, Outcome)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| {
                loop {
                    let next = queue.lock().unwrap().pop();
                    let Some(lab) = next else { break };
                    let outcome = check_lab(&lab, update);
                    done.lock().unwrap().push((lab, outcome));
                }
            });
        }
    });
    let mut done = done.into_inner().unwrap();
    done.sort_by(|a, b| a.0.cmp(&b.0));
    let mut failures = Vec::new();
    for (lab, o) in &done {
        for n in &o.notes {
            eprintln!("golden {lab}: {n}\n");
        }
        failures.extend(o.failures.iter().map(|f| format!("golden {lab}: {f}")));
    }
    eprintln!(
        "golden: {} labs in {:.1} s",
        done.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

#[test]
fn golden_file_names_and_diffs() {
    assert_eq!(golden_name("report.md", "en"), "report.md");
    assert_eq!(golden_name("report.html", "zh"), "report.zh.html");
    let d = short_diff("a\nb\nc\nd\ne\nf\ng\n", "a\nb\nX\nd\ne\nf\nY\n");
    assert_eq!(
        d,
        "      2 b\n-     3 c\n+     3 X\n      4 d\n  ...\n      6 f\n-     7 g\n+     7 Y"
    );
    assert_eq!(short_diff("a\n", "a\nb\n"), "      1 a\n+     2 b");
}
