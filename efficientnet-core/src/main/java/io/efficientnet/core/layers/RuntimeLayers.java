package io.efficientnet.core.layers;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collection;

/** The wiring DL4J's own {@code instantiate} methods do, for this package's configurations and runtime layers. */
final class RuntimeLayers {

    private RuntimeLayers() {
    }

    /** Listeners, index, parameter view and (initialised) parameter table of {@code layer}; returns it. */
    static <L extends Layer> L wire(L layer, org.deeplearning4j.nn.conf.layers.Layer conf,
            NeuralNetConfiguration nnc, Collection<TrainingListener> listeners, int index, INDArray paramsView,
            boolean initializeParams) {
        layer.setListeners(listeners);
        layer.setIndex(index);
        layer.setParamsViewArray(paramsView);
        layer.setParamTable(conf.initializer().init(nnc, paramsView, initializeParams));
        layer.setConf(nnc);
        return layer;
    }
}
