#!/usr/bin/env python3
"""Exports torchvision's EfficientNet (random weights, eval mode) to ONNX for the ONNX Runtime comparison.

    /usr/bin/python3 scripts/export-torchvision-onnx.py --variant b0 --output bench/out/torchvision-b0.onnx
        [--resolution 224] [--opset 13]

The graph takes `input` [batch, 3, R, R] float32 (batch dimension dynamic, R = --resolution) and returns `logits` [batch, 1000].
Needs Debian's python3-torch and python3-torchvision (and python3-onnx to check the file). The weights are random:
the comparison times the architecture, which is the same as this project's with symmetric padding.
"""
import argparse
import os
import sys
import tempfile

import torch
import torchvision


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variant", required=True, choices=[f"b{i}" for i in range(8)])
    p.add_argument("--output", required=True)
    p.add_argument("--resolution", type=int, default=224, help="input height and width (fixed in the graph)")
    p.add_argument("--opset", type=int, default=13)
    a = p.parse_args()

    torch.manual_seed(0)
    model = getattr(torchvision.models, "efficientnet_" + a.variant)(weights=None).eval()
    example = torch.randn(1, 3, a.resolution, a.resolution)
    out_dir = os.path.dirname(os.path.abspath(a.output))
    os.makedirs(out_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".onnx.tmp", dir=out_dir)
    os.close(fd)
    try:
        with torch.no_grad():
            torch.onnx.export(model, example, tmp, opset_version=a.opset, input_names=["input"],
                              output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
        os.replace(tmp, a.output)  # atomic: no half-written model under the final name
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    params = sum(t.numel() for t in model.parameters())
    print(f"wrote {a.output}: torchvision efficientnet_{a.variant}, {params} parameters, opset {a.opset}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
