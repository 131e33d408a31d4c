package io.efficientnet.core.bench;

import io.efficientnet.core.kernels.BatchNormKernels;
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
 * The inference-mode batch-norm pass of {@link BatchNormKernels#normalize} with and without the fused swish, against
 * ND4J's copy of the same array as the memory-traffic floor. Default shape: block2a's expansion output of B0 at
 * batch 8. Run with {@code bench/jmh.sh BatchNormKernels}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "-Dorg.bytedeco.javacpp.maxbytes=4G"})
public class BatchNormKernelsBenchmark {

    /** Feature map shape NxCxHxW. */
    @Param({"8x96x112x112", "8x672x14x14"})
    public String shape;

    INDArray x;
    INDArray y;
    float[] mean;
    float[] scale;
    float[] shift;

    @Setup
    public void setUp() {
        long[] s = ChannelScaleVertexBenchmark.parse(shape);
        Nd4j.getRandom().setSeed(1);
        x = Nd4j.randn(DataType.FLOAT, s);
        y = Nd4j.createUninitialized(DataType.FLOAT, s);
        int c = (int) s[1];
        mean = new float[c];
        scale = new float[c];
        shift = new float[c];
        for (int i = 0; i < c; i++) {
            mean[i] = 0.01f * i;
            scale[i] = 1f + 0.001f * i;
            shift[i] = -0.02f * i;
        }
    }

    @Benchmark
    public INDArray normalize() {
        BatchNormKernels.normalize(x, y, mean, scale, shift, false);
        return y;
    }

    @Benchmark
    public INDArray normalizeSwish() {
        BatchNormKernels.normalize(x, y, mean, scale, shift, true);
        return y;
    }

    @Benchmark
    public INDArray copy() {
        return y.assign(x);
    }
}
