package io.efficientnet.core.onednn;

import io.efficientnet.core.EfficientNet;
import io.efficientnet.core.model.Variant;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

import static io.efficientnet.core.inference.BatchNormTestSupport.relativeError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every primitive of B0 and B3 plans (inference and training, batch 1 and 8; B0 frozen for transfer learning) runs a
 * jit kernel, never one of oneDNN's reference loops, on whatever CPU runs the test, in the default blocked layout and with activations forced
 * to channels-last (the layout AVX-512 convolutions pick by themselves, so that an AVX2 machine exercises it too).
 */
@Tag("numeric")
class NoReferenceKernelsTest {

    private static ComputationGraph network(Variant v) {
        return EfficientNet.builder().variant(v).numClasses(10).seed(5).build().init();
    }

    private static void assertNoReference(List<String> implementations, String what) {
        assertFalse(implementations.isEmpty(), what);
        List<String> reference = OneDnnInference.referenceKernels(implementations);
        assertTrue(reference.isEmpty(), what + " (oneDNN ISA " + ActivationLayout.isaName() + "): reference kernels "
                + reference);
    }

    @ParameterizedTest
    @EnumSource(ActivationLayout.class)
    void inferencePlansRunOnlyJitKernels(ActivationLayout layout) {
        for (Variant v : List.of(Variant.B0, Variant.B3)) {
            ComputationGraph net = network(v);
            int res = v.scaling().resolution();
            try (OneDnnInference engine = OneDnnInference.of(net, layout)) {
                for (int batch : new int[] {1, 8}) {
                    assertNoReference(engine.implementations(batch, 3, res, res),
                            v + " inference, batch " + batch + ", " + layout);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(ActivationLayout.class)
    void trainingPlansRunOnlyJitKernels(ActivationLayout layout) {
        for (Variant v : List.of(Variant.B0, Variant.B3)) {
            ComputationGraph net = network(v);
            int res = v.scaling().resolution();
            try (OneDnnTraining training = OneDnnTraining.of(net, layout)) {
                for (int batch : new int[] {1, 8}) {
                    assertNoReference(training.implementations(batch, 3, res, res),
                            v + " training, batch " + batch + ", " + layout);
                }
            }
        }
    }

    /** Transfer learning's plans: frozen batch norms with running statistics, forward-only and boundary ops. */
    @ParameterizedTest
    @EnumSource(ActivationLayout.class)
    void frozenTrainingPlansRunOnlyJitKernels(ActivationLayout layout) {
        for (String frozenUpTo : List.of("top_activation", "block5c_add")) {
            ComputationGraph net = new TransferLearning.GraphBuilder(network(Variant.B0))
                    .setFeatureExtractor(frozenUpTo).build();
            try (OneDnnTraining training = OneDnnTraining.of(net, layout)) {
                assertNoReference(training.implementations(8, 3, 224, 224),
                        "B0 frozen up to " + frozenUpTo + ", batch 8, " + layout);
            }
        }
    }

    /** In the lower-ISA test pass, oneDNN and the Vector API really run the instruction set that pass asks for. */
    @Test
    void runsTheInstructionSetTheTestPassAsksFor() {
        String expected = System.getProperty("efficientnet.test.expectedOneDnnIsa");
        assumeTrue(expected != null, "only in the lower-ISA test pass");
        assertEquals(expected, OneDnnInference.isa());
        assertEquals(128, jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize());
    }

    /**
     * The channels-last plan computes what the blocked one does: the same float32 products summed in other orders,
     * so the outputs agree to a few float32 roundings per layer (1e-4 relative, the bound the engine meets against
     * DL4J's own layers).
     */
    @Test
    void channelsLastComputesWhatBlockedComputes() {
        ComputationGraph net = EfficientNet.builder().variant(Variant.B0).resolution(64).numClasses(10).seed(5)
                .build().init();
        Nd4j.getRandom().setSeed(11);
        INDArray x = Nd4j.randn(DataType.FLOAT, 2, 3, 64, 64);
        try (OneDnnInference blocked = OneDnnInference.of(net, ActivationLayout.BLOCKED);
             OneDnnInference channelsLast = OneDnnInference.of(net, ActivationLayout.CHANNELS_LAST)) {
            INDArray a = blocked.output(x);
            INDArray b = channelsLast.output(x);
            assertTrue(relativeError(b, a) < 1e-4, "relative error " + relativeError(b, a));
        }
    }
}
