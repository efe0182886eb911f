"""Writes test/fixtures/torch_resize.json.gz: PyTorch's own answers for the resize cases the shared goldens do not
cover (size pairs where float32 and exact-rational nearest indices differ; bilinear with align_corners=False).

Run with Debian's python3-torch: /usr/bin/python3 scripts/make_torch_resize_fixture.py
"""
import gzip, json
import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.default_rng(20231)

def exact(i, o):
    return [min(k * i // o, i - 1) for k in range(o)]

def torch_nearest_idx(i, o):
    x = torch.arange(i, dtype=torch.float32).reshape(1, 1, 1, i)
    return F.interpolate(x, size=(1, o)).flatten().long().tolist()

# Size pairs where the float32 scale PyTorch uses picks other pixels than exact arithmetic would.
pairs = []
for i in range(1, 400):
    for o in range(1, 400):
        if exact(i, o) != torch_nearest_idx(i, o):
            pairs.append((i, o))
chosen = [pairs[k] for k in rng.choice(len(pairs), 40, replace=False)]
chosen += [(1388, 64), (64, 1388), (10000, 64), (64, 10000), (1040, 37)]
nearest = [{"in": i, "out": o, "source": torch_nearest_idx(i, o)} for i, o in chosen]

bilinear = []
for _ in range(30):
    h, w = rng.integers(1, 40, size=2).tolist()
    oh, ow = rng.integers(1, 60, size=2).tolist()
    c = int(rng.choice([1, 3]))
    x = rng.random((1, c, h, w), dtype=np.float32)
    y = F.interpolate(torch.from_numpy(x), size=(oh, ow), mode="bilinear", align_corners=False)
    bilinear.append({
        "in": [h, w], "out": [oh, ow], "channels": c,
        # HWC order, as our rasters lie.
        "input": x[0].transpose(1, 2, 0).flatten().tolist(),
        "output": y[0].numpy().transpose(1, 2, 0).flatten().tolist(),
    })

with gzip.open("test/fixtures/torch_resize.json.gz", "wt") as f:
    json.dump({"torch": torch.__version__, "nearestPairsDiffering": len(pairs), "nearest": nearest, "bilinear": bilinear}, f)
print(f"{len(pairs)} differing pairs under 400; wrote {len(nearest)} nearest and {len(bilinear)} bilinear cases")
