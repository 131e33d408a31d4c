package io.efficientnet.train;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The project's packages form no cycle: every reference from one {@code io.efficientnet} package to another (imports
 * and fully qualified names in the main sources of all three modules) points one way.
 */
class PackageCyclesTest {

    private static final Pattern PACKAGE = Pattern.compile("^package (io\\.efficientnet[\\w.]*);", Pattern.MULTILINE);
    /** A qualified reference: package segments, then a class name (capitalised). */
    private static final Pattern REFERENCE = Pattern.compile("\\b(io\\.efficientnet(?:\\.[a-z]\\w*)*)\\.[A-Z]");

    @Test
    void noPackageDependsOnItselfThroughOthers() throws IOException {
        Map<String, Set<String>> uses = dependencies();
        assertTrue(uses.containsKey("io.efficientnet.core.model") && uses.containsKey("io.efficientnet.cli"),
                "the scan sees all modules: " + uses.keySet());
        assertTrue(uses.get("io.efficientnet.core.weights").contains("io.efficientnet.core.model"),
                "and their references: " + uses.get("io.efficientnet.core.weights"));
        List<List<String>> cycles = stronglyConnected(uses).stream().filter(c -> c.size() > 1).toList();
        assertEquals(List.of(), cycles, "packages that depend on each other");
    }

    private static Map<String, Set<String>> dependencies() throws IOException {
        Map<String, Set<String>> uses = new TreeMap<>();
        for (String module : List.of("efficientnet-core", "efficientnet-train", "efficientnet-examples")) {
            Path src = ProjectPaths.root().resolve(module).resolve("src/main/java");
            try (Stream<Path> files = Files.walk(src)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                    String text = read(f);
                    Matcher pm = PACKAGE.matcher(text);
                    if (!pm.find()) {
                        continue;
                    }
                    String from = pm.group(1);
                    Set<String> to = uses.computeIfAbsent(from, k -> new TreeSet<>());
                    Matcher rm = REFERENCE.matcher(text.substring(pm.end()));
                    while (rm.find()) {
                        if (!rm.group(1).equals(from)) {
                            to.add(rm.group(1));
                        }
                    }
                }
            }
        }
        return uses;
    }

    private static String read(Path f) {
        try {
            return Files.readString(f);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Tarjan's strongly connected components. */
    private static List<List<String>> stronglyConnected(Map<String, Set<String>> graph) {
        Map<String, Integer> index = new HashMap<>();
        Map<String, Integer> low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new TreeSet<>();
        List<List<String>> out = new ArrayList<>();
        int[] next = {0};
        for (String v : graph.keySet()) {
            if (!index.containsKey(v)) {
                connect(v, graph, index, low, stack, onStack, out, next);
            }
        }
        return out;
    }

    private static void connect(String v, Map<String, Set<String>> graph, Map<String, Integer> index,
            Map<String, Integer> low, Deque<String> stack, Set<String> onStack, List<List<String>> out, int[] next) {
        index.put(v, next[0]);
        low.put(v, next[0]++);
        stack.push(v);
        onStack.add(v);
        for (String w : graph.getOrDefault(v, Set.of())) {
            if (!index.containsKey(w)) {
                connect(w, graph, index, low, stack, onStack, out, next);
                low.put(v, Math.min(low.get(v), low.get(w)));
            } else if (onStack.contains(w)) {
                low.put(v, Math.min(low.get(v), index.get(w)));
            }
        }
        if (low.get(v).equals(index.get(v))) {
            List<String> component = new ArrayList<>();
            String w;
            do {
                w = stack.pop();
                onStack.remove(w);
                component.add(w);
            } while (!w.equals(v));
            out.add(component);
        }
    }
}
