#!/usr/bin/env bash
# Rebuilds the small pretrained backbone the examples and the notebook transfer from
# (efficientnet-examples/models/fashion-mnist-backbone.zip): EfficientNet at B0's block table, width 0.5, depth 0.5,
# 32x32, trained from scratch with config/fashion-backbone.yaml on the Fashion-MNIST classes t-shirt, trouser,
# pullover, dress and coat (all 30,000 training images; validated on their 5,000 test images).
#
#   scripts/train-fashion-backbone.sh [WORK_DIR]      (default build/fashion-backbone)
#
# Needs Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist) and python3; takes about 12 minutes on
# an idle 2-core machine. Prints the source classes' validation accuracy of the shipped weights (the
# EMA weights of the best epoch), which the model card (efficientnet-examples/models/README.md) records.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-$root/build/fashion-backbone}"
data="$work/data"
run="$work/run"
if [[ ! -d /usr/share/datasets/fashion-mnist ]]; then
  echo "train-fashion-backbone: /usr/share/datasets/fashion-mnist not found; apt-get install dataset-fashion-mnist" >&2
  exit 2
fi
rm -rf "$data" "$run"
python3 "$root/scripts/fashion-mnist-folders.py" "$data" t-shirt trouser pullover dress coat
"$root/bin/efficientnet" train --config "$root/config/fashion-backbone.yaml" --data "$data" --output "$run" \
    --no-progress
"$root/bin/efficientnet" evaluate --model "$run/model-best.zip" --data "$data/val" --json > "$work/evaluation.json"
python3 - "$work/evaluation.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("source-task validation: top-1 %.2f%% on %d images" % (100 * r["top1"], r["count"]))
PY
mkdir -p "$root/efficientnet-examples/models"
cp "$run/model-best.zip" "$root/efficientnet-examples/models/fashion-mnist-backbone.zip"
echo "wrote efficientnet-examples/models/fashion-mnist-backbone.zip ($(stat -c %s "$run/model-best.zip") bytes)"
