package io.efficientnet.core.model;

/** How convolutions pad their input. Both give output size ceil(in/stride). */
public enum Padding {
    /** TensorFlow "SAME": the extra pixel of an odd total padding goes bottom/right. Matches Keras/TF weights. */
    SAME,
    /** Symmetric padding of (k−1)/2 on every side. Matches weights trained in PyTorch (torchvision). */
    SYMMETRIC
}
