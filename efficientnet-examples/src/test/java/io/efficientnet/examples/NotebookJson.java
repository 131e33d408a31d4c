package io.efficientnet.examples;

import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.node.ArrayNode;
import org.nd4j.shade.jackson.databind.node.JsonNodeFactory;
import org.nd4j.shade.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;

/**
 * Reads and writes Jupyter notebooks (nbformat 4) in the layout Jupyter itself writes: keys sorted, one space of
 * indent per level, {@code ": "} between key and value, non-ASCII characters as they are, a final newline (Python's
 * {@code json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False)}). A notebook read and written back unchanged is
 * the same file, so the diff of a rerun shows only what the run changed.
 */
final class NotebookJson {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private NotebookJson() {
    }

    static ObjectNode read(Path file) throws IOException {
        return (ObjectNode) new ObjectMapper().readTree(file.toFile());
    }

    /** The cells of type {@code code}, in order. */
    static List<ObjectNode> codeCells(ObjectNode notebook) {
        List<ObjectNode> cells = new ArrayList<>();
        for (JsonNode cell : notebook.get("cells")) {
            if (cell.get("cell_type").asText().equals("code")) {
                cells.add((ObjectNode) cell);
            }
        }
        return cells;
    }

    /** A cell's source (a list of lines, or one string) as one string. */
    static String source(JsonNode cell) {
        JsonNode source = cell.get("source");
        if (source.isTextual()) {
            return source.asText();
        }
        StringBuilder sb = new StringBuilder();
        for (JsonNode line : source) {
            sb.append(line.asText());
        }
        return sb.toString();
    }

    /** {@code text} as nbformat stores multi-line strings: lines, each but the last with its {@code \n}. */
    static ArrayNode lines(String text) {
        ArrayNode a = NODES.arrayNode();
        int start = 0;
        while (start < text.length()) {
            int nl = text.indexOf('\n', start);
            int end = nl < 0 ? text.length() : nl + 1;
            a.add(text.substring(start, end));
            start = end;
        }
        return a;
    }

    /** A {@code stream} output (printed text). */
    static ObjectNode stream(String name, String text) {
        ObjectNode o = NODES.objectNode();
        o.put("name", name);
        o.put("output_type", "stream");
        o.set("text", lines(text));
        return o;
    }

    /** A {@code display_data} output showing a PNG image. */
    static ObjectNode png(byte[] png, String plain) {
        ObjectNode data = NODES.objectNode();
        data.put("image/png", Base64.getEncoder().encodeToString(png) + "\n");
        data.set("text/plain", lines(plain));
        ObjectNode o = NODES.objectNode();
        o.set("data", data);
        o.set("metadata", NODES.objectNode());
        o.put("output_type", "display_data");
        return o;
    }

    /** The notebook as Jupyter writes it. */
    static String format(JsonNode notebook) {
        StringBuilder sb = new StringBuilder();
        write(notebook, 0, sb);
        return sb.append('\n').toString();
    }

    /** Writes {@code notebook} to {@code file} through a temporary file next to it, moved into place. */
    static void writeAtomically(Path file, JsonNode notebook) throws IOException {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".writing");
        Files.writeString(tmp, format(notebook), StandardCharsets.UTF_8);
        try {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    private static void write(JsonNode node, int depth, StringBuilder sb) {
        if (node.isObject()) {
            if (node.size() == 0) {
                sb.append("{}");
                return;
            }
            List<String> names = new ArrayList<>();
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                names.add(it.next());
            }
            names.sort(null);
            sb.append('{');
            for (int i = 0; i < names.size(); i++) {
                sb.append(i == 0 ? "\n" : ",\n").append(" ".repeat(depth + 1));
                string(names.get(i), sb);
                sb.append(": ");
                write(node.get(names.get(i)), depth + 1, sb);
            }
            sb.append('\n').append(" ".repeat(depth)).append('}');
        } else if (node.isArray()) {
            if (node.size() == 0) {
                sb.append("[]");
                return;
            }
            sb.append('[');
            for (int i = 0; i < node.size(); i++) {
                sb.append(i == 0 ? "\n" : ",\n").append(" ".repeat(depth + 1));
                write(node.get(i), depth + 1, sb);
            }
            sb.append('\n').append(" ".repeat(depth)).append(']');
        } else if (node.isTextual()) {
            string(node.asText(), sb);
        } else if (node.isNull() || node.isMissingNode()) {
            sb.append("null");
        } else {
            sb.append(node.asText()); // numbers and booleans
        }
    }

    /** A JSON string as Python writes it with ensure_ascii=False. */
    private static void string(String s, StringBuilder sb) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
