//! Runner semantics on small inline schematrons: first matching rule wins, let shadowing, the
//! xsl:for-each let idiom, message rendering, locations, findings, load errors.

use fsecheck_core::Severity;
use fsecheck_schematron::{Kind, Schematron};

fn sch(body: &str) -> Schematron {
    let text = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- schematron versione: 9.9 -->
<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt2"
        xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <title>Test   schematron</title>
  <ns prefix="hl7" uri="urn:hl7-org:v3"/>
  <pattern id="all">
{body}
  </pattern>
</schema>"#
    );
    Schematron::from_str(&text, "test.sch").unwrap_or_else(|e| panic!("{e}"))
}

const DOC: &str = r#"<ClinicalDocument xmlns="urn:hl7-org:v3">
  <id root="1" extension="x"/>
  <recordTarget><patientRole><addr use="H"/></patientRole></recordTarget>
  <author><assignedAuthor><addr use="H"/><addr use="WP"/></assignedAuthor></author>
  <component><structuredBody><component><section><entry><act><code code="1"/></act></entry></section></component></structuredBody></component>
</ClinicalDocument>"#;

fn run(s: &Schematron) -> Vec<(Kind, String, String)> {
    let doc = roxmltree::Document::parse(DOC).unwrap();
    s.validate(&doc)
        .unwrap()
        .into_iter()
        .map(|r| (r.kind, r.text, r.location))
        .collect()
}

#[test]
fn first_matching_rule_wins() {
    let s = sch(r#"
    <rule context="hl7:assignedAuthor/hl7:addr">
      <assert test="false()">A| author addr</assert>
    </rule>
    <rule context="//hl7:addr">
      <assert test="false()">B| any addr</assert>
    </rule>"#);
    let texts: Vec<String> = run(&s).into_iter().map(|r| r.1).collect();
    assert_eq!(texts, ["B| any addr", "A| author addr", "A| author addr"]);
}

#[test]
fn rules_continue_into_children_and_skip_attributes() {
    let s = sch(r#"
    <rule context="hl7:component">
      <assert test="false()">C| <name/></assert>
    </rule>"#);
    let r = run(&s);
    assert_eq!(r.len(), 2, "both nested components are visited: {r:?}");
    assert_eq!(
        r[1].2,
        "/*:ClinicalDocument[namespace-uri()='urn:hl7-org:v3'][1]/*:component[namespace-uri()='urn:hl7-org:v3'][1]/*:structuredBody[namespace-uri()='urn:hl7-org:v3'][1]/*:component[namespace-uri()='urn:hl7-org:v3'][1]"
    );
}

#[test]
fn let_shadowing_follows_document_order() {
    let s = sch(r#"
    <rule context="hl7:ClinicalDocument">
      <let name="v" value="'first'"/>
      <assert test="$v = 'second'">L1| sees <value-of select="$v"/></assert>
      <let name="v" value="'second'"/>
      <assert test="$v = 'first'">L2| sees <value-of select="$v"/></assert>
    </rule>"#);
    let texts: Vec<String> = run(&s).into_iter().map(|r| r.1).collect();
    assert_eq!(texts, ["L1| sees first", "L2| sees second"]);
}

#[test]
fn pattern_level_let_is_global_with_document_context() {
    let s = sch(r#"
    <let name="num_addr" value="count(//hl7:addr[@use='H'])"/>
    <rule context="hl7:patientRole">
      <assert test="$num_addr = 0">G| <value-of select="$num_addr"/> home addresses</assert>
    </rule>"#);
    let texts: Vec<String> = run(&s).into_iter().map(|r| r.1).collect();
    assert_eq!(texts, ["G| 2 home addresses"]);
}

#[test]
fn xsl_for_each_let_is_the_concatenated_string() {
    let s = sch(r#"
    <rule context="hl7:act/hl7:code">
      <let name="errorPath">
        <xsl:for-each select="ancestor::*[not(self::hl7:ClinicalDocument)]">
          <xsl:value-of select="concat('/', name())"/>
        </xsl:for-each>
      </let>
      <assert test="false()">P| Path: ClinicalDocument<value-of select="$errorPath"/>.</assert>
      <assert test="string-length($errorPath) = 0">Q| untyped, length <value-of select="string-length($errorPath)"/></assert>
    </rule>"#);
    let texts: Vec<String> = run(&s).into_iter().map(|r| r.1).collect();
    assert_eq!(
        texts,
        [
            "P| Path: ClinicalDocument/component/structuredBody/component/section/entry/act.",
            "Q| untyped, length 53"
        ]
    );
}

#[test]
fn messages_render_name_and_value_of_then_normalise() {
    let s = sch(r#"
    <rule context="hl7:assignedAuthor">
      <assert test="false()">ERRORE-9|   L'elemento <name/>
            ha <value-of select="count(hl7:addr)"/> indirizzi:
            <value-of select="hl7:addr/@use"/> (<value-of select="hl7:nothing"/>)</assert>
      <report test="true()">W001| report <name path="hl7:addr"/></report>
    </rule>"#);
    let doc = roxmltree::Document::parse(DOC).unwrap();
    let r = s.validate(&doc).unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].kind, Kind::FailedAssert);
    assert_eq!(r[0].id, "ERRORE-9");
    assert_eq!(
        r[0].text,
        "ERRORE-9| L'elemento assignedAuthor ha 2 indirizzi: H WP ()"
    );
    assert_eq!(r[1].kind, Kind::SuccessfulReport);
    assert_eq!(r[1].text, "W001| report addr");
    assert_eq!(
        r[0].xpath,
        "/ClinicalDocument[1]/author[1]/assignedAuthor[1]"
    );
    assert_eq!(&DOC[r[0].node_range.clone()], "<assignedAuthor>");
    assert_eq!(r[0].context, "hl7:assignedAuthor");
    assert_eq!(r[0].test, "false()");
}

#[test]
fn findings_map_severity_id_span_and_details() {
    let s = sch(r#"
    <rule context="hl7:id">
      <assert test="false()">ERRORE-1| bad id</assert>
      <report test="true()">W7 | warn</report>
      <assert test="false()">no pipe here</assert>
    </rule>"#);
    assert_eq!(s.title(), "Test schematron");
    assert_eq!(s.version_label(), Some("9.9"));
    let doc = roxmltree::Document::parse(DOC).unwrap();
    let f = s.findings(&doc);
    assert_eq!(f.len(), 3);
    assert_eq!(f[0].id, "sch/ERRORE-1");
    assert_eq!(f[0].severity, Severity::Error);
    assert_eq!(f[1].id, "sch/W7");
    assert_eq!(f[1].severity, Severity::Warning);
    assert_eq!(f[2].id, "sch/unnamed");
    let span = f[0].location.span.unwrap();
    assert_eq!(
        &DOC[span.start..span.end],
        r#"<id root="1" extension="x"/>"#
    );
    assert_eq!(
        f[0].location.xpath.as_deref(),
        Some("/ClinicalDocument[1]/id[1]")
    );
    assert_eq!(f[0].source.as_deref(), Some("test.sch (Test schematron)"));
    assert_eq!(
        f[0].details["svrl_location"],
        "/*:ClinicalDocument[namespace-uri()='urn:hl7-org:v3'][1]/*:id[namespace-uri()='urn:hl7-org:v3'][1]"
    );
    assert_eq!(f[0].details["test"], "false()");
}

#[test]
fn dynamic_error_aborts_with_one_finding() {
    let s = sch(r#"
    <rule context="hl7:ClinicalDocument">
      <assert test="false()">E1| would fire</assert>
    </rule>
    <rule context="hl7:assignedAuthor">
      <assert test="string(hl7:addr/@use) = 'H'">E2| two addr, string() fails</assert>
    </rule>"#);
    let doc = roxmltree::Document::parse(DOC).unwrap();
    let e = s.validate(&doc).unwrap_err();
    assert_eq!(e.code, "XPTY0004");
    assert_eq!(e.rule_context, "hl7:assignedAuthor");
    let f = s.findings(&doc);
    assert_eq!(f.len(), 1, "no partial results: {f:?}");
    assert_eq!(f[0].id, "sch/dynamic-error");
    assert!(f[0].message.contains("XPTY0004"));
    assert_eq!(f[0].details["expression"], "string(hl7:addr/@use) = 'H'");
}

#[test]
fn unread_failing_let_does_not_abort() {
    let s = sch(r#"
    <rule context="hl7:assignedAuthor">
      <let name="bad" value="string(hl7:addr/@use)"/>
      <assert test="false()">U| fine</assert>
    </rule>"#);
    assert_eq!(run(&s).len(), 1);
}

#[test]
fn load_errors_have_positions() {
    let bad_xpath = r#"<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt2">
  <ns prefix="hl7" uri="urn:hl7-org:v3"/>
  <pattern>
    <rule context="hl7:a">
      <assert test="count(hl7:b) + 1 = 2">x</assert>
    </rule>
  </pattern>
</schema>"#;
    let e = Schematron::from_str(bad_xpath, "bad.sch").unwrap_err();
    assert_eq!((e.file.as_str(), e.line), ("bad.sch", 5), "{e}");
    assert!(e.message.contains("not supported"), "{e}");
    assert!(e.to_string().starts_with("bad.sch:5:"), "{e}");

    let unknown_fn = bad_xpath.replace("count(hl7:b) + 1 = 2", "distinct-values(hl7:b)");
    let e = Schematron::from_str(&unknown_fn, "bad.sch").unwrap_err();
    assert!(e.message.contains("XPST0017"), "{e}");

    let undeclared_prefix = bad_xpath.replace("count(hl7:b) + 1 = 2", "cda:x");
    assert!(Schematron::from_str(&undeclared_prefix, "bad.sch").is_err());

    let phase = bad_xpath.replace("<pattern>", "<phase id=\"p\"/><pattern>");
    let e = Schematron::from_str(&phase, "bad.sch").unwrap_err();
    assert_eq!(e.line, 3, "{e}");

    let e = Schematron::from_str("<schema><oops></schema>", "x.sch").unwrap_err();
    assert_eq!(e.line, 1, "{e}");

    let abstract_rule = bad_xpath.replace(
        "<rule context=\"hl7:a\">",
        "<rule abstract=\"true\" context=\"hl7:a\">",
    );
    assert!(Schematron::from_str(&abstract_rule, "bad.sch").is_err());
}

#[test]
fn global_let_declared_after_the_rules_is_visible() {
    let s = sch(r#"
    <rule context="hl7:patientRole">
      <assert test="$n = 0">G| <value-of select="$n"/> addr</assert>
    </rule>
    <let name="n" value="count(//hl7:addr)"/>"#);
    let texts: Vec<String> = run(&s).into_iter().map(|r| r.1).collect();
    assert_eq!(texts, ["G| 3 addr"]);
}

#[test]
fn prefixed_instances_and_unrelated_documents() {
    let s = sch(r#"
    <rule context="hl7:assignedAuthor">
      <assert test="false()">N| <name/> at <value-of select="count(hl7:addr)"/></assert>
    </rule>"#);
    // The HL7 namespace bound to a prefix: <name/> keeps the prefix as written.
    let prefixed = r#"<h:ClinicalDocument xmlns:h="urn:hl7-org:v3"><h:author><h:assignedAuthor><h:addr/></h:assignedAuthor></h:author></h:ClinicalDocument>"#;
    let doc = roxmltree::Document::parse(prefixed).unwrap();
    let r = s.validate(&doc).unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].text, "N| h:assignedAuthor at 1");
    assert_eq!(
        r[0].location,
        "/*:ClinicalDocument[namespace-uri()='urn:hl7-org:v3'][1]/*:author[namespace-uri()='urn:hl7-org:v3'][1]/*:assignedAuthor[namespace-uri()='urn:hl7-org:v3'][1]"
    );
    // A document in no namespace: nothing matches, nothing breaks.
    let other = roxmltree::Document::parse("<assignedAuthor><addr/></assignedAuthor>").unwrap();
    assert!(s.validate(&other).unwrap().is_empty());
    assert!(s.findings(&other).is_empty());
}

#[test]
fn inside_version_reads_what_the_loader_reads() {
    let with_comment = "<?xml version=\"1.0\"?>\n<!-- schematron versione: 5.3 -->\n<schema xmlns=\"http://purl.oclc.org/dsdl/schematron\"><title>Schematron  LDO\n V 1.2</title><pattern><rule context=\"/\"><assert test=\"true()\">x</assert></rule></pattern></schema>";
    let (label, title) = fsecheck_schematron::inside_version(with_comment);
    assert_eq!(label.as_deref(), Some("5.3"));
    assert_eq!(title.as_deref(), Some("Schematron LDO V 1.2"));
    let compiled = Schematron::from_str(with_comment, "x.sch").unwrap();
    assert_eq!(compiled.version_label(), label.as_deref());
    // No comment: the number ending the title.
    let title_only = with_comment.replace("<!-- schematron versione: 5.3 -->", "");
    let (label, _) = fsecheck_schematron::inside_version(&title_only);
    assert_eq!(label.as_deref(), Some("1.2"));
    assert_eq!(
        Schematron::from_str(&title_only, "x.sch")
            .unwrap()
            .version_label(),
        Some("1.2")
    );
    assert_eq!(fsecheck_schematron::inside_version("not xml"), (None, None));
}
