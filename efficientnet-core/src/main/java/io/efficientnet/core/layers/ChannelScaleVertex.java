package io.efficientnet.core.layers;

import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.inputs.InvalidInputTypeException;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Squeeze-and-excitation multiply: scales each channel of a feature map {@code [N,C,H,W]} (input 0) by a per-sample,
 * per-channel gate {@code [N,C,1,1]} (input 1). DL4J's {@code ElementWiseVertex(Product)} rejects this broadcast
 * when input types are validated, hence this vertex. Configuration only; the runtime is
 * {@link ChannelScaleVertexImpl}.
 */
public class ChannelScaleVertex extends GraphVertex {

    /** Creates the vertex (no parameters). */
    public ChannelScaleVertex() {
    }

    @Override
    public ChannelScaleVertex clone() {
        return new ChannelScaleVertex();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ChannelScaleVertex;
    }

    @Override
    public int hashCode() {
        return ChannelScaleVertex.class.hashCode();
    }

    @Override
    public long numParams(boolean backprop) {
        return 0;
    }

    @Override
    public int minVertexInputs() {
        return 2;
    }

    @Override
    public int maxVertexInputs() {
        return 2;
    }

    @Override
    public org.deeplearning4j.nn.graph.vertex.GraphVertex instantiate(ComputationGraph graph, String name, int idx,
            INDArray paramsView, boolean initializeParams, DataType networkDatatype) {
        return new ChannelScaleVertexImpl(graph, name, idx, networkDatatype);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType... vertexInputs) throws InvalidInputTypeException {
        if (vertexInputs.length != 2) {
            throw new InvalidInputTypeException("ChannelScaleVertex takes 2 inputs (features, gate), got "
                    + vertexInputs.length);
        }
        InputType features = vertexInputs[0];
        InputType gate = vertexInputs[1];
        if (!(features instanceof InputType.InputTypeConvolutional f)) {
            throw new InvalidInputTypeException("ChannelScaleVertex input 0 must be convolutional [N,C,H,W], got "
                    + features);
        }
        long gateChannels;
        if (gate instanceof InputType.InputTypeConvolutional g) {
            if (g.getHeight() != 1 || g.getWidth() != 1) {
                throw new InvalidInputTypeException("ChannelScaleVertex gate must be [N,C,1,1], got " + gate);
            }
            gateChannels = g.getChannels();
        } else if (gate instanceof InputType.InputTypeFeedForward ff) {
            gateChannels = ff.getSize();
        } else {
            throw new InvalidInputTypeException("ChannelScaleVertex gate must be [N,C,1,1] or [N,C], got " + gate);
        }
        if (gateChannels != f.getChannels()) {
            throw new InvalidInputTypeException("ChannelScaleVertex: gate has " + gateChannels
                    + " channels but the features have " + f.getChannels());
        }
        return features;
    }

    @Override
    public MemoryReport getMemoryReport(InputType... inputTypes) {
        InputType out = getOutputType(-1, inputTypes);
        return new LayerMemoryReport.Builder(null, ChannelScaleVertex.class, inputTypes[0], out)
                .standardMemory(0, 0)
                .workingMemory(0, 0, 0, out.arrayElementsPerExample())
                .cacheMemory(0, 0)
                .build();
    }

    @Override
    public String toString() {
        return "ChannelScaleVertex()";
    }
}
