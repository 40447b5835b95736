//! Script API: steps, checks, sections, notes and tables for the report, plus small helpers.

use super::capture_api::PacketRef;
use super::{ApiResult, api_error, session, string_size};
use crate::i18n::Text;
use crate::report::{Block, Check};
use crate::session::LabPart;
use rhai::plugin::*;
use rhai::{Array, Dynamic, Engine, INT};

pub fn register(engine: &mut Engine) {
    engine.register_global_module(exported_module!(report_module).into());
}

/// `file:line` of the native call, for the report's Checks table.
fn call_site(ctx: &NativeCallContext, script: &str) -> String {
    let file = ctx.call_source().unwrap_or(script);
    match ctx.call_position().line() {
        Some(l) => format!("{file}:{l}"),
        None => file.to_string(),
    }
}

fn add_check(
    ctx: &NativeCallContext,
    passed: bool,
    what: &str,
    detail: Option<Text>,
    filter: Option<&str>,
    points: INT,
) -> ApiResult<bool> {
    let points = u32::try_from(points).map_err(|_| {
        api_error(
            ctx.fn_name(),
            format!("points must be 0 or more, got {points}"),
        )
    })?;
    let session = session(ctx)?;
    let at = call_site(ctx, &session.script());
    let lang = session.lang();
    session.record_check(Check {
        what: what.to_string(),
        passed,
        detail: if passed {
            None
        } else {
            detail.map(|d| d.get(lang).to_string())
        },
        filter: filter.filter(|f| !f.is_empty()).map(str::to_string),
        at,
        points,
    });
    Ok(passed)
}

/// "expected X, saw Y" in both languages.
fn mismatch(expected: &Dynamic, seen: &Dynamic) -> Text {
    let (e, s) = (show(expected), show(seen));
    Text::new(
        format!("expected {e}, saw {s}"),
        format!("应为 {e}，实际为 {s}"),
    )
}

fn show(value: &Dynamic) -> String {
    if value.is_string() {
        format!("{:?}", value.to_string())
    } else {
        value.to_string()
    }
}

fn equal(ctx: &NativeCallContext, a: &Dynamic, b: &Dynamic) -> bool {
    ctx.call_native_fn::<bool>("==", (a.clone(), b.clone()))
        .unwrap_or(false)
}

fn cells(function: &str, row: &Dynamic) -> ApiResult<Vec<String>> {
    match row.clone().try_cast::<Array>() {
        Some(a) => Ok(a.iter().map(|c| c.to_string()).collect()),
        None => Err(api_error(
            function,
            format!("each row must be an array, not {}", row.type_name()),
        )),
    }
}

/// What `fixed(x, decimals)` prints with `--deterministic`: "#", then a point and one
/// "#" per decimal.
fn masked_fixed(decimals: usize) -> String {
    if decimals == 0 {
        "#".to_string()
    } else {
        format!("#.{}", "#".repeat(decimals))
    }
}

#[export_module]
mod report_module {
    use super::*;

    /// Records a step of the lab in the report and shows it on the progress line.
    #[rhai_fn(return_raw)]
    pub fn step(ctx: NativeCallContext, text: &str) -> ApiResult<()> {
        session(&ctx)?.record_step(text);
        Ok(())
    }

    /// A check: PASS or FAIL in the report; any FAIL makes labrun exit with 1. Returns `ok`.
    #[rhai_fn(return_raw)]
    pub fn expect(ctx: NativeCallContext, ok: bool, what: &str) -> ApiResult<bool> {
        add_check(
            &ctx,
            ok,
            what,
            Some(Text::new("the condition was false", "条件不成立")),
            None,
            1,
        )
    }

    /// A check with the Wireshark display filter that shows its evidence.
    #[rhai_fn(name = "expect", return_raw)]
    pub fn expect_filter(
        ctx: NativeCallContext,
        ok: bool,
        what: &str,
        filter: &str,
    ) -> ApiResult<bool> {
        add_check(
            &ctx,
            ok,
            what,
            Some(Text::new("the condition was false", "条件不成立")),
            Some(filter),
            1,
        )
    }

    /// A check that `seen == expected`; a failure shows both values.
    #[rhai_fn(return_raw)]
    pub fn expect_eq(
        ctx: NativeCallContext,
        seen: Dynamic,
        expected: Dynamic,
        what: &str,
    ) -> ApiResult<bool> {
        let ok = equal(&ctx, &seen, &expected);
        let detail = mismatch(&expected, &seen);
        add_check(&ctx, ok, what, Some(detail), None, 1)
    }

    /// `expect_eq` with the Wireshark display filter that shows its evidence.
    #[rhai_fn(name = "expect_eq", return_raw)]
    pub fn expect_eq_filter(
        ctx: NativeCallContext,
        seen: Dynamic,
        expected: Dynamic,
        what: &str,
        filter: &str,
    ) -> ApiResult<bool> {
        let ok = equal(&ctx, &seen, &expected);
        let detail = mismatch(&expected, &seen);
        add_check(&ctx, ok, what, Some(detail), Some(filter), 1)
    }

    /// A check worth `points` in the report's score, with its Wireshark display filter.
    #[rhai_fn(name = "expect", return_raw)]
    pub fn expect_points(
        ctx: NativeCallContext,
        ok: bool,
        what: &str,
        filter: &str,
        points: INT,
    ) -> ApiResult<bool> {
        add_check(
            &ctx,
            ok,
            what,
            Some(Text::new("the condition was false", "条件不成立")),
            Some(filter),
            points,
        )
    }

    /// `expect_eq` worth `points` in the report's score, with its Wireshark display filter.
    #[rhai_fn(name = "expect_eq", return_raw)]
    pub fn expect_eq_points(
        ctx: NativeCallContext,
        seen: Dynamic,
        expected: Dynamic,
        what: &str,
        filter: &str,
        points: INT,
    ) -> ApiResult<bool> {
        let ok = equal(&ctx, &seen, &expected);
        let detail = mismatch(&expected, &seen);
        add_check(&ctx, ok, what, Some(detail), Some(filter), points)
    }

    /// Adds a point to the report's Purpose (实验目的): what the lab is meant to show, in
    /// the report's language (`purpose(tr("...", "..."))`); one call per point.
    #[rhai_fn(return_raw)]
    pub fn purpose(ctx: NativeCallContext, text: &str) -> ApiResult<()> {
        session(&ctx)?.record_lab_text(LabPart::Purpose, text);
        Ok(())
    }

    /// Adds a paragraph to the report's Principles (实验原理): a fact that holds on every
    /// run, citing its RFC, never an observation of this run; one call per paragraph.
    #[rhai_fn(return_raw)]
    pub fn principle(ctx: NativeCallContext, text: &str) -> ApiResult<()> {
        session(&ctx)?.record_lab_text(LabPart::Principle, text);
        Ok(())
    }

    /// Adds a question (思考题) to the report's Conclusion, for the student to answer in
    /// their own words; one call per question.
    #[rhai_fn(return_raw)]
    pub fn question(ctx: NativeCallContext, text: &str) -> ApiResult<()> {
        session(&ctx)?.record_lab_text(LabPart::Question, text);
        Ok(())
    }

    /// Adds a titled section of Markdown to the report.
    #[rhai_fn(return_raw)]
    pub fn section(ctx: NativeCallContext, title: &str, body: &str) -> ApiResult<()> {
        session(&ctx)?.record_block(Block::Section {
            title: title.to_string(),
            body: body.to_string(),
        });
        Ok(())
    }

    /// Adds a paragraph of Markdown to the report.
    #[rhai_fn(return_raw)]
    pub fn note(ctx: NativeCallContext, text: &str) -> ApiResult<()> {
        session(&ctx)?.record_block(Block::Note(text.to_string()));
        Ok(())
    }

    /// Adds a table: `table(["seq", "len"], [[1, 21], [22, 12]])`.
    #[rhai_fn(return_raw)]
    pub fn table(ctx: NativeCallContext, headers: Array, rows: Array) -> ApiResult<()> {
        let headers = headers.iter().map(|h| h.to_string()).collect();
        let rows = rows
            .iter()
            .map(|r| cells("table", r))
            .collect::<ApiResult<Vec<_>>>()?;
        session(&ctx)?.record_block(Block::Table { headers, rows });
        Ok(())
    }

    /// Adds a table of every IPv4 and TCP header field of packet `p` (a TCP segment over
    /// IPv4): its width in bits, the bits of the narrow fields and the flags, its value as
    /// Wireshark names it, and what it means; both checksums are recomputed (the TCP one
    /// over the pseudo-header) and compared with the fields.
    #[rhai_fn(return_raw)]
    pub fn header_table(ctx: NativeCallContext, p: PacketRef) -> ApiResult<()> {
        let s = session(&ctx)?;
        let rows = crate::report::header_rows(p.get(), s.lang(), s.deterministic())
            .ok_or_else(|| api_error("header_table", "the packet is not TCP over IPv4"))?;
        let headers = crate::report::header_columns(s.lang());
        s.record_block(Block::Table { headers, rows });
        Ok(())
    }

    /// Adds a Wireshark-like packet list (No., Time, Source, Destination, Protocol, Length, Info).
    #[rhai_fn(return_raw)]
    pub fn packet_table(ctx: NativeCallContext, packets: Array) -> ApiResult<()> {
        let list = packets
            .iter()
            .map(|p| {
                p.clone()
                    .try_cast::<PacketRef>()
                    .map(|p| p.parts())
                    .ok_or_else(|| {
                        api_error(
                            "packet_table",
                            format!("expected packets, found {}", p.type_name()),
                        )
                    })
            })
            .collect::<ApiResult<Vec<_>>>()?;
        session(&ctx)?.record_block(Block::Packets(list));
        Ok(())
    }

    /// `text` cut or padded with `fill` to exactly `n` bytes (fill must be one ASCII character).
    /// `n` is checked against the longest string a script may hold (16 MiB) first.
    #[rhai_fn(return_raw)]
    pub fn pad(ctx: NativeCallContext, text: &str, n: INT, fill: &str) -> ApiResult<String> {
        let n = string_size(&ctx, n)?;
        let c = match fill.as_bytes() {
            [b] if b.is_ascii() => *b as char,
            _ => {
                return Err(api_error(
                    "pad",
                    "fill must be one ASCII character, e.g. \"a\"",
                ));
            }
        };
        let mut out: String = String::with_capacity(n);
        for ch in text.chars() {
            if out.len() + ch.len_utf8() > n {
                break;
            }
            out.push(ch);
        }
        while out.len() < n {
            out.push(c);
        }
        Ok(out)
    }

    /// The script argument `name` (`-- name=value`) converted like `default`, or `default`
    /// when not given: `arg("port", 8888)` is an integer, `arg("mode", "fast")` a string.
    #[rhai_fn(return_raw)]
    pub fn arg(ctx: NativeCallContext, name: &str, default: Dynamic) -> ApiResult<Dynamic> {
        let given = session(&ctx)?.arg(name);
        let Some(text) = given else {
            return Ok(default);
        };
        if default.is_int() {
            text.trim()
                .parse::<INT>()
                .map(Dynamic::from_int)
                .map_err(|_| api_error("arg", format!("{name}={text} is not an integer")))
        } else if default.is_bool() {
            match text.trim() {
                "true" | "1" | "yes" | "on" => Ok(Dynamic::TRUE),
                "false" | "0" | "no" | "off" => Ok(Dynamic::FALSE),
                _ => Err(api_error(
                    "arg",
                    format!("{name}={text} is not true or false"),
                )),
            }
        } else {
            Ok(text.into())
        }
    }

    /// The items of `list` as text joined by `sep`: `join([1460, 1460, 30], " / ")` is "1460 / 1460 / 30".
    #[rhai_fn(return_raw)]
    pub fn join(ctx: NativeCallContext, list: Array, sep: &str) -> ApiResult<String> {
        // Checked as it grows: an array of one long string repeated costs the script
        // little, its text would not.
        let limit = ctx.engine().max_string_size();
        let mut out = String::new();
        for (i, v) in list.iter().enumerate() {
            let item = v.to_string();
            let grown = out.len() + if i > 0 { sep.len() } else { 0 } + item.len();
            if limit > 0 && grown > limit {
                return Err(api_error(
                    "join",
                    format!(
                        "the text would be longer than a script string may hold ({} MiB)",
                        limit >> 20
                    ),
                ));
            }
            if i > 0 {
                out.push_str(sep);
            }
            out.push_str(&item);
        }
        Ok(out)
    }

    /// `x` with exactly `decimals` digits after the point: `fixed(1.46025, 3)` is "1.460".
    /// Labs print measured durations with it (round trips, gaps, elapsed times), so with
    /// `--deterministic` every digit is masked: `fixed(1.46025, 3)` is "#.###" and
    /// `fixed(73.2, 0)` is "#", whatever the value, and the report stays byte-identical
    /// between runs. Print values that do not change between runs without `fixed`.
    pub fn fixed(ctx: NativeCallContext, x: rhai::FLOAT, decimals: INT) -> String {
        let d = usize::try_from(decimals.clamp(0, 12)).unwrap_or(0);
        let deterministic = session(&ctx).is_ok_and(|s| s.deterministic());
        if deterministic {
            masked_fixed(d)
        } else {
            format!("{x:.d$}")
        }
    }

    /// This run's nonce: eight hex digits, new every run and shown in the report header.
    /// Put it in a payload (the chat lab does) so a capture copied from another run shows.
    /// With `--deterministic` it is always "00000000", so the payloads are the same in
    /// every run.
    #[rhai_fn(return_raw)]
    pub fn nonce(ctx: NativeCallContext) -> ApiResult<String> {
        let nonce = session(&ctx)?.nonce();
        Ok(nonce)
    }

    /// The text in the report's language (`--lang`): `tr("Checks", "检查")` is "检查" with
    /// `--lang zh`. Every fixed sentence of a lab goes through `tr`, so one script serves
    /// both languages.
    #[rhai_fn(return_raw)]
    pub fn tr(ctx: NativeCallContext, en: &str, zh: &str) -> ApiResult<String> {
        let lang = session(&ctx)?.lang();
        Ok(lang.pick(en, zh).to_string())
    }

    /// The report's language: "en" or "zh" (`--lang`), for text `tr` cannot express.
    #[rhai_fn(name = "lang", return_raw)]
    pub fn report_lang(ctx: NativeCallContext) -> ApiResult<String> {
        let lang = session(&ctx)?.lang();
        Ok(lang.code().to_string())
    }

    /// The length of the text in bytes (UTF-8), which is what TCP counts; `len` counts characters.
    pub fn byte_len(text: &str) -> INT {
        text.len() as INT
    }

    /// Waits `millis` milliseconds (at most 60 s). A wait past the run's time limit, or
    /// one Ctrl-C interrupts, stops the script.
    #[rhai_fn(return_raw)]
    pub fn sleep(millis: INT) -> ApiResult<()> {
        let ms =
            u64::try_from(millis).map_err(|_| api_error("sleep", "milliseconds must be >= 0"))?;
        if ms > 60_000 {
            return Err(api_error(
                "sleep",
                format!("{ms} ms is longer than the 60 s limit"),
            ));
        }
        crate::clock::sleep(std::time::Duration::from_millis(ms)).map_err(crate::script::stop_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_fixed_masks_every_digit() {
        assert_eq!(masked_fixed(3), "#.###");
        assert_eq!(masked_fixed(0), "#");
    }
}
