package io.efficientnet.core.model;

import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * Everything about the built graph that is not the architecture itself.
 *
 * @param numClasses         classifier outputs (used when {@code includeTop})
 * @param includeTop         whether to end in global pooling, dropout and the softmax classifier
 * @param pooling            pooling of a headless network
 * @param multiScaleFeatures outputs are the last block outputs at strides 2, 4, 8, 16 and 32 (no head)
 * @param dropoutRate        fraction dropped before the classifier
 * @param dropPathRate       drop-path rate of the last block (block b of N gets rate·b/N)
 * @param padding            convolution padding scheme
 * @param batchNormEpsilon   batch-norm ε
 * @param batchNormMomentum  batch-norm moving-average momentum
 * @param seed               seed for weight initialisation
 * @param updater            updater set on every layer
 * @param weightDecay        L2 coefficient λ on convolution and dense kernels (the loss gains λ/2·‖w‖²; biases and
 *                           batch-norm parameters are not decayed); 0 = none
 * @param workspaceMode      training and inference workspace mode
 * @param cacheMode          cache mode
 * @param dataType           network data type
 * @param fastBatchNorm      batch norms use {@link io.efficientnet.core.layers.FastBatchNormalization} (same results
 *                           as DL4J's {@code BatchNormalization}, faster); false = DL4J's own layer
 * @param fusedSwish         with {@code fastBatchNorm}, each batch norm that is followed by swish computes
 *                           {@code swish(BN(x))} itself, under the activation's name ({@code block1a_activation}
 *                           holds the Keras {@code block1a_bn} weights), instead of a batch-norm layer and an
 *                           activation layer; false = the two layers as in Keras
 * @param fastConvolutions   convolutions use {@link io.efficientnet.core.layers.FastConvolution2D} and
 *                           {@link io.efficientnet.core.layers.FastDepthwiseConvolution2D} (same results as DL4J's
 *                           {@code ConvolutionLayer} / {@code DepthwiseConvolution2D}, faster backward passes); false =
 *                           DL4J's own layers
 */
public record NetworkOptions(int numClasses, boolean includeTop, Pooling pooling, boolean multiScaleFeatures,
                             double dropoutRate, double dropPathRate, Padding padding, double batchNormEpsilon,
                             double batchNormMomentum, long seed, IUpdater updater, double weightDecay,
                             WorkspaceMode workspaceMode,
                             CacheMode cacheMode, DataType dataType, boolean fastBatchNorm,
                             boolean fusedSwish, boolean fastConvolutions) {

    public NetworkOptions {
        if (numClasses < 1) {
            throw new IllegalArgumentException("number of classes must be >= 1, got " + numClasses);
        }
        if (!(dropoutRate >= 0 && dropoutRate < 1)) {
            throw new IllegalArgumentException("dropout rate must be in [0, 1), got " + dropoutRate);
        }
        if (!(dropPathRate >= 0 && dropPathRate < 1)) {
            throw new IllegalArgumentException("drop-path rate must be in [0, 1), got " + dropPathRate);
        }
        if (!(batchNormEpsilon > 0)) {
            throw new IllegalArgumentException("batch-norm epsilon must be > 0, got " + batchNormEpsilon);
        }
        if (!(batchNormMomentum >= 0 && batchNormMomentum < 1)) {
            throw new IllegalArgumentException("batch-norm momentum must be in [0, 1), got " + batchNormMomentum);
        }
        if (!(weightDecay >= 0 && Double.isFinite(weightDecay))) {
            throw new IllegalArgumentException("weight decay must be >= 0, got " + weightDecay);
        }
        if (pooling == null || padding == null || updater == null || workspaceMode == null || cacheMode == null
                || dataType == null) {
            throw new IllegalArgumentException("pooling, padding, updater, workspace mode, cache mode and data type "
                    + "must not be null");
        }
        if (!dataType.isFPType()) {
            throw new IllegalArgumentException("data type must be floating point, got " + dataType);
        }
    }
}
