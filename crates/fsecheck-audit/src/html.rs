//! `audit.html`: one self-contained page (inline CSS and inline SVG charts; no script, no external
//! asset, no link out) with the charts, the full table and the failing rules per row.

use crate::RowStats;
use maud::{html, Markup, PreEscaped, DOCTYPE};

const CSS: &str = r#"
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
header{background:#1f3a5f;color:#fff;padding:12px 24px}
header h1{margin:0;font-size:20px}
main{padding:12px 24px}
table{border-collapse:collapse;margin:8px 0 16px}
th,td{border:1px solid #d0d7de;padding:3px 6px;text-align:right;vertical-align:top}
th{background:#eef1f4;font-weight:600}
td.l,th.l{text-align:left}
tr.all td{font-weight:600;background:#f3f6f9}
.muted{color:#57606a}
figure{margin:8px 0 20px}
figcaption{font-weight:600;margin-bottom:4px}
svg text{font:12px system-ui,sans-serif;fill:#1d1d1f}
dt{font-weight:600;margin-top:6px}
.legend span{margin-right:14px;font-size:12px}
.legend .key{display:inline-block;width:10px;height:10px;margin-right:4px}
code{font-size:12px}
"#;

/// One series of a bar chart: its name and colour.
struct Series {
    name: &'static str,
    color: &'static str,
}

const SHARES: &[Series] = &[
    Series {
        name: "PDFs carrying a CDA2",
        color: "#1f77b4",
    },
    Series {
        name: "signed PAdES, gateway lens",
        color: "#2ca02c",
    },
    Series {
        name: "signed PAdES, AdES lens",
        color: "#98df8a",
    },
    Series {
        name: "gateway would accept",
        color: "#ff7f0e",
    },
];

const STAGES: &[Series] = &[
    Series {
        name: "XSD valid",
        color: "#9467bd",
    },
    Series {
        name: "schematron valid",
        color: "#8c564b",
    },
    Series {
        name: "terminology valid",
        color: "#e377c2",
    },
    Series {
        name: "valid at all three",
        color: "#17becf",
    },
];

const LABEL_W: f64 = 120.0;
const BAR_W: f64 = 420.0;
const BAR_H: f64 = 11.0;
const GAP: f64 = 8.0;

/// A horizontal bar chart: one group of bars per row, one bar per series, values in `0..=max`.
/// `None` values (no denominator) are drawn as a dash.
fn bar_chart(
    caption: &str,
    groups: &[(String, Vec<Option<f64>>)],
    series: &[Series],
    max: f64,
    unit: &str,
) -> Markup {
    let per_group = series.len() as f64 * BAR_H + GAP;
    let height = groups.len() as f64 * per_group + 4.0;
    let width = LABEL_W + BAR_W + 90.0;
    let max = if max > 0.0 { max } else { 1.0 };
    html! {
        figure {
            figcaption { (caption) }
            @if series.len() > 1 {
                div.legend {
                    @for s in series {
                        span { span.key style=(format!("background:{}", s.color)) {} (s.name) }
                    }
                }
            }
            svg width=(c(width)) height=(c(height)) viewBox=(format!("0 0 {} {}", c(width), c(height))) role="img" aria-label=(caption) {
                @for (g, (label, values)) in groups.iter().enumerate() {
                    @let y0 = g as f64 * per_group;
                    text x=(c(LABEL_W - 6.0)) y=(c(y0 + series.len() as f64 * BAR_H / 2.0 + 4.0)) text-anchor="end" { (label) }
                    @for (i, (s, v)) in series.iter().zip(values).enumerate() {
                        @let y = y0 + i as f64 * BAR_H;
                        @match v {
                            Some(v) => {
                                @let w = (v / max * BAR_W).max(0.0);
                                rect x=(c(LABEL_W)) y=(c(y)) width=(c(w)) height=(c(BAR_H - 2.0)) fill=(s.color) {
                                    title { (label) " · " (s.name) ": " (fmt(*v)) (unit) }
                                }
                                text x=(c(LABEL_W + w + 4.0)) y=(c(y + BAR_H - 2.5)) { (fmt(*v)) (unit) }
                            }
                            None => {
                                text x=(c(LABEL_W + 4.0)) y=(c(y + BAR_H - 2.5)) class="muted" { "—" }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn fmt(v: f64) -> String {
    crate::fmt_num(v)
}

/// A coordinate, to a tenth of a pixel.
fn c(v: f64) -> String {
    format!("{v:.1}")
}

fn pct_cell(n: u64, p: Option<f64>) -> Markup {
    html! {
        td { (n) br; span.muted { (p.map_or("—".to_string(), |p| format!("{} %", fmt(p)))) } }
    }
}

fn row_cells(s: &RowStats) -> Markup {
    html! {
        td.l { code { (s.row) } br; span.muted { (s.name) } }
        td { (s.documents) }
        td { (s.pdf) " / " (s.xml) " / " (s.other) }
        (pct_cell(s.pdf_with_cda2, s.pct_pdf_with_cda2))
        (pct_cell(s.pades_gateway, s.pct_pades_gateway))
        (pct_cell(s.pades_ades, s.pct_pades_ades))
        td { (s.cda_checked) }
        (pct_cell(s.xsd_valid, s.pct_xsd_valid))
        (pct_cell(s.schematron_valid, s.pct_schematron_valid))
        (pct_cell(s.terminology_valid, s.pct_terminology_valid))
        (pct_cell(s.all_stages_valid, s.pct_all_stages_valid))
        td { (s.gateway_known) }
        (pct_cell(s.gateway_accepted, s.pct_gateway_accepted))
        td { (s.median_size.map_or("—".to_string(), |m| if s.median_size_exact { fmt(m) } else { format!("≈{}", fmt(m)) })) }
    }
}

pub(crate) fn render(rows: &[RowStats], total: &RowStats) -> Markup {
    let all: Vec<&RowStats> = rows.iter().chain(std::iter::once(total)).collect();
    let counts: Vec<(String, Vec<Option<f64>>)> = rows
        .iter()
        .map(|s| (s.row.clone(), vec![Some(s.documents as f64)]))
        .collect();
    let max_docs = rows.iter().map(|s| s.documents).max().unwrap_or(0) as f64;
    let shares: Vec<(String, Vec<Option<f64>>)> = all
        .iter()
        .filter(|s| s.pdf > 0 || s.gateway_known > 0)
        .map(|s| {
            (
                s.row.clone(),
                vec![
                    s.pct_pdf_with_cda2,
                    s.pct_pades_gateway,
                    s.pct_pades_ades,
                    s.pct_gateway_accepted,
                ],
            )
        })
        .collect();
    let stages: Vec<(String, Vec<Option<f64>>)> = all
        .iter()
        .filter(|s| s.cda_checked > 0)
        .map(|s| {
            (
                s.row.clone(),
                vec![
                    s.pct_xsd_valid,
                    s.pct_schematron_valid,
                    s.pct_terminology_valid,
                    s.pct_all_stages_valid,
                ],
            )
        })
        .collect();
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "fsecheck audit" }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    h1 { "fsecheck audit" }
                    div { "fsecheck " (env!("CARGO_PKG_VERSION")) " · " (total.documents) " documents · "
                        (total.pdf) " PDF, " (total.xml) " XML, " (total.other) " other" }
                }
                main {
                    h2 { "Documents per type" }
                    (bar_chart("Documents per row", &counts, &[Series { name: "documents", color: "#1f3a5f" }], max_docs, ""))
                    h2 { "Shares" }
                    p.muted { "PDF shares are of the row's PDFs; the gateway share is of the row's documents with a known gateway answer." }
                    (bar_chart("PDFs carrying a CDA2, signed PAdES, accepted by the gateway (%)", &shares, SHARES, 100.0, " %"))
                    h2 { "Validation stages" }
                    p.muted { "Shares of the documents whose CDA2 was read (every stage runs on every read CDA2)." }
                    (bar_chart("Valid per stage (%)", &stages, STAGES, 100.0, " %"))
                    h2 { "Table" }
                    table id="audit" {
                        thead {
                            tr {
                                th.l { "Row" } th { "Documents" } th { "PDF / XML / other" }
                                th { "PDFs carrying a CDA2" } th { "Signed PAdES (gateway lens)" } th { "Signed PAdES (AdES lens)" }
                                th { "CDA2 read" } th { "XSD valid" } th { "Schematron valid" } th { "Terminology valid" } th { "All three valid" }
                                th { "Gateway answer known" } th { "Gateway would accept" } th { "Median size (bytes)" }
                            }
                        }
                        tbody {
                            @for s in rows { tr { (row_cells(s)) } }
                            tr.all { (row_cells(total)) }
                        }
                    }
                    h2 { "Most frequent failing rules" }
                    p.muted { "Documents with at least one error of the rule; ten per row, most first, ties by rule id." }
                    @for s in &all {
                        @if !s.top_failing_rules.is_empty() {
                            details open[s.row == "all"] {
                                summary { code { (s.row) } " · " (s.name) }
                                table.rules {
                                    thead { tr { th.l { "Rule" } th { "Documents" } th { "of the row" } } }
                                    tbody {
                                        @for r in &s.top_failing_rules {
                                            tr { td.l { code { (r.id) } } td { (r.documents) }
                                                td { (crate::pct(r.documents, s.documents).map(|p| format!("{} %", fmt(p))).unwrap_or_default()) } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    h2 { "Definitions" }
                    dl {
                        dt { "Row" } dd { "The document type of the CDA2 (first templateId root); " code { "unknown-type" } ": a CDA2 of no known type; "
                            code { "no-cda" } ": a PDF from which no CDA2 was read; " code { "not-cda" } ": any other input that is not a CDA2; "
                            code { "not-document" } ": request files and metadata sidecars; " code { "all" } ": every input." }
                        dt { "PDFs carrying a CDA2" } dd { "PDFs whose embedded CDA was extracted and read as a ClinicalDocument, of the row's PDFs." }
                        dt { "Signed PAdES (gateway lens)" } dd { "PDFs whose signature the gateway's check finds valid (signature_check = valid), of the row's PDFs." }
                        dt { "Signed PAdES (AdES lens)" } dd { "PDFs with a PAdES baseline signature (level B-B or higher) and an AdES verdict of pass or warn, of the row's PDFs." }
                        dt { "Valid per stage" } dd { "Documents whose CDA2 was read and that have no error of that stage, of the documents whose CDA2 was read." }
                        dt { "Gateway would accept" } dd { "Documents the gateway would answer with a success (2xx), of the documents whose gateway answer is known (XML is judged as if sent in a PDF; other files get 415)." }
                        dt { "Median size" } dd { "Of the input files' sizes; exact up to 4,096 documents per row, then within 0.55 % (marked ≈)." }
                    }
                }
            }
        }
    }
}
