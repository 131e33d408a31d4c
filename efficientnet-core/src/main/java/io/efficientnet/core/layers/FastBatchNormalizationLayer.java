package io.efficientnet.core.layers;

import io.efficientnet.core.kernels.BatchNormKernels;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Runtime of {@link FastBatchNormalization}: DL4J's batch normalization for NCHW feature maps, computed on the
 * {@code [N·C, H·W]} matrix view of the input. Per-row sums are matrix–vector products with a ones vector (BLAS), the
 * N rows of a channel are folded in double precision, and normalisation is in-place column-vector arithmetic on
 * workspace arrays. Only the per-channel statistics are kept between the forward and backward passes (DL4J keeps two
 * detached copies of the input). The running mean and variance are updated exactly as DL4J does it: through the
 * "gradients" of the {@code mean} and {@code log10stdev} (or {@code var}) parameters, which the no-op updater
 * subtracts. Other shapes and formats (rank 2, NHWC) and locked γ/β are left to DL4J's implementation. Dense float32
 * arrays go through {@link BatchNormKernels} (a few vectorised passes; with a fused swish, swish and its derivative
 * are applied inside those passes); other arrays through ND4J operations, with {@link StableSwish} applied after the
 * normalisation and its derivative, at the recomputed normalised input, before the batch-norm backward pass.
 */
public class FastBatchNormalizationLayer extends BatchNormalization {

    private static final StableSwish SWISH = new StableSwish();

    /** {@code [H·W, 1]} ones, outside any workspace, reused while H·W and the data type stay the same. */
    private INDArray ones;
    /** The input whose batch statistics are in {@link #batchMean} / {@link #batchVar}. */
    private INDArray statsInput;
    private double[] batchMean;
    private double[] batchVar;

    /** Creates the layer (use {@link FastBatchNormalization#instantiate}). */
    public FastBatchNormalizationLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    @Override
    public INDArray preOutput(INDArray x, TrainingMode training, LayerWorkspaceMgr workspaceMgr) {
        boolean swish = fusedSwish();
        if (!handles(x)) {
            INDArray out = super.preOutput(x, training, workspaceMgr);
            return swish ? SWISH.getActivation(out, training == TrainingMode.TRAIN) : out;
        }
        INDArray in = contiguous(x.castTo(dataType), workspaceMgr, ArrayType.FF_WORKING_MEM);
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, dataType, in.shape(), 'c');
        if (BatchNormKernels.accepts(in, out)) {
            return kernelForward(x, in, out, training, swish);
        }
        normalize(x, in, out, training, workspaceMgr, ArrayType.FF_WORKING_MEM);
        return swish ? SWISH.getActivation(out, training == TrainingMode.TRAIN) : out;
    }

    /** The batch norm's output (without swish) into {@code out} with ND4J operations. */
    private void normalize(INDArray x, INDArray in, INDArray out, TrainingMode training,
            LayerWorkspaceMgr workspaceMgr, ArrayType work) {
        long n = in.size(0);
        long c = in.size(1);
        long hw = in.size(2) * in.size(3);
        INDArray out2 = out.reshape('c', n * c, hw);
        INDArray x2 = in.reshape('c', n * c, hw);
        double[] mean;
        double[] var;
        double[] shift = new double[(int) c];
        if (training == TrainingMode.TRAIN) {
            double[] delta = moments(x2, out2, n, c, workspaceMgr, work);
            mean = batchMean;
            var = batchVar;
            statsInput = x;
            // out2 holds x - (mean - delta): normalise (x - mean) = out2 - delta through the shift
            shift = delta;
        } else {
            mean = vector(BatchNormalizationParamInitializer.GLOBAL_MEAN);
            var = runningVariance();
            out2.assign(x2);
            out2.subiColumnVector(column(mean, n, workspaceMgr, work));
        }
        double[] beta = vector(BatchNormalizationParamInitializer.BETA);
        double[] scale = scale(var);
        for (int j = 0; j < c; j++) {
            shift[j] = beta[j] - shift[j] * scale[j];
        }
        out2.muliColumnVector(column(scale, n, workspaceMgr, work));
        out2.addiColumnVector(column(shift, n, workspaceMgr, work));
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(true);
        boolean swish = fusedSwish();
        if (!handles(input)) {
            if (swish) {
                INDArray z = workspaceMgr.dup(ArrayType.BP_WORKING_MEM,
                        super.preOutput(input, TrainingMode.TRAIN, workspaceMgr));
                epsilon = SWISH.backprop(z, epsilon).getFirst();
            }
            return super.backpropGradient(epsilon, workspaceMgr);
        }
        INDArray in = contiguous(input.castTo(dataType), workspaceMgr, ArrayType.BP_WORKING_MEM);
        INDArray dy = contiguous(epsilon.castTo(dataType), workspaceMgr, ArrayType.BP_WORKING_MEM);
        long n = in.size(0);
        int c = (int) in.size(1);
        long hw = in.size(2) * in.size(3);
        double m = (double) n * hw;
        INDArray dx = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, dataType, in.shape(), 'c');
        if (BatchNormKernels.accepts(in, dy, dx)) {
            return kernelBackward(in, dy, dx, swish);
        }
        if (swish) {
            // dL/dz at z = BN(x), recomputed from the input (the forward pass kept only the statistics)
            INDArray z = workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, dataType, in.shape(), 'c');
            normalize(input, in, z, TrainingMode.TRAIN, workspaceMgr, ArrayType.BP_WORKING_MEM);
            dy = SWISH.backprop(z, dy).getFirst();
        }
        INDArray x2 = in.reshape('c', n * c, hw);
        INDArray dy2 = dy.reshape('c', n * c, hw);
        INDArray dx2 = dx.reshape('c', n * c, hw);
        if (statsInput != input) {
            moments(x2, dx2, n, c, workspaceMgr, ArrayType.BP_WORKING_MEM);
        }
        statsInput = null;

        // dx2 = x̂ = (x - mean)·invstd (normalised first, as DL4J does, so that huge activations cannot overflow
        // the products below); per-channel sums of dy and dy·x̂
        double[] invStd = batchInvStd();
        dx2.assign(x2);
        dx2.subiColumnVector(column(batchMean, n, workspaceMgr, ArrayType.BP_WORKING_MEM));
        dx2.muliColumnVector(column(invStd, n, workspaceMgr, ArrayType.BP_WORKING_MEM));
        double[] sumDy = foldChannels(rowSums(dy2, workspaceMgr, ArrayType.BP_WORKING_MEM), n, c);
        INDArray product = workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, dataType, dx2.shape(), 'c');
        Nd4j.getExecutioner().exec(new MulOp(dx2, dy2, product));
        double[] dGamma = foldChannels(rowSums(product, workspaceMgr, ArrayType.BP_WORKING_MEM), n, c);

        // dx = γ·invstd·(dy − mean(dy) − x̂·mean(dy·x̂))
        double[] gamma = vector(BatchNormalizationParamInitializer.GAMMA);
        double[] r = new double[c];
        double[] s = new double[c];
        double[] k = new double[c];
        for (int j = 0; j < c; j++) {
            r[j] = -dGamma[j] / m;
            s[j] = -sumDy[j] / m;
            k[j] = gamma[j] * invStd[j];
        }
        dx2.muliColumnVector(column(r, n, workspaceMgr, ArrayType.BP_WORKING_MEM));
        dx2.addi(dy2);
        dx2.addiColumnVector(column(s, n, workspaceMgr, ArrayType.BP_WORKING_MEM));
        dx2.muliColumnVector(column(k, n, workspaceMgr, ArrayType.BP_WORKING_MEM));

        return gradients(dGamma, sumDy, dx);
    }

    /** {@link #preOutput} with the vectorised passes: statistics (training) in two reads, output in one pass. */
    private INDArray kernelForward(INDArray x, INDArray in, INDArray out, TrainingMode training, boolean swish) {
        double[] mean;
        double[] var;
        if (training == TrainingMode.TRAIN) {
            kernelMoments(in);
            statsInput = x;
            mean = batchMean;
            var = batchVar;
        } else {
            mean = vector(BatchNormalizationParamInitializer.GLOBAL_MEAN);
            var = runningVariance();
        }
        BatchNormKernels.normalize(in, out, floats(mean), floats(scale(var)),
                floats(vector(BatchNormalizationParamInitializer.BETA)), swish);
        return out;
    }

    /**
     * {@link #backpropGradient} with the vectorised passes: per-channel sums in one read (which with swish also writes
     * {@code dL/dz} into {@code dx}), dx in a second pass.
     */
    private Pair<Gradient, INDArray> kernelBackward(INDArray in, INDArray dy, INDArray dx, boolean swish) {
        if (statsInput != input) {
            kernelMoments(in);
        }
        statsInput = null;
        long n = in.size(0);
        int c = (int) in.size(1);
        double m = (double) n * in.size(2) * in.size(3);
        double[] invStd = batchInvStd();
        double[] gamma = vector(BatchNormalizationParamInitializer.GAMMA);
        double[] scale = new double[c];
        for (int j = 0; j < c; j++) {
            scale[j] = gamma[j] * invStd[j];
        }
        float[] meanF = floats(batchMean);
        float[] scaleF = floats(scale);
        float[] betaF = floats(vector(BatchNormalizationParamInitializer.BETA));
        double[] rowG = new double[(int) n * c];
        double[] rowGx = new double[(int) n * c];
        BatchNormKernels.backwardSums(in, dy, swish ? dx : null, meanF, scaleF, betaF, swish, rowG, rowGx);
        double[] sumDy = foldChannels(rowG, n, c);
        double[] sumDyXm = foldChannels(rowGx, n, c);
        // dx = γ·invstd·(dy − mean(dy) − x̂·mean(dy·x̂)) with x̂ = (x − mean)·invstd, as a·dy + b·(x − mean) + k
        double[] dGamma = new double[c];
        float[] a = new float[c];
        float[] b = new float[c];
        float[] k = new float[c];
        for (int j = 0; j < c; j++) {
            dGamma[j] = sumDyXm[j] * invStd[j];
            a[j] = (float) scale[j];
            b[j] = (float) (-scale[j] * invStd[j] * dGamma[j] / m);
            k[j] = (float) (-scale[j] * sumDy[j] / m);
        }
        BatchNormKernels.backwardInput(in, swish ? dx : dy, dx, meanF, a, b, k);
        return gradients(dGamma, sumDy, dx);
    }

    /** Batch mean and biased variance into {@link #batchMean} / {@link #batchVar}, shifted two-pass as {@link #moments}. */
    private void kernelMoments(INDArray in) {
        long n = in.size(0);
        int c = (int) in.size(1);
        double[] mean0 = foldChannels(BatchNormKernels.rowSums(in), n, c);
        double m = (double) n * in.size(2) * in.size(3);
        float[] centre = new float[c];
        for (int j = 0; j < c; j++) {
            centre[j] = (float) (mean0[j] / m);
        }
        double[] rowSums = new double[(int) n * c];
        double[] rowSquares = new double[(int) n * c];
        BatchNormKernels.centredRowMoments(in, centre, rowSums, rowSquares);
        double[] centreD = new double[c];
        for (int j = 0; j < c; j++) {
            centreD[j] = centre[j];
        }
        double[] sums = foldChannels(rowSums, n, c);
        double[] squares = foldChannels(rowSquares, n, c);
        storeMoments(centreD, sums, squares, m);
    }

    private static float[] floats(double[] values) {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return f;
    }

    /** γ and β gradients, the running-statistic updates, and the input gradient. */
    private Pair<Gradient, INDArray> gradients(double[] dGamma, double[] dBeta, INDArray dx) {
        Gradient g = new DefaultGradient();
        g.setGradientFor(BatchNormalizationParamInitializer.GAMMA,
                write(gradientViews.get(BatchNormalizationParamInitializer.GAMMA), dGamma));
        g.setGradientFor(BatchNormalizationParamInitializer.BETA,
                write(gradientViews.get(BatchNormalizationParamInitializer.BETA), dBeta));
        runningStatisticUpdates(g);
        return new Pair<>(g, dx);
    }

    /** {@code 1 / sqrt(var + ε)} of the batch variance. */
    private double[] batchInvStd() {
        double[] invStd = new double[batchVar.length];
        for (int j = 0; j < invStd.length; j++) {
            invStd[j] = 1.0 / Math.sqrt(batchVar[j] + layerConf().getEps());
        }
        return invStd;
    }

    /** {@code γ / sqrt(var + ε)}: the per-channel factor of the normalised output. */
    private double[] scale(double[] var) {
        double[] gamma = vector(BatchNormalizationParamInitializer.GAMMA);
        double[] scale = new double[gamma.length];
        for (int j = 0; j < scale.length; j++) {
            scale[j] = gamma[j] / Math.sqrt(var[j] + layerConf().getEps());
        }
        return scale;
    }

    /** Whether the configuration asks for {@code swish(BN(x))}. */
    private boolean fusedSwish() {
        return layerConf() instanceof FastBatchNormalization f && f.isSwish();
    }

    /** Whether this implementation takes the input (else DL4J's does). */
    private boolean handles(INDArray x) {
        return x != null && x.rank() == 4 && layerConf().getCnn2DFormat() == CNN2DFormat.NCHW
                && !layerConf().isLockGammaBeta() && x.size(1) == layerConf().getNOut();
    }

    private static INDArray contiguous(INDArray x, LayerWorkspaceMgr workspaceMgr, ArrayType type) {
        if (x.ordering() == 'c' && Shape.hasDefaultStridesForShape(x)) {
            return x;
        }
        return workspaceMgr.dup(type, x, 'c');
    }

    /**
     * Batch mean and biased variance per channel into {@link #batchMean} / {@link #batchVar} (shifted two-pass:
     * centre on the first-pass mean, then correct both by the mean of the centred values). Leaves
     * {@code x - (mean - delta)} in {@code centred} and returns delta.
     */
    private double[] moments(INDArray x2, INDArray centred, long n, long c, LayerWorkspaceMgr workspaceMgr,
            ArrayType type) {
        double[] mean0 = foldChannels(rowSums(x2, workspaceMgr, type), n, (int) c);
        double m = (double) n * x2.size(1);
        for (int j = 0; j < c; j++) {
            mean0[j] /= m;
        }
        centred.assign(x2);
        centred.subiColumnVector(column(mean0, n, workspaceMgr, type));
        double[] delta = foldChannels(rowSums(centred, workspaceMgr, type), n, (int) c);
        INDArray squares = workspaceMgr.createUninitialized(type, dataType, centred.shape(), 'c');
        Nd4j.getExecutioner().exec(new MulOp(centred, centred, squares));
        double[] sumSq = foldChannels(rowSums(squares, workspaceMgr, type), n, (int) c);
        storeMoments(mean0, delta, sumSq, m);
        return delta;
    }

    /**
     * From the centre of the second pass, the per-channel sums of centred values ({@code delta}, turned into their
     * mean here) and of their squares: {@link #batchMean} and the biased {@link #batchVar}.
     */
    private void storeMoments(double[] centre, double[] delta, double[] sumSq, double m) {
        batchMean = new double[centre.length];
        batchVar = new double[centre.length];
        for (int j = 0; j < centre.length; j++) {
            delta[j] /= m;
            batchMean[j] = centre[j] + delta[j];
            batchVar[j] = Math.max(sumSq[j] / m - delta[j] * delta[j], 0.0);
        }
    }

    /** Row sums of a C-order matrix as one matrix–vector product with a ones vector. */
    private double[] rowSums(INDArray matrix, LayerWorkspaceMgr workspaceMgr, ArrayType type) {
        long cols = matrix.size(1);
        if (ones == null || ones.size(0) != cols || ones.dataType() != dataType) {
            try (var ignored = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                ones = Nd4j.ones(dataType, cols, 1);
            }
        }
        INDArray sums = workspaceMgr.createUninitialized(type, dataType, new long[] {matrix.size(0), 1}, 'c');
        Nd4j.gemm(matrix, ones, sums, false, false, 1.0, 0.0);
        return ChannelVectors.read(sums);
    }

    /** Adds up the N rows {@code [n·c + j]} of each channel j. */
    private static double[] foldChannels(double[] rows, long n, int c) {
        double[] out = new double[c];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < c; j++) {
                out[j] += rows[i * c + j];
            }
        }
        return out;
    }

    /** A per-channel vector repeated for every example: the {@code [N·C, 1]} column that matches the matrix view. */
    private INDArray column(double[] perChannel, long n, LayerWorkspaceMgr workspaceMgr, ArrayType type) {
        INDArray col = workspaceMgr.createUninitialized(type, dataType, new long[] {n * perChannel.length, 1}, 'c');
        return ChannelVectors.writeTiled(col, perChannel, n);
    }

    private double[] vector(String param) {
        return ChannelVectors.read(getParam(param));
    }

    /** The running variance from {@code log10stdev} ({@code (10^s)²}) or from {@code var}. */
    private double[] runningVariance() {
        boolean logStd = layerConf().isUseLogStd();
        return RunningStatistics.variance(logStd, vector(RunningStatistics.varianceKey(logStd)));
    }

    /** DL4J's running-statistic update as the gradients its no-op updater subtracts ({@link RunningStatistics}). */
    private void runningStatisticUpdates(Gradient g) {
        double d = layerConf().getDecay();
        boolean logStd = layerConf().isUseLogStd();
        double[] dMean = RunningStatistics.meanGradient(d, vector(BatchNormalizationParamInitializer.GLOBAL_MEAN),
                batchMean);
        g.setGradientFor(BatchNormalizationParamInitializer.GLOBAL_MEAN,
                write(gradientViews.get(BatchNormalizationParamInitializer.GLOBAL_MEAN), dMean));
        double[] dVar = RunningStatistics.varianceGradient(d, logStd, runningVariance(), batchVar);
        String key = RunningStatistics.varianceKey(logStd);
        g.setGradientFor(key, write(gradientViews.get(key), dVar));
    }

    private static INDArray write(INDArray view, double[] values) {
        return ChannelVectors.write(view, values);
    }
}
