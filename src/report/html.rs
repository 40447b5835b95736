//! report.html: the Markdown report as one self-contained page (inline CSS and SVG, no
//! script, no network) that prints cleanly to A4.

use pulldown_cmark::{Options, Parser, html};

/// Print-friendly style: A4 pages numbered in the footer, the cover (an element of class
/// `cover`, else everything before the first h2) on a page of its own, table cells that wrap
/// only between words (never inside a number), figures that fit a page and never split.
const STYLE: &str = r#"
@page { size: A4; margin: 14mm 13mm 16mm; @bottom-center { content: counter(page) " / " counter(pages); font-size: 8pt; color: #5f6368; } }
body { font-family: "Liberation Sans", Arial, "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; font-size: 10.5pt; line-height: 1.45; color: #202124; max-width: 184mm; margin: 0 auto; }
h1 { font-size: 17pt; margin: 0 0 8pt; }
h2 { font-size: 13pt; margin: 14pt 0 6pt; border-bottom: 1px solid #dadce0; break-after: avoid; }
h3 { font-size: 11pt; margin: 10pt 0 4pt; break-after: avoid; }
table { border-collapse: collapse; width: 100%; table-layout: auto; margin: 6pt 0; font-size: 8.5pt; }
th, td { border: 1px solid #dadce0; padding: 2pt 4pt; text-align: left; vertical-align: top; overflow-wrap: normal; word-break: normal; hyphens: none; }
th { background: #f1f3f4; white-space: nowrap; }
tr { break-inside: avoid; }
thead { display: table-header-group; }
code { font-family: "Liberation Mono", "DejaVu Sans Mono", "Noto Sans Mono CJK SC", monospace; font-size: 9pt; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; }
blockquote { margin: 6pt 0; padding: 4pt 8pt; border-left: 3pt solid #f9ab00; background: #fef7e0; }
figure { margin: 8pt 0; break-inside: avoid; }
figure svg, figure img { width: 100%; height: auto; }
@media print {
  body { max-width: none; font-size: 9.5pt; line-height: 1.35; }
  h2 { margin-top: 10pt; }
  p, li { orphans: 2; widows: 2; }
  table { font-size: 7.5pt; margin: 4pt 0; }
  th, td { padding: 1pt 3pt; }
  code { font-size: 8pt; }
  td code, th code { font-size: 7pt; }
  pre { font-size: 8pt; }
  figure svg, figure img { max-height: 235mm; }
  .cover { break-after: page; }
  body:not(:has(.cover)) > h2:first-of-type { break-before: page; }
}
"#;

/// Renders the Markdown report as a complete HTML document; an image whose source is one of
/// `figures` (name, SVG text) is replaced by the SVG itself, so the page needs no other file.
pub fn render_html(
    title: &str,
    markdown: &str,
    figures: &[(String, String)],
    lang: crate::i18n::Lang,
) -> String {
    let mut body = String::new();
    html::push_html(&mut body, Parser::new_ext(markdown, Options::ENABLE_TABLES));
    // The report's cover, marked in its Markdown by two comments, is a section of its own
    // (printed on its own page).
    body = body
        .replacen("<!-- cover -->", "<section class=\"cover\">", 1)
        .replacen("<!-- /cover -->", "</section>", 1);
    for (name, svg) in figures {
        let needle = format!("<img src=\"{name}\"");
        while let Some(start) = body.find(&needle) {
            let Some(len) = body[start..].find('>') else {
                break;
            };
            body.replace_range(start..=start + len, &format!("<figure>{svg}</figure>"));
        }
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        lang.html(),
        title.replace('&', "&amp;").replace('<', "&lt;")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_inlined_and_tables_rendered() {
        let md = "# T\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n![flow](flow-0.svg)\n";
        let html = render_html(
            "T",
            md,
            &[("flow-0.svg".into(), "<svg id=\"x\"></svg>".into())],
            crate::i18n::Lang::Zh,
        );
        assert!(html.contains("<html lang=\"zh-CN\">"), "{html}");
        assert!(
            html.contains("<figure><svg id=\"x\"></svg></figure>"),
            "{html}"
        );
        assert!(html.contains("<table>"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<script"), "{html}");
    }

    #[test]
    fn the_cover_is_a_section_of_its_own() {
        let md = "<!-- cover -->\n\n# T\n\n| | |\n|---|---|\n| 学号 | 1 |\n\n<!-- /cover -->\n\n## 一、实验目的\n";
        let html = render_html("T", md, &[], crate::i18n::Lang::Zh);
        let cover = &html[html.find("<section class=\"cover\">").expect(&html)..];
        let cover = &cover[..cover.find("</section>").expect(&html)];
        assert!(
            cover.contains("<h1>T</h1>") && cover.contains("学号"),
            "{html}"
        );
        assert!(!cover.contains("实验目的"), "{html}");
    }
}
