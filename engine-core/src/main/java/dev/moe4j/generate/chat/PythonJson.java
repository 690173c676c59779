package dev.moe4j.generate.chat;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Map;

/**
 * Python's {@code json.dumps(x, ensure_ascii=False)}, which is what Hugging Face's {@code tojson} filter runs inside
 * a chat template: separators {@code ", "} and {@code ": "}, keys in insertion order, non-ASCII characters kept
 * as they are, no HTML escaping.
 *
 * <ul>
 *   <li>Strings escape only what Python escapes: {@code \" \\ \n \r \t \b \f}, the other control characters
 *       below U+0020 as {@code \u005Cu00XX} (lower-case hex). {@code /}, DEL, U+2028 and U+2029 stay as they are.</li>
 *   <li>Integers print in full (Python ints are unbounded; so are Jackson's big integers).</li>
 *   <li>Floats print like Python's {@code repr(float)}: the shortest digits that read back to the same double,
 *       positional for decimal exponents -4 … 15 ({@code 1.0}, {@code 0.0001}, {@code 1000000000000000.0}) and
 *       scientific outside ({@code 1e-05}, {@code 1e+16}, {@code 1.5e+300}); {@code NaN}, {@code Infinity},
 *       {@code -Infinity} as Python writes them. A float node (32-bit) is widened to double first, and a decimal
 *       node is read as the double Python's parser would make of it.</li>
 * </ul>
 */
public final class PythonJson {
    private PythonJson() {}

    public static String dumps(JsonNode node) {
        StringBuilder out = new StringBuilder();
        write(out, node);
        return out.toString();
    }

    private static void write(StringBuilder out, JsonNode node) {
        switch (node.getNodeType()) {
            case OBJECT -> {
                out.append('{');
                String separator = "";
                for (Map.Entry<String, JsonNode> field : node.properties()) {
                    out.append(separator);
                    writeString(out, field.getKey());
                    out.append(": ");
                    write(out, field.getValue());
                    separator = ", ";
                }
                out.append('}');
            }
            case ARRAY -> {
                out.append('[');
                String separator = "";
                for (JsonNode element : node) {
                    out.append(separator);
                    write(out, element);
                    separator = ", ";
                }
                out.append(']');
            }
            case STRING -> writeString(out, node.textValue());
            case NUMBER -> out.append(node.isIntegralNumber() ? node.bigIntegerValue().toString() : floatRepr(node.doubleValue()));
            case BOOLEAN -> out.append(node.booleanValue() ? "true" : "false");
            case NULL -> out.append("null");
            default -> throw new IllegalArgumentException("cannot serialise a " + node.getNodeType() + " JSON node");
        }
    }

    static void writeString(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) {
                        out.append("\\u00").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 0xf, 16));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    /** Python's {@code repr(x)} for a float. */
    static String floatRepr(double x) {
        if (Double.isNaN(x)) {
            return "NaN";
        }
        if (Double.isInfinite(x)) {
            return x > 0 ? "Infinity" : "-Infinity";
        }
        boolean negative = Double.doubleToRawLongBits(x) < 0;
        if (x == 0) {
            return negative ? "-0.0" : "0.0";
        }
        BigDecimal shortest = shortestDecimal(Math.abs(x));
        String digits = shortest.unscaledValue().toString();
        int decimalPoint = digits.length() - shortest.scale(); // |x| = 0.DIGITS × 10^decimalPoint
        StringBuilder out = new StringBuilder(negative ? "-" : "");
        if (decimalPoint <= -4 || decimalPoint > 16) {
            // same cut-offs as CPython's float_repr_style 'short'
            out.append(digits.charAt(0));
            if (digits.length() > 1) {
                out.append('.').append(digits, 1, digits.length());
            }
            int exponent = decimalPoint - 1;
            out.append(exponent < 0 ? "e-" : "e+");
            int magnitude = Math.abs(exponent);
            out.append(magnitude < 10 ? "0" : "").append(magnitude);
        } else if (decimalPoint <= 0) {
            out.append("0.").append("0".repeat(-decimalPoint)).append(digits);
        } else if (decimalPoint < digits.length()) {
            out.append(digits, 0, decimalPoint).append('.').append(digits, decimalPoint, digits.length());
        } else {
            out.append(digits).append("0".repeat(decimalPoint - digits.length())).append(".0");
        }
        return out.toString();
    }

    /**
     * The decimal with the fewest significant digits that reads back as {@code x} (x > 0), the nearest one when
     * several have that length: the digits of Python's repr. Not {@link Double#toString(double)}, which may print
     * two digits where one suffices ({@code 4.9E-324} where Python prints {@code 5e-324}).
     */
    private static BigDecimal shortestDecimal(double x) {
        BigDecimal exact = new BigDecimal(x);
        for (int precision = 1; ; precision++) {
            // the reading-back interval around x is contiguous: if any decimal of this length falls inside it,
            // the nearest one below or above x does
            BigDecimal below = exact.round(new MathContext(precision, RoundingMode.FLOOR));
            BigDecimal above = exact.round(new MathContext(precision, RoundingMode.CEILING));
            boolean belowOk = Double.parseDouble(below.toString()) == x;
            boolean aboveOk = Double.parseDouble(above.toString()) == x;
            if (belowOk && aboveOk) {
                int cmp = exact.subtract(below).compareTo(above.subtract(exact));
                boolean belowIsEven = !below.unscaledValue().testBit(0);
                return (cmp < 0 || (cmp == 0 && belowIsEven) ? below : above).stripTrailingZeros();
            }
            if (belowOk || aboveOk) {
                return (belowOk ? below : above).stripTrailingZeros();
            }
        }
    }
}
