#!/usr/bin/python3
"""Writes classes of Debian's dataset-fashion-mnist as an image-folder tree: OUT/train/<class>/*.png from the
60,000 training images and OUT/val/<class>/*.png from the 10,000 test images.

Standard library only (PNGs are written with zlib):  apt-get install dataset-fashion-mnist
Usage: scripts/fashion-mnist-folders.py OUT [CLASS ...]   (default: all ten classes)
"""
import gzip
import os
import struct
import sys
import zlib

SRC = "/usr/share/datasets/fashion-mnist"
CLASSES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"]


def read_idx(images_file, labels_file):
    with gzip.open(os.path.join(SRC, labels_file)) as f:
        magic, n = struct.unpack(">II", f.read(8))
        assert magic == 2049, labels_file
        labels = f.read(n)
    with gzip.open(os.path.join(SRC, images_file)) as f:
        magic, n2, rows, cols = struct.unpack(">IIII", f.read(16))
        assert magic == 2051 and n2 == n, images_file
        pixels = f.read(n * rows * cols)
    return [(labels[i], pixels[i * rows * cols:(i + 1) * rows * cols], rows, cols) for i in range(n)]


def png(pixels, rows, cols):
    """An 8-bit grayscale PNG of row-major pixels."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + pixels[r * cols:(r + 1) * cols] for r in range(rows))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", cols, rows, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def write_split(samples, out, split, wanted):
    counts = {}
    for index, (label, pixels, rows, cols) in enumerate(samples):
        name = CLASSES[label]
        if name not in wanted:
            continue
        folder = os.path.join(out, split, name)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "%05d.png" % index), "wb") as f:
            f.write(png(pixels, rows, cols))
        counts[name] = counts.get(name, 0) + 1
    return counts


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    wanted = sys.argv[2:] or CLASSES
    unknown = [c for c in wanted if c not in CLASSES]
    if unknown:
        sys.exit("unknown classes %s; known: %s" % (unknown, CLASSES))
    if not os.path.isdir(SRC):
        sys.exit("%s not found: apt-get install dataset-fashion-mnist" % SRC)
    train = write_split(read_idx("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"), out, "train", wanted)
    val = write_split(read_idx("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"), out, "val", wanted)
    print("wrote %d training and %d validation images of %s to %s"
          % (sum(train.values()), sum(val.values()), ", ".join(wanted), out))


if __name__ == "__main__":
    main()
