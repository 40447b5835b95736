//! Finding English sentences left in a Chinese report (`--lang zh`).
//!
//! A report in Chinese may still hold English that is not a sentence of labrun or of the
//! lab: Wireshark's Info column (English in every Wireshark), code and display filters in
//! backticks, flag and errno names (all capitals), addresses, file names and the student's
//! name. Anything else of three or more English words in a row is a fixed sentence that
//! was not translated.

/// The English phrases (three or more words) of a Chinese report.md, with their line
/// numbers; empty when the report is fully translated.
pub fn english_phrases(markdown: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut in_packets = false;
    let mut in_fence = false;
    for (i, line) in markdown.lines().enumerate() {
        if line.starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        if line.starts_with('#') || line.starts_with("**表 ") {
            // The packet list of a capture (the appendix's "**表 n** 分组：...") is
            // Wireshark's columns, not labrun's text.
            in_packets = line.contains("分组：");
        }
        if in_packets && line.starts_with('|') {
            continue;
        }
        for phrase in phrases(&strip_code(line)) {
            found.push((i + 1, phrase));
        }
    }
    found
}

/// The line without `code spans` and "quoted data" (what crossed the wire, e.g. the
/// chat's "Hello NAME, your ID is ...", is quoted in ASCII quotes and stays as sent).
fn strip_code(line: &str) -> String {
    let mut out = String::new();
    let mut inside: Option<char> = None;
    for c in line.chars() {
        match inside {
            Some(q) if c == q => {
                inside = None;
                out.push(' ');
            }
            Some(_) => {}
            None if c == '`' || c == '"' => {
                inside = Some(c);
                out.push(' ');
            }
            None => out.push(c),
        }
    }
    out
}

/// Runs of three or more English words: a word is ASCII letters (with ' or - inside)
/// holding a lowercase letter, so SYN, ACK and ECONNRESET do not count; punctuation
/// between words (space, comma) keeps the run, anything else ends it.
fn phrases(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut run: Vec<String> = Vec::new();
    let flush = |run: &mut Vec<String>, out: &mut Vec<String>| {
        if run.len() >= 3 {
            out.push(run.join(" "));
        }
        run.clear();
    };
    for token in text.split_inclusive(|c: char| !c.is_ascii_alphanumeric() && c != '\'' && c != '-')
    {
        let word: &str =
            token.trim_end_matches(|c: char| !c.is_ascii_alphanumeric() && c != '\'' && c != '-');
        let sep = &token[word.len()..];
        let is_word = !word.is_empty()
            && word
                .chars()
                .all(|c| c.is_ascii_alphabetic() || c == '\'' || c == '-')
            && word.chars().any(|c| c.is_ascii_lowercase());
        if is_word {
            run.push(word.to_string());
        } else if !word.is_empty() {
            flush(&mut run, &mut out);
        }
        if !(sep.is_empty() || sep == " " || sep == ", " || sep == ",") {
            flush(&mut run, &mut out);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Checks the detector itself: English sentences are found, everything else is not.
pub fn self_test() {
    let md = "# 标题\n\n本实验发送 2950 字节 the data left here.\n\n\
              `tcp.stream == 0 && tcp.len > 0` SYN, ACK, FIN ECONNRESET 收到 \"still talking to you\"\n\n\
              ## 分组：capture.pcap（3 帧）\n\n| 1 | 0.0 | a | b | TCP | 66 | Who has 10.0.0.2? Tell 10.0.0.1 |\n\n\
              ## 检查\n\n| 通过 | the server received all bytes |\n";
    let found = english_phrases(md);
    let texts: Vec<&str> = found.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        texts,
        ["the data left here", "the server received all bytes"],
        "{found:?}"
    );
    assert_eq!(found[0].0, 3);
}
