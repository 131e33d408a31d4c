package io.efficientnet.cli;

import io.efficientnet.core.EfficientNet;
import io.efficientnet.core.engine.Engine;
import io.efficientnet.core.engine.Engines;
import io.efficientnet.core.engine.InferenceSession;
import io.efficientnet.core.weights.ImageNetLabels;
import io.efficientnet.core.model.Variant;
import io.efficientnet.core.weights.ImageNetPreprocessing;
import io.efficientnet.core.weights.ImageNetWeights;
import io.efficientnet.train.data.EvalTransform;
import io.efficientnet.train.run.SavedModel;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.zoo.PretrainedType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.preprocessor.DataNormalization;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code efficientnet predict}: top-k classes for image files. */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = "Classify images: resize + centre crop (crop fraction 0.875), print the top classes.")
public final class PredictCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec commandSpec;

    static final class Source {
        @Option(names = "--model", description = "model zip (from convert or train)")
        Path model;

        @ArgGroup(exclusive = false)
        Pretrained pretrained;
    }

    static final class Pretrained {
        @Option(names = "--variant", required = true, description = "b0..b7")
        String variant;

        @Option(names = "--pretrained", required = true, description = "imagenet")
        String weights;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "image files (JPEG, PNG, BMP, GIF)")
    List<Path> images;

    @Option(names = "--top", defaultValue = "5", description = "classes to print per image (default: ${DEFAULT-VALUE})")
    int top;

    @Option(names = "--engine", defaultValue = "auto", paramLabel = "ENGINE",
            description = "auto (oneDNN where it can run the model, else DL4J, saying why), onednn or dl4j "
                    + "(default: ${DEFAULT-VALUE})")
    String engine;

    @Option(names = "--json", description = "print one JSON object per run")
    boolean json;

    @Override
    public Integer call() throws Exception {
        ComputationGraph net;
        DataNormalization normalizer;
        List<String> labels;
        int[] chw = {3, 224, 224};
        double crop = EvalTransform.CROP_FRACTION;
        if (source.model != null) {
            SavedModel saved = SavedModel.load(source.model);
            net = saved.network();
            normalizer = saved.normalizer();
            labels = saved.labels();
            chw = saved.inputShape();
            crop = saved.evalCrop();
        } else {
            if (!"imagenet".equalsIgnoreCase(source.pretrained.weights)) {
                throw new IllegalArgumentException("unknown --pretrained '" + source.pretrained.weights
                        + "'; allowed: imagenet");
            }
            EfficientNet model = EfficientNet.builder().variant(source.pretrained.variant).build();
            ImageNetWeights weights = ImageNetWeights.of(Variant.parse(source.pretrained.variant));
            net = model.initPretrained(PretrainedType.IMAGENET);
            chw = model.inputShape();
            normalizer = ImageNetPreprocessing.normalizer(weights.mean(), weights.std());
            crop = weights.cropFraction();
            labels = null;
        }
        EvalTransform transform = new EvalTransform(chw[1], chw[2], crop);
        try (InferenceSession session = Engines.inference(net, Engine.parse(engine, "--engine"),
                commandSpec.commandLine().getErr()::println)) {
            return predictAll(session, transform, normalizer, labels);
        }
    }

    private int predictAll(InferenceSession session, EvalTransform transform,
            DataNormalization normalizer, List<String> labels) throws Exception {
        PrintWriter out = commandSpec.commandLine().getOut();
        List<Map<String, Object>> results = new ArrayList<>();
        int failures = 0;
        for (Path image : images) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("file", image.toString());
            try {
                INDArray x = transform.read(image);
                normalizer.transform(x);
                INDArray p = session.output(x).reshape(-1);
                List<Map<String, Object>> best = new ArrayList<>();
                INDArray order = Nd4j.sortWithIndices(p.dup(), 0, false)[0];
                for (int k = 0; k < Math.min(top, p.length()); k++) {
                    int c = order.getInt(k);
                    Map<String, Object> e = new LinkedHashMap<>();
                    e.put("class", c);
                    e.put("label", label(labels, c, p.length()));
                    e.put("probability", p.getDouble(c));
                    best.add(e);
                }
                r.put("top", best);
            } catch (IOException e) {
                failures++;
                r.put("error", e.getMessage());
                commandSpec.commandLine().getErr().println("warning: skipping " + e.getMessage());
            }
            results.add(r);
            if (!json) {
                print(out, r);
            }
        }
        if (json) {
            Map<String, Object> all = new LinkedHashMap<>();
            all.put("results", results);
            all.put("failed", failures);
            all.put("engine", session.description());
            out.println(new ObjectMapper().writeValueAsString(all));
        }
        return failures == 0 ? 0 : 1;
    }

    private static String label(List<String> labels, int c, long classes) {
        if (labels != null && c < labels.size()) {
            return labels.get(c);
        }
        return classes == 1000 ? ImageNetLabels.get(c) : "class " + c;
    }

    @SuppressWarnings("unchecked")
    private static void print(PrintWriter out, Map<String, Object> r) {
        out.println(r.get("file"));
        if (r.containsKey("error")) {
            out.println("  error: " + r.get("error"));
            return;
        }
        for (Map<String, Object> e : (List<Map<String, Object>>) r.get("top")) {
            out.printf("  %6.2f%%  %4d  %s%n", 100 * (Double) e.get("probability"), (Integer) e.get("class"),
                    e.get("label"));
        }
    }
}
