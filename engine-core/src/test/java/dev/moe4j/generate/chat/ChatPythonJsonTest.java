package dev.moe4j.generate.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.TextNode;
import org.junit.jupiter.api.Test;

/** {@code tojson} = Python's {@code json.dumps(json.loads(text), ensure_ascii=False)}; expected values printed by CPython 3. */
class ChatPythonJsonTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static String dumps(String jsonText) throws Exception {
        return PythonJson.dumps(JSON.readTree(jsonText));
    }

    @Test
    void stringsEscapeOnlyWhatPythonEscapes() throws Exception {
        assertEquals("{\"a\": \"ü 中文 😀\", \"b\": \"quote \\\" backslash \\\\ slash / tab \\t nl \\n cr \\r bs \\b ff \\f\", "
                        + "\"c\": \"\\u0001\\u001f\u007f\u2028\u2029\"}",
                dumps("{\"a\": \"ü 中文 😀\", \"b\": \"quote \\\" backslash \\\\ slash / tab \\t nl \\n cr \\r bs \\b ff \\f\", "
                        + "\"c\": \"\\u0001\\u001f\\u007f\\u2028\\u2029\"}"));
        assertEquals("\"<script>&amp;</script>\"", PythonJson.dumps(TextNode.valueOf("<script>&amp;</script>")));
        assertEquals("\"\\u0000\\u000b\\u001b\"", PythonJson.dumps(TextNode.valueOf("\u0000\u000b\u001b")));
    }

    @Test
    void containersUseSpacedSeparatorsAndKeepKeyOrder() throws Exception {
        assertEquals("{\"o\": {\"p\": [1, {\"q\": []}, {}]}, \"e\": \"\", \"t\": true, \"f\": false, \"n\": null}",
                dumps("{\"o\":{\"p\":[1,{\"q\":[]},{}]},\"e\":\"\",\"t\":true,\"f\":false,\"n\":null}"));
        assertEquals("{\"z\": 1, \"a\": 2, \"m\": {\"y\": 1, \"b\": 2}}", dumps("{\"z\":1,\"a\":2,\"m\":{\"y\":1,\"b\":2}}"));
        // a repeated key keeps its first position and its last value, as json.loads makes it
        assertEquals("{\"a\": 3, \"b\": 2}", dumps("{\"a\":1,\"b\":2,\"a\":3}"));
    }

    @Test
    void numbersPrintLikePython() throws Exception {
        assertEquals("[1.0, 1e-05, 0.0001, 1e+16, 1000000000000000.0, 123456789012345678901234567890, -0.0, 0.1, 5e-324, "
                        + "1.7976931348623157e+308, 2.5e-07, 1e+22, 100.0, 0.30000000000000004, 3.14159, -7, 1.5e+300, 123456789.0, "
                        + "9007199254740993, 0.0002, 0.5]",
                dumps("[1.0, 1e-05, 0.0001, 1e16, 1e15, 123456789012345678901234567890, -0.0, 0.1, 5e-324, 1.7976931348623157e308, "
                        + "2.5e-7, 1e22, 1e2, 0.30000000000000004, 3.14159, -7, 1.5e300, 123456.789e3, 9007199254740993, 2e-4, 0.5]"));
    }

    @Test
    void floatReprMatchesPythonAtTheEdges() {
        assertEquals("1e+23", PythonJson.floatRepr(1e23));
        assertEquals("1.5e-323", PythonJson.floatRepr(Double.MIN_VALUE * 3));
        assertEquals("0.3333333333333333", PythonJson.floatRepr(1.0 / 3));
        assertEquals("1.1805916207174113e+21", PythonJson.floatRepr(Math.pow(2, 70)));
        assertEquals("4.35", PythonJson.floatRepr(4.35));
        assertEquals("0.000123456", PythonJson.floatRepr(0.000123456));
        assertEquals("1e-07", PythonJson.floatRepr(1e-7));
        assertEquals("1.2345678901234568e+16", PythonJson.floatRepr(12345678901234567.0));
        assertEquals("NaN", PythonJson.floatRepr(Double.NaN));
        assertEquals("-Infinity", PythonJson.floatRepr(Double.NEGATIVE_INFINITY));
        assertEquals("0.10000000149011612", PythonJson.dumps(JsonNodeFactory.instance.numberNode(0.1f)));
        assertEquals("2.0", PythonJson.dumps(DoubleNode.valueOf(2)));
    }

    @Test
    void toolSchemasRoundTripUnchanged() throws Exception {
        String schema = "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"City name, e.g. Zürich\", "
                + "\"parameters\": {\"type\": \"object\", \"properties\": {\"unit\": {\"type\": \"string\", \"enum\": [\"c\", \"f\"]}}, "
                + "\"required\": []}}}";
        JsonNode node = JSON.readTree(schema);
        assertEquals(schema, PythonJson.dumps(node));
    }
}
