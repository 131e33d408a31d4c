package io.efficientnet.bench;

import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.memory.AllocationsTracker;
import org.nd4j.linalg.api.memory.enums.AllocationKind;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Peak memory while a benchmark runs: JVM heap from the heap pools' own peak counters, off-heap by sampling (every
 * {@code periodMillis} on a daemon thread, and whenever {@link #sample()} is called).
 */
public final class MemoryMonitor {

    /** How each number is obtained, for the report. */
    public static final String METHOD = "heap: sum over the JVM heap memory pools of MemoryPoolMXBean peak usage "
            + "(reset at start; pools peak at different moments, so an upper bound of the heap in use); "
            + "rss: JavaCPP Pointer.physicalBytes() = resident set size of the whole process (heap, native code and "
            + "ND4J buffers), sampled; javacpp: Pointer.totalBytes() = off-heap bytes JavaCPP tracks (ND4J arrays "
            + "outside workspaces), sampled; workspaces: ND4J AllocationsTracker WORKSPACE bytes (memory held by "
            + "DL4J/ND4J workspaces), sampled";

    /** Peak values in bytes. */
    public record Peak(long heapBytes, long rssBytes, long javacppBytes, long workspaceBytes, long samples) {

        /** Field map for JSON. */
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("peakHeapBytes", heapBytes);
            m.put("peakRssBytes", rssBytes);
            m.put("peakJavacppBytes", javacppBytes);
            m.put("peakWorkspaceBytes", workspaceBytes);
            m.put("samples", samples);
            m.put("method", METHOD);
            return m;
        }
    }

    private final List<MemoryPoolMXBean> heapPools;
    private final AtomicLong rss = new AtomicLong();
    private final AtomicLong javacpp = new AtomicLong();
    private final AtomicLong workspaces = new AtomicLong();
    private final AtomicLong samples = new AtomicLong();
    private final Thread sampler;
    private volatile boolean running = true;

    private MemoryMonitor(long periodMillis) {
        heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(p -> p.getType() == MemoryType.HEAP && p.isValid()).toList();
        heapPools.forEach(MemoryPoolMXBean::resetPeakUsage);
        sample();
        sampler = new Thread(() -> {
            while (running) {
                sample();
                try {
                    Thread.sleep(periodMillis);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "benchmark-memory-sampler");
        sampler.setDaemon(true);
        sampler.start();
    }

    /** Starts monitoring: resets the heap peaks and samples off-heap memory every {@code periodMillis}. */
    public static MemoryMonitor start(long periodMillis) {
        return new MemoryMonitor(periodMillis);
    }

    /** Takes one off-heap sample now. */
    public void sample() {
        rss.accumulateAndGet(Pointer.physicalBytes(), Math::max);
        javacpp.accumulateAndGet(Pointer.totalBytes(), Math::max);
        workspaces.accumulateAndGet(AllocationsTracker.getInstance().bytesOnDevice(AllocationKind.WORKSPACE, 0),
                Math::max);
        samples.incrementAndGet();
    }

    /** Stops sampling and returns the peaks. */
    public Peak stop() {
        running = false;
        sampler.interrupt();
        try {
            sampler.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sample();
        long heap = 0;
        for (MemoryPoolMXBean p : heapPools) {
            heap += p.getPeakUsage().getUsed();
        }
        return new Peak(heap, rss.get(), javacpp.get(), workspaces.get(), samples.get());
    }
}
