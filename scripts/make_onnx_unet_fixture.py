"""Writes test/fixtures/onnx/: the reference's U-Net (Benčević et al.'s unet.py: [conv 3x3 without bias, batch norm,
ReLU] x 2 per block, 4 poolings, 2 x 2 transposed convolutions, 1 x 1 convolution and sigmoid) at 4 initial
features and S = 32, exported from PyTorch to ONNX in eval mode as a PyTorch user would export theirs
(`torch.onnx.export`, NCHW, dynamic batch), with a sidecar saying how it is fed, and PyTorch's outputs on fixed
inputs, so that the tests can check that a network we did not train runs in our pipeline as it runs in PyTorch.

Fixed seeds; the batch norms get non-trivial running statistics (a few training-mode passes) so that their folding
is exercised. Run with Debian's python3-torch: /usr/bin/python3 scripts/make_onnx_unet_fixture.py
"""
import gzip, json
import torch

from reference_unet import UNet

torch.manual_seed(2023)
S, C, F = 32, 3, 4



m = UNet(C, F)
# Running statistics away from (0, 1): a few passes in training mode over inputs on the reference's 0..255 scale.
m.train()
with torch.no_grad():
    for _ in range(5):
        m(torch.rand(4, C, S, S) * 255)
m.eval()
# A freshly initialised head maps everything to about 0.4; a steeper one gives maps on both sides of 0.5, so that
# the tests' masks are not all empty.
with torch.no_grad():
    m.head.weight.mul_(40)

# Inputs as our pipeline feeds a network: 8-bit pixel values as floats (whole numbers), here blobs plus noise so the maps
# are not all saturated.
yy, xx = torch.meshgrid(torch.arange(S, dtype=torch.float32), torch.arange(S, dtype=torch.float32), indexing="ij")
inputs = []
for k in range(3):
    cx, cy, r = 8 + 6 * k, 20 - 4 * k, 5 + 2 * k
    blob = (((xx - cx) ** 2 + (yy - cy) ** 2) < r * r).float() * 180
    x = blob.expand(C, S, S) + torch.rand(C, S, S) * 60
    inputs.append(x.clamp(0, 255).round())
batch = torch.stack(inputs)
with torch.no_grad():
    out = m(batch)

torch.onnx.export(m, batch, "test/fixtures/onnx/reference-unet.onnx", input_names=["input"], output_names=["output"],
                  dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=13)
with open("test/fixtures/onnx/reference-unet.onnx.json", "w") as f:
    json.dump({"layout": "NCHW", "input": {"scale": "0-255"}, "output": "probability"}, f, indent=2)
    f.write("\n")
with gzip.open("test/fixtures/onnx/reference-unet-outputs.json.gz", "wt") as f:
    json.dump({
        "torch": torch.__version__, "size": S, "channels": C, "features": F,
        # HWC order, as our rasters lie.
        "inputs": [x.permute(1, 2, 0).flatten().tolist() for x in inputs],
        "outputs": [y[0].flatten().tolist() for y in out],
    }, f)
print(f"parameters {sum(t.numel() for t in m.parameters())}; output range {out.min().item():.4f}..{out.max().item():.4f}, mean {out.mean().item():.4f}")
