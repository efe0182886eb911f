"""Writes test/fixtures/training-parity.json: the reference's U-Net (as in make_onnx_unet_fixture.py) at 2 initial
features and S = 32 trained for a few Adam steps in PyTorch exactly as the reference trains (batch soft Dice with
smooth 1, Adam with PyTorch's defaults, batch norm in training mode), from PyTorch's own initial weights, on fixed
batches: the initial weights in our layer names and layouts (float32, base64), every step's loss, and the network's eval-mode output
and batch norm running statistics afterwards. The test starts our U-Net from the same weights, runs our trainer's
own step on the same batches and must land on the same numbers, so that any difference in the training
arithmetic (loss, gradients, Adam, batch norm's statistics) between us and the reference shows as a failing test.

Run with Debian's python3-torch: /usr/bin/python3 scripts/make_training_parity_fixture.py
"""
import base64, json
import numpy as np
import torch

from reference_unet import UNet, in_our_layout

torch.manual_seed(2024)
S, C, F, BATCH, STEPS, LR = 32, 3, 2, 4, 12, 1e-3



def ours(m):
    """PyTorch's parameters under our layer names and layouts, as float32 base64."""
    return {name: [{'shape': list(t.shape), 'float32': b64(t.detach().contiguous().numpy().astype('<f4'))} for t in ts]
            for name, ts in in_our_layout(m).items()}


def b64(array):
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode('ascii')


def blobs(n):
    """Masks of one to three discs each, so that the Dice loss has something to learn."""
    yy, xx = torch.meshgrid(torch.arange(S), torch.arange(S), indexing='ij')
    out = torch.zeros(n, 1, S, S)
    for b in range(n):
        for _ in range(int(torch.randint(1, 4, ()))):
            cx, cy, r = torch.randint(4, S - 4, ()), torch.randint(4, S - 4, ()), torch.randint(3, 8, ())
            out[b, 0][(xx - cx) ** 2 + (yy - cy) ** 2 <= r * r] = 1
    return out


m = UNet(C, F)
initial = ours(m)
batches = []
for _ in range(3):
    y = blobs(BATCH)
    # Brighter where the mask is, plus noise: 0..255 integers, as the reference feeds RGB.
    x = torch.clamp(torch.round(60 + 120 * y.expand(-1, C, -1, -1) + 40 * torch.randn(BATCH, C, S, S)), 0, 255)
    batches.append((x, y))

opt = torch.optim.Adam(m.parameters(), LR)
losses = []
m.train()
for step in range(STEPS):
    x, y = batches[step % len(batches)]
    opt.zero_grad()
    pred = m(x)
    loss = 1 - (2 * (pred * y).sum() + 1) / (pred.sum() + y.sum() + 1)
    loss.backward()
    opt.step()
    losses.append(loss.item())

m.eval()
with torch.no_grad():
    output = m(batches[0][0][:1])[0, 0]

nhwc = lambda t: t.permute(0, 2, 3, 1).contiguous().numpy().astype(np.uint8)
fixture = {
    'about': 'scripts/make_training_parity_fixture.py: PyTorch ' + torch.__version__ + ', the reference U-Net at 2 features, S = 32',
    'size': S, 'channels': C, 'features': F, 'batch': BATCH, 'learningRate': LR,
    'initial': initial,
    'batches': [{'uint8Inputs': b64(nhwc(x)), 'uint8Masks': b64(nhwc(y))} for x, y in batches],
    'losses': losses,
    'evalOutput': [round(v, 7) for v in output.reshape(-1).tolist()],
    'finalBatchNorm': {'enc1_1_bn': [[round(v, 7) for v in m.down[0][1].running_mean.tolist()], [round(v, 7) for v in m.down[0][1].running_var.tolist()]],
                       'bottleneck_2_bn': [[round(v, 7) for v in m.bottom[4].running_mean.tolist()], [round(v, 7) for v in m.bottom[4].running_var.tolist()]]},
}
with open('test/fixtures/training-parity.json', 'w') as f:
    json.dump(fixture, f, separators=(',', ':'))
print('losses', [round(l, 5) for l in losses])
