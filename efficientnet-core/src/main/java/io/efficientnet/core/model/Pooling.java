package io.efficientnet.core.model;

/** Pooling applied to the last feature map of a headless network. */
public enum Pooling {
    /** Global average pooling to {@code [N, C]} (layer {@code avg_pool}). */
    AVG,
    /** Global max pooling to {@code [N, C]} (layer {@code max_pool}). */
    MAX,
    /** No pooling: the {@code [N, C, H, W]} output of {@code top_activation}. */
    NONE
}
