package io.efficientnet.core;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.*;

/** DL4J's oneDNN convolution helpers are really used (the Nd4jCpu shim) and give the same outputs. */
class OneDnnHelpersTest {

    @Test
    void initEnablesTheOneDnnConvolutionHelperAndOutputsMatchDl4jsOwnCode() {
        String before = System.getProperty(OneDnnHelpers.PROPERTY);
        try {
            EfficientNet e = EfficientNet.builder().phi(-3).resolution(64).numClasses(5).build();
            System.clearProperty(OneDnnHelpers.PROPERTY);
            ComputationGraph fast = e.init();
            assertTrue(OneDnnHelpers.enabled());
            assertNotNull(((ConvolutionLayer) fast.getLayer("stem_conv")).getHelper(),
                    "the oneDNN helper must be attached (DL4J M2.1 drops it without the Nd4jCpu shim)");

            System.setProperty(OneDnnHelpers.PROPERTY, "true"); // explicit: DL4J's own im2col code
            ComputationGraph plain = e.init();
            assertFalse(OneDnnHelpers.enabled());
            assertNull(((ConvolutionLayer) plain.getLayer("stem_conv")).getHelper());
            plain.setParams(fast.params().dup());

            Nd4j.getRandom().setSeed(3);
            INDArray x = Nd4j.randn(org.nd4j.linalg.api.buffer.DataType.FLOAT, 2, 3, 64, 64);
            INDArray a = fast.outputSingle(false, x);
            INDArray b = plain.outputSingle(false, x);
            assertTrue(a.equalsWithEps(b, 1e-5), "outputs with and without the helpers: " + a + " vs " + b);
        } finally {
            if (before == null) {
                System.clearProperty(OneDnnHelpers.PROPERTY);
            } else {
                System.setProperty(OneDnnHelpers.PROPERTY, before);
            }
        }
    }
}
