//! One test per error kind: id, place (line:col via `LineIndex`, xpath) and message content.
//! Documents are the official RAD example with one targeted edit each.

mod common;

use common::*;
use fsecheck_core::Finding;
use fsecheck_xml::LineIndex;
use fsecheck_xsd::{find_schema_dir, schema_not_found, SchemaSet};

fn rad() -> String {
    std::fs::read_to_string(shared().join("corpus/examples/RAD.xml")).unwrap()
}

/// Replaces the first occurrence of `from` (which must exist) with `to`.
fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "edit anchor not found: {from}");
    text.replacen(from, to, 1)
}

fn check(text: &str) -> Vec<Finding> {
    let doc = roxmltree::Document::parse(text).unwrap();
    set(UV02).validate(&doc)
}

fn line_col(text: &str, offset: usize) -> (u32, u32) {
    LineIndex::new(text).line_col(text, offset)
}

/// Asserts exactly one finding, with this id and xpath, starting at `at` (a unique marker).
fn one(text: &str, id: &str, xpath: &str, at: &str) -> Finding {
    let fs = check(text);
    assert_eq!(fs.len(), 1, "expected one finding, got {fs:#?}");
    let f = fs.into_iter().next().unwrap();
    assert_eq!(f.id, id, "{f:#?}");
    assert_eq!(f.location.xpath.as_deref(), Some(xpath), "{f:#?}");
    assert_eq!(f.source.as_deref(), Some(UV02));
    assert_eq!(f.stage, fsecheck_core::Stage::Xsd);
    let span = f.location.span.expect("span");
    let want = text.find(at).expect("marker");
    assert_eq!(line_col(text, span.start), line_col(text, want), "{f:#?}");
    f
}

#[test]
fn the_official_examples_are_valid() {
    for ex in [
        "RAD",
        "LAB",
        "LDO",
        "PSS",
        "RAP",
        "RSA",
        "VPS",
        "CERT_VACC",
        "SING_VACC",
    ] {
        let text =
            std::fs::read_to_string(shared().join(format!("corpus/examples/{ex}.xml"))).unwrap();
        assert_eq!(check(&text), vec![], "{ex}");
    }
}

#[test]
fn unexpected_element() {
    let t = edit(&rad(), "<title> REFERTO", "<foo/><title> REFERTO");
    let f = one(
        &t,
        "xsd/unexpected-element",
        "/ClinicalDocument[1]/foo[1]",
        "<foo/>",
    );
    assert!(f.message.contains("found: foo"), "{}", f.message);
    assert!(f.message.contains("expected one of: "), "{}", f.message);
    assert!(f.message.contains("title"), "{}", f.message);
    assert_eq!(line_col(&t, f.location.span.unwrap().start), (12, 2));
}

#[test]
fn missing_element_before_a_later_one() {
    // Without <code>, <title> comes where code was required.
    let r = rad();
    let start = r.find("\t<code code=\"68604-8\"").unwrap();
    let end = r[start..].find("</code>").unwrap() + start + "</code>".len();
    let t = format!("{}{}", &r[..start], &r[end..]);
    let f = one(
        &t,
        "xsd/missing-element",
        "/ClinicalDocument[1]/title[1]",
        "<title>",
    );
    assert!(f.message.contains("expected one of: code"), "{}", f.message);
    assert!(f.message.contains("found: title"), "{}", f.message);
}

#[test]
fn missing_element_at_the_end() {
    let r = rad();
    let start = r.find("<patientRole classCode=\"PAT\">").unwrap();
    let end = r[start..].find("</patientRole>").unwrap() + start + "</patientRole>".len();
    let t = format!("{}{}", &r[..start], &r[end..]);
    let f = one(
        &t,
        "xsd/missing-element",
        "/ClinicalDocument[1]/recordTarget[1]",
        "<recordTarget",
    );
    assert!(f.message.contains("patientRole"), "{}", f.message);
    assert!(f.message.contains("end of element"), "{}", f.message);
}

#[test]
fn attribute_value_ts_pattern() {
    let t = edit(
        &rad(),
        "<effectiveTime value=\"20220330112426+0100\"/>",
        "<effectiveTime value=\"2022-03-30\"/>",
    );
    let f = one(
        &t,
        "xsd/attribute-value",
        "/ClinicalDocument[1]/effectiveTime[1]",
        "2022-03-30",
    );
    assert!(
        f.message
            .starts_with("value '2022-03-30' of attribute 'value' does not match type ts (pattern"),
        "{}",
        f.message
    );
    // The span is the attribute value itself.
    let s = f.location.span.unwrap();
    assert_eq!(&t[s.start..s.end], "2022-03-30");
}

#[test]
fn attribute_value_enumeration() {
    let t = edit(
        &rad(),
        "<patientRole classCode=\"PAT\">",
        "<patientRole classCode=\"XYZ\">",
    );
    let f = one(
        &t,
        "xsd/attribute-value",
        "/ClinicalDocument[1]/recordTarget[1]/patientRole[1]",
        "XYZ",
    );
    assert!(
        f.message.contains("not one of the allowed values"),
        "{}",
        f.message
    );
}

#[test]
fn unknown_attribute() {
    let t = edit(&rad(), "<title> REFERTO", "<title foo=\"1\"> REFERTO");
    let f = one(
        &t,
        "xsd/unknown-attribute",
        "/ClinicalDocument[1]/title[1]",
        "foo=\"1\"",
    );
    assert!(
        f.message
            .contains("attribute 'foo' is not allowed on element 'title'"),
        "{}",
        f.message
    );
}

#[test]
fn missing_attribute() {
    let t = edit(
        &rad(),
        "<typeId root=\"2.16.840.1.113883.1.3\" ",
        "<typeId ",
    );
    let f = one(
        &t,
        "xsd/missing-attribute",
        "/ClinicalDocument[1]/typeId[1]",
        "<typeId",
    );
    assert!(f.message.contains("'root'"), "{}", f.message);
}

#[test]
fn xsi_type_unknown_and_not_derived() {
    let t = edit(
        &rad(),
        "<value xsi:type=\"CD\" code=\"770.0\"",
        "<value xsi:type=\"Foo\" code=\"770.0\"",
    );
    let f = one(&t, "xsd/xsi-type", "/ClinicalDocument[1]/component[1]/structuredBody[1]/component[2]/section[1]/entry[1]/observation[1]/value[1]", "Foo");
    assert!(f.message.contains("no type"), "{}", f.message);
    // <code> is declared CE; CD is its base, not derived from it.
    let t = edit(
        &rad(),
        "<patientRole classCode=\"PAT\">",
        "<patientRole classCode=\"PAT\" xsi:type=\"II\">",
    );
    let f = one(
        &t,
        "xsd/xsi-type",
        "/ClinicalDocument[1]/recordTarget[1]/patientRole[1]",
        "II\"",
    );
    assert!(f.message.contains("not derived from"), "{}", f.message);
}

#[test]
fn abstract_type() {
    let t = edit(
        &rad(),
        "<value xsi:type=\"CD\" code=\"770.0\"",
        "<value xsi:type=\"ANY\" code=\"770.0\"",
    );
    let f = one(&t, "xsd/abstract-type", "/ClinicalDocument[1]/component[1]/structuredBody[1]/component[2]/section[1]/entry[1]/observation[1]/value[1]", "<value xsi:type=\"ANY\"");
    assert!(f.message.contains("abstract"), "{}", f.message);
}

#[test]
fn duplicate_id() {
    // ID values are collapsed: ' DIAG' is 'DIAG', first used in the earlier section.
    let t = edit(
        &rad(),
        "<section ID=\"STORIA_CLINICA\">",
        "<section ID=\" DIAG\">",
    );
    let f = one(
        &t,
        "xsd/duplicate-id",
        "/ClinicalDocument[1]/component[1]/structuredBody[1]/component[3]/section[1]",
        " DIAG\"",
    );
    assert!(f.message.contains("'DIAG'"), "{}", f.message);
}

#[test]
fn idref_to_nothing() {
    let t = edit(
        &rad(),
        "<content ID=\"DIAG\">Trauma",
        "<content ID=\"DIAG\"><footnoteRef IDREF=\"nosuch\"/>Trauma",
    );
    let f = one(&t, "xsd/idref", "/ClinicalDocument[1]/component[1]/structuredBody[1]/component[2]/section[1]/text[1]/list[1]/item[1]/content[1]/footnoteRef[1]", "nosuch");
    assert!(f.message.contains("refers to no ID"), "{}", f.message);
    // The same reference to an existing ID is fine.
    let ok = edit(
        &rad(),
        "<content ID=\"DIAG\">Trauma",
        "<content ID=\"DIAG\"><footnoteRef IDREF=\"DIAG\"/>Trauma",
    );
    assert_eq!(check(&ok), vec![]);
}

#[test]
fn unknown_root() {
    let t = "<?xml version=\"1.0\"?>\n<Foo xmlns=\"urn:hl7-org:v3\"/>";
    let f = one(t, "xsd/unknown-root", "/Foo[1]", "<Foo");
    assert!(f.message.contains("ClinicalDocument"), "{}", f.message);
}

#[test]
fn text_not_allowed_in_element_only_and_empty_content() {
    let t = edit(
        &rad(),
        "<recordTarget typeCode=\"RCT\" contextControlCode=\"OP\">",
        "<recordTarget typeCode=\"RCT\" contextControlCode=\"OP\">abc",
    );
    let f = one(
        &t,
        "xsd/text-not-allowed",
        "/ClinicalDocument[1]/recordTarget[1]",
        "abc",
    );
    assert!(f.message.contains("element-only"), "{}", f.message);
    // Empty content admits not even whitespace.
    let t = edit(
        &rad(),
        "<realmCode code=\"IT\"/>",
        "<realmCode code=\"IT\"> </realmCode>",
    );
    let f = one(
        &t,
        "xsd/text-not-allowed",
        "/ClinicalDocument[1]/realmCode[1]",
        " </realmCode>",
    );
    assert!(f.message.contains("empty content"), "{}", f.message);
}

#[test]
fn xsi_nil_on_a_non_nillable_element() {
    let t = edit(
        &rad(),
        "<title> REFERTO",
        "<title xsi:nil=\"true\"> REFERTO",
    );
    one(
        &t,
        "xsd/xsi-nil",
        "/ClinicalDocument[1]/title[1]",
        "xsi:nil",
    );
}

#[test]
fn every_error_is_reported_and_recovery_avoids_cascades() {
    let mut t = edit(&rad(), "<title> REFERTO", "<foo/><title foo=\"1\"> REFERTO");
    t = edit(
        &t,
        "<effectiveTime value=\"20220330112426+0100\"/>",
        "<effectiveTime value=\"2022-03-30\"/>",
    );
    t = edit(
        &t,
        "<patientRole classCode=\"PAT\">",
        "<patientRole classCode=\"XYZ\">",
    );
    let ids: Vec<String> = check(&t).into_iter().map(|f| f.id).collect();
    assert_eq!(
        ids,
        [
            "xsd/unexpected-element",
            "xsd/unknown-attribute",
            "xsd/attribute-value",
            "xsd/attribute-value"
        ],
    );
}

/// A tiny schema of our own, written to a scratch directory, for what the CDA sets cannot show.
fn tiny_set(tag: &str, body: &str) -> Result<SchemaSet, fsecheck_xsd::SchemaError> {
    let xsd = format!(
        "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" xmlns=\"urn:t\" targetNamespace=\"urn:t\" elementFormDefault=\"qualified\">\n{body}\n</xs:schema>\n"
    );
    load_cda_xsd(tag, "TINY", &xsd)
}

/// Loads a one-file set whose `CDA.xsd` is `xsd`, from a scratch directory removed afterwards.
fn load_cda_xsd(
    tag: &str,
    set_name: &str,
    xsd: &str,
) -> Result<SchemaSet, fsecheck_xsd::SchemaError> {
    let root = scratch(tag);
    let dir = root.join(set_name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("CDA.xsd"), xsd).unwrap();
    let result = SchemaSet::load(&dir);
    let _ = std::fs::remove_dir_all(&root);
    result
}

#[test]
fn element_value_of_a_simple_typed_element() {
    let s = tiny_set(
        "elemval",
        r#"<xs:element name="r"><xs:complexType><xs:sequence>
             <xs:element name="n" type="xs:integer" maxOccurs="unbounded"/>
           </xs:sequence></xs:complexType></xs:element>"#,
    )
    .unwrap();
    assert_eq!(s.name(), "TINY");
    let t = "<r xmlns=\"urn:t\">\n  <n> 12 </n>\n  <n>1.5</n>\n</r>";
    let doc = roxmltree::Document::parse(t).unwrap();
    let fs = s.validate(&doc);
    assert_eq!(fs.len(), 1, "{fs:#?}");
    assert_eq!(fs[0].id, "xsd/element-value");
    assert_eq!(fs[0].location.xpath.as_deref(), Some("/r[1]/n[2]"));
    assert_eq!(line_col(t, fs[0].location.span.unwrap().start), (3, 3));
    assert!(fs[0].message.contains("'1.5'"), "{}", fs[0].message);
}

#[test]
fn broken_or_unsupported_schemas_are_configuration_errors() {
    let e = tiny_set("broken", "<xs:element name=\"r\">").unwrap_err();
    assert_eq!(e.file, "CDA.xsd");
    assert!(e.line >= 2, "{e}");
    let e = tiny_set(
        "wildcard",
        "<xs:element name=\"r\"><xs:complexType><xs:sequence><xs:any/></xs:sequence></xs:complexType></xs:element>",
    )
    .unwrap_err();
    assert!(e.message.contains("xs:any"), "{e}");
    assert_eq!((e.file.as_str(), e.line), ("CDA.xsd", 2));
    let e = tiny_set(
        "missing-include",
        "<xs:include schemaLocation=\"../x/nothere.xsd\"/>",
    )
    .unwrap_err();
    assert!(e.message.contains("nothere.xsd"), "{e}");
    let e = tiny_set("upa", "<xs:element name=\"r\"><xs:complexType><xs:choice><xs:element name=\"a\"/><xs:element name=\"a\"/></xs:choice></xs:complexType></xs:element>").unwrap_err();
    assert!(e.message.contains("deterministic"), "{e}");
    let e = tiny_set("pattern", "<xs:simpleType name=\"p\"><xs:restriction base=\"xs:string\"><xs:pattern value=\"[a-z-[aeiou]]\"/></xs:restriction></xs:simpleType>").unwrap_err();
    assert!(e.message.contains("pattern"), "{e}");
    assert!(e.to_string().starts_with("CDA.xsd:2:"), "{e}");
}

#[test]
fn schema_selection_by_type_id_extension() {
    let root = schema_root();
    assert_eq!(find_schema_dir(&root, UV02), Some(root.join(UV02)));
    assert_eq!(find_schema_dir(&root, HD), Some(root.join(HD)));
    assert_eq!(find_schema_dir(&root, "1.3"), None);
    assert_eq!(find_schema_dir(&root, "../catalogs"), None);
    let f = schema_not_found("1.3");
    assert_eq!(f.id, "xsd/schema-not-found");
    assert_eq!(f.message, "Schema with version 1.3 not found on database.");
    let text = rad();
    let doc = roxmltree::Document::parse(&text).unwrap();
    assert_eq!(fsecheck_xsd::type_id_extension(&doc), Some(UV02));
}

#[test]
fn sets_load_and_report_their_time() {
    for name in [UV02, HD] {
        let t = std::time::Instant::now();
        let s = SchemaSet::load(&schema_root().join(name)).unwrap();
        let ms = t.elapsed().as_secs_f64() * 1e3;
        eprintln!(
            "load {name}: {ms:.1} ms (test profile; release figure in docs/PERFORMANCE-xsd.md)"
        );
        assert_eq!(s.name(), name);
        assert!(ms < 2000.0, "{name} took {ms} ms");
    }
}

#[test]
fn schema_set_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<SchemaSet>();
}

#[test]
fn schema_defaults_that_change_derivation_are_refused() {
    let e = load_cda_xsd(
        "blockdefault",
        "B",
        "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" blockDefault=\"#all\"/>",
    )
    .unwrap_err();
    assert!(e.message.contains("blockDefault"), "{e}");
}

#[test]
fn deep_nesting_is_a_finding_not_a_crash() {
    let depth = 20_000;
    let mut t = String::from("<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><component><structuredBody><component><section><text>");
    for _ in 0..depth {
        t.push_str("<content>");
    }
    for _ in 0..depth {
        t.push_str("</content>");
    }
    t.push_str("</text></section></component></structuredBody></component></ClinicalDocument>");
    let doc = roxmltree::Document::parse(&t).unwrap();
    let fs = set(UV02).validate(&doc);
    assert!(
        fs.iter().any(|f| f.id == "xsd/too-deep"),
        "{:?}",
        fs.iter().map(|f| &f.id).collect::<Vec<_>>()
    );
}

#[test]
fn ids_and_idrefs_in_simple_typed_element_content() {
    let s = tiny_set(
        "idelem",
        r#"<xs:element name="r"><xs:complexType><xs:sequence>
             <xs:element name="id" type="xs:ID" maxOccurs="unbounded"/>
             <xs:element name="ref" type="xs:IDREFS" maxOccurs="unbounded"/>
           </xs:sequence></xs:complexType></xs:element>"#,
    )
    .unwrap();
    let t = "<r xmlns=\"urn:t\"><id>a</id><id> a </id><ref>a b</ref></r>";
    let doc = roxmltree::Document::parse(t).unwrap();
    let ids: Vec<(String, String)> = s
        .validate(&doc)
        .into_iter()
        .map(|f| (f.id, f.location.xpath.unwrap()))
        .collect();
    assert_eq!(
        ids,
        [
            ("xsd/duplicate-id".to_string(), "/r[1]/id[2]".to_string()),
            ("xsd/idref".to_string(), "/r[1]/ref[1]".to_string())
        ]
    );
}

#[test]
fn fixed_attribute_value() {
    let t = edit(
        &rad(),
        "<typeId root=\"2.16.840.1.113883.1.3\"",
        "<typeId root=\"2.16.840.1.113883.1.4\"",
    );
    let f = one(
        &t,
        "xsd/attribute-value",
        "/ClinicalDocument[1]/typeId[1]",
        "2.16.840.1.113883.1.4",
    );
    assert!(
        f.message.contains("fixed value '2.16.840.1.113883.1.3'"),
        "{}",
        f.message
    );
    assert_eq!(f.details.get("attribute").map(String::as_str), Some("root"));
}
