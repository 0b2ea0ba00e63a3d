import java.io.*;
import java.nio.file.*;
import java.util.*;
import java.util.stream.*;
import org.jsoup.Jsoup;
import org.jsoup.nodes.*;

// Differential harness for steps 3-8: re-implements the gateway's documented TerminologySRV flow
// with real java.util collections (HashMap grouping, ArrayList.removeAll, DTO equals/hashCode as
// documented) and prints, per file, the message the validator would return ("-" when valid).
// Args: DICT_TSV CSV_DIR FILE...   (DICT_TSV: system, version|-, release_ms|-, creation_ms|-, whitelist)
public class GwTerm {
  static boolean empty(String s) { return s == null || s.isEmpty(); }

  static final class CodeDTO {
    String code, codeSystem, version;
    CodeDTO(String c, String s, String v) { code = c; codeSystem = s; version = v; }
    CodeSystemVersionDTO csv() { return new CodeSystemVersionDTO(codeSystem, version); }
    @Override public boolean equals(Object obj) {
      if (obj == null || obj.getClass() != getClass()) return false;
      CodeDTO d = (CodeDTO) obj;
      if (code == null && d.code != null) return false;
      if (d.code == null && code != null) return false;
      if (codeSystem == null && d.codeSystem != null) return false;
      if (d.codeSystem == null && codeSystem != null) return false;
      if (version == null && d.version != null) return false;
      if (d.version == null && version != null) return false;
      if (code == null && codeSystem == null && version == null) return true;
      if (code != null && codeSystem == null && version == null) return code.equals(d.code);
      if (code != null && codeSystem != null && version == null) return code.equals(d.code) && codeSystem.equals(d.codeSystem);
      if (code != null && codeSystem != null) return code.equals(d.code) && codeSystem.equals(d.codeSystem) && version.equals(d.version);
      return false;
    }
    @Override public int hashCode() {
      int h = 0;
      h += code == null ? 0 : code.hashCode();
      h += codeSystem == null ? 0 : codeSystem.hashCode();
      h += version == null ? 0 : version.hashCode();
      return h;
    }
  }

  static final class CodeSystemVersionDTO {
    String codeSystem, version;
    CodeSystemVersionDTO(String s, String v) { codeSystem = s; version = v; }
    @Override public boolean equals(Object obj) {
      if (obj == null || obj.getClass() != getClass()) return false;
      CodeSystemVersionDTO d = (CodeSystemVersionDTO) obj;
      if (codeSystem == null && d.codeSystem != null) return false;
      if (d.codeSystem == null && codeSystem != null) return false;
      if (version == null && d.version != null) return false;
      if (d.version == null && version != null) return false;
      if (codeSystem == null && version == null) return true;
      if (version == null) return codeSystem.equals(d.codeSystem);
      return codeSystem.equals(d.codeSystem) && version.equals(d.version);
    }
    @Override public int hashCode() {
      int h = 0;
      h += codeSystem == null ? 0 : codeSystem.hashCode();
      h += version == null ? 0 : version.hashCode();
      return h;
    }
    @Override public String toString() { return version == null ? codeSystem : codeSystem + " v" + version; }
  }

  static final class Dict { String system, version; Long rel, cre; boolean white; }

  static List<Dict> dicts = new ArrayList<>();
  static Map<String, Map<String, Set<String>>> codes = new HashMap<>(); // system -> version("" null) -> codes
  static Set<String> missingCsv = new HashSet<>();
  static String csvDir;

  static Map<String, Set<String>> table(String system) {
    if (codes.containsKey(system)) return codes.get(system);
    Path p = Paths.get(csvDir, system + ".csv");
    if (!Files.exists(p)) { missingCsv.add(system); codes.put(system, null); return null; }
    Map<String, Set<String>> t = new HashMap<>();
    try (BufferedReader r = Files.newBufferedReader(p)) {
      String line = r.readLine(); // header
      while ((line = r.readLine()) != null) {
        String[] f = firstTwo(line);
        t.computeIfAbsent(f[0], k -> new HashSet<>()).add(f[1]);
      }
    } catch (IOException e) { throw new UncheckedIOException(e); }
    codes.put(system, t);
    return t;
  }

  static String[] firstTwo(String line) {
    String[] out = new String[2]; int i = 0;
    for (int k = 0; k < 2; k++) {
      StringBuilder sb = new StringBuilder();
      if (i < line.length() && line.charAt(i) == '"') {
        i++;
        while (i < line.length()) {
          char c = line.charAt(i++);
          if (c == '"') { if (i < line.length() && line.charAt(i) == '"') { sb.append('"'); i++; } else break; }
          else sb.append(c);
        }
        while (i < line.length() && line.charAt(i) != ',') i++;
      } else {
        while (i < line.length() && line.charAt(i) != ',') sb.append(line.charAt(i++));
      }
      i++; out[k] = sb.toString();
    }
    return out;
  }

  static List<String> findAllCodesExistsForVersion(String system, String version, List<String> cs) {
    Map<String, Set<String>> t = table(system);
    if (t == null) return new ArrayList<>(cs); // unavailable list: treated as found (the Rust side leaves them out)
    Set<String> s = new HashSet<>();
    if (version == null) t.values().forEach(s::addAll); else s = t.getOrDefault(version, Collections.emptySet());
    final Set<String> ss = s;
    return cs.stream().filter(c -> c != null && ss.contains(c)).collect(Collectors.toList());
  }

  static String maxVersion(List<Dict> ds) {
    Dict first = ds.get(0);
    if (first.rel != null) return ds.stream().sorted(Comparator.comparing((Dict d) -> d.rel, Comparator.nullsLast(Comparator.reverseOrder()))).findFirst().map(d -> d.version).orElse(null);
    if (first.cre != null) return ds.stream().sorted(Comparator.comparing((Dict d) -> d.cre, Comparator.nullsLast(Comparator.reverseOrder()))).findFirst().map(d -> d.version).orElse(null);
    List<Dict> r = new ArrayList<>(ds); Collections.reverse(r); return r.get(0).version;
  }

  static final String[][] CHANGES = {
    {"89261-2", "2.16.840.1.113883.2.9.10.1.4.3.4.5"}, {"33999-4", "2.16.840.1.113883.2.9.77.22.11.7"},
    {"75246-9", "2.16.840.1.113883.2.9.77.22.11.15"}, {"72166-2", "1.3.6.1.4.1.12009.10.1.1356"},
    {"74204-9", "1.3.6.1.4.1.12009.10.1.1694"}, {"45404-1", "1.3.6.1.4.1.12009.10.1.3342"},
  };

  static List<CodeDTO> extract(String cda) {
    Document d = Jsoup.parse(cda);
    for (String[] c : CHANGES)
      for (Element code : d.select("observation > code[code='" + c[0] + "']"))
        if (code.parent() != null) code.parent().select("value").attr("codeSystem", c[1]);
    List<CodeDTO> out = new ArrayList<>();
    for (Element e : Jsoup.parse(d.toString()).select("[codeSystem]")) {
      String c = e.attr("code"), s = e.attr("codeSystem"), v = e.attr("codeSystemVersion");
      out.add(new CodeDTO(empty(c) ? null : c, empty(s) ? null : s, empty(v) ? null : v));
    }
    return out;
  }

  static String validate(List<CodeDTO> list) {
    Map<String, List<Dict>> bySystem = dicts.stream().collect(Collectors.groupingBy(x -> x.system));
    List<String> allow = dicts.stream().filter(x -> x.white).map(x -> x.system).distinct().collect(Collectors.toList());
    List<CodeSystemVersionDTO> managedVersions = dicts.stream().map(x -> new CodeSystemVersionDTO(x.system, x.version)).collect(Collectors.toList());
    List<String> managed = managedVersions.stream().map(x -> x.codeSystem).distinct().collect(Collectors.toList());
    Map<String, String> max = new HashMap<>();
    bySystem.forEach((k, v) -> max.put(k, maxVersion(v)));

    List<String> systems = list.stream().map(x -> x.codeSystem).distinct().collect(Collectors.toList());
    List<String> allowed = systems.stream().filter(allow::contains).collect(Collectors.toList());
    list.removeIf(x -> allowed.contains(x.codeSystem));
    List<String> blocked = list.stream().map(x -> x.codeSystem).distinct()
        .filter(s -> !empty(s) && Arrays.stream(s.split("\\.")).anyMatch(p -> p.equals("999") || p.equals("9999")))
        .collect(Collectors.toList());
    list.removeIf(x -> blocked.contains(x.codeSystem));
    if (!blocked.isEmpty()) return "È stato trovato almeno un dizionario presente in Blocklist: " + blocked.toString();
    List<String> unknown = list.stream().map(x -> x.codeSystem).distinct().filter(s -> !managed.contains(s)).collect(Collectors.toList());
    list.removeIf(x -> unknown.contains(x.codeSystem));
    List<CodeDTO> sanitized = list.stream().filter(x -> empty(x.version)).peek(x -> x.version = max.get(x.codeSystem)).collect(Collectors.toList());
    if (!sanitized.isEmpty()) { list.removeAll(sanitized); list.addAll(sanitized); }
    List<CodeSystemVersionDTO> invalid = list.stream().map(x -> new CodeSystemVersionDTO(x.codeSystem, x.version)).distinct()
        .filter(x -> !managedVersions.contains(x)).collect(Collectors.toList());
    if (!invalid.isEmpty()) return "È stata trovata almeno una versione non gestita di un dizionario: " + invalid.toString();
    Map<CodeSystemVersionDTO, List<CodeDTO>> grouped = list.stream().collect(Collectors.groupingBy(CodeDTO::csv));
    List<CodeDTO> found = grouped.keySet().stream().flatMap(k -> {
      List<CodeDTO> g = grouped.get(k);
      List<String> f = findAllCodesExistsForVersion(k.codeSystem, k.version, g.stream().map(x -> x.code).collect(Collectors.toList()));
      g.removeIf(x -> !f.contains(x.code));
      return g.stream();
    }).collect(Collectors.toList());
    list.removeIf(found::contains);
    if (list.isEmpty()) return "-";
    Map<CodeSystemVersionDTO, List<CodeDTO>> g2 = list.stream().collect(Collectors.groupingBy(CodeDTO::csv));
    return "Almeno uno dei seguenti vocaboli non è censito: " + g2.keySet().stream()
        .map(k -> "[CodeSystem: " + k + ", Codes: " + g2.get(k).stream().map(x -> x.code).distinct().collect(Collectors.joining(", ")) + "]")
        .collect(Collectors.joining(", "));
  }

  public static void main(String[] args) throws Exception {
    for (String line : Files.readAllLines(Paths.get(args[0]))) {
      String[] f = line.split("\t", -1);
      Dict d = new Dict(); d.system = f[0]; d.version = f[1].equals("-") ? null : f[1];
      d.rel = f[2].equals("-") ? null : Long.parseLong(f[2]); d.cre = f[3].equals("-") ? null : Long.parseLong(f[3]);
      d.white = f[4].equals("true"); dicts.add(d);
    }
    csvDir = args[1];
    for (int i = 2; i < args.length; i++) {
      String cda = new String(Files.readAllBytes(Paths.get(args[i])), "UTF-8");
      if (cda.startsWith("\uFEFF")) cda = cda.substring(1);
      System.out.println(args[i] + "\t" + validate(extract(cda)));
    }
  }
}
