package io.efficientnet.core;

import io.efficientnet.core.model.Architecture;
import io.efficientnet.core.model.BlockConfig;
import io.efficientnet.core.model.GraphAssembler;
import io.efficientnet.core.model.ModelSummary;
import io.efficientnet.core.model.Scaling;
import io.efficientnet.core.model.Variant;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Parameter counts and MACs of B0–B7 against the published/Keras numbers, from the block list and the graph. */
class ArchitectureCountsTest {

    @ParameterizedTest(name = "{0}: {1} params, {2} GMACs")
    @CsvSource({
            "B0, 5288548, 0.386",
            "B1, 7794184, 0.687",
            "B2, 9109994, 0.994",
            "B3, 12233232, 1.827",
            "B4, 19341616, 4.394",
            "B5, 30389784, 10.266",
            "B6, 43040704, 19.068",
            "B7, 66347960, 37.746"})
    void parameterCountsAndMacsMatchReference(Variant variant, long trainable, double gmacs) {
        EfficientNet model = EfficientNet.builder().variant(variant).build();
        ModelSummary summary = model.summary();
        assertEquals(trainable, summary.trainableParams(), "trainable params of " + variant + " from the block list");
        assertEquals(gmacs, summary.macs() / 1e9, gmacs * 0.01, "GMACs of " + variant);

        // The built graph configuration must agree with the summary, without allocating weights.
        long[] counts = countParams(model.conf());
        assertEquals(trainable, counts[0], "trainable params of the " + variant + " graph");
        assertEquals(summary.nonTrainableParams(), counts[1], "batch-norm statistics of the " + variant + " graph");
        assertEquals(variant.scaling().resolution(), summary.height());
    }

    /** {trainable, batch-norm statistics} of a graph configuration. */
    static long[] countParams(ComputationGraphConfiguration conf) {
        long total = 0;
        long stats = 0;
        for (var v : conf.getVertices().values()) {
            if (v instanceof LayerVertex lv) {
                Layer layer = lv.getLayerConf().getLayer();
                total += layer.initializer().numParams(layer);
                if (layer instanceof BatchNormalization bn) {
                    stats += 2 * bn.getNOut();
                }
            }
        }
        return new long[] {total - stats, stats};
    }

    @Test
    void b0BlockTableExpandsLikeThePaper() {
        Architecture a = EfficientNet.builder().build().architecture();
        assertEquals(16, a.blockCount());
        assertEquals(32, a.stemFilters());
        assertEquals(1280, a.topFilters());
        assertEquals(List.of("block1a", "block2a", "block2b", "block3a", "block3b", "block4a", "block4b", "block4c",
                        "block5a", "block5b", "block5c", "block6a", "block6b", "block6c", "block6d", "block7a"),
                a.blocks().stream().map(BlockConfig::name).toList());
        BlockConfig b6d = a.blocks().get(14);
        assertEquals(192, b6d.inputFilters());
        assertEquals(1152, b6d.expandedFilters());
        assertEquals(48, b6d.squeezeFilters());
        assertTrue(b6d.hasSkip());
        assertEquals(0.2 * 14 / 16, b6d.dropPathRate(), 1e-12);
        assertFalse(a.blocks().get(0).hasSkip(), "block1a goes 32 -> 16 channels: no skip");
        assertEquals(0.0, a.blocks().get(0).dropPathRate());
    }

    @Test
    void channelAndRepeatRounding() {
        assertEquals(32, Architecture.roundFilters(32, 1.0));
        assertEquals(40, Architecture.roundFilters(32, 1.2)); // 38.4 -> 40
        assertEquals(64, Architecture.roundFilters(32, 2.0));
        assertEquals(8, Architecture.roundFilters(16, 0.1)); // minimum 8
        assertEquals(16, Architecture.roundFilters(40, 0.35)); // 14 -> 16
        assertEquals(104, Architecture.roundFilters(80, 1.3)); // 104
        assertEquals(3, Architecture.roundRepeats(2, 1.1));
        assertEquals(2, Architecture.roundRepeats(1, 1.1));
        assertEquals(13, Architecture.roundRepeats(4, 3.1));
    }

    @Test
    void compoundScalingFollowsThePaper() {
        Scaling s0 = Scaling.compound(0);
        assertEquals(1.0, s0.width(), 1e-12);
        assertEquals(1.0, s0.depth(), 1e-12);
        assertEquals(224, s0.resolution());
        Scaling s1 = Scaling.compound(1);
        assertEquals(1.1, s1.width(), 1e-12);
        assertEquals(1.2, s1.depth(), 1e-12);
        assertEquals(256, s1.resolution()); // 257.6 -> 256
        Scaling sm1 = Scaling.compound(-1);
        assertEquals(1 / 1.1, sm1.width(), 1e-12);
        assertEquals(192, sm1.resolution()); // 194.8 -> 192
        // FLOPs grow about (α·β²·γ²)^φ ≈ 1.92^φ; channel/repeat/resolution rounding pushes phi=2 to 4.69x.
        double f0 = EfficientNet.builder().phi(0).build().summary().macs();
        double f2 = EfficientNet.builder().phi(2).build().summary().macs();
        assertTrue(f2 / f0 > 3.5 && f2 / f0 < 5.0, "MACs ratio phi=2 / phi=0 was " + f2 / f0);
        assertThrows(IllegalArgumentException.class, () -> Scaling.compound(-20));
    }

    @Test
    void badInputIsRejectedWithAClearMessage() {
        var e = assertThrows(IllegalArgumentException.class, () -> Variant.parse("b9"));
        assertTrue(e.getMessage().contains("b0, b1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> EfficientNet.builder().numClasses(0).build());
        assertTrue(e.getMessage().contains("classes"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> EfficientNet.builder().resolution(16).build());
        assertTrue(e.getMessage().contains("32"), e.getMessage());
    }

    @Test
    void headlessAndFeatureSummaries() {
        ModelSummary noTop = EfficientNet.builder().includeTop(false).build().summary();
        assertEquals(5288548 - (1280 * 1000 + 1000), noTop.trainableParams());
        List<String> features = GraphAssembler.featureOutputNames(EfficientNet.builder().build().architecture());
        assertEquals(List.of("block1a_project_bn", "block2b_add", "block3b_add", "block5c_add", "block7a_project_bn"),
                features);
    }
}
