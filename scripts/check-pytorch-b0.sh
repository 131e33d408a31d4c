#!/usr/bin/env bash
# Checks the PyTorch weight import at full size: torchvision's efficientnet_b0 (1000 classes, 224 px, random weights
# with calibrated batch-norm statistics) is saved as a state_dict (.pth and
# .safetensors), converted with `bin/efficientnet convert --pytorch`,
# and the converted network's outputs (DL4J's layers and the default engine) are compared with PyTorch's float64
# outputs for the same input. The unit tests do the same on a small network whose files are committed; this one
# needs Debian's python3-torch and python3-torchvision (installed with apt-get when missing) and is not part of CI.
#
#   scripts/check-pytorch-b0.sh [WORK_DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-$(mktemp -d -t pytorch-b0.XXXXXX)}"
mkdir -p "$work"
if ! /usr/bin/python3 -c "import torch, torchvision" 2>/dev/null; then
  apt-get install -y -q python3-torch python3-torchvision
fi
/usr/bin/python3 "$root/scripts/make-pytorch-references.py" --full-b0 --output "$work"
# shellcheck source=bin/jvm-options
source "$root/bin/jvm-options"
for format in pth safetensors; do
  "$root/bin/efficientnet" convert --pytorch "$work/efficientnet-b0-torchvision.$format" --variant b0 \
    --output "$work/b0-$format.zip"
  # shellcheck disable=SC2086
  java -Xmx4g $jvm_kernel_options \
    -cp "$root/efficientnet-train/target/efficientnet-train-0.1.0-SNAPSHOT.jar:$(cat "$root/efficientnet-train/target/classpath.txt")" \
    "$root/scripts/PyTorchB0Check.java" "$work/b0-$format.zip" "$work/efficientnet-b0-input.f32" \
    "$work/efficientnet-b0-expected.json"
done
