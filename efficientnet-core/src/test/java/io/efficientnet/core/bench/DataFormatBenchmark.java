package io.efficientnet.core.bench;

import io.efficientnet.core.OneDnnHelpers;
import io.efficientnet.core.inference.BatchNormTestSupport;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
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
 * The same DL4J layer run on NCHW and on NHWC activations (is NHWC faster?): one 1×1
 * convolution (C → C/4, like an MBConv projection), one 3×3 depthwise convolution or one DL4J batch norm, each inside
 * input → layer → global average pooling → 2-class softmax, with workspaces and DL4J's oneDNN helpers as
 * {@code EfficientNet.init()} sets them. {@code inference} is {@code output(false, x)}, {@code fit} one SGD step.
 * The pooling/loss part is the same for both formats; shape {@code NxCxHxW} is given in NCHW terms.
 * Run with {@code bench/jmh.sh DataFormat}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "-Dorg.bytedeco.javacpp.maxbytes=6G"})
public class DataFormatBenchmark {

    /** Which layer: conv1x1, depthwise3x3 or batchnorm. */
    @Param({"conv1x1", "depthwise3x3", "batchnorm"})
    public String layer;

    /** Activation layout: NCHW or NHWC. */
    @Param({"NCHW", "NHWC"})
    public String format;

    /** Activation shape NxCxHxW (B0 at batch 8: block 3's expanded 144 channels at 56×56). */
    @Param({"8x144x56x56"})
    public String shape;

    ComputationGraph net;
    INDArray input;
    INDArray[] labels;

    @Setup
    public void setUp() {
        long[] s = ChannelScaleVertexBenchmark.parse(shape);
        CNN2DFormat f = CNN2DFormat.valueOf(format);
        net = network(layer, f, (int) s[1], (int) s[2], (int) s[3]);
        Nd4j.getRandom().setSeed(3);
        INDArray nchw = Nd4j.randn(DataType.FLOAT, s);
        input = f == CNN2DFormat.NHWC ? nchw.permute(0, 2, 3, 1).dup('c') : nchw;
        INDArray y = Nd4j.zeros(DataType.FLOAT, s[0], 2);
        y.getColumn(0).assign(1);
        labels = new INDArray[] {y};
    }

    /** input → {@code layer} → average pooling → softmax, in {@code format}, seed 12 (same parameters for both formats). */
    static ComputationGraph network(String layer, CNN2DFormat format, int c, int h, int w) {
        OneDnnHelpers.enableUnlessConfigured();
        Layer l = switch (layer) {
            case "conv1x1" -> new ConvolutionLayer.Builder(1, 1).nIn(c).nOut(c / 4).hasBias(false)
                    .convolutionMode(ConvolutionMode.Same).dataFormat(format).build();
            case "depthwise3x3" -> new DepthwiseConvolution2D.Builder(3, 3).nIn(c).nOut(c).depthMultiplier(1)
                    .hasBias(false).convolutionMode(ConvolutionMode.Same).dataFormat(format).build();
            case "batchnorm" -> new BatchNormalization.Builder().nIn(c).nOut(c).dataFormat(format).build();
            default -> throw new IllegalArgumentException("layer must be conv1x1, depthwise3x3 or batchnorm, got "
                    + layer);
        };
        return BatchNormTestSupport.layerClassifier("layer", l, InputType.convolutional(h, w, c, format), 2,
                WorkspaceMode.ENABLED, 12, 0.01);
    }

    @Benchmark
    public INDArray inference() {
        return net.output(false, input)[0];
    }

    @Benchmark
    public double fit() {
        net.fit(new INDArray[] {input}, labels);
        return net.score();
    }
}
