"""The reference's training (its U-Net at 32 features, PyTorch's own initialisation from torch.manual_seed(seed), Adam
lr 5e-4, batch soft Dice with smooth 1, batch 16) fed from batch files (dump-batches.mjs or reference_batches.py);
after each epoch the mean per-image validation DSC at S x S in eval mode, by the reference's rule (an empty truth
scores 1 when the prediction is empty too). One JSON line per epoch, as the reference's epoch logs.
  /usr/bin/python3 scripts/training-gap/train_pytorch_on_batches.py <batches folder> <epochs> <seed> [--dump-init <file>]
--dump-init writes the initial weights in our layer names and layouts (for train-ours-on-batches.mjs) and stops.
"""
import base64, json, os, sys, time
import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))
from reference_unet import UNet, in_our_layout  # noqa: E402

src, epochs, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
S, C, BATCH = 32, 3, 16
torch.set_num_threads(int(os.environ.get('STS_THREADS', '1')))
torch.manual_seed(seed)
model = UNet(C, 32)

if '--dump-init' in sys.argv:
    encode = lambda t: base64.b64encode(t.detach().contiguous().numpy().astype('<f4').tobytes()).decode('ascii')
    json.dump({n: [{'shape': list(t.shape), 'float32': encode(t)} for t in ts] for n, ts in in_our_layout(model).items()},
              open(sys.argv[sys.argv.index('--dump-init') + 1], 'w'))
    sys.exit(0)


def load(name):
    x = np.fromfile(f'{src}/{name}_x.f32', dtype='<f4').reshape(-1, S, S, C).transpose(0, 3, 1, 2)
    y = np.fromfile(f'{src}/{name}_y.f32', dtype='<f4').reshape(-1, 1, S, S)
    return torch.from_numpy(x.copy()), torch.from_numpy(y.copy())


def dsc(p, t):
    p, t = p > 0.5, t > 0.5
    if not t.any():
        return 0.0 if p.any() else 1.0
    return 2 * (p & t).sum() / (p.sum() + t.sum())


optimizer = torch.optim.Adam(model.parameters(), lr=5e-4)
valid_x, valid_y = load('valid')
for epoch in range(epochs):
    started = time.time()
    model.train()
    x, y = load(f'train{epoch}')
    losses = []
    for i in range(0, x.shape[0] - BATCH + 1, BATCH):
        optimizer.zero_grad()
        p, t = model(x[i:i + BATCH]).reshape(-1), y[i:i + BATCH].reshape(-1)
        loss = 1 - (2 * (p * t).sum() + 1) / (p.sum() + t.sum() + 1)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        pv = model(valid_x).numpy()
    val = float(np.mean([dsc(pv[i, 0], valid_y[i, 0].numpy()) for i in range(pv.shape[0])]))
    print(json.dumps({'epoch': epoch + 1, 'loss': float(np.mean(losses)), 'val_dsc': val, 's': round(time.time() - started, 1)}), flush=True)
