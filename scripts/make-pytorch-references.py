#!/usr/bin/env python3
"""Writes the PyTorch reference files for the PyTorch weight import tests.

    /usr/bin/python3 scripts/make-pytorch-references.py [--output efficientnet-core/src/test/resources/pytorch]
    /usr/bin/python3 scripts/make-pytorch-references.py --full-b0 --output DIR   (scripts/check-pytorch-b0.sh)

Needs Debian's python3-torch and python3-torchvision (torch 1.13 / torchvision 0.14 or newer). Writes:

- efficientnet-tiny-torchvision.pth and .safetensors: the state_dict of a small torchvision EfficientNet
  (efficientnet_b0's configuration at width 0.25, depth 0.34, 10 classes), random weights with random batch-norm
  affine parameters and calibrated, non-zero running statistics;
- efficientnet-tiny-timm.safetensors: the same tensors under timm's efficientnet_b0 names, renamed from
  torchvision's (the two families build the same network; make-timm-references.py writes files with timm's own code);
- efficientnet-tiny-input.f32: the input, float32 little-endian [2, 3, 64, 64], already normalised;
- efficientnet-tiny-expected.json: the configuration and float64 outputs (logits, softmax probabilities) for the
  torchvision network (symmetric padding, batch-norm eps 1e-5) and for the same weights as timm's
  tf_efficientnet_b0 computes them (TF "SAME" padding, eps 1e-3);
- tensors.pth, tensors.safetensors and tensors.json: small tensors for the readers (a storage offset, transposed and
  sliced strides, float16, bfloat16, int64, a scalar) with their values as float32.

The safetensors files are written here with struct and json (the safetensors package is not needed).
"""
import argparse
import copy
import json
import math
import os
import struct
import sys

import torch
import torch.nn.functional as F
from torchvision.models import efficientnet as tv

WIDTH, DEPTH, CLASSES, RESOLUTION, BATCH = 0.25, 0.34, 10, 64, 2

SAFETENSORS_DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64"}


def tensor_bytes(t):
    """Raw little-endian bytes of a contiguous CPU tensor."""
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    return t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()


def write_safetensors(path, tensors):
    """The safetensors layout: u64 little-endian header length, JSON header, then the raw data."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        data = tensor_bytes(t)
        header[name] = {"dtype": SAFETENSORS_DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def randomize_batch_norms(model, classifier, g, classes, resolution):
    """Random batch-norm affine parameters, running statistics calibrated on a random batch (then perturbed, so they
    are not exactly the batch's), and the classifier rescaled to logits of standard deviation ~2, drawn from g."""
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    momentum = {m: m.momentum for m in bns}
    with torch.no_grad():
        for m in bns:
            m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
            m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
            m.reset_running_stats()
            m.momentum = None  # cumulative average: the statistics of the calibration batch
        model.train()
        calibration = torch.randn(8, 3, resolution, resolution, generator=g)
        model(calibration)
        for m in bns:
            m.running_mean.add_(torch.randn(m.running_mean.shape, generator=g) * 0.05)
            m.running_var.mul_(torch.rand(m.running_var.shape, generator=g) * 0.4 + 0.8)
            m.momentum = momentum[m]
        # logits of standard deviation ~2: distinct top classes, and no probability rounds to 0 or 1
        model.eval()
        classifier.bias.zero_()
        classifier.weight.mul_(2.0 / model(calibration).std())
        classifier.bias.copy_(torch.randn(classes, generator=g) * 0.5)


def tiny_torchvision(width=WIDTH, depth=DEPTH, classes=CLASSES, resolution=RESOLUTION):
    """efficientnet_b0's configuration scaled to width 0.25, depth 0.34 (or as given), with random weights and
    statistics."""
    torch.manual_seed(0)  # the modules' own initialisation
    setting, last_channel = tv._efficientnet_conf("efficientnet_b0", width_mult=width, depth_mult=depth)
    model = tv.EfficientNet(setting, 0.2, num_classes=classes, last_channel=last_channel)
    randomize_batch_norms(model, model.classifier[1], torch.Generator().manual_seed(7), classes, resolution)
    return model


def timm_name(name):
    """torchvision efficientnet_b* tensor name -> timm efficientnet_b* name."""
    p = name.split(".")
    if p[0] == "classifier":
        return "classifier." + p[2]
    if p[0] != "features":
        raise ValueError(name)
    stage = int(p[1])
    if stage == 0:
        return ("conv_stem." if p[2] == "0" else "bn1.") + p[-1]
    if stage == 8:
        return ("conv_head." if p[2] == "0" else "bn2.") + p[-1]
    repeat, part, rest = p[2], int(p[4]), p[5:]
    if stage == 1:  # depthwise-separable: dw, se, pw (no expansion)
        parts = [{"0": "conv_dw", "1": "bn1"}, {"fc1": "se.conv_reduce", "fc2": "se.conv_expand"},
                 {"0": "conv_pw", "1": "bn2"}]
    else:
        parts = [{"0": "conv_pw", "1": "bn1"}, {"0": "conv_dw", "1": "bn2"},
                 {"fc1": "se.conv_reduce", "fc2": "se.conv_expand"}, {"0": "conv_pwl", "1": "bn3"}]
    return f"blocks.{stage - 1}.{repeat}.{parts[part][rest[0]]}.{rest[-1]}"


def tf_same(model):
    """The network as timm's tf_efficientnet computes it: TF "SAME" padding and batch-norm eps 1e-3."""
    def pad_same(conv, inputs):
        x = inputs[0]
        pads = []
        for size, k, s in zip(x.shape[-2:], conv.kernel_size, conv.stride):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads.append((total // 2, total - total // 2))
        (top, bottom), (left, right) = pads
        return (F.pad(x, [left, right, top, bottom]),)

    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d) and m.kernel_size[0] > 1:
            m.padding = (0, 0)
            m.register_forward_pre_hook(pad_same)
        if isinstance(m, torch.nn.BatchNorm2d):
            m.eps = 1e-3
    return model


def outputs(model, x):
    with torch.no_grad():
        logits = model.double()(x.double())
    return {"logits": logits.flatten().tolist(), "probabilities": torch.softmax(logits, 1).flatten().tolist()}


def reader_tensors():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 8 - 1
    return {
        "offset": base[1:, :],          # storage offset 6
        "sliced": base[1:3, ::2],       # offset 6, strides (6, 2)
        "transposed": base.t(),         # strides (1, 6)
        "half": (base * 3).half(),
        "bfloat16": (base * 3).bfloat16(),
        "long": torch.tensor([[3, -4], [1 << 40, 0]], dtype=torch.int64),
        "scalar": torch.tensor(2.5),
    }


def full_b0(out):
    """torchvision's efficientnet_b0 at full size (1000 classes, 224 px), random weights calibrated as above: its
    state_dict (.pth and .safetensors, 21 MB each), an input, the float64 outputs and PyTorch's own float32 error on them, for
    scripts/check-pytorch-b0.sh."""
    model = tiny_torchvision(1.0, 1.0, 1000, 224)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    torch.save(state, out("efficientnet-b0-torchvision.pth"))
    write_safetensors(out("efficientnet-b0-torchvision.safetensors"), state)
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(11))
    with open(out("efficientnet-b0-input.f32"), "wb") as f:
        f.write(tensor_bytes(x))
    with torch.no_grad():
        p32 = torch.softmax(model.float()(x), 1).double()
    expected = outputs(model, x)  # float64
    p64 = torch.tensor(expected["probabilities"]).reshape(p32.shape)
    # PyTorch's own float32 rounding, in the check's measure: the floor for any float32 implementation
    float32_error = ((p32 - p64).abs().max() / p64.abs().max()).item()
    with open(out("efficientnet-b0-expected.json"), "w") as f:
        json.dump({"input_shape": [2, 3, 224, 224], "symmetric": expected, "pytorch_float32_error": float32_error}, f)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--output", default="efficientnet-core/src/test/resources/pytorch")
    p.add_argument("--full-b0", action="store_true", help="write only the full-size B0 files (see full_b0)")
    a = p.parse_args()
    os.makedirs(a.output, exist_ok=True)
    out = lambda name: os.path.join(a.output, name)
    if a.full_b0:
        full_b0(out)
        return

    model = tiny_torchvision()
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), tiny_torchvision().state_dict().values()))
    state = {k: v.clone() for k, v in model.state_dict().items()}
    torch.save(state, out("efficientnet-tiny-torchvision.pth"))
    write_safetensors(out("efficientnet-tiny-torchvision.safetensors"), state)
    write_safetensors(out("efficientnet-tiny-timm.safetensors"), {timm_name(k): v for k, v in state.items()})

    x = torch.randn(BATCH, 3, RESOLUTION, RESOLUTION, generator=torch.Generator().manual_seed(11))
    with open(out("efficientnet-tiny-input.f32"), "wb") as f:
        f.write(tensor_bytes(x))
    expected = {
        "width": WIDTH, "depth": DEPTH, "classes": CLASSES, "resolution": RESOLUTION,
        "input_shape": [BATCH, 3, RESOLUTION, RESOLUTION],
        "symmetric": outputs(model, x),
        "tf_same": outputs(tf_same(copy.deepcopy(model)), x),
    }
    with open(out("efficientnet-tiny-expected.json"), "w") as f:
        json.dump(expected, f, indent=1)

    tensors = reader_tensors()
    torch.save(tensors, out("tensors.pth"))
    write_safetensors(out("tensors.safetensors"), {k: v.contiguous() for k, v in tensors.items()})
    with open(out("tensors.json"), "w") as f:
        json.dump({k: {"shape": list(v.shape), "values": v.float().flatten().tolist()} for k, v in tensors.items()},
                  f, indent=1)
    for name in sorted(os.listdir(a.output)):
        print(f"{os.path.getsize(out(name)):>9} {out(name)}", file=sys.stderr)


if __name__ == "__main__":
    main()
