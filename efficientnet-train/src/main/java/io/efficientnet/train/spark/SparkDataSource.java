package io.efficientnet.train.spark;

import io.efficientnet.core.weights.ImageNetPreprocessing;
import io.efficientnet.train.config.ConfigLoader;
import io.efficientnet.train.config.TrainConfig;
import io.efficientnet.train.data.BatchAssembler;
import io.efficientnet.train.data.ImageFolder;
import io.efficientnet.train.data.LabeledImage;
import io.efficientnet.train.data.SkippedImages;
import io.efficientnet.train.recipe.Augmentation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What an executor needs to build its shard of a training batch: the training split's files and labels and the run
 * configuration (as YAML). Broadcast once per run; each executor JVM builds one {@link BatchAssembler} from it, with
 * the same transform, seeds and normalisation as local training. File paths must be readable on every executor (a
 * shared file system mounted at the same path).
 */
final class SparkDataSource implements Serializable {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(SparkDataSource.class);
    private static final Map<String, BatchAssembler> ASSEMBLERS = new ConcurrentHashMap<>();

    private final String id = UUID.randomUUID().toString();
    private final String configYaml;
    private final String[] files;
    private final int[] labels;
    private final int numClasses;

    SparkDataSource(TrainConfig config, ImageFolder train) {
        this.configYaml = ConfigLoader.toYaml(config);
        List<LabeledImage> images = train.images();
        this.files = new String[images.size()];
        this.labels = new int[images.size()];
        for (int i = 0; i < images.size(); i++) {
            files[i] = images.get(i).file().toAbsolutePath().toString();
            labels[i] = images.get(i).label();
        }
        this.numClasses = train.classes().size();
    }

    /** This JVM's assembler for the run (built on first use). */
    BatchAssembler assembler() {
        return ASSEMBLERS.computeIfAbsent(id, k -> build());
    }

    private BatchAssembler build() {
        TrainConfig config = ConfigLoader.fromYaml(configYaml, "the Spark run configuration");
        List<LabeledImage> images = new ArrayList<>(files.length);
        for (int i = 0; i < files.length; i++) {
            images.add(new LabeledImage(Path.of(files[i]), labels[i]));
        }
        int res = config.model().inputResolution();
        return new BatchAssembler(images, numClasses, Augmentation.of(config), res, res, config.run().seed(),
                config.data().labelSmoothing(), ImageNetPreprocessing.normalizer(),
                new SkippedImages(message -> LOG.warn("{} (on executor)", message)));
    }
}
