package io.efficientnet.core.onednn;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The inference pass over a network lowered op by op: each batch norm is folded into the convolution before it,
 * and an activation or a residual add becomes a post-op of the convolution (or, for an activation, the dense layer)
 * before it, where nothing else reads that op's result and it is not a network output. The fused op keeps its output
 * tensor's name; readers of what was fused into it read that tensor.
 */
final class InferenceFusion {

    /** A batch norm's inference transform per channel: {@code y = x·scale + shift}. */
    record ScaleShift(double[] scale, double[] shift) {
    }

    private final Function<String, ScaleShift> batchNorms;
    private final String input;
    private final Set<String> outputs;
    /** Tensor of the unfused network → how many of its ops read it. */
    private final Map<String, Integer> readers = new HashMap<>();
    private final List<LoweredOp> ops = new ArrayList<>();
    /** Tensor of the unfused network → the fused network's tensor holding it (absent: the same name). */
    private final Map<String, String> renamed = new HashMap<>();
    /** Tensor of the fused network → index of the op writing it. */
    private final Map<String, Integer> producer = new HashMap<>();

    private InferenceFusion(LoweredNetwork net, Function<String, ScaleShift> batchNorms) {
        this.batchNorms = batchNorms;
        this.input = net.input();
        this.outputs = Set.copyOf(net.outputs());
        for (LoweredOp op : net.ops()) {
            for (String t : op.inputs()) {
                readers.merge(t, 1, Integer::sum);
            }
        }
    }

    /**
     * Fuses {@code net}.
     *
     * @param batchNorms each batch norm's transform, by layer name
     * @throws IllegalArgumentException naming the vertex, for a batch norm that does not directly follow a
     *                                  convolution whose output only it reads
     */
    static LoweredNetwork fuse(LoweredNetwork net, Function<String, ScaleShift> batchNorms) {
        return new InferenceFusion(net, batchNorms).run(net);
    }

    private LoweredNetwork run(LoweredNetwork net) {
        for (LoweredOp op : net.ops()) {
            if (op instanceof LoweredOp.BatchNorm bn) {
                fold(bn);
            } else if (op instanceof LoweredOp.Activation a) {
                activation(a);
            } else if (op instanceof LoweredOp.Add a) {
                residualAdd(a);
            } else {
                add(readingFused(op));
            }
        }
        return new LoweredNetwork(input, net.inputChannels(), ops, net.outputs().stream().map(this::tensor).toList(),
                Set.of());
    }

    /** {@code op} reading the fused network's tensors. */
    private LoweredOp readingFused(LoweredOp op) {
        if (op instanceof LoweredOp.Conv c) {
            return c.withInput(tensor(c.input()));
        } else if (op instanceof LoweredOp.GlobalPool p) {
            return new LoweredOp.GlobalPool(p.name(), tensor(p.input()), p.output(), p.max(), p.collapse());
        } else if (op instanceof LoweredOp.ChannelScale s) {
            return new LoweredOp.ChannelScale(s.name(), tensor(s.input()), tensor(s.scale()), s.output());
        } else if (op instanceof LoweredOp.Dense d) {
            return new LoweredOp.Dense(d.name(), tensor(d.input()), d.output(), d.in(), d.out(), d.weights(),
                    d.bias(), d.activation(), d.softmax());
        }
        throw new IllegalStateException("unexpected " + op);
    }

    private void fold(LoweredOp.BatchNorm bn) {
        if (!(fusable(bn.input()) instanceof LoweredOp.Conv conv) || conv.activation() != Eltwise.NONE
                || conv.addend() != null) {
            throw GraphLowering.unsupported(bn.name(), "a batch norm that does not directly follow a convolution"
                    + " whose output only it reads (the engine folds batch norms into convolutions)");
        }
        ScaleShift ss = batchNorms.apply(bn.name());
        double[] scale = ss.scale();
        double[] shift = ss.shift();
        float[] w = conv.weights().clone();
        int per = Math.toIntExact(w.length / conv.outChannels());
        float[] bias = new float[Math.toIntExact(conv.outChannels())];
        for (int o = 0; o < bias.length; o++) {
            for (int i = o * per; i < (o + 1) * per; i++) {
                w[i] = (float) (conv.weights()[i] * scale[o]);
            }
            double old = conv.bias() == null ? 0 : conv.bias()[o];
            bias[o] = (float) (shift[o] + old * scale[o]);
        }
        LoweredOp.Conv folded = conv.withFolded(w, bias);
        if (bn.swish()) {
            folded = folded.withActivation(Eltwise.SWISH);
        }
        replace(bn.input(), folded, bn.output());
    }

    private void activation(LoweredOp.Activation a) {
        Eltwise e = a.activation();
        LoweredOp op = fusable(a.input());
        if (op instanceof LoweredOp.Conv conv && conv.activation() == Eltwise.NONE && conv.addend() == null) {
            replace(a.input(), conv.withActivation(e), a.output());
        } else if (op instanceof LoweredOp.Dense d && d.activation() == Eltwise.NONE && !d.softmax()) {
            replace(a.input(), new LoweredOp.Dense(d.name(), d.input(), d.output(), d.in(), d.out(), d.weights(),
                    d.bias(), e, false), a.output());
        } else {
            add(new LoweredOp.Activation(a.name(), tensor(a.input()), a.output(), e));
        }
    }

    private void residualAdd(LoweredOp.Add add) {
        for (String[] pair : new String[][] {{add.a(), add.b()}, {add.b(), add.a()}}) {
            String addend = tensor(pair[1]);
            if (fusable(pair[0]) instanceof LoweredOp.Conv conv && conv.addend() == null
                    && producedBefore(addend, producer.get(tensor(pair[0])))) {
                replace(pair[0], conv.withAddend(addend), add.output());
                return;
            }
        }
        add(new LoweredOp.Add(add.name(), tensor(add.a()), tensor(add.b()), add.output()));
    }

    /** The fused op writing {@code t} (a tensor of the unfused network), if only the op at hand reads it. */
    private LoweredOp fusable(String t) {
        Integer index = producer.get(tensor(t));
        boolean onlyReader = readers.getOrDefault(t, 0) == 1 && !outputs.contains(t);
        return index != null && onlyReader ? ops.get(index) : null;
    }

    private boolean producedBefore(String tensor, int opIndex) {
        Integer p = producer.get(tensor);
        return p == null ? tensor.equals(input) : p < opIndex;
    }

    /** Replaces the op writing {@code t} with {@code op}, which now also stands for {@code output}. */
    private void replace(String t, LoweredOp op, String output) {
        String fused = tensor(t);
        ops.set(producer.get(fused), op);
        renamed.put(output, fused);
    }

    private void add(LoweredOp op) {
        producer.put(op.output(), ops.size());
        ops.add(op);
    }

    private String tensor(String t) {
        return renamed.getOrDefault(t, t);
    }
}
