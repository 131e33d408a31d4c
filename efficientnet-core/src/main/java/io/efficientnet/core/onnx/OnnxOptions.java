package io.efficientnet.core.onnx;

import org.nd4j.linalg.dataset.api.preprocessor.NormalizerStandardize;

/**
 * How a network is exported to ONNX.
 *
 * @param opset         the ONNX operator set (13 to 21); every op used exists unchanged from 13 on
 * @param preprocessing the input normaliser to put in front of the network, so that the graph takes raw RGB pixels
 *                      0..255 (NCHW) as {@code predict} does; null: the graph takes what the DL4J network takes
 * @param producer      the producer recorded in the file
 */
public record OnnxOptions(int opset, NormalizerStandardize preprocessing, String producer) {

    /** Lowest supported operator set (Softmax, Clip and reductions as of ONNX 1.8). */
    public static final int MIN_OPSET = 13;
    /** Highest operator set this exporter writes (ONNX 1.16). */
    public static final int MAX_OPSET = 21;

    public OnnxOptions {
        if (opset < MIN_OPSET || opset > MAX_OPSET) {
            throw new IllegalArgumentException("ONNX opset must be between " + MIN_OPSET + " and " + MAX_OPSET
                    + ", got " + opset);
        }
        if (producer == null || producer.isBlank()) {
            throw new IllegalArgumentException("producer must be named");
        }
    }

    /** Opset 13, no preprocessing. */
    public static OnnxOptions defaults() {
        return new OnnxOptions(MIN_OPSET, null, "efficientnet-dl4j");
    }

    /** These options with operator set {@code opset}. */
    public OnnxOptions withOpset(int opset) {
        return new OnnxOptions(opset, preprocessing, producer);
    }

    /** These options with {@code normalizer} in front of the network (null: none). */
    public OnnxOptions withPreprocessing(NormalizerStandardize normalizer) {
        return new OnnxOptions(opset, normalizer, producer);
    }
}
