//! Source excerpts around a finding, for the formats that show them (SARIF, HTML).

use fsecheck_core::Finding;

/// Lines longer than this are cut to a window around the column.
const MAX_LINE_CHARS: usize = 240;

/// Some lines of the checked text around a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excerpt {
    /// 1-based number of the first line in `lines`.
    pub first_line: u32,
    /// The finding's own line (1-based).
    pub line: u32,
    /// The finding's column (1-based, characters), when known.
    pub column: Option<u32>,
    pub lines: Vec<String>,
}

impl Excerpt {
    /// The lines joined by newlines.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }
}

/// The 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let mut off = offset.min(text.len());
    while !text.is_char_boundary(off) {
        off -= 1;
    }
    let before = &text[..off];
    let line = before.matches('\n').count() as u32 + 1;
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    let col = text[line_start..off].chars().count() as u32 + 1;
    (line, col)
}

/// The finding's line and column: from its location, else from its byte span in `text`.
pub fn position(f: &Finding, text: Option<&str>) -> Option<(u32, Option<u32>)> {
    let loc = &f.location;
    if let Some(l) = loc.line {
        return Some((l, loc.column));
    }
    let (text, span) = (text?, loc.span?);
    let (l, c) = line_col(text, span.start);
    Some((l, Some(c)))
}

fn cut(line: &str, column: Option<u32>) -> String {
    let n = line.chars().count();
    if n <= MAX_LINE_CHARS {
        return line.to_string();
    }
    let col = column.unwrap_or(1).saturating_sub(1) as usize;
    let start = col
        .saturating_sub(MAX_LINE_CHARS / 2)
        .min(n - MAX_LINE_CHARS);
    let body: String = line.chars().skip(start).take(MAX_LINE_CHARS).collect();
    let pre = if start > 0 { "…" } else { "" };
    let post = if start + MAX_LINE_CHARS < n {
        "…"
    } else {
        ""
    };
    format!("{pre}{body}{post}")
}

/// `context` lines either side of the finding's line, or `None` without text or position.
pub fn excerpt(text: &str, f: &Finding, context: u32) -> Option<Excerpt> {
    let (line, column) = position(f, Some(text))?;
    if line == 0 {
        return None;
    }
    let first = line.saturating_sub(context).max(1);
    let last = line + context;
    let lines: Vec<String> = text
        .split('\n')
        .enumerate()
        .skip(first as usize - 1)
        .take((last - first + 1) as usize)
        .map(|(i, l)| {
            let l = l.strip_suffix('\r').unwrap_or(l);
            cut(l, if i as u32 + 1 == line { column } else { None })
        })
        .collect();
    if lines.is_empty() {
        return None;
    }
    Some(Excerpt {
        first_line: first,
        line,
        column,
        lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use fsecheck_core::Stage;

    #[test]
    fn excerpt_takes_context_and_positions() {
        let text = "a\nbb\nccc\ndddd\n";
        let f = Finding::error("x/y", Stage::Xml, "m").with_span(6, 7);
        assert_eq!(line_col(text, 6), (3, 2));
        let e = excerpt(text, &f, 1).unwrap();
        assert_eq!(e.first_line, 2);
        assert_eq!(e.line, 3);
        assert_eq!(e.column, Some(2));
        assert_eq!(e.lines, vec!["bb", "ccc", "dddd"]);
        let f = Finding::error("x/y", Stage::Xml, "m").with_line_col(1, 1);
        assert_eq!(excerpt(text, &f, 2).unwrap().lines.len(), 3);
        let f = Finding::error("x/y", Stage::Xml, "m");
        assert!(excerpt(text, &f, 2).is_none());
    }

    #[test]
    fn long_lines_are_cut_around_the_column() {
        let long = format!("{}X{}", "a".repeat(5000), "b".repeat(5000));
        let f = Finding::error("x/y", Stage::Xml, "m").with_line_col(1, 5001);
        let e = excerpt(&long, &f, 0).unwrap();
        assert!(e.lines[0].contains('X'));
        assert!(e.lines[0].chars().count() <= MAX_LINE_CHARS + 2);
    }
}
