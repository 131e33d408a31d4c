package io.efficientnet.core.onnx;

import io.efficientnet.core.onednn.GraphLowering;
import io.efficientnet.core.onednn.LoweredNetwork;
import io.efficientnet.core.weights.IoErrors;
import io.efficientnet.core.weights.ModelZip;
import onnx.Onnx;
import org.deeplearning4j.nn.graph.ComputationGraph;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes a network as an ONNX model, for ONNX Runtime, OpenVINO, TensorRT and other ONNX consumers: any graph this
 * project builds or trains (B0–B7 and φ, SAME or symmetric padding, with or without the classifier, multi-scale
 * feature outputs, transfer-learned heads), in the oneDNN engine's inference form (batch norms folded into their
 * convolutions).
 *
 * <p>The graph's input is the DL4J network's input name, {@code float32 [batch, channels, height, width]} (all three
 * symbolic); its outputs carry the DL4J network's output names ({@code predictions} for a classifier: softmax
 * probabilities). With {@link OnnxOptions#preprocessing} the graph takes RGB pixels 0..255 and normalises them itself.
 * The ONNX classes are those ND4J ships ({@code onnx.Onnx}, protobuf-generated from ONNX's own {@code .proto}).
 *
 * <pre>{@code
 * OnnxExport.write(net, Path.of("b0.onnx"), OnnxOptions.defaults());
 * }</pre>
 */
public final class OnnxExport {

    private OnnxExport() {
    }

    /**
     * Exports {@code net} to {@code target}, atomically: on any failure nothing is written and an earlier file at
     * {@code target} is left as it was.
     *
     * @throws IllegalArgumentException naming the vertex and its type, for a layer the export does not cover
     * @throws IOException              naming the file, when it cannot be written
     */
    public static void write(ComputationGraph net, Path target, OnnxOptions options) throws IOException {
        Onnx.ModelProto model = model(net, options);
        Path dir = target.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
            try (OutputStream out = Files.newOutputStream(tmp)) {
                model.writeTo(out);
            }
            ModelZip.moveAtomically(tmp, target);
        } catch (IOException e) {
            throw new IOException("cannot write " + target + ": " + IoErrors.reason(e), e);
        } finally {
            if (tmp != null) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /** The ONNX model of {@code net}. */
    public static Onnx.ModelProto model(ComputationGraph net, OnnxOptions options) {
        LoweredNetwork lowered = GraphLowering.lower(net);
        String name = net.getConfiguration().getNetworkOutputs().size() == 1 ? "efficientnet" : "efficientnet-features";
        return Onnx.ModelProto.newBuilder()
                .setIrVersion(options.opset() >= 15 ? 8 : 7) // ONNX 1.8 (opset 13) wrote IR 7, 1.10 on IR 8
                .setProducerName(options.producer())
                .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(options.opset()))
                .setGraph(OnnxGraph.of(lowered, net.getConfiguration().getNetworkOutputs(), name, options))
                .build();
    }
}
