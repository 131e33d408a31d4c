#!/usr/bin/python3
"""Builds datasets/fashion-mnist-mini (the quickstart data) from Debian's dataset-fashion-mnist package.

Run once by maintainers; the result is committed, so users need neither this script nor the package.
Needs Debian's python3 with python3-pil:  apt-get install dataset-fashion-mnist python3-pil
Usage: scripts/make-quickstart-data.py [TRAIN_PER_CLASS] [VAL_PER_CLASS]
"""
import importlib.util
import os
import shutil
import sys

from PIL import Image

# The IDX reader, the data folder and the class names are those of scripts/fashion-mnist-folders.py.
_spec = importlib.util.spec_from_file_location(
    "fashion_mnist_folders", os.path.join(os.path.dirname(os.path.abspath(__file__)), "fashion-mnist-folders.py"))
_folders = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_folders)
SRC, CLASSES, read_idx = _folders.SRC, _folders.CLASSES, _folders.read_idx
DEST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "datasets", "fashion-mnist-mini")


def write_split(samples, split, per_class):
    counts = [0] * len(CLASSES)
    for index, (label, pixels, rows, cols) in enumerate(samples):
        if counts[label] >= per_class:
            continue
        folder = os.path.join(DEST, split, CLASSES[label])
        os.makedirs(folder, exist_ok=True)
        Image.frombytes("L", (cols, rows), pixels).save(os.path.join(folder, "%05d.png" % index), optimize=True)
        counts[label] += 1
        if min(counts) >= per_class:
            break
    print(split, dict(zip(CLASSES, counts)))


def main():
    train_per_class = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    val_per_class = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    shutil.rmtree(os.path.join(DEST, "train"), ignore_errors=True)
    shutil.rmtree(os.path.join(DEST, "val"), ignore_errors=True)
    write_split(read_idx("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"), "train", train_per_class)
    write_split(read_idx("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"), "val", val_per_class)


if __name__ == "__main__":
    main()
