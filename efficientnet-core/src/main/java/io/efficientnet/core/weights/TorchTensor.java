package io.efficientnet.core.weights;

/**
 * One tensor read from a PyTorch file ({@code .pth} or {@code .safetensors}), converted to float32.
 *
 * @param name  its key in the file, e.g. {@code features.0.0.weight}
 * @param shape PyTorch's shape (empty for a scalar)
 * @param data  the values in row-major order
 */
public record TorchTensor(String name, long[] shape, float[] data) {
}
