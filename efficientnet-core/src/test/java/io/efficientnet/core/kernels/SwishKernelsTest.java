package io.efficientnet.core.kernels;

import io.efficientnet.core.layers.StableSwish;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Swish;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Tag("numeric")
class SwishKernelsTest {

    /** The test JVM runs with --add-modules jdk.incubator.vector (parent POM), so the fast path must be on. */
    @Test
    void vectorKernelsAreAvailableInTheTestJvm() {
        assertTrue(SwishKernels.available(), "jdk.incubator.vector missing or the self-check failed");
    }

    @Test
    void expIsAccurateAndItsVectorLanesEqualTheScalarVersionBitForBit() {
        jdk.incubator.vector.VectorSpecies<Float> species = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;
        float[] xs = new float[species.length() * 4000];
        java.util.Random random = new java.util.Random(3);
        for (int i = 0; i < xs.length; i++) {
            xs[i] = i < 8 ? new float[] {-87f, 88f, 0f, -0f, 1e-8f, -1e-8f, 0.34657f, -0.34657f}[i]
                    : (random.nextFloat() - 0.5f) * 175f;
        }
        for (int i = 0; i < xs.length; i += species.length()) {
            float[] lanes = VectorSwish.exp(jdk.incubator.vector.FloatVector.fromArray(species, xs, i)).toArray();
            for (int j = 0; j < lanes.length; j++) {
                float x = xs[i + j];
                float scalar = VectorSwish.exp(x);
                assertEquals(Float.floatToRawIntBits(scalar), Float.floatToRawIntBits(lanes[j]), "exp(" + x + ")");
                if (x >= -87f && x <= 88f) {
                    double exact = Math.exp(x);
                    // the polynomial exp is accurate to ~2.5 ulp of float32 (2⁻²⁴ ≈ 6e-8 each)
                    assertTrue(Math.abs(scalar - exact) <= 3e-7 * exact,
                            "exp(" + x + ") = " + scalar + ", exact " + exact);
                }
            }
        }
        // outside [-87, 88] the argument is clamped: finite, positive, monotone
        assertEquals(VectorSwish.exp(-87f), VectorSwish.exp(-1000f));
        assertTrue(Float.isFinite(VectorSwish.exp(1000f)) && VectorSwish.exp(1000f) >= VectorSwish.exp(88f));
    }

    /** Same value in every position: vector lanes, the scalar tail and every thread's chunk give identical bits. */
    @Test
    void resultsDoNotDependOnWhereAnElementSits() {
        int n = 3 * Parallel.MIN_PER_THREAD + 5;
        for (float v : new float[] {-3.7f, 0.1f, 12.5f}) {
            INDArray y = Nd4j.valueArrayOf(new long[] {n}, v, DataType.FLOAT);
            INDArray g = y.dup();
            INDArray eps = Nd4j.valueArrayOf(new long[] {n}, 0.3f, DataType.FLOAT);
            assertTrue(SwishKernels.forwardInPlace(y));
            assertTrue(SwishKernels.backwardInPlace(g, eps));
            assertEquals(y.getFloat(0), y.maxNumber().floatValue());
            assertEquals(y.getFloat(0), y.minNumber().floatValue());
            assertEquals(g.getFloat(0), g.maxNumber().floatValue());
            assertEquals(g.getFloat(0), g.minNumber().floatValue());
        }
    }

    @Test
    void forwardAndBackwardMatchTheFormulasInDoubleAcrossTheRange() {
        // sizes: tail only, one vector plus tail, and large enough to be split over threads (not a multiple of 8)
        for (int n : new int[] {5, 19, 3 * Parallel.MIN_PER_THREAD + 7}) {
            Nd4j.getRandom().setSeed(n);
            INDArray x = Nd4j.rand(DataType.FLOAT, n).subi(0.5).muli(40);
            x.putScalar(0, -100f);
            x.putScalar(1, 100f);
            x.putScalar(2, 0f);
            x.putScalar(n - 1, 45f);
            INDArray eps = Nd4j.randn(DataType.FLOAT, n);
            INDArray y = x.dup();
            INDArray g = x.dup();
            assertTrue(SwishKernels.forwardInPlace(y));
            assertTrue(SwishKernels.backwardInPlace(g, eps));
            for (int i = 0; i < n; i++) {
                double v = x.getDouble(i);
                double s = 1 / (1 + Math.exp(-v));
                double e = eps.getDouble(i);
                // an exp, a division and a product in float32: 2e-6 is ~32 roundings of max(1, |value|)
                assertEquals(v * s, y.getDouble(i), 2e-6 * Math.max(1, Math.abs(v)), "swish(" + v + "), n=" + n);
                assertEquals(e * s * (1 + v * (1 - s)), g.getDouble(i), 2e-6 * Math.max(1, Math.abs(e)),
                        "swish'(" + v + ")·" + e + ", n=" + n);
            }
        }
    }

    @Test
    void agreesWithNd4jsNativeSwishOnAnActivationShapedArray() {
        Nd4j.getRandom().setSeed(2);
        INDArray x = Nd4j.randn(DataType.FLOAT, 4, 24, 28, 28).muli(3);
        INDArray ours = x.dup();
        SwishKernels.forwardInPlace(ours);
        INDArray nd4j = x.dup();
        Nd4j.getExecutioner().exec(new Swish(nd4j));
        assertEquals(0, nd4j.sub(ours).amaxNumber().doubleValue(), 2e-6);
    }

    @Test
    void viewsWithAnOffsetAndWorkspaceArraysAreAddressedCorrectly() {
        Nd4j.getRandom().setSeed(4);
        INDArray parent = Nd4j.randn(DataType.FLOAT, 3, 4, 5, 6);
        INDArray view = parent.get(NDArrayIndex.point(1), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all());
        assertTrue(view.offset() > 0);
        ByteBuffer b = DirectFloats.of(view);
        assertNotNull(b);
        assertEquals(view.length() * 4, b.capacity());
        assertEquals(view.getFloat(0), b.getFloat(0));
        assertEquals(view.getFloat(view.length() - 1), b.getFloat(4 * ((int) view.length() - 1)));

        INDArray before = parent.dup();
        INDArray expected = view.dup();
        Nd4j.getExecutioner().exec(new Swish(expected));
        assertTrue(SwishKernels.forwardInPlace(view));
        assertEquals(0, expected.sub(view).amaxNumber().doubleValue(), 2e-6);
        // the rest of the parent is untouched
        for (int i : new int[] {0, 2}) {
            assertEquals(before.slice(i), parent.slice(i));
        }

        WorkspaceConfiguration conf = WorkspaceConfiguration.builder().initialSize(10L << 20).build();
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(conf, "SwishKernelsTest")) {
            INDArray a = Nd4j.createUninitialized(DataType.FLOAT, 2, 8, 9, 9).assign(1.5);
            INDArray second = Nd4j.randn(DataType.FLOAT, 2, 8, 9, 9);
            INDArray ref = second.detach();
            Nd4j.getExecutioner().exec(new Swish(ref));
            assertTrue(SwishKernels.forwardInPlace(second));
            assertEquals(0, ref.sub(second.detach()).amaxNumber().doubleValue(), 2e-6);
            assertEquals(1.5, a.maxNumber().doubleValue(), 0, "neighbouring workspace array changed");
        }
    }

    @Test
    void stridedDoubleOrMismatchedArraysAreLeftToNd4j() {
        Nd4j.getRandom().setSeed(6);
        INDArray strided = Nd4j.randn(DataType.FLOAT, 6, 8).get(NDArrayIndex.all(), NDArrayIndex.interval(0, 2, 8));
        assertNull(DirectFloats.of(strided));
        INDArray copy = strided.dup();
        assertFalse(SwishKernels.forwardInPlace(strided));
        assertEquals(copy, strided);
        assertFalse(SwishKernels.forwardInPlace(Nd4j.randn(DataType.DOUBLE, 10)));
        assertFalse(SwishKernels.backwardInPlace(Nd4j.randn(DataType.FLOAT, 4, 5),
                Nd4j.randn(DataType.FLOAT, 4, 5).dup('f')));

        // StableSwish falls back to ND4J for them and gives the same values
        INDArray viaFallback = new StableSwish().getActivation(strided.dup(), true);
        INDArray dense = strided.dup('c');
        INDArray viaKernel = new StableSwish().getActivation(dense, true);
        assertEquals(0, viaFallback.sub(viaKernel).amaxNumber().doubleValue(), 2e-6);
        INDArray eps = Nd4j.randn(DataType.FLOAT, strided.shape());
        INDArray gFallback = new StableSwish().backprop(strided.dup(), eps.dup('f')).getFirst();
        INDArray gKernel = new StableSwish().backprop(strided.dup('c'), eps).getFirst();
        assertEquals(0, gFallback.sub(gKernel).amaxNumber().doubleValue(), 2e-6);
    }
}
