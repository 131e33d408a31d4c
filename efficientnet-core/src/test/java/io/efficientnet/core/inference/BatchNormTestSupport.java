package io.efficientnet.core.inference;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.ops.transforms.Transforms;

/** Helpers for tests of batch-norm folding (also used by efficientnet-train's tests through the test jar). */
public final class BatchNormTestSupport {

    private BatchNormTestSupport() {
    }

    /**
     * The smallest trainable float32 graph around one batch norm: {@code in → bn → global average pooling → softmax
     * classifier}, plain SGD, the given workspace mode for training and inference.
     */
    public static ComputationGraph batchNormClassifier(BatchNormalization bn, InputType input, int classes,
            WorkspaceMode workspaceMode, long seed, double learningRate) {
        return layerClassifier("bn", bn, input, classes, workspaceMode, seed, learningRate);
    }

    /**
     * The smallest trainable float32 graph around one layer: {@code in → name → global average pooling → softmax
     * classifier}, plain SGD, the given workspace mode for training and inference.
     */
    public static ComputationGraph layerClassifier(String name, org.deeplearning4j.nn.conf.layers.Layer layer,
            InputType input, int classes, WorkspaceMode workspaceMode, long seed, double learningRate) {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(seed)
                .updater(new Sgd(learningRate)).dataType(DataType.FLOAT).trainingWorkspaceMode(workspaceMode)
                .inferenceWorkspaceMode(workspaceMode).graphBuilder().addInputs("in").setInputTypes(input)
                .addLayer(name, layer, "in")
                .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), name)
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(classes)
                        .activation(Activation.SOFTMAX).build(), "pool")
                .setOutputs("out").build();
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        return net;
    }

    /** Gives every batch norm non-trivial statistics: γ∈[0.5,1.5), β, mean ~ N(0, 0.3²), var ∈ [0.2, 2.2). */
    public static void randomizeBatchNorms(ComputationGraph net, long seed) {
        Nd4j.getRandom().setSeed(seed);
        for (Layer l : net.getLayers()) {
            if (!(l.conf().getLayer() instanceof BatchNormalization)) {
                continue;
            }
            INDArray gamma = l.getParam("gamma");
            l.setParam("gamma", Nd4j.rand(gamma.dataType(), gamma.shape()).addi(0.5));
            l.setParam("beta", Nd4j.randn(gamma.dataType(), gamma.shape()).muli(0.3));
            l.setParam("mean", Nd4j.randn(gamma.dataType(), gamma.shape()).muli(0.3));
            INDArray var = Nd4j.rand(gamma.dataType(), gamma.shape()).muli(2).addi(0.2);
            // log10stdev = log10(sqrt(var)) = log10(var) / 2
            l.setParam("log10stdev", Transforms.log(var, 10.0, true).muli(0.5));
        }
    }

    /** max |actual − expected| / max |expected|. */
    public static double relativeError(INDArray actual, INDArray expected) {
        double scale = Math.max(expected.amaxNumber().doubleValue(), 1e-12);
        return actual.sub(expected).amaxNumber().doubleValue() / scale;
    }

    /** Number of batch-norm layers in {@code net}. */
    public static int batchNormCount(ComputationGraph net) {
        int n = 0;
        for (Layer l : net.getLayers()) {
            if (l.conf().getLayer() instanceof BatchNormalization) {
                n++;
            }
        }
        return n;
    }
}
