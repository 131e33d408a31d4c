package io.efficientnet.core.onnx;

import io.efficientnet.core.onednn.Eltwise;
import io.efficientnet.core.onednn.LoweredNetwork;
import io.efficientnet.core.onednn.LoweredOp;
import onnx.Onnx;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.protobuf.ByteString;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Translates a lowered network (batch norms folded, activations and residual adds fused: the oneDNN engine's
 * inference form) into an ONNX graph, one lowered op at a time. Values are named after the DL4J vertices that
 * produce them; the batch, height and width of the input are symbolic.
 */
final class OnnxGraph {

    private static final int FLOAT = Onnx.TensorProto.DataType.FLOAT_VALUE;

    private final Onnx.GraphProto.Builder graph = Onnx.GraphProto.newBuilder();
    /** Lowered tensor name → the ONNX value holding it. */
    private final Map<String, String> values = new HashMap<>();
    /** ONNX value → its rank (4 for feature maps, 2 after flattening). */
    private final Map<String, Integer> ranks = new HashMap<>();

    private OnnxGraph() {
    }

    /**
     * The graph of {@code net}: input {@code net.input()} as {@code [batch, channels, height, width]}, outputs named
     * {@code outputNames} (the DL4J network's outputs, in order).
     */
    static Onnx.GraphProto of(LoweredNetwork net, List<String> outputNames, String name, OnnxOptions options) {
        OnnxGraph g = new OnnxGraph();
        g.graph.setName(name);
        g.graph.addInput(valueInfo(net.input(), new Object[] {"batch", net.inputChannels(), "height", "width"}));
        String x = net.input();
        if (options.preprocessing() != null) {
            x = g.normalise(x, options.preprocessing().getMean(), options.preprocessing().getStd());
        }
        g.values.put(net.input(), x);
        g.ranks.put(x, 4);
        for (LoweredOp op : net.ops()) {
            g.add(op);
        }
        for (int i = 0; i < outputNames.size(); i++) {
            String value = g.value(net.outputs().get(i));
            String out = outputNames.get(i);
            if (!value.equals(out)) {
                g.node("Identity", out, List.of(value));
            }
            g.graph.addOutput(valueInfo(out, null));
        }
        return g.graph.build();
    }

    private void add(LoweredOp op) {
        if (op instanceof LoweredOp.Conv c) {
            conv(c);
        } else if (op instanceof LoweredOp.GlobalPool p) {
            String pooled = node(p.max() ? "GlobalMaxPool" : "GlobalAveragePool", p.output() + "/pool",
                    List.of(value(p.input())));
            define(p.output(), p.collapse() ? flatten(pooled, p.output()) : pooled, p.collapse() ? 2 : 4);
        } else if (op instanceof LoweredOp.ChannelScale s) {
            define(s.output(), node("Mul", s.output(), List.of(value(s.input()), value(s.scale()))), 4);
        } else if (op instanceof LoweredOp.Add a) {
            define(a.output(), node("Add", a.output(), List.of(value(a.a()), value(a.b()))),
                    rank(value(a.a())));
        } else if (op instanceof LoweredOp.Activation a) {
            define(a.output(), activation(value(a.input()), a.activation(), a.output()),
                    rank(value(a.input())));
        } else if (op instanceof LoweredOp.Dense d) {
            dense(d);
        } else if (op instanceof LoweredOp.Dropout d) {
            define(d.output(), value(d.input()), rank(value(d.input())));
        } else {
            throw new IllegalArgumentException("vertex '" + op.name() + "': " + op.getClass().getSimpleName()
                    + " has no ONNX export (batch norms are folded into convolutions for export)");
        }
    }

    private void conv(LoweredOp.Conv c) {
        String w = initializer(c.output() + "/W", c.weights(), c.outChannels(), c.inChannels() / c.groups(),
                c.kernelH(), c.kernelW());
        String b = c.bias() == null ? null : initializer(c.output() + "/B", c.bias(), c.outChannels());
        String conv = c.activation() == Eltwise.NONE && c.addend() == null ? c.output() : c.output() + "/conv";
        Onnx.NodeProto.Builder n = Onnx.NodeProto.newBuilder().setOpType("Conv").setName(conv)
                .addInput(value(c.input())).addInput(w);
        if (b != null) {
            n.addInput(b);
        }
        n.addOutput(conv).addAttribute(ints("kernel_shape", c.kernelH(), c.kernelW()))
                .addAttribute(ints("strides", c.strideH(), c.strideW())).addAttribute(integer("group", c.groups()));
        if (c.same()) {
            n.addAttribute(string("auto_pad", "SAME_UPPER")); // TensorFlow's SAME: the extra row/column at the end
        } else {
            n.addAttribute(ints("pads", c.padH(), c.padW(), c.padH(), c.padW()));
        }
        graph.addNode(n);
        String y = c.addend() == null ? activation(conv, c.activation(), c.output())
                : activation(conv, c.activation(), c.output() + "/act");
        if (c.addend() != null) {
            y = node("Add", c.output(), List.of(y, value(c.addend())));
        }
        define(c.output(), y, 4);
    }

    private void dense(LoweredOp.Dense d) {
        String x = value(d.input());
        if (rank(x) != 2) {
            x = flatten(x, d.output() + "/flat");
        }
        String w = initializer(d.output() + "/W", d.weights(), d.out(), d.in());
        String b = initializer(d.output() + "/B", d.bias() != null ? d.bias() : new float[(int) d.out()], d.out());
        boolean more = d.softmax() || d.activation() != Eltwise.NONE;
        String gemm = more ? d.output() + "/gemm" : d.output();
        String y = graph.addNodeBuilder().setOpType("Gemm").setName(gemm).addInput(x).addInput(w).addInput(b)
                .addOutput(gemm).addAttribute(integer("transB", 1)).getOutput(0);
        if (d.softmax()) {
            y = graph.addNodeBuilder().setOpType("Softmax").setName(d.output()).addInput(y)
                    .addOutput(d.output()).addAttribute(integer("axis", 1)).getOutput(0);
        } else if (d.activation() != Eltwise.NONE) {
            y = activation(y, d.activation(), d.output());
        }
        define(d.output(), y, 2);
    }

    /** {@code (x − mean) / std} per channel, with {@code [1, C]} statistics broadcast as {@code [1, C, 1, 1]}. */
    private String normalise(String x, INDArray mean, INDArray std) {
        long c = mean.length();
        String m = initializer("preprocessing/mean", mean.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT)
                .toFloatVector(), 1, c, 1, 1);
        String s = initializer("preprocessing/std", std.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT)
                .toFloatVector(), 1, c, 1, 1);
        String centred = node("Sub", "preprocessing/centred", List.of(x, m));
        return node("Div", "preprocessing/normalised", List.of(centred, s));
    }

    /** {@code x} through {@code e}, the last value named {@code out}. */
    private String activation(String x, Eltwise e, String out) {
        return switch (e) {
            case NONE -> x.equals(out) ? x : node("Identity", out, List.of(x));
            case SWISH -> node("Mul", out, List.of(x, node("Sigmoid", out + "/sigmoid", List.of(x))));
            case SIGMOID -> node("Sigmoid", out, List.of(x));
            case RELU -> node("Relu", out, List.of(x));
            case TANH -> node("Tanh", out, List.of(x));
            case RELU6 -> node("Clip", out, List.of(x, scalar(out + "/min", 0f), scalar(out + "/max", 6f)));
        };
    }

    private String flatten(String x, String out) {
        graph.addNodeBuilder().setOpType("Flatten").setName(out).addInput(x).addOutput(out)
                .addAttribute(integer("axis", 1));
        ranks.put(out, 2);
        return out;
    }

    /** A node named after its one output (unique: every value is written once). */
    private String node(String type, String out, List<String> inputs) {
        Onnx.NodeProto.Builder n = graph.addNodeBuilder().setOpType(type).setName(out); // values are unique
        inputs.forEach(n::addInput);
        n.addOutput(out);
        return out;
    }

    private void define(String tensor, String value, int rank) {
        values.put(tensor, value);
        ranks.put(value, rank);
    }

    private String value(String tensor) {
        String v = values.get(tensor);
        if (v == null) {
            throw new IllegalStateException("tensor '" + tensor + "' is read before it is written");
        }
        return v;
    }

    private int rank(String value) {
        return ranks.getOrDefault(value, 4);
    }

    private String initializer(String name, float[] data, long... dims) {
        if (data == null) {
            throw new IllegalArgumentException("'" + name + "' has no weights to export");
        }
        ByteBuffer bytes = ByteBuffer.allocate(4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(data);
        Onnx.TensorProto.Builder t = graph.addInitializerBuilder().setName(name).setDataType(FLOAT)
                .setRawData(ByteString.copyFrom(bytes.array()));
        for (long d : dims) {
            t.addDims(d);
        }
        return name;
    }

    private String scalar(String name, float v) {
        return initializer(name, new float[] {v});
    }

    private static Onnx.AttributeProto ints(String name, long... values) {
        Onnx.AttributeProto.Builder a = Onnx.AttributeProto.newBuilder().setName(name)
                .setType(Onnx.AttributeProto.AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a.build();
    }

    private static Onnx.AttributeProto integer(String name, long value) {
        return Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.INT)
                .setI(value).build();
    }

    private static Onnx.AttributeProto string(String name, String value) {
        return Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.STRING)
                .setS(ByteString.copyFrom(value, StandardCharsets.UTF_8)).build();
    }

    /** A float tensor value; {@code dims} entries are numbers or symbolic names, null for an unknown shape. */
    private static Onnx.ValueInfoProto valueInfo(String name, Object[] dims) {
        Onnx.TypeProto.Tensor.Builder t = Onnx.TypeProto.Tensor.newBuilder().setElemType(FLOAT);
        if (dims != null) {
            Onnx.TensorShapeProto.Builder shape = Onnx.TensorShapeProto.newBuilder();
            for (Object d : dims) {
                Onnx.TensorShapeProto.Dimension.Builder dim = shape.addDimBuilder();
                if (d instanceof String s) {
                    dim.setDimParam(s);
                } else {
                    dim.setDimValue(((Number) d).longValue());
                }
            }
            t.setShape(shape);
        }
        return Onnx.ValueInfoProto.newBuilder().setName(name)
                .setType(Onnx.TypeProto.newBuilder().setTensorType(t)).build();
    }
}
