package io.efficientnet.core.weights;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.*;

class ImageNetPreprocessingTest {

    @Test
    void normalizerIsImageNetMeanStdOnRgbNchw() {
        INDArray x = Nd4j.zeros(1, 3, 2, 2);
        x.get(org.nd4j.linalg.indexing.NDArrayIndex.point(0), org.nd4j.linalg.indexing.NDArrayIndex.point(0))
                .assign(255);
        ImageNetPreprocessing.normalizer().transform(x);
        assertEquals((1 - 0.485) / 0.229, x.getDouble(0, 0, 1, 1), 1e-4); // red at 255
        assertEquals(-0.456 / 0.224, x.getDouble(0, 1, 0, 0), 1e-4);      // green at 0
        assertEquals(-0.406 / 0.225, x.getDouble(0, 2, 1, 0), 1e-4);      // blue at 0
    }

    @Test
    void dataVecBgrIsConvertedToRgb() {
        INDArray bgr = Nd4j.zeros(2, 3, 4, 4);
        bgr.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.point(0))
                .assign(10);  // blue
        bgr.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.point(2))
                .assign(200); // red
        INDArray rgb = ImageNetPreprocessing.bgrToRgb(bgr.dup());
        assertEquals(200, rgb.getDouble(1, 0, 3, 3));
        assertEquals(10, rgb.getDouble(1, 2, 3, 3));
        INDArray n = ImageNetPreprocessing.fromDataVecBgr(bgr.dup());
        assertEquals((200 / 255.0 - 0.485) / 0.229, n.getDouble(0, 0, 0, 0), 1e-4);
        assertThrows(IllegalArgumentException.class, () -> ImageNetPreprocessing.bgrToRgb(Nd4j.zeros(1, 4, 2, 2)));
    }
}
