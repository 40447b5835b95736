//! report.docx: report.md as a Word document (docx-rs), walked as pulldown-cmark events:
//! headings in Word's own Heading 1..3 styles (so a student can move them into a
//! department's template), tables as Word tables, figures as PNG images at print
//! resolution, code in a monospace style, A4 pages numbered in the footer.

use super::{ExportError, FigureRenderer};
use docx_rs::{
    AlignmentType, BreakType, Docx, Footer, LineSpacing, NumPages, PageMargin, PageNum, Paragraph,
    Pic, Run, RunFonts, Shading, Style, StyleType, Table, TableCell, TableLayoutType, TableRow,
    WidthType,
};
use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use std::path::Path;

/// A4 in twentieths of a point.
const PAGE: (u32, u32) = (11_906, 16_838);
/// Page margins: 2 cm.
const MARGIN: i32 = 1_134;
/// The width text may take, in twentieths of a point.
const TEXT_WIDTH: u32 = PAGE.0 - 2 * MARGIN as u32;
/// English Metric Units per inch (image sizes).
const EMU_PER_INCH: f32 = 914_400.0;
/// A figure's printed width, in inches: the text width less a little.
const FIGURE_WIDTH_IN: f32 = 6.4;
/// Latin text, then Chinese text, as Word and WPS pick them per script.
const BODY_FONT: &str = "Calibri";
const CJK_FONT: &str = "SimSun";
const MONO_FONT: &str = "Consolas";

fn fonts(latin: &str) -> RunFonts {
    RunFonts::new()
        .ascii(latin)
        .hi_ansi(latin)
        .cs(latin)
        .east_asia(CJK_FONT)
}

/// The styles the document uses: Word's built-in headings (ids `Heading1`..`Heading3`,
/// names `heading 1`..`heading 3`, as Word and WPS recognise them) and a code style.
fn styles(doc: Docx) -> Docx {
    let heading = |level: usize, size: usize| {
        Style::new(format!("Heading{level}"), StyleType::Paragraph)
            .name(format!("heading {level}"))
            .based_on("Normal")
            .next("Normal")
            .q_format(true)
            .size(size)
            .bold()
            .outline_lvl(level - 1)
    };
    doc.add_style(heading(1, 32))
        .add_style(heading(2, 26))
        .add_style(heading(3, 22))
        .add_style(
            Style::new("Code", StyleType::Paragraph)
                .name("Code")
                .based_on("Normal")
                .fonts(fonts(MONO_FONT))
                .size(16),
        )
        .add_style(
            Style::new("Quote", StyleType::Paragraph)
                .name("Quote")
                .based_on("Normal")
                .italic()
                .indent(Some(360), None, None, None),
        )
}

/// Inline formatting in force.
#[derive(Debug, Default, Clone, Copy)]
struct Inline {
    bold: bool,
    italic: bool,
    code: bool,
}

/// A table being read: its rows of cells, each cell's paragraphs.
#[derive(Debug, Default)]
struct TableState {
    rows: Vec<(bool, Vec<Vec<Paragraph>>)>,
    /// Plain text of each cell, for the column widths.
    texts: Vec<Vec<String>>,
    in_head: bool,
}

/// What the walk over the Markdown builds.
struct Builder<'a> {
    doc: Docx,
    dir: &'a Path,
    figures: Option<FigureRenderer>,
    para: Option<Paragraph>,
    para_text: String,
    inline: Inline,
    heading: Option<usize>,
    code_block: Option<String>,
    lists: Vec<Option<u64>>,
    quote: usize,
    table: Option<TableState>,
    cell: Option<Vec<Paragraph>>,
    image: Option<String>,
}

impl<'a> Builder<'a> {
    fn new(dir: &'a Path) -> Self {
        let doc = Docx::new()
            .page_size(PAGE.0, PAGE.1)
            .page_margin(PageMargin {
                top: MARGIN,
                left: MARGIN,
                bottom: MARGIN,
                right: MARGIN,
                header: 567,
                footer: 567,
                gutter: 0,
            })
            .default_fonts(fonts(BODY_FONT))
            .default_size(21)
            .default_line_spacing(LineSpacing::new().after(120))
            .footer(
                Footer::new().add_paragraph(
                    Paragraph::new()
                        .align(AlignmentType::Center)
                        .add_page_num(PageNum::new())
                        .add_run(Run::new().add_text(" / "))
                        .add_num_pages(NumPages::new()),
                ),
            );
        Builder {
            doc: styles(doc),
            dir,
            figures: None,
            para: None,
            para_text: String::new(),
            inline: Inline::default(),
            heading: None,
            code_block: None,
            lists: Vec::new(),
            quote: 0,
            table: None,
            cell: None,
            image: None,
        }
    }

    /// The paragraph text goes into, started when needed.
    fn para(&mut self) -> &mut Paragraph {
        self.para.get_or_insert_with(Paragraph::new)
    }

    fn text(&mut self, text: &str) {
        if let Some(alt) = &mut self.image {
            alt.push_str(text);
            return;
        }
        let mut run = Run::new().add_text(text);
        if self.inline.bold || self.table.as_ref().is_some_and(|t| t.in_head) {
            run = run.bold();
        }
        if self.inline.italic {
            run = run.italic();
        }
        if self.inline.code {
            run = run.fonts(fonts(MONO_FONT)).size(18);
        }
        if self.table.is_some() {
            run = run.size(if self.inline.code { 15 } else { 16 });
        }
        self.para_text.push_str(text);
        let p = self.para.take().unwrap_or_default().add_run(run);
        self.para = Some(p);
    }

    /// Ends the current paragraph: into the table cell being read, or the document.
    fn finish_para(&mut self) {
        let Some(mut p) = self.para.take() else {
            return;
        };
        self.para_text.clear();
        if let Some(level) = self.heading {
            p = p.style(&format!("Heading{}", level.min(3))).keep_next(true);
        } else if self.quote > 0 {
            p = p.style("Quote");
        }
        if let Some(cell) = &mut self.cell {
            cell.push(p);
        } else {
            self.doc = std::mem::take(&mut self.doc).add_paragraph(p);
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph if self.cell.is_none() => self.finish_para(),
            Tag::Heading { level, .. } => {
                self.finish_para();
                self.heading = Some(match level {
                    HeadingLevel::H1 => 1,
                    HeadingLevel::H2 => 2,
                    _ => 3,
                });
            }
            Tag::BlockQuote(_) => {
                self.finish_para();
                self.quote += 1;
            }
            Tag::CodeBlock(_) => {
                self.finish_para();
                self.code_block = Some(String::new());
            }
            Tag::List(first) => {
                self.finish_para();
                self.lists.push(first);
            }
            Tag::Item => {
                self.finish_para();
                let depth = self.lists.len().max(1);
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        *n += 1;
                        format!("{}. ", *n - 1)
                    }
                    _ => "• ".to_string(),
                };
                let indent = 360 * depth as i32;
                let p = Paragraph::new()
                    .indent(
                        Some(indent),
                        Some(docx_rs::SpecialIndentType::Hanging(280)),
                        None,
                        None,
                    )
                    .add_run(Run::new().add_text(marker));
                self.para = Some(p);
            }
            Tag::Table(_) => {
                self.finish_para();
                self.table = Some(TableState::default());
            }
            Tag::TableHead => {
                if let Some(t) = &mut self.table {
                    t.in_head = true;
                    t.rows.push((true, Vec::new()));
                    t.texts.push(Vec::new());
                }
            }
            Tag::TableRow => {
                if let Some(t) = &mut self.table {
                    t.rows.push((false, Vec::new()));
                    t.texts.push(Vec::new());
                }
            }
            Tag::TableCell => {
                self.cell = Some(Vec::new());
                self.para = Some(Paragraph::new());
            }
            Tag::Emphasis => self.inline.italic = true,
            Tag::Strong => self.inline.bold = true,
            Tag::Image { dest_url, .. } => {
                self.add_image(&dest_url);
                // The alt text that follows is not shown: the figure is.
                self.image = Some(String::new());
            }
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph if self.cell.is_none() => self.finish_para(),
            TagEnd::Heading(_) => {
                self.finish_para();
                self.heading = None;
            }
            TagEnd::BlockQuote(_) => {
                self.finish_para();
                self.quote = self.quote.saturating_sub(1);
            }
            TagEnd::CodeBlock => {
                let text = self.code_block.take().unwrap_or_default();
                for line in text.trim_end_matches('\n').split('\n') {
                    let p = Paragraph::new()
                        .style("Code")
                        .add_run(Run::new().add_text(line));
                    self.doc = std::mem::take(&mut self.doc).add_paragraph(p);
                }
            }
            TagEnd::List(_) => {
                self.finish_para();
                self.lists.pop();
            }
            TagEnd::Item => self.finish_para(),
            TagEnd::TableHead => {
                if let Some(t) = &mut self.table {
                    t.in_head = false;
                }
            }
            TagEnd::TableCell => {
                let text = self.para_text.clone();
                self.finish_para();
                let paras = self.cell.take().unwrap_or_default();
                if let Some(t) = &mut self.table {
                    if let Some(row) = t.rows.last_mut() {
                        row.1.push(paras);
                    }
                    if let Some(row) = t.texts.last_mut() {
                        row.push(text);
                    }
                }
            }
            TagEnd::Table => {
                if let Some(t) = self.table.take() {
                    self.doc = std::mem::take(&mut self.doc).add_table(word_table(t));
                    // Word needs a paragraph between two tables, and after the last one.
                    self.doc = std::mem::take(&mut self.doc).add_paragraph(Paragraph::new());
                }
            }
            TagEnd::Emphasis => self.inline.italic = false,
            TagEnd::Strong => self.inline.bold = false,
            TagEnd::Image => self.image = None,
            _ => {}
        }
    }

    /// Adds the figure `src` (an SVG or PNG file of the report directory, named without a
    /// path) as an image the width of the text.
    fn add_image(&mut self, src: &str) {
        let plain = !src.is_empty()
            && !src.contains(['/', '\\'])
            && !src.starts_with('.')
            && src.is_ascii();
        if !plain {
            self.text(&format!("[{src}: not a figure of the report directory]"));
            return;
        }
        let path = self.dir.join(src);
        let lower = src.to_ascii_lowercase();
        let made = if lower.ends_with(".svg") {
            std::fs::read_to_string(&path)
                .map_err(|e| format!("{src}: {e}"))
                .and_then(|svg| {
                    self.figures
                        .get_or_insert_with(FigureRenderer::new)
                        .png(&svg, FIGURE_WIDTH_IN)
                        .map_err(|e| format!("{src}: {e}"))
                })
        } else if lower.ends_with(".png") {
            std::fs::read(&path)
                .map_err(|e| format!("{src}: {e}"))
                .and_then(|png| match png_size(&png) {
                    Some((w, h)) => Ok((png, w, h)),
                    None => Err(format!("{src}: not a PNG image")),
                })
        } else {
            Err(format!("{src}: only SVG and PNG figures are shown"))
        };
        match made {
            Ok((png, w, h)) => {
                let width = (FIGURE_WIDTH_IN * EMU_PER_INCH) as u32;
                let height = (width as f32 * h as f32 / w as f32) as u32;
                // A figure taller than the page is scaled to fit its height.
                let max_h = (9.0 * EMU_PER_INCH) as u32;
                let (width, height) = if height > max_h {
                    ((width as f32 * max_h as f32 / height as f32) as u32, max_h)
                } else {
                    (width, height)
                };
                let pic = Pic::new_with_dimensions(png, w, h).size(width, height);
                let p = self
                    .para
                    .take()
                    .unwrap_or_default()
                    .align(AlignmentType::Center)
                    .add_run(Run::new().add_image(pic));
                self.para = Some(p);
            }
            Err(e) => {
                // Nothing is lost silently: the document says which figure is missing.
                self.text(&format!("[{e}]"));
            }
        }
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => match &mut self.code_block {
                Some(code) => code.push_str(&text),
                None => self.text(&text),
            },
            Event::Code(text) => {
                self.inline.code = true;
                self.text(&text);
                self.inline.code = false;
            }
            Event::SoftBreak => self.text(" "),
            Event::HardBreak => {
                let p = self
                    .para()
                    .clone()
                    .add_run(Run::new().add_break(BreakType::TextWrapping));
                self.para = Some(p);
            }
            Event::Rule => {
                self.finish_para();
            }
            // Raw HTML (a cover block's markup, comments) carries no text of its own here.
            Event::Html(_) | Event::InlineHtml(_) => {}
            Event::FootnoteReference(r) => self.text(&format!("[{r}]")),
            Event::TaskListMarker(done) => self.text(if done { "☑ " } else { "☐ " }),
            _ => {}
        }
    }
}

/// A Word table for `t`: header rows shaded and bold, column widths shared out by how
/// long each column's longest cell is, so short numbers are not squeezed.
fn word_table(t: TableState) -> Table {
    let columns = t.texts.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let mut weight = vec![3.0f32; columns];
    for row in &t.texts {
        for (i, text) in row.iter().enumerate() {
            let longest_word = text
                .split_whitespace()
                .map(|w| w.chars().count())
                .max()
                .unwrap_or(0) as f32;
            let len = (text.chars().count() as f32).min(60.0).max(longest_word);
            weight[i] = weight[i].max(len);
        }
    }
    let total: f32 = weight.iter().sum();
    let grid: Vec<usize> = weight
        .iter()
        .map(|w| (TEXT_WIDTH as f32 * w / total) as usize)
        .collect();
    let rows: Vec<TableRow> = t
        .rows
        .into_iter()
        .filter(|(_, cells)| !cells.is_empty())
        .map(|(head, cells)| {
            let n = cells.len();
            let mut cells: Vec<TableCell> = cells
                .into_iter()
                .enumerate()
                .map(|(i, paras)| {
                    let mut cell =
                        TableCell::new().width(grid.get(i).copied().unwrap_or(500), WidthType::Dxa);
                    if head {
                        cell = cell.shading(Shading::new().fill("F1F3F4"));
                    }
                    for p in paras {
                        cell = cell.add_paragraph(if head { p.bold() } else { p });
                    }
                    cell
                })
                .collect();
            // A short row gets empty cells, so every row spans the grid.
            for i in n..columns {
                cells.push(
                    TableCell::new()
                        .width(grid.get(i).copied().unwrap_or(500), WidthType::Dxa)
                        .add_paragraph(Paragraph::new()),
                );
            }
            TableRow::new(cells)
        })
        .collect();
    Table::new(rows)
        .set_grid(grid)
        .width(TEXT_WIDTH as usize, WidthType::Dxa)
        .layout(TableLayoutType::Fixed)
}

/// The width and height of a PNG image, from its header.
fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    if !png.starts_with(b"\x89PNG\r\n\x1a\n") || png.len() < 24 || &png[12..16] != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(png[16..20].try_into().ok()?);
    let h = u32::from_be_bytes(png[20..24].try_into().ok()?);
    (w > 0 && h > 0).then_some((w, h))
}

/// Builds report.docx from `markdown` (report.md); its figures are read from `dir`.
pub fn markdown_to_docx(markdown: &str, dir: &Path) -> Result<Vec<u8>, ExportError> {
    let mut b = Builder::new(dir);
    let parser = Parser::new_ext(
        markdown,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
    );
    for event in parser {
        b.event(event);
    }
    b.finish_para();
    let mut out = std::io::Cursor::new(Vec::new());
    b.doc
        .build()
        .pack(&mut out)
        .map_err(|e| ExportError::Docx(e.to_string()))?;
    Ok(out.into_inner())
}
