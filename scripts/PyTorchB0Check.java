import io.efficientnet.core.engine.Engine;
import io.efficientnet.core.engine.Engines;
import io.efficientnet.core.engine.InferenceSession;
import io.efficientnet.core.weights.ModelZipLoader;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Compares a model zip converted from torchvision's full-size efficientnet_b0 state_dict with PyTorch's float64
 * outputs for the same weights and input (scripts/check-pytorch-b0.sh runs it):
 * {@code java -cp CLI_CLASSPATH scripts/PyTorchB0Check.java B0.zip INPUT.f32 EXPECTED.json}.
 * Prints the largest probability error relative to the largest probability, per engine, next to PyTorch's own float32
 * error in the same measure (float32 rounding through 82 layers of random weights); exits 1 if an engine's error is
 * more than 5 times PyTorch's or the top-1 classes differ.
 */
public class PyTorchB0Check {

    public static void main(String[] args) throws Exception {
        ComputationGraph net = ModelZipLoader.graph(Path.of(args[0]), false);
        JsonNode expected = new ObjectMapper().readTree(Files.readString(Path.of(args[2])));
        long[] shape = new long[4];
        for (int i = 0; i < 4; i++) {
            shape[i] = expected.get("input_shape").get(i).asLong();
        }
        float[] x = new float[(int) (shape[0] * shape[1] * shape[2] * shape[3])];
        ByteBuffer.wrap(Files.readAllBytes(Path.of(args[1]))).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(x);
        INDArray input = Nd4j.createFromArray(x).reshape(shape);
        JsonNode p = expected.get("symmetric").get("probabilities");
        double[] probabilities = new double[p.size()];
        for (int i = 0; i < probabilities.length; i++) {
            probabilities[i] = p.get(i).asDouble();
        }
        INDArray reference = Nd4j.createFromArray(probabilities).reshape(shape[0], probabilities.length / shape[0]);
        double floor = expected.get("pytorch_float32_error").asDouble();
        System.out.printf("%-40s largest probability error %.2e of the largest probability%n", "PyTorch, float32", floor);
        boolean ok = true;
        for (Engine engine : new Engine[] {Engine.DL4J, Engine.AUTO}) {
            try (InferenceSession session = Engines.inference(net, engine, note -> { })) {
                INDArray out = session.output(input).castTo(DataType.DOUBLE);
                double error = out.sub(reference).amaxNumber().doubleValue() / reference.amaxNumber().doubleValue();
                boolean sameTop1 = out.argMax(1).equals(reference.argMax(1));
                System.out.printf("%-40s largest probability error %.2e of the largest probability; top-1 %s%n",
                        session.description(), error, sameTop1 ? "identical" : "DIFFERS");
                ok &= error <= 5 * floor && sameTop1;
            }
        }
        System.exit(ok ? 0 : 1);
    }
}
