package io.efficientnet.core.weights;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** A weight file's dataset claiming an absurd shape is refused before anything is allocated for it. */
class KerasWeightLimitsTest {

    @Test
    void shapesBeyondAnyEfficientNetWeightAreRefusedNamingTheDataset() throws IOException {
        Path file = Path.of("weights.h5");
        KerasWeightFile.requirePlausibleSize(new long[] {3, 3, 640, 3840}, "top_conv/kernel:0", file);
        KerasWeightFile.requirePlausibleSize(new long[] {}, "scalar", file);
        for (long[] shape : new long[][] {{1L << 20, 1L << 20}, {Long.MAX_VALUE}, {-1, 3}, {1L << 29},
                {1 << 15, 1 << 15, 1 << 15}}) {
            IOException e = assertThrows(IOException.class,
                    () -> KerasWeightFile.requirePlausibleSize(shape, "stem_conv/kernel:0", file));
            assertTrue(e.getMessage().startsWith("'stem_conv/kernel:0' in weights.h5 claims shape "), e.getMessage());
            assertTrue(e.getMessage().endsWith("; not read"), e.getMessage());
        }
    }
}
