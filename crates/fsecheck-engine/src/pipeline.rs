//! One document's way through the stages. One read, one decode, one parse; every stage works on
//! the same tree; findings from all stages are kept (a failing stage does not hide later ones,
//! unless the input cannot be parsed at all).

use crate::cache::{Cache, CacheOptions, Key, Stored};
use crate::file_index::Facts;
use crate::input::Input;
use crate::requests::{self, Metadata};
use crate::sniff::{sniff, Sniffed};
use fsecheck_catalog::Catalog;
use fsecheck_cda::{header, DocType, Header, Ii};
use fsecheck_core::{Finding, Stage};
use fsecheck_report::{CdaSummary, DocumentReport, GatewayContext, GatewayVerdict, Kind};
use fsecheck_xml::{Limits, LineIndex};
use std::borrow::Cow;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    pub limits: Limits,
    /// Apply this schematron to every document instead of the catalog's choice.
    pub schematron_override: Option<PathBuf>,
    /// Keep the checked text in the report (for source snippets in human output).
    pub keep_source: bool,
    /// Metadata rule options (gateway release, strict dates).
    pub metadata: fsecheck_metadata::Options,
    /// `--metadata`/`--jwt`: checked with every document instead of sidecars.
    pub explicit_metadata: Metadata,
    /// PDF container and signature options (CDA mode, trust anchors, gateway variant).
    pub pades: fsecheck_pades::Options,
    /// Limits against zip bombs, for entries of zip archives.
    pub archive: crate::archive::ArchiveLimits,
}

/// The stage data loaded once per process from the catalog and shared by all workers.
#[derive(Default)]
pub struct Stages {
    pub terminology: Option<fsecheck_terminology::Terminology>,
    pub engines: Option<fsecheck_terminology::Engines>,
    /// Catalog schematrons, compiled on first use.
    pub schematrons: crate::compiled::SchematronCache,
    /// `--schematron FILE`, compiled up front.
    pub schematron_override: Option<Arc<fsecheck_schematron::Schematron>>,
    /// The catalog's CDA schema sets by `typeId/@extension`, compiled on first use.
    pub schema_sets: crate::compiled::SchemaSetCache,
}

impl Stages {
    /// Load every stage's data from the catalog. A broken file is a configuration error.
    pub fn load(catalog: &Catalog) -> Result<Stages, String> {
        let terminology = fsecheck_terminology::Terminology::load(&catalog.root)
            .map_err(|e| format!("catalog terminology: {e}"))?;
        let engines = fsecheck_terminology::Engines::load(&catalog.root)
            .map_err(|e| format!("catalog engines: {e}"))?;
        Ok(Stages {
            terminology: Some(terminology),
            engines: Some(engines),
            ..Stages::default()
        })
    }
}

/// Stage data to load from this catalog on first use.
type Deferred = (Arc<Catalog>, OnceLock<Result<Stages, String>>);

/// Everything shared by all workers: catalog, stage data and options. `Send + Sync`.
pub struct Engine {
    pub catalog: Option<Arc<Catalog>>,
    /// The stage data loaded up front ([`Engine::with_stages`]). Empty for an engine whose
    /// stages are deferred ([`Engine::with_deferred_stages`]): see [`Engine::catalog_errors`].
    pub stages: Stages,
    pub options: EngineOptions,
    /// Stage data loaded on the first document that needs it (with a record cache, a run whose
    /// documents are all cached never loads it).
    deferred: Option<Deferred>,
    cache: Option<Cache>,
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

impl Engine {
    pub fn new(catalog: Option<Arc<Catalog>>, options: EngineOptions) -> Self {
        Engine {
            catalog,
            stages: Stages::default(),
            options,
            deferred: None,
            cache: None,
        }
    }

    /// An engine with every stage loaded from `catalog`.
    pub fn with_stages(catalog: Arc<Catalog>, options: EngineOptions) -> Result<Self, String> {
        let stages = Self::load_stages(&catalog, &options)?;
        Ok(Engine {
            catalog: Some(catalog),
            stages,
            options,
            deferred: None,
            cache: None,
        })
    }

    fn load_stages(catalog: &Catalog, options: &EngineOptions) -> Result<Stages, String> {
        let mut stages = Stages::load(catalog)?;
        if let Some(p) = &options.schematron_override {
            stages.schematron_override = Some(crate::compiled::compile_override(p)?);
        }
        Ok(stages)
    }

    /// An engine whose stage data is loaded when the first document needs it. A broken catalog
    /// then shows as an `internal/catalog-unusable` finding and in [`Engine::catalog_errors`],
    /// not as an error here.
    pub fn with_deferred_stages(catalog: Arc<Catalog>, options: EngineOptions) -> Self {
        Engine {
            catalog: Some(catalog.clone()),
            stages: Stages::default(),
            options,
            deferred: Some((catalog, OnceLock::new())),
            cache: None,
        }
    }

    /// The engine of `fsecheck check`: stages loaded up front; or, with a record cache in
    /// `cache_dir`, stages deferred (a fully cached run never loads them) and the cache opened
    /// for this catalog and these options.
    pub fn build(
        catalog: Arc<Catalog>,
        options: EngineOptions,
        cache_dir: Option<&Path>,
        cache_options: CacheOptions,
    ) -> Result<Self, String> {
        let Some(dir) = cache_dir else {
            return Self::with_stages(catalog, options);
        };
        let started = std::time::SystemTime::now();
        let run = crate::cache::run_fingerprint(Some(&catalog), &options, Some((dir, started)))?;
        let cache = Cache::open_with(dir, run, cache_options, started)?;
        Ok(Self::with_deferred_stages(catalog, options).with_cache(cache))
    }

    /// Check XML and PDF inputs through this record cache.
    pub fn with_cache(mut self, cache: Cache) -> Self {
        self.cache = Some(cache);
        self
    }

    pub fn cache(&self) -> Option<&Cache> {
        self.cache.as_ref()
    }

    /// The stage data: loaded up front, or now on first use.
    fn stages(&self) -> Result<&Stages, &str> {
        match &self.deferred {
            None => Ok(&self.stages),
            Some((catalog, cell)) => cell
                .get_or_init(|| Self::load_stages(catalog, &self.options))
                .as_ref()
                .map_err(String::as_str),
        }
    }

    /// What makes the catalog unusable, seen so far: stage data that did not load (deferred
    /// stages) and catalog schematrons that did not compile. Non-empty means exit code 2.
    pub fn catalog_errors(&self) -> Vec<String> {
        let mut out = Vec::new();
        let loaded = match &self.deferred {
            None => Some(&self.stages),
            Some((_, cell)) => match cell.get() {
                Some(Ok(s)) => Some(s),
                Some(Err(e)) => {
                    out.push(e.clone());
                    None
                }
                None => None,
            },
        };
        if let Some(s) = loaded {
            out.extend(
                s.schema_sets
                    .errors()
                    .into_iter()
                    .map(|e| format!("the catalog's CDA schema set does not compile: {e}")),
            );
            out.extend(
                s.schematrons
                    .errors()
                    .into_iter()
                    .map(|e| format!("the catalog's schematron does not compile: {e}")),
            );
        }
        out
    }

    /// Check one input; never panics on bad input (the runner isolates bugs).
    pub fn check_input(&self, input: &Input) -> DocumentReport {
        match input {
            Input::Problem { path, finding } => {
                let mut r = DocumentReport::new(path.to_string_lossy(), Kind::Other);
                let mut f = (**finding).clone();
                f.location.path = r.path.clone();
                r.findings.push(f);
                r.finish();
                r
            }
            Input::File(path) => self.check_file(path),
            Input::Entry(e) => self.check_entry(e),
        }
    }

    /// An entry of a zip archive: read within the archive limits, then checked like a file
    /// (without sidecars).
    pub fn check_entry(&self, entry: &crate::archive::Entry) -> DocumentReport {
        let started = Instant::now();
        let mut report = DocumentReport::new(entry.path.to_string_lossy(), Kind::Other);
        report.size = entry.size;
        let bytes = match crate::archive::read_entry(entry, &self.options.archive) {
            Ok(b) => b,
            Err(f) => {
                report.findings.push(*f);
                for f in &mut report.findings {
                    f.location.path = report.path.clone();
                }
                report.finish();
                return report;
            }
        };
        report.timing_ms.insert("read".into(), ms(started));
        if crate::archive::is_zip(&bytes) {
            report.findings.push(
                Finding::error(
                    "input/archive-nested",
                    Stage::Input,
                    "a zip archive inside a zip archive: not expanded",
                )
                .with_hint(
                    "Only one level of archives is read. Unpack the inner archive, or check it \
                     on its own.",
                )
                .with_detail("gateway_type", "/msg/document-type"),
            );
            return self.finish(report, 201);
        }
        self.check_cached(bytes, report, None, None)
    }

    /// [`Engine::check_bytes`] through the record cache, when there is one and the input is XML
    /// or PDF. `facts`: those of the file the bytes were read from, taken before reading.
    fn check_cached(
        &self,
        bytes: Vec<u8>,
        mut report: DocumentReport,
        path: Option<&Path>,
        facts: Option<&Facts>,
    ) -> DocumentReport {
        let Some(cache) = &self.cache else {
            return self.check_bytes(bytes, report, path);
        };
        let kind = sniff(&bytes[..bytes.len().min(1024)]);
        if !matches!(kind, Sniffed::Xml | Sniffed::Pdf) {
            return self.check_bytes(bytes, report, path);
        }
        let started = Instant::now();
        let key = self.cache_key(cache, &bytes, path);
        let learn = |key: crate::cache::Key| {
            if let (Some(index), Some(facts)) = (cache.index(), facts) {
                index.learn(facts, key.0);
            }
        };
        if let Some(stored) = cache.get(&key) {
            if let Some(r) = self.reuse(stored, TextFrom::Bytes(&bytes), &report.path, started) {
                learn(key);
                return r;
            }
            cache.count_miss_after_hit();
        }
        // A miss: check, and keep the checked text of a PDF for later runs that show snippets.
        let store_source = kind == Sniffed::Pdf && self.options.keep_source;
        report.timing_ms.insert("cache".into(), ms(started));
        let r = self.check_bytes(bytes, report, path);
        if cache.put(&key, &r, store_source.then_some(r.source.as_deref())) {
            learn(key);
        }
        r
    }

    /// The record of a cache hit for the document at `display`: the stored record with this
    /// path, and the checked text when it is kept (rebuilt from the document's bytes for XML,
    /// read now if they were not). `None` when the text is needed and cannot be had (a PDF stored
    /// without it, an XML file that no longer reads): a miss.
    fn reuse(
        &self,
        stored: Stored,
        text_from: TextFrom<'_>,
        display: &str,
        started: Instant,
    ) -> Option<DocumentReport> {
        let source = if !self.options.keep_source {
            None
        } else if stored.kind() == Kind::Xml {
            let text = |b: &[u8]| fsecheck_xml::prepare(b, &self.options.limits).text;
            match text_from {
                TextFrom::Bytes(b) => text(b),
                TextFrom::File(p) => match read_limited(p, self.options.limits.max_bytes) {
                    Ok(ReadResult::All(b)) => text(&b),
                    _ => return None,
                },
            }
            .map(Arc::from)
        } else {
            stored.source.clone()?
        };
        let mut r = stored.record(display, ms(started))?;
        r.source = source;
        Some(r)
    }

    /// The cache key of a document: its bytes, and with sidecars (when no `--metadata`/`--jwt`
    /// replaces them) their content and the document's path.
    fn cache_key(&self, cache: &Cache, bytes: &[u8], path: Option<&Path>) -> crate::cache::Key {
        let mut k = cache.key();
        k.part("document", bytes);
        if let (Some(p), true) = (path, self.options.explicit_metadata.is_empty()) {
            let s = fsecheck_metadata::discover_sidecars(p);
            if !s.is_empty() {
                k.part("path", p.to_string_lossy().as_bytes());
                for (name, side) in [("body", &s.body), ("jwt", &s.jwt)] {
                    if let Some(sp) = side {
                        match std::fs::read(sp) {
                            Ok(b) => k.part(name, &b),
                            Err(e) => k.part(name, format!("unreadable: {e}").as_bytes()),
                        };
                    }
                }
            }
        }
        k.finish()
    }

    pub fn check_file(&self, path: &Path) -> DocumentReport {
        let display = path.to_string_lossy().into_owned();
        let started = Instant::now();
        // An unchanged file the index knows is not read: its key is remembered.
        let facts = self
            .cache
            .as_ref()
            .and_then(Cache::index)
            .and_then(|i| crate::file_index::facts_of(path, Some(&i.listings)));
        if let (Some(cache), Some(f)) = (&self.cache, &facts) {
            let remembered = cache.index().and_then(|i| i.lookup(f)).map(Key);
            if let Some(stored) = remembered.and_then(|k| cache.get_remembered(&k)) {
                if let Some(r) = self.reuse(stored, TextFrom::File(path), &display, started) {
                    return r;
                }
                cache.count_remembered_miss();
            }
        }
        let mut report = DocumentReport::new(display.clone(), Kind::Other);
        let bytes = match read_limited(path, self.options.limits.max_bytes) {
            Ok(ReadResult::All(b)) => b,
            Ok(ReadResult::TooLarge { head, size }) => {
                report.kind = sniff(&head).kind();
                report.size = size;
                report.findings.push(fsecheck_xml::size_finding(
                    size,
                    self.options.limits.max_bytes,
                ));
                return self.finish(report, 201);
            }
            Err(e) => {
                let id = if e.kind() == std::io::ErrorKind::PermissionDenied {
                    "input/permission-denied"
                } else {
                    "input/unreadable"
                };
                report.findings.push(
                    Finding::error(id, Stage::Input, format!("cannot read the file: {e}"))
                        .with_hint("The file vanished, is not readable, or is not a regular file."),
                );
                return self.finish(report, 201);
            }
        };
        report.size = bytes.len() as u64;
        report.timing_ms.insert("read".into(), ms(started));
        self.check_cached(bytes, report, Some(path), facts.as_ref())
    }

    /// Check already-read bytes (a file, or a part extracted from a container). `path`, when the
    /// bytes are a file, lets sidecars and request attachments be found beside it.
    pub fn check_bytes(
        &self,
        bytes: Vec<u8>,
        mut report: DocumentReport,
        path: Option<&Path>,
    ) -> DocumentReport {
        let sniffed = sniff(&bytes[..bytes.len().min(1024)]);
        report.kind = sniffed.kind();
        if sniffed == Sniffed::Other {
            if let Some(doc) = path.and_then(requests::sidecar_of) {
                report.findings.push(Finding::info(
                    "input/sidecar",
                    Stage::Input,
                    format!(
                        "publication metadata sidecar of {}: checked with that document",
                        doc.display()
                    ),
                ));
                let mut r = self.finish(report, 201);
                r.gateway = None;
                return r;
            }
        }
        match sniffed {
            Sniffed::Xml => {
                let (meta, meta_findings) = self.metadata_for(path);
                let facts = self.check_xml(bytes, &mut report, meta.is_some());
                report.findings.extend(meta_findings);
                let success = meta.as_ref().map_or(201, |m| m.success_status());
                if let Some(meta) = meta {
                    self.check_metadata(&meta, facts.as_ref(), None, &mut report);
                }
                return self.finish(report, success);
            }
            Sniffed::Pdf => {
                let (warnings, success) = self.check_pdf(&bytes, &mut report, path);
                let mut r = self.finish(report, success);
                // The gateway prefixes its PDF warnings (signed in validation, no extraction mode).
                if let Some(g) = r.gateway.as_mut().filter(|g| g.accepted()) {
                    if !warnings.is_empty() {
                        let mut w = warnings.concat();
                        if let Some(rest) = &g.warning {
                            w.push_str(rest);
                        }
                        g.warning = Some(w);
                    }
                }
                return r;
            }
            Sniffed::Http => match path {
                Some(p) => {
                    let t = Instant::now();
                    report.findings.extend(requests::check_http_file(
                        p,
                        &self.options.metadata,
                        &|_pdf| None,
                    ));
                    report.timing_ms.insert("metadata".into(), ms(t));
                }
                None => report.findings.push(Finding::info(
                    "http/not-checked",
                    Stage::Metadata,
                    "request file inside a container: not checked",
                )),
            },
            Sniffed::Other => {
                let f = if bytes.is_empty() {
                    Finding::error("input/empty", Stage::Input, "the file is empty")
                        .with_detail("gateway_type", "/msg/empty-file")
                } else {
                    Finding::error(
                        "input/unsupported-format",
                        Stage::Input,
                        format!(
                            "not a PDF, an XML document or an HTTP request file (starts with {})",
                            describe_head(&bytes)
                        ),
                    )
                    .with_hint("fsecheck recognises files by content: %PDF-, XML markup, or a request line.")
                };
                report.findings.push(f);
            }
        }
        self.finish(report, 201)
    }

    /// `success`: the status of a successful answer (201, or 200 for a VERIFICA validation).
    fn finish(&self, mut report: DocumentReport, success: u16) -> DocumentReport {
        for f in &mut report.findings {
            if f.location.path.is_empty() {
                f.location.path = report.path.clone();
            }
        }
        report.finish();
        report.gateway = GatewayVerdict::compute(
            &report.findings,
            GatewayContext {
                success_status: success,
                ..GatewayContext::new(report.kind)
            },
        );
        report
    }

    /// The PDF container, its signatures and its CDA (through the XML stages). Returns the
    /// gateway's validation warning pieces and the status of a successful answer.
    fn check_pdf(
        &self,
        bytes: &[u8],
        report: &mut DocumentReport,
        path: Option<&Path>,
    ) -> (Vec<String>, u16) {
        let t = Instant::now();
        let mut pdf = fsecheck_pades::analyze(bytes, &self.options.pades);
        report.timing_ms.insert("pdf".into(), ms(t));
        report.findings.extend(pdf.findings.iter().cloned());
        // What the gateway's validation answers for the container (input gate, then extraction),
        // as a blocking finding when no finding of the PDF stage already carries it.
        let gw = &pdf.gateway;
        if let Some(e) = gw.input_error.as_ref().or(gw.cda_error.as_ref()) {
            if !report
                .findings
                .iter()
                .any(|f| f.details.get("gateway_type") == Some(&e.type_))
            {
                report.findings.push(
                    Finding::error(
                        "pdf/gateway-extraction",
                        Stage::Pdf,
                        format!(
                            "the gateway would answer {} {}: {}",
                            e.status, e.type_, e.detail
                        ),
                    )
                    .with_hint(
                        "The gateway's own PDF reader would not get the CDA out of this file \
                         (see the PDF findings and the gateway lens for why).",
                    )
                    .with_detail("gateway_type", e.type_.clone())
                    .with_detail("gateway_title", e.title.clone())
                    .with_detail("gateway_status", e.status.to_string())
                    .with_detail("gateway_instance", e.instance.clone())
                    .with_detail("gateway_detail", e.detail.clone())
                    .with_detail("gateway_order", "70"),
                );
            }
        }
        report.signatures = pdf
            .signatures
            .iter()
            .filter_map(|s| serde_json::to_value(s).ok())
            .collect();
        report.pdf = Some(serde_json::json!({
            "pdfa": pdf.pdfa,
            "revisions": pdf.revisions.len(),
            "trailing_bytes": pdf.trailing_bytes,
            "modification": pdf.modification,
            "cda_extraction": pdf.cda_extraction,
            "gateway": pdf.gateway,
            "ades": pdf.ades,
        }));
        let (meta, meta_findings) = self.metadata_for(path);
        let mut facts = None;
        if let Some(cda) = pdf.cda.take() {
            let part = cda.name.unwrap_or_else(|| "cda.xml".into());
            let first = report.findings.len();
            facts = self.check_xml(cda.bytes, report, meta.is_some());
            for f in &mut report.findings[first..] {
                if f.location.part.is_none() {
                    f.location.part = Some(part.clone());
                }
            }
        }
        report.findings.extend(meta_findings);
        let success = meta.as_ref().map_or(201, |m| m.success_status());
        if let Some(meta) = meta {
            self.check_metadata(&meta, facts.as_ref(), Some(bytes), report);
        }
        (pdf.gateway.validation_warnings, success)
    }

    /// The request body and token to check with this document: `--metadata`/`--jwt`, else the
    /// sidecars beside `path`; `None` when there is nothing to check. Unreadable sidecars are
    /// findings.
    fn metadata_for(&self, path: Option<&Path>) -> (Option<Cow<'_, Metadata>>, Vec<Finding>) {
        let mut findings = Vec::new();
        let meta = if !self.options.explicit_metadata.is_empty() {
            Some(Cow::Borrowed(&self.options.explicit_metadata))
        } else {
            path.map(|p| Cow::Owned(Metadata::sidecars(p, &mut findings)))
        };
        (meta.filter(|m| !m.is_empty()), findings)
    }

    /// Check the request body and token with the CDA facts and the PDF bytes.
    fn check_metadata(
        &self,
        meta: &Metadata,
        facts: Option<&fsecheck_metadata::CdaFacts>,
        pdf: Option<&[u8]>,
        report: &mut DocumentReport,
    ) {
        let t = Instant::now();
        report
            .findings
            .extend(meta.check(facts, pdf, &self.options.metadata));
        report.timing_ms.insert("metadata".into(), ms(t));
    }

    /// The XML stages; returns the CDA facts for the metadata cross-checks when `want_facts`
    /// (reading them walks the tree once more, so only when metadata is checked).
    fn check_xml(
        &self,
        bytes: Vec<u8>,
        report: &mut DocumentReport,
        want_facts: bool,
    ) -> Option<fsecheck_metadata::CdaFacts> {
        let t = Instant::now();
        let prepared = fsecheck_xml::prepare_owned(bytes, &self.options.limits);
        report.timing_ms.insert("decode".into(), ms(t));
        report.findings.extend(prepared.findings);
        let text = prepared.text?;
        let t = Instant::now();
        let doc = match fsecheck_xml::parse(&text, &self.options.limits) {
            Ok(d) => d,
            Err(f) => {
                report.findings.push(*f);
                self.attach_source(report, text);
                return None;
            }
        };
        report.timing_ms.insert("parse".into(), ms(t));
        let t = Instant::now();
        let head = header(&doc);
        report.timing_ms.insert("header".into(), ms(t));
        match head {
            Err(f) => {
                // The gateway's validator reads the templateId and typeId (any root element)
                // before its XSD step, and throws when one is missing: that comes first.
                let info = fsecheck_cda::extract_info(&doc);
                let at = doc.root_element().range().start;
                if info.template_root.is_none() {
                    report.findings.push(missing_template_id(at));
                }
                if info.type_id_extension.is_none() {
                    report.findings.push(missing_type_id(at));
                }
                report.findings.push(*f);
            }
            Ok(h) => self.cda_stages(&doc, &h, report),
        }
        if report
            .findings
            .iter()
            .any(|f| f.location.span.is_some() && f.location.line.is_none())
        {
            let index = LineIndex::new(&text);
            for f in &mut report.findings {
                if let (Some(span), None) = (f.location.span, f.location.line) {
                    let (l, c) = index.line_col(&text, span.start);
                    f.location.line = Some(l);
                    f.location.column = Some(c);
                }
            }
        }
        let facts = want_facts.then(|| requests::cda_facts(&doc));
        drop(doc);
        self.attach_source(report, text);
        facts
    }

    fn attach_source(&self, report: &mut DocumentReport, text: String) {
        if self.options.keep_source {
            report.source = Some(Arc::from(text));
        }
    }

    fn cda_stages(&self, doc: &roxmltree::Document<'_>, h: &Header, report: &mut DocumentReport) {
        let root_el = doc.root_element();
        let root_span = root_el.range().start;
        report.cda = Some(CdaSummary {
            code: h.code.as_ref().and_then(|c| c.code.clone()),
            code_system: h.code.as_ref().and_then(|c| c.code_system.clone()),
            template_root: h.first_template_root.clone(),
            type_id_extension: h.type_id.as_ref().and_then(|t| t.extension.clone()),
            title: h.title.clone(),
            document_id: h.id.as_ref().and_then(Ii::joined),
            effective_time: h.effective_time.clone(),
            encounter_id: h
                .encompassing_encounter
                .as_ref()
                .and_then(|e| e.ids.first())
                .and_then(Ii::joined),
            order_ids: h.order_ids.iter().filter_map(Ii::joined).collect(),
            facility_id: h.facility_ids.first().and_then(Ii::joined),
            custodian_id: h
                .custodian
                .as_ref()
                .and_then(|c| c.ids.first())
                .and_then(Ii::joined),
        });
        let template_root = h.first_template_root.as_deref();
        report.doc_type = template_root
            .and_then(DocType::by_root)
            .map(|d| d.key.to_string());
        if template_root.is_none() {
            report.findings.push(missing_template_id(root_span));
        }
        let type_ext = h.type_id.as_ref().and_then(|t| t.extension.as_deref());
        if type_ext.is_none() {
            report.findings.push(missing_type_id(root_span));
        }
        if let Some(over) = &self.options.schematron_override {
            report.schematron = over.file_name().map(|n| n.to_string_lossy().into_owned());
        }
        let Some(catalog) = &self.catalog else { return };
        let stages = match self.stages() {
            Ok(s) => s,
            Err(e) => {
                report.findings.push(
                    Finding::error(
                        "internal/catalog-unusable",
                        Stage::Internal,
                        format!("the catalog's stage data could not be loaded: {e}"),
                    )
                    .with_hint("The catalog is broken: a configuration error (exit code 2)."),
                );
                return;
            }
        };
        // The first document of a schema set pays for compiling it; meanwhile another worker
        // compiles its schematron and loads its dictionaries (a one-document run's start-up).
        let mut terminology = None;
        if let Some(ext) = type_ext.filter(|e| !stages.schema_sets.is_built(catalog, e)) {
            let ((), term) = rayon::join(
                || {
                    let _ = stages.schema_sets.get(catalog, ext);
                },
                || {
                    let selected = template_root.and_then(|r| catalog.select_schematron(r, None));
                    if let (None, Some(e)) = (&stages.schematron_override, selected) {
                        let _ = stages.schematrons.get(catalog, &e.name);
                    }
                    stages.terminology.as_ref().map(|term| {
                        let t = Instant::now();
                        (term.check(doc), ms(t))
                    })
                },
            );
            terminology = term;
        }
        if let Some(ext) = type_ext {
            match stages.schema_sets.get(catalog, ext) {
                Some(Ok(xsd)) => {
                    report.schema_set = Some(xsd.name().to_string());
                    let t = Instant::now();
                    report.findings.extend(xsd.validate(doc));
                    report.timing_ms.insert("xsd".into(), ms(t));
                }
                Some(Err(msg)) => {
                    report.schema_set = Some(ext.to_string());
                    report.findings.push(
                        Finding::error("internal/schema-set-invalid", Stage::Internal, msg)
                            .with_hint(
                                "The catalog's CDA schema set does not compile: a configuration \
                                 error.",
                            ),
                    );
                }
                None => report.findings.push(
                    Finding::error(
                        "xsd/schema-not-found",
                        Stage::Xsd,
                        format!("Schema with version {ext} not found on database."),
                    )
                    .with_hint("The catalog has no CDA schema set for this typeId/@extension.")
                    .with_source("catalog schema/"),
                ),
            }
        }
        if let Some(term) = &stages.terminology {
            let (findings, took) = terminology.unwrap_or_else(|| {
                let t = Instant::now();
                (term.check(doc), ms(t))
            });
            report.findings.extend(findings);
            report.timing_ms.insert("terminology".into(), took);
        }
        if let (Some(engines), Some(root)) = (&stages.engines, template_root) {
            report.findings.extend(engines.check(root));
        }
        let t = Instant::now();
        if let Some(sch) = &stages.schematron_override {
            report.findings.extend(sch.findings(doc));
        } else if let Some(root) = template_root {
            match catalog.select_schematron(root, None) {
                Some(e) => {
                    report.schematron = Some(e.name.clone());
                    match stages.schematrons.get(catalog, &e.name) {
                        Ok(sch) => {
                            let source = format!(
                                "{} v{} ({}), catalog {}",
                                e.name,
                                e.version,
                                sch.title(),
                                catalog
                                    .provenance
                                    .commit
                                    .as_deref()
                                    .unwrap_or(catalog.provenance.fingerprint.as_str())
                            );
                            for mut f in sch.findings(doc) {
                                f.source = Some(source.clone());
                                report.findings.push(f);
                            }
                        }
                        Err(msg) => report.findings.push(
                            Finding::error("internal/schematron-invalid", Stage::Internal, msg)
                                .with_hint(
                                "The catalog's schematron does not compile: a configuration error.",
                            ),
                        ),
                    }
                }
                None => report.findings.push(
                    Finding::error(
                        "sch/not-found",
                        Stage::Schematron,
                        Catalog::schematron_not_found_message(root, None),
                    )
                    .with_hint(
                        "The first templateId/@root of the document is not a document type \
                             the gateway knows; it answers 422 /msg/semantic.",
                    ),
                ),
            }
        }
        report.timing_ms.insert("schematron".into(), ms(t));
    }
}

enum ReadResult {
    All(Vec<u8>),
    TooLarge { head: Vec<u8>, size: u64 },
}

/// Where the checked text of a cache hit comes from.
enum TextFrom<'a> {
    /// The document's bytes, already read.
    Bytes(&'a [u8]),
    /// The file, not read yet.
    File(&'a Path),
}

fn read_limited(path: &Path, max: u64) -> std::io::Result<ReadResult> {
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    if meta.len() > max {
        let mut head = vec![0u8; 1024];
        let n = (&file).read(&mut head)?;
        head.truncate(n);
        return Ok(ReadResult::TooLarge {
            head,
            size: meta.len(),
        });
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // Guard against files growing while read.
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Ok(ReadResult::TooLarge {
            size: bytes.len() as u64,
            head: bytes[..1024.min(bytes.len())].to_vec(),
        });
    }
    Ok(ReadResult::All(bytes))
}

fn describe_head(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(8)];
    if head.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        format!("\"{}\"", String::from_utf8_lossy(head))
    } else {
        let hex: Vec<String> = head.iter().map(|b| format!("{b:02X}")).collect();
        format!("bytes {}", hex.join(" "))
    }
}

fn missing_template_id(at: usize) -> Finding {
    Finding::error(
        "cda/missing-template-id",
        Stage::Cda,
        "no templateId/@root in the document: the gateway cannot choose a schematron",
    )
    .with_hint("The gateway fails with HTTP 500 when it finds no templateId root.")
    .with_span(at, at + 1)
}

fn missing_type_id(at: usize) -> Finding {
    Finding::error(
        "cda/missing-type-id",
        Stage::Cda,
        "no typeId/@extension: the gateway cannot choose a schema set",
    )
    .with_hint("The gateway fails with HTTP 500 when typeId/@extension is missing.")
    .with_span(at, at + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        Engine::new(None, EngineOptions::default())
    }

    fn check(bytes: &[u8]) -> DocumentReport {
        engine().check_bytes(bytes.to_vec(), DocumentReport::new("t", Kind::Other), None)
    }

    #[test]
    fn unsupported_and_empty() {
        let r = check(b"\x89PNG\r\n\x1a\n");
        assert_eq!(r.findings[0].id, "input/unsupported-format");
        assert!(r.findings[0].message.contains("89 50 4E 47"));
        assert_eq!(r.gateway.unwrap().status, 415);
        assert_eq!(check(b"").findings[0].id, "input/empty");
    }

    #[test]
    fn xml_errors_get_line_and_col_from_spans() {
        let r = check(b"<ClinicalDocument xmlns='urn:hl7-org:v3'>\n<typeId extension='X'/></ClinicalDocument>");
        let f = r
            .findings
            .iter()
            .find(|f| f.id == "cda/missing-template-id")
            .unwrap();
        assert_eq!((f.location.line, f.location.column), (Some(1), Some(1)));
        assert_eq!(r.gateway.unwrap().status, 500);
    }

    #[test]
    fn a_root_other_than_clinical_document_without_template_id_is_the_validators_500() {
        // A code list (the validator corpus' dictionary/*.xml): extractInfo throws first.
        let r = check(b"<?xml version='1.0'?>\n<list>\n<el code='F'>FEMALE</el></list>");
        let ids: Vec<&str> = r.findings.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "cda/missing-template-id",
                "cda/missing-type-id",
                "cda/not-clinical-document"
            ]
        );
        let g = r.gateway.unwrap();
        assert_eq!(
            (g.status, g.error_type.as_deref()),
            (500, Some("/msg/generic-error"))
        );
        // With both keys (a ClinicalDocument outside the HL7 namespace) the XSD step refuses it.
        let r = check(
            b"<ClinicalDocument><typeId extension='POCD_MT000040UV02'/>\
              <templateId root='2.16.840.1.113883.2.9.10.1.5'/></ClinicalDocument>",
        );
        let ids: Vec<&str> = r.findings.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["cda/not-clinical-document"]);
        let g = r.gateway.unwrap();
        assert_eq!(
            (g.status, g.error_type.as_deref()),
            (400, Some("/msg/syntax"))
        );
        assert_eq!(
            g.detail.as_deref(),
            Some(
                "ERROR: 1,1 root element is ClinicalDocument, expected \
                 {urn:hl7-org:v3}ClinicalDocument"
            )
        );
    }

    #[test]
    fn unreadable_pdf_is_a_pdf_finding_and_the_gateways_extraction_error() {
        let r = check(b"%PDF-1.7\n%...");
        assert_eq!(r.kind, Kind::Pdf);
        assert!(r
            .findings
            .iter()
            .any(|f| f.stage == Stage::Pdf && f.severity == fsecheck_core::Severity::Error));
        let g = r.gateway.unwrap();
        assert_eq!(
            (g.status, g.error_type.as_deref()),
            (400, Some("/msg/cda-element"))
        );
    }
}
