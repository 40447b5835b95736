//! The report has the form of a 实验报告: a cover from labrun.toml (or flags), then the
//! department's sections in order, in English and in Chinese, with numbered tables and
//! figures that the text names. Runs the real chat lab in the sandbox.

mod common;

use std::path::Path;
use std::process::Command;

/// Runs the chat lab from `cwd` (where a labrun.toml may sit) into `cwd/report`.
fn run_chat(cwd: &Path, args: &[&str]) -> String {
    let lab = Path::new(env!("CARGO_MANIFEST_DIR")).join("labs/chat.rhai");
    let out = Command::new(env!("CARGO_BIN_EXE_labrun"))
        .current_dir(cwd)
        .arg(&lab)
        .args(args)
        .arg("--out")
        .arg(cwd.join("report"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{text}");
    std::fs::read_to_string(cwd.join("report/report.md")).unwrap()
}

/// Asserts that `md` holds each of `headings` as a line, in this order.
fn assert_in_order(md: &str, headings: &[&str]) {
    let mut at = 0;
    for h in headings {
        let found = md[at..]
            .lines()
            .position(|l| l == *h)
            .unwrap_or_else(|| panic!("{h:?} missing or out of order in:\n{md}"));
        at += md[at..]
            .lines()
            .take(found + 1)
            .map(|l| l.len() + 1)
            .sum::<usize>();
    }
}

/// Every "table N" / "figure N" the text names has its caption, and captions count 1, 2, 3...
fn assert_numbered(md: &str, table: &str, figure: &str) {
    let captions = |label: &str| -> Vec<usize> {
        md.lines()
            .filter_map(|l| l.strip_prefix(&format!("**{label} ")))
            .filter_map(|rest| rest.split("**").next()?.parse().ok())
            .collect()
    };
    let tables = captions(table);
    assert!(!tables.is_empty(), "no {table} caption:\n{md}");
    assert_eq!(tables, (1..=tables.len()).collect::<Vec<_>>(), "{md}");
    let figures = captions(figure);
    assert!(!figures.is_empty(), "no {figure} caption:\n{md}");
    assert_eq!(figures, (1..=figures.len()).collect::<Vec<_>>(), "{md}");
    // The results name the appendix's table of checks, which exists.
    let results = &md[md.find("## 5. ").or_else(|| md.find("## 五、")).unwrap()..];
    let named: usize = results
        .split(&format!("({} ", table.to_lowercase()))
        .chain(results.split(&format!("（{table} ")))
        .skip(1)
        .filter_map(|rest| {
            rest.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .ok()
        })
        .next()
        .unwrap_or_else(|| panic!("the results name no table:\n{md}"));
    assert!(
        tables.contains(&named),
        "table {named} is named but has no caption"
    );
}

#[test]
fn chat_report_has_the_lab_report_form_in_both_languages() {
    if !common::is_root() {
        return common::skip_or_fail(
            "the sandbox and its capture need root here (run the tests as root)",
        );
    }
    // Chinese, the cover from labrun.toml.
    let zh = tempfile::tempdir().unwrap();
    std::fs::write(
        zh.path().join("labrun.toml"),
        "student = \"20215120807 李一航\"\ncourse = \"计算机网络\"\nschool = \"计算机学院\"\n\
         class = \"计科 2101\"\ninstructor = \"王老师\"\nplace = \"实验楼 3-201\"\nlang = \"zh\"\n",
    )
    .unwrap();
    let md = run_chat(zh.path(), &[]);
    for row in [
        "| 课程名称 | 计算机网络 |",
        "| 学院 | 计算机学院 |",
        "| 专业班级 | 计科 2101 |",
        "| 姓名 | 李一航 |",
        "| 学号 | 20215120807 |",
        "| 指导教师 | 王老师 |",
        "| 实验地点 | 实验楼 3-201 |",
        "| 成绩（教师填写） |  |",
    ] {
        assert!(md.contains(row), "cover row {row:?} missing:\n{md}");
    }
    assert_in_order(
        &md,
        &[
            "<!-- cover -->",
            "<!-- /cover -->",
            "## 一、实验目的",
            "## 二、实验环境",
            "## 三、实验原理",
            "## 四、实验内容与步骤",
            "## 五、实验结果与分析",
            "## 六、实验总结",
            "### 思考题",
            "## 附录",
            "### A. 检查与得分",
            "### B. 完整分组列表",
            "### C. 摘要",
        ],
    );
    assert!(md.contains("RFC 9293"), "principles cite their RFC:\n{md}");
    assert!(md.contains("此处由学生本人填写"), "{md}");
    assert_numbered(&md, "表", "图");
    let html = std::fs::read_to_string(zh.path().join("report/report.html")).unwrap();
    let cover = &html[html
        .find("<section class=\"cover\">")
        .expect("cover section")..];
    let cover = &cover[..cover.find("</section>").unwrap()];
    assert!(
        cover.contains("王老师") && cover.contains("<h1>"),
        "{cover}"
    );
    assert!(!cover.contains("实验目的"), "{cover}");

    // English, no labrun.toml: the cover's missing fields stay blank, to fill in by hand.
    let en = tempfile::tempdir().unwrap();
    let md = run_chat(
        en.path(),
        &["--student", "20215120807 Li Yihang", "--class", "CS 2101"],
    );
    for row in [
        "| Course |  |",
        "| School or college |  |",
        "| Class | CS 2101 |",
        "| Name | Li Yihang |",
        "| Instructor |  |",
        "| Place |  |",
    ] {
        assert!(md.contains(row), "cover row {row:?} missing:\n{md}");
    }
    assert_in_order(
        &md,
        &[
            "## 1. Purpose",
            "## 2. Environment",
            "## 3. Principles",
            "## 4. Procedure",
            "## 5. Results and analysis",
            "## 6. Conclusion",
            "### Questions",
            "## Appendix",
            "### A. Checks and score",
            "### B. Packet lists",
            "### C. Digests",
        ],
    );
    assert_numbered(&md, "Table", "Figure");
    // The body keeps the packets it discusses; the checks and the score are the appendix's.
    let body = &md[..md.find("## Appendix").unwrap()];
    assert!(body.contains("[SYN, ACK]"), "{body}");
    assert!(!body.contains("| PASS |"), "{body}");
}
