package io.efficientnet.core.bench;

import io.efficientnet.core.layers.DropPath;
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

import java.util.concurrent.TimeUnit;

/**
 * Per-sample stochastic depth ({@link DropPath}) on a residual branch: the training forward (Bernoulli mask of N
 * values, broadcast multiply) and forward + backward. Default shapes: the first skip block of stage 2 and of stage 5
 * of B0 at batch 8. Run with {@code bench/jmh.sh DropPath}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "-Dorg.bytedeco.javacpp.maxbytes=4G"})
public class DropPathBenchmark {

    /** Branch activation shape NxCxHxW. */
    @Param({"8x24x56x56", "8x112x14x14"})
    public String shape;

    /** Drop probability. */
    @Param({"0.1"})
    public double rate;

    DropPath dropPath;
    INDArray input;
    INDArray output;
    INDArray gradient;
    INDArray inputGradient;
    final LayerWorkspaceMgr workspaces = LayerWorkspaceMgr.noWorkspaces();

    @Setup
    public void setUp() {
        long[] s = ChannelScaleVertexBenchmark.parse(shape);
        Nd4j.getRandom().setSeed(2);
        dropPath = new DropPath(rate);
        input = Nd4j.randn(DataType.FLOAT, s);
        output = input.ulike();
        gradient = Nd4j.randn(DataType.FLOAT, s);
        inputGradient = gradient.ulike();
    }

    @Benchmark
    public INDArray forward() {
        return dropPath.applyDropout(input, output, 0, 0, workspaces);
    }

    @Benchmark
    public INDArray forwardBackward() {
        dropPath.applyDropout(input, output, 0, 0, workspaces);
        return dropPath.backprop(gradient, inputGradient, 0, 0);
    }
}
