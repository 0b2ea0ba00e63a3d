import java.nio.file.*;
import java.util.*;
import org.jsoup.Jsoup;
import org.jsoup.nodes.*;
import org.jsoup.select.Elements;

// Differential harness: re-implements the gateway's documented terminology extraction with jsoup's
// HTML parser (re-mapping, re-serialisation, [codeSystem] selection) and prints one line per
// extracted element: file TAB code TAB codeSystem TAB codeSystemVersion ("-" = null).
public class GwExtract {
  static final String[][] CHANGES = {
    {"89261-2", "2.16.840.1.113883.2.9.10.1.4.3.4.5"},
    {"33999-4", "2.16.840.1.113883.2.9.77.22.11.7"},
    {"75246-9", "2.16.840.1.113883.2.9.77.22.11.15"},
    {"72166-2", "1.3.6.1.4.1.12009.10.1.1356"},
    {"74204-9", "1.3.6.1.4.1.12009.10.1.1694"},
    {"45404-1", "1.3.6.1.4.1.12009.10.1.3342"},
  };
  static String n(String s) { return (s == null || s.isEmpty()) ? "-" : s; }
  public static void main(String[] args) throws Exception {
    for (String f : args) {
      String cda = new String(Files.readAllBytes(Paths.get(f)), "UTF-8");
      if (cda.startsWith("\uFEFF")) cda = cda.substring(1);
      Document d = Jsoup.parse(cda);
      for (String[] c : CHANGES) {
        for (Element code : d.select("observation > code[code='" + c[0] + "']")) {
          Element p = code.parent();
          if (p == null) continue;
          p.select("value").attr("codeSystem", c[1]);
        }
      }
      Document d2 = Jsoup.parse(d.toString());
      StringBuilder sb = new StringBuilder();
      for (Element e : d2.select("[codeSystem]")) {
        String cs = e.attr("codeSystem");
        if (cs.isEmpty()) continue;
        sb.append(f).append('\t').append(n(e.attr("code"))).append('\t').append(cs).append('\t').append(n(e.attr("codeSystemVersion"))).append('\n');
      }
      System.out.print(sb);
    }
  }
}
