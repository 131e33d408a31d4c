package io.efficientnet.cli;

import org.junit.jupiter.api.Test;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.*;

class SummaryCommandTest {

    /** Runs the CLI, returning {exit code, stdout, stderr} (its own writers: System.out stays as it is). */
    static Object[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Object[] {code, out.toString(), err.toString()};
    }

    @Test
    void jsonSummaryOfB3() throws Exception {
        Object[] r = run("summary", "--variant", "b3", "--json");
        assertEquals(0, r[0], (String) r[2]);
        JsonNode j = new ObjectMapper().readTree((String) r[1]);
        assertEquals("b3", j.get("variant").asText());
        assertEquals(300, j.get("resolution").asInt());
        assertEquals(12233232, j.get("trainableParams").asLong());
        assertTrue(j.get("nonTrainableParams").asLong() > 0);
        assertEquals(1.827e9, j.get("macs").asDouble(), 0.01 * 1.827e9);
        assertEquals(9, j.get("stages").size(), "stem, 7 stages, head");
    }

    @Test
    void tableAndOptions() {
        Object[] r = run("summary", "--phi", "-1", "--resolution", "128", "--num-classes", "10");
        assertEquals(0, r[0], (String) r[2]);
        String table = (String) r[1];
        assertTrue(table.contains("input 128x128"), table);
        assertTrue(table.contains("stage7"), table);
        assertTrue(table.contains("trainable params"), table);
        Object[] noTop = run("summary", "--no-top", "--json");
        assertEquals(0, noTop[0]);
        assertTrue(((String) noTop[1]).contains("\"trainableParams\":4007548"), (String) noTop[1]);
    }

    @Test
    void withoutASubcommandTheUsageGoesToTheCommandLinesOutput() {
        Object[] r = run();
        assertEquals(0, r[0], (String) r[2]);
        assertTrue(((String) r[1]).startsWith("Usage: efficientnet"), (String) r[1]);
        assertTrue(((String) r[1]).contains("summary"), (String) r[1]);
    }

    @Test
    void badValuesExitNonZeroWithTheAllowedValues() {
        Object[] r = run("summary", "--variant", "b9");
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("allowed: b0, b1, b2, b3, b4, b5, b6, b7"), (String) r[2]);
        r = run("summary", "--num-classes", "0");
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("--num-classes must be >= 1"), (String) r[2]);
        r = run("summary", "--resolution", "16");
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("at least 32"), (String) r[2]);
        r = run("summary", "--phi", "-30");
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("phi must be >="), (String) r[2]);
    }
}
