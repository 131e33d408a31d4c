package io.efficientnet.core.bench;

import io.efficientnet.core.layers.ChannelScaleVertexImpl;
import org.deeplearning4j.nn.graph.vertex.VertexIndices;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * The squeeze-and-excitation multiply ({@link ChannelScaleVertexImpl}) alone: forward, backward, and ND4J's own
 * broadcast multiply of the same shapes as the floor for the forward pass. Default shape: block2 of B0 at batch 8
 * ({@code [8, 96, 56, 56] x [8, 96, 1, 1]}). Run with {@code bench/jmh.sh ChannelScale}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "-Dorg.bytedeco.javacpp.maxbytes=4G"})
public class ChannelScaleVertexBenchmark {

    /** Feature map shape NxCxHxW (JMH splits parameter lists on commas); the gate is NxCx1x1. */
    @Param({"8x96x56x56"})
    public String shape;

    ChannelScaleVertexImpl vertex;
    INDArray features;
    INDArray gate;
    INDArray epsilon;
    final LayerWorkspaceMgr workspaces = LayerWorkspaceMgr.noWorkspaces();

    static long[] parse(String shape) {
        return Arrays.stream(shape.split("x")).mapToLong(s -> Long.parseLong(s.trim())).toArray();
    }

    @Setup
    public void setUp() {
        long[] s = parse(shape);
        Nd4j.getRandom().setSeed(1);
        features = Nd4j.randn(DataType.FLOAT, s);
        gate = Nd4j.rand(DataType.FLOAT, s[0], s[1], 1, 1);
        epsilon = Nd4j.randn(DataType.FLOAT, s);
        vertex = new ChannelScaleVertexImpl(null, "se_excite", 0, DataType.FLOAT);
        vertex.setInputVertices(new VertexIndices[] {new VertexIndices(0, 0), new VertexIndices(1, 0)});
    }

    @Benchmark
    public INDArray forward() {
        vertex.setInput(0, features, workspaces);
        vertex.setInput(1, gate, workspaces);
        return vertex.doForward(true, workspaces);
    }

    @Benchmark
    public INDArray[] backward() {
        vertex.setInput(0, features, workspaces);
        vertex.setInput(1, gate, workspaces);
        vertex.setEpsilon(epsilon);
        return vertex.doBackward(false, workspaces).getSecond();
    }

    /** ND4J's broadcasting multiply of the same arrays: what the forward pass costs without the vertex around it. */
    @Benchmark
    public INDArray referenceBroadcastMultiply() {
        return features.mul(gate);
    }
}
