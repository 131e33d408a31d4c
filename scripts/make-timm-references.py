#!/usr/bin/env python3
"""Writes the timm reference files for the timm weight import tests, with timm's own model code.

    PYTHONPATH=/path/to/pytorch-image-models /usr/bin/python3 scripts/make-timm-references.py \\
        [--output efficientnet-core/src/test/resources/pytorch] [--timm-commit SHA]

Needs Debian's python3-torch (1.13 or newer) and a timm source tree on PYTHONPATH (timm 0.9.16 and 1.0.28 both import
with torch 1.13; neither needs huggingface_hub or safetensors to build a model without pretrained weights). timm's
version is recorded, and its commit when timm's tree is a git checkout or --timm-commit is given (e.g. for a tree
unpacked with git archive). Reads efficientnet-tiny-input.f32 from the output folder (written by
make-pytorch-references.py) and writes:

- efficientnet-tiny-timm-real.safetensors: the state_dict of timm's efficientnet_b0 generator at width 0.25,
  depth 0.34 and 10 classes (the network of make-pytorch-references.py), timm's own initialisation, then random
  batch-norm affine parameters and calibrated, non-zero running statistics as in make-pytorch-references.py;
- efficientnet-tiny-timm-tf-real.safetensors: the same for tf_efficientnet_b0, built with the settings timm's
  tf_efficientnet_b0 entry point adds (batch-norm eps 1e-3, TF "SAME" padding), calibrated through that network;
- efficientnet-tiny-timm-expected.json: timm's version and commit, the configuration, and under each model's name
  (efficientnet_b0, tf_efficientnet_b0) its file, generator arguments, batch-norm eps and convolution classes, and
  the float64 logits and softmax probabilities of timm's forward on the input (and PyTorch's own float32 error on
  those probabilities, for comparison);
- efficientnet-b0-timm-tensors.json: the names, shapes and dtypes of the state_dicts of timm's full-size
  efficientnet_b0 and tf_efficientnet_b0 (built by timm.create_model with random weights).

Before writing, the script checks that timm's tiny network has the tensors (names and shapes) of the renamed
torchvision file efficientnet-tiny-timm.safetensors, i.e. the same channel and depth rounding, and that its
tf_efficientnet_b0 settings build the same modules as timm's registered tf_efficientnet_b0.
The safetensors files are written with struct and json (the safetensors package is not needed).
"""
import argparse
import importlib.util
import json
import os
import struct
import subprocess
import sys

import torch

import timm
from timm.models import efficientnet as eff
from timm.models._efficientnet_builder import BN_EPS_TF_DEFAULT

WIDTH, DEPTH, CLASSES, RESOLUTION, BATCH = 0.25, 0.34, 10, 64, 2

# the seeds of each model's initialisation (SEEDS[name]) and of its random batch-norm parameters and calibration
# (SEEDS[name] + 7). How much float32 rounding moves the probabilities depends on the draw: PyTorch's own float32
# error is 0.4e-6 to 2.7e-6 over seeds 0-4 of these networks, and the Java network's a few times PyTorch's (seed 1 of
# tf_efficientnet_b0: 2.7e-6 and 7.9e-6). These two draws are at or below 1e-6 (recorded as pytorch_float32_error),
# so that the tests' 1e-5 rule keeps a margin over float32 rounding.
SEEDS = {"efficientnet_b0": 0, "tf_efficientnet_b0": 2}

# what timm's tf_efficientnet_b0 entry point adds to _gen_efficientnet's arguments (checked in check_tf_settings)
TF_KWARGS = {"bn_eps": BN_EPS_TF_DEFAULT, "pad_type": "same"}

def _pytorch_references():
    """scripts/make-pytorch-references.py as a module (its safetensors writer and batch-norm randomisation)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "make-pytorch-references.py")
    spec = importlib.util.spec_from_file_location("make_pytorch_references", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REFERENCES = _pytorch_references()
write_safetensors = REFERENCES.write_safetensors


def safetensors_shapes(path):
    """{name: shape} from a safetensors file's header."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    return {k: v["shape"] for k, v in header.items() if k != "__metadata__"}


def timm_commit(given):
    if given:
        return given
    try:
        root = os.path.dirname(os.path.dirname(os.path.abspath(timm.__file__)))
        return subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def tiny_timm(tf, seed=None):
    """timm's efficientnet_b0 (tf: tf_efficientnet_b0) generator at width 0.25, depth 0.34, 10 classes, with random
    batch-norm affine parameters and statistics calibrated through timm's own forward."""
    name = "tf_efficientnet_b0" if tf else "efficientnet_b0"
    seed = SEEDS[name] if seed is None else seed
    torch.manual_seed(seed)  # timm's own initialisation
    model = eff._gen_efficientnet(name, channel_multiplier=WIDTH, depth_multiplier=DEPTH, num_classes=CLASSES,
                                  pretrained=False, **(TF_KWARGS if tf else {}))
    REFERENCES.randomize_batch_norms(model, model.classifier, torch.Generator().manual_seed(seed + 7), CLASSES,
                                     RESOLUTION)
    return name, model


def settings(model):
    """The batch-norm eps values and the convolution classes (timm's Conv2dSame pads dynamically, TF-style)."""
    eps = sorted({m.eps for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)})
    convs = sorted({type(m).__name__ for m in model.modules() if isinstance(m, torch.nn.Conv2d)})
    return {"bn_eps": eps, "conv_classes": convs}


def outputs(model, x):
    """float64 logits and probabilities, and the largest error of PyTorch's own float32 probabilities on them."""
    with torch.no_grad():
        p32 = torch.softmax(model.float()(x), 1).double()
        logits = model.double()(x.double())
    p64 = torch.softmax(logits, 1)
    return {"logits": logits.flatten().tolist(), "probabilities": p64.flatten().tolist(),
            "pytorch_float32_error": (p32 - p64).abs().max().item()}


def check_tf_settings():
    """_gen_efficientnet with TF_KWARGS builds the modules timm's registered tf_efficientnet_b0 builds."""
    registered = timm.create_model("tf_efficientnet_b0", pretrained=False)
    ours = eff._gen_efficientnet("tf_efficientnet_b0", pretrained=False, **TF_KWARGS)
    assert repr(registered) == repr(ours), "TF_KWARGS differ from timm's tf_efficientnet_b0"
    plain = timm.create_model("efficientnet_b0", pretrained=False)
    assert repr(plain) == repr(eff._gen_efficientnet("efficientnet_b0", pretrained=False))


def full_size_tensors():
    """{model: [[name, shape, dtype], ...]} of timm's full-size efficientnet_b0 and tf_efficientnet_b0."""
    result = {}
    for name in ("efficientnet_b0", "tf_efficientnet_b0"):
        model = timm.create_model(name, pretrained=False)
        result[name] = {
            "settings": settings(model),
            "tensors": [[k, list(v.shape), REFERENCES.SAFETENSORS_DTYPES[v.dtype]] for k, v in model.state_dict().items()],
        }
    return result


def tensor_list_json(names):
    """JSON with one tensor a line."""
    lines = ['{"source": ' + json.dumps(names["source"]) + ', "models": {']
    for i, (model, entry) in enumerate(names["models"].items()):
        lines.append(f' "{model}": {{"settings": {json.dumps(entry["settings"])}, "tensors": [')
        lines.append(",\n".join("  " + json.dumps(t) for t in entry["tensors"]))
        lines.append(" ]}" + ("," if i + 1 < len(names["models"]) else ""))
    lines.append("}}")
    json.loads("\n".join(lines))
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--output", default="efficientnet-core/src/test/resources/pytorch")
    p.add_argument("--timm-commit", help="timm's commit, when its tree is not a git checkout")
    a = p.parse_args()
    out = lambda name: os.path.join(a.output, name)
    torch.set_num_threads(1)  # the same float32 rounding (pytorch_float32_error) on any machine with this torch

    raw = open(out("efficientnet-tiny-input.f32"), "rb").read()
    x = torch.frombuffer(bytearray(raw), dtype=torch.float32).reshape(BATCH, 3, RESOLUTION, RESOLUTION)
    renamed = safetensors_shapes(out("efficientnet-tiny-timm.safetensors"))
    check_tf_settings()

    expected = {
        "source": {"timm_version": timm.__version__, "timm_commit": timm_commit(a.timm_commit),
                   "torch_version": torch.__version__.split("+")[0]},
        "width": WIDTH, "depth": DEPTH, "classes": CLASSES, "resolution": RESOLUTION,
        "input": "efficientnet-tiny-input.f32", "input_shape": [BATCH, 3, RESOLUTION, RESOLUTION],
    }
    for tf, file in ((False, "efficientnet-tiny-timm-real.safetensors"),
                     (True, "efficientnet-tiny-timm-tf-real.safetensors")):
        name, model = tiny_timm(tf)
        state = {k: v.clone() for k, v in model.state_dict().items()}
        shapes = {k: list(v.shape) for k, v in state.items()}
        assert shapes == renamed, f"{name}: timm's tiny network differs from the renamed torchvision one: " \
            f"{sorted(k for k in set(shapes) | set(renamed) if shapes.get(k) != renamed.get(k))}"
        write_safetensors(out(file), state)
        expected[name] = {
            "file": file,
            "generator": {"channel_multiplier": WIDTH, "depth_multiplier": DEPTH, "num_classes": CLASSES,
                          **(TF_KWARGS if tf else {})},
            **settings(model),
            **outputs(model, x),
        }
    with open(out("efficientnet-tiny-timm-expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    with open(out("efficientnet-b0-timm-tensors.json"), "w") as f:
        f.write(tensor_list_json({"source": expected["source"], "models": full_size_tensors()}))
    for name in ("efficientnet-tiny-timm-real.safetensors", "efficientnet-tiny-timm-tf-real.safetensors",
                 "efficientnet-tiny-timm-expected.json", "efficientnet-b0-timm-tensors.json"):
        print(f"{os.path.getsize(out(name)):>9} {out(name)}", file=sys.stderr)


if __name__ == "__main__":
    main()
