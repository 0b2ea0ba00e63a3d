// Differential oracle for fsecheck-xsd: validates files with the JDK's JAXP validator (the
// Xerces-based javax.xml.validation the FSE gateway uses). Run as a single-file program:
//   java JaxpValidate.java <CDA.xsd> <file.xml>...
// Prints, per file, "<file> validates" or "<file> fails to validate: <first error>".
import javax.xml.XMLConstants;
import javax.xml.transform.stream.StreamSource;
import javax.xml.validation.Schema;
import javax.xml.validation.SchemaFactory;
import javax.xml.validation.Validator;
import org.xml.sax.ErrorHandler;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;
import java.io.File;
import java.util.ArrayList;
import java.util.List;

public class JaxpValidate {
    public static void main(String[] args) throws Exception {
        SchemaFactory factory = SchemaFactory.newInstance(XMLConstants.W3C_XML_SCHEMA_NS_URI);
        Schema schema = factory.newSchema(new File(args[0]));
        for (int i = 1; i < args.length; i++) {
            Validator validator = schema.newValidator();
            List<String> errors = new ArrayList<>();
            validator.setErrorHandler(new ErrorHandler() {
                public void warning(SAXParseException e) {}
                public void error(SAXParseException e) {
                    errors.add(e.getLineNumber() + ":" + e.getColumnNumber() + " " + e.getMessage());
                }
                public void fatalError(SAXParseException e) {
                    errors.add("fatal " + e.getMessage());
                }
            });
            try {
                validator.validate(new StreamSource(new File(args[i])));
            } catch (SAXException e) {
                if (errors.isEmpty()) {
                    errors.add(e.getMessage());
                }
            }
            if (errors.isEmpty()) {
                System.out.println(args[i] + " validates");
            } else {
                System.out.println(args[i] + " fails to validate: " + errors.get(0).replace('\n', ' '));
            }
        }
    }
}
