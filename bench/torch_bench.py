#!/usr/bin/python3
"""PyTorch side of bench/compare-pytorch.sh.

Times torchvision's EfficientNet (weights=None, i.e. random initialisation) on synthetic data the way
`efficientnet benchmark` times ours: W untimed warm-up iterations, then K timed ones; inference is one forward pass
in eval mode under torch.inference_mode(); training is forward + cross-entropy + backward + one plain SGD step
(torch.optim.SGD(lr), no momentum, no weight decay). Prints one JSON object with the same keys as
`efficientnet benchmark --json` where they have a counterpart.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

DEFAULT_RESOLUTION = {"b0": 224, "b1": 240, "b2": 260, "b3": 300, "b4": 380, "b5": 456, "b6": 528, "b7": 600}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variant", default="b0", choices=sorted(DEFAULT_RESOLUTION))
    p.add_argument("--mode", default="inference", choices=["inference", "train"])
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--resolution", type=int, help="square input size (default: the variant's)")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default: 2)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--learning-rate", type=float, default=0.01)
    p.add_argument("--num-classes", type=int, default=1000)
    a = p.parse_args(argv)
    for name in ("batch_size", "iterations", "threads", "num_classes"):
        if getattr(a, name) < 1:
            p.error("--%s must be >= 1, got %d" % (name.replace("_", "-"), getattr(a, name)))
    if a.warmup < 0:
        p.error("--warmup must be >= 0, got %d" % a.warmup)
    return a


def main(argv):
    a = parse_args(argv)
    import torch
    import torchvision

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    resolution = a.resolution or DEFAULT_RESOLUTION[a.variant]
    model = getattr(torchvision.models, "efficientnet_" + a.variant)(weights=None, num_classes=a.num_classes)
    x = torch.randn(a.batch_size, 3, resolution, resolution)
    train = a.mode == "train"
    if train:
        model.train()
        labels = torch.randint(0, a.num_classes, (a.batch_size,))
        optimizer = torch.optim.SGD(model.parameters(), lr=a.learning_rate)
        loss_fn = torch.nn.CrossEntropyLoss()

        def step():
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(x), labels).backward()
            optimizer.step()
    else:
        model.eval()

        def step():
            with torch.inference_mode():
                model(x)

    for _ in range(a.warmup):
        step()
    ms = []
    for _ in range(a.iterations):
        t0 = time.perf_counter()
        step()
        ms.append((time.perf_counter() - t0) * 1000.0)
    ips = [a.batch_size * 1000.0 / t for t in ms]
    out = {
        "model": "torchvision efficientnet_" + a.variant,
        "mode": a.mode,
        "batchSize": a.batch_size,
        "inputShape": [3, resolution, resolution],
        "params": sum(p.numel() for p in model.parameters()),
        "warmup": a.warmup,
        "iterations": a.iterations,
        "seed": a.seed,
        "optimizer": ("SGD, learning rate %s, no momentum, no weight decay" % a.learning_rate) if train else None,
        "imagesPerSecondMedian": statistics.median(ips),
        "imagesPerSecondMin": min(ips),
        "imagesPerSecondMax": max(ips),
        "iterationMsMedian": statistics.median(ms),
        "iterationMsMin": min(ms),
        "iterationMsMax": max(ms),
        "iterationMs": ms,
        "memory": {
            "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "method": "getrusage ru_maxrss of the Python process (peak resident set size)",
        },
        "backend": {
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "threads": torch.get_num_threads(),
            "interopThreads": torch.get_num_interop_threads(),
            "mkldnn": torch.backends.mkldnn.is_available(),
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
            "python": sys.version.split()[0],
        },
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
