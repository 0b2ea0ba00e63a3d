//! XPath 2.0 semantics of the subset: typing of general comparisons, effective boolean value,
//! cardinality errors, functions, paths, and compile errors for what is not supported.

use fsecheck_xpath::{DocIndex, Item, StaticContext, Variables, XPath};

const DOC: &str = r#"<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <versionNumber value="2"/>
  <id root="1.2" extension="A"/>
  <setId root="1.2" extension="B"/>
  <effectiveTime value="20240101"/>
  <low value="10"/><high value="9"/>
  <code code="11502-2" codeSystem="2.16.840.1.113883.6.1"/>
  <component><section><code code="x"/><entry><act/></entry><entry><act/><act/></entry></section></component>
  <value xsi:type="CD" code="abc"/>
  <title>Referto  di
   laboratorio</title>
  <p:other xmlns:p="urn:other" n="1"/>
  <plain/>
</ClinicalDocument>"#;

fn ctx() -> StaticContext {
    let mut sc = StaticContext::new();
    sc.add_namespace("hl7", "urn:hl7-org:v3");
    sc.add_namespace("xsi", "http://www.w3.org/2001/XMLSchema-instance");
    sc.add_namespace("o", "urn:other");
    sc
}

fn with_doc<R>(f: impl FnOnce(roxmltree::Node) -> R) -> R {
    let doc = roxmltree::Document::parse(DOC).unwrap();
    f(doc.root_element())
}

fn eval_bool(expr: &str) -> Result<bool, String> {
    let sc = ctx();
    let xp = XPath::compile(expr, &sc).map_err(|e| format!("compile: {e}"))?;
    // Evaluate with and without the navigation index: the results must agree.
    let doc = roxmltree::Document::parse(DOC).unwrap();
    let n = doc.root_element();
    let ix = DocIndex::new(&doc);
    let plain = xp
        .evaluate_bool(n, &Variables::new(sc.slot_count()))
        .map_err(|e| e.code.to_string());
    let indexed = xp
        .evaluate_bool(n, &Variables::with_index(sc.slot_count(), &ix))
        .map_err(|e| e.code.to_string());
    assert_eq!(plain, indexed, "{expr}: index changes the result");
    plain
}

fn yes(expr: &str) {
    assert_eq!(eval_bool(expr), Ok(true), "{expr} should be true");
}

fn no(expr: &str) {
    assert_eq!(eval_bool(expr), Ok(false), "{expr} should be false");
}

fn dyn_err(expr: &str, code: &str) {
    assert_eq!(
        eval_bool(expr),
        Err(code.to_string()),
        "{expr} should raise {code}"
    );
}

fn string_of(expr: &str) -> String {
    let sc = ctx();
    let xp = XPath::compile(expr, &sc).unwrap();
    let doc = roxmltree::Document::parse(DOC).unwrap();
    let n = doc.root_element();
    let ix = DocIndex::new(&doc);
    let render = |vars: &Variables| {
        let v = xp.evaluate(n, vars).unwrap();
        v.iter()
            .map(|i| i.string_value().into_owned())
            .collect::<Vec<_>>()
            .join("|")
    };
    let plain = render(&Variables::new(0));
    assert_eq!(
        plain,
        render(&Variables::with_index(0, &ix)),
        "{expr}: index changes the result"
    );
    plain
}

#[test]
fn untyped_vs_number_is_numeric() {
    yes("hl7:versionNumber/@value = 2");
    yes("hl7:versionNumber/@value = 2.0");
    yes("hl7:versionNumber/@value > 1");
    no("hl7:versionNumber/@value = 1");
    // '10' vs '9' as numbers
    yes("hl7:low/@value > 9");
}

#[test]
fn strings_and_untyped_compare_as_strings() {
    no("'10' >= '9'");
    // untypedAtomic vs untypedAtomic: codepoint string comparison, so "10" < "9"
    yes("hl7:low/@value < hl7:high/@value");
    no("hl7:low/@value >= hl7:high/@value");
    // untyped vs string literal: string comparison
    no("hl7:versionNumber/@value = '2.0'");
    yes("hl7:versionNumber/@value = '2'");
    // values of string() are xs:string: still string comparison
    no("string(hl7:low/@value) >= string(hl7:high/@value)");
}

#[test]
fn comparisons_are_existential() {
    yes("hl7:*/@root = '1.2'");
    yes("hl7:id/@extension != hl7:setId/@extension");
    no("hl7:missing/@x = hl7:missing/@x");
    no("hl7:missing/@x != 'a'");
    yes("(1, 2, 3) = 3");
    yes("(1, 2) != 1");
}

#[test]
fn bad_casts_and_type_errors() {
    // untypedAtomic that is not a double, compared with a number: FORG0001 (no XPath 1.0 NaN)
    dyn_err("hl7:id/@extension = 1", "FORG0001");
    // xs:string vs number: XPTY0004
    dyn_err("'1' = 1", "XPTY0004");
    // the NaN idiom is fine
    yes("string(number(hl7:id/@extension)) = 'NaN'");
    yes("string(number(hl7:versionNumber/@value)) = '2'");
}

#[test]
fn effective_boolean_value() {
    yes("hl7:component");
    no("hl7:nothing");
    yes("'a'");
    no("''");
    no("0");
    yes("1");
    no("number('x')");
    no("false()");
    yes("true()");
    yes("hl7:component/hl7:section/hl7:entry");
    dyn_err("(1, 2)", "FORG0006");
    dyn_err("('a', 'b')", "FORG0006");
    dyn_err("not((1, 2))", "FORG0006");
    // a sequence starting with a node is fine
    yes("boolean((hl7:code, 1))");
}

#[test]
fn cardinality_errors() {
    dyn_err(
        "string(hl7:component/hl7:section/hl7:entry) = ''",
        "XPTY0004",
    );
    dyn_err("number(hl7:*/@root) = 1", "XPTY0004");
    dyn_err("name(hl7:component/hl7:section/hl7:entry) = ''", "XPTY0004");
    dyn_err("substring-after(hl7:*/@root, '.') = ''", "XPTY0004");
    dyn_err("contains(count(hl7:x), '1')", "XPTY0004");
    // empty sequences are fine
    yes("string(hl7:none) = ''");
    yes("string-length(hl7:none/@x) = 0");
}

#[test]
fn functions() {
    yes("count(hl7:component/hl7:section/hl7:entry/hl7:act) = 3");
    yes("contains(hl7:code/@codeSystem, '113883')");
    yes("starts-with(hl7:code/@code, '115')");
    yes("substring-after(hl7:code/@codeSystem, '2.16.') = '840.1.113883.6.1'");
    yes("string-length(hl7:code/@code) = 7");
    yes("normalize-space(hl7:title) = 'Referto di laboratorio'");
    yes("concat('a', 1, hl7:code/@code) = 'a111502-2'");
    yes("string-join(hl7:*/@root, '+') = '1.2+1.2'");
    yes("local-name(hl7:value) = 'value'");
    yes("name(o:other) = 'p:other'");
    yes("name(hl7:value/@xsi:type) = 'xsi:type'");
    yes("local-name() = 'ClinicalDocument' and name() = 'ClinicalDocument'");
    yes("exists(hl7:code) and empty(hl7:nothing)");
    yes("matches(hl7:code/@code, '^\\d{5}-\\d$')");
    no("matches(hl7:code/@code, '^\\d{4}$')");
    yes("matches(hl7:code/@code, '02')");
    yes("hl7:value/@xsi:type = 'CD'");
    yes("if (hl7:versionNumber/@value = 2) then true() else false()");
    no("if (hl7:nothing) then true() else false()");
    yes("contains(local-name(o:other), 'oth')");
}

#[test]
fn number_formatting_in_string() {
    assert_eq!(string_of("string(number('1.0'))"), "1");
    assert_eq!(string_of("string(number('1.50'))"), "1.5");
    assert_eq!(string_of("string(number('abc'))"), "NaN");
    assert_eq!(string_of("string(number('1e7'))"), "1.0E7");
    assert_eq!(string_of("string(count(hl7:code))"), "1");
    assert_eq!(
        string_of("hl7:component/hl7:section/hl7:entry/count(hl7:act)"),
        "1|2"
    );
}

#[test]
fn paths_axes_and_predicates() {
    assert_eq!(
        string_of("hl7:component/hl7:section/hl7:entry[2]/count(hl7:act)"),
        "2"
    );
    assert_eq!(string_of("//hl7:act[1]/../count(hl7:act)"), "1|2");
    assert_eq!(string_of("(//hl7:act)[3]/../count(hl7:act)"), "2");
    assert_eq!(string_of("count(//hl7:entry/ancestor::hl7:component)"), "1");
    assert_eq!(
        string_of("local-name(//hl7:act[1]/ancestor::*[2])"),
        "section",
        "reverse axis positions count from the context node"
    );
    assert_eq!(
        string_of("count(//hl7:act/ancestor::*[not(self::hl7:ClinicalDocument)])"),
        "4"
    );
    assert_eq!(string_of("count(//*)"), "20");
    assert_eq!(string_of("count(/hl7:ClinicalDocument/hl7:code)"), "1");
    assert_eq!(
        string_of("count(hl7:code[@code='11502-2'][@codeSystem='2.16.840.1.113883.6.1'])"),
        "1"
    );
    assert_eq!(string_of("count(hl7:code[@code='x'])"), "0");
    assert_eq!(string_of("count(o:*)"), "1");
    assert_eq!(string_of("count(*:other)"), "1");
    assert_eq!(string_of("count(//@root)"), "2");
    assert_eq!(string_of("count(hl7:code/self::hl7:code)"), "1");
}

#[test]
fn unprefixed_names_are_in_no_namespace() {
    // There is no default element namespace: `code` does not match hl7:code.
    assert_eq!(string_of("count(code)"), "0");
    assert_eq!(string_of("count(hl7:code)"), "1");
}

#[test]
fn variables_shadow_by_slot() {
    let mut sc = ctx();
    let a = sc.bind_variable("v");
    let first = XPath::compile("$v = 'one'", &sc).unwrap();
    let b = sc.bind_variable("v");
    let second = XPath::compile("$v = 'two'", &sc).unwrap();
    assert_ne!(a, b);
    with_doc(|n| {
        let mut vars = Variables::new(sc.slot_count());
        vars.set(
            a,
            Ok(vec![Item::Atom(fsecheck_xpath::Atom::Str("one".into()))]),
        );
        vars.set(
            b,
            Ok(vec![Item::Atom(fsecheck_xpath::Atom::Str("two".into()))]),
        );
        assert!(first.evaluate_bool(n, &vars).unwrap());
        assert!(second.evaluate_bool(n, &vars).unwrap());
    });
}

#[test]
fn unsupported_constructs_are_compile_errors_with_position() {
    let sc = ctx();
    let cases: &[(&str, usize)] = &[
        ("count(hl7:x) + 1", 13),
        ("substring(hl7:x, 1, 2)", 0),
        ("foo:bar(1)", 0),
        ("count(nope:x)", 6),
        ("$undeclared = 1", 0),
        ("hl7:a eq 'x'", 6),
        ("for $i in hl7:a return $i", 0),
        ("following::hl7:a", 0),
        ("hl7:a[position() = 1]", 6),
        ("-1", 0),
        ("hl7:a is hl7:b", 6),
        ("count(hl7:a", 11),
        ("matches(hl7:a, '(?:x)')", 0),
        ("matches(hl7:a, 'x', 'q')", 0),
        ("hl7:a instance of xs:string", 6),
        ("hl7:a * 2", 6),
    ];
    for (src, pos) in cases {
        match XPath::compile(src, &sc) {
            Ok(_) => panic!("{src} should not compile"),
            Err(e) => assert_eq!(e.pos, *pos, "{src}: {e}"),
        }
    }
}

#[test]
fn index_built_before_compiling_new_names_stays_correct() {
    let doc = roxmltree::Document::parse(r#"<r xmlns="urn:late"><zzLateName/><zzLateName/></r>"#)
        .unwrap();
    let ix = DocIndex::new(&doc);
    let mut sc = StaticContext::new();
    sc.add_namespace("l", "urn:late");
    // compiled after the index: its name id is unknown to the index
    let xp = XPath::compile("count(l:zzLateName) = 2 and count(//l:zzLateName) = 2", &sc).unwrap();
    let vars = Variables::with_index(0, &ix);
    assert!(xp.evaluate_bool(doc.root_element(), &vars).unwrap());
}
