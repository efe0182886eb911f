"""The same batch files as dump-batches.mjs, made the way the reference's code makes them (HistDataset, rough, S = 32):
cv.imread (BGR, reordered to RGB here so that the files match ours), the mask / 255 thresholded at 0.5,
albumentations' ShiftScaleRotate(0.0625, 0.1, 15, p=0.5) and HorizontalFlip(p=0.3) done with OpenCV as
albumentations 1.x does (rotation about (w / 2, h / 2), bilinear image, nearest mask, BORDER_REFLECT_101), then
F.interpolate (nearest) to S x S; a shuffled order each epoch, the last partial batch dropped.
Needs Debian's python3-torch and python3-opencv:
  /usr/bin/python3 scripts/training-gap/reference_batches.py <split.json> <dsb2018 folder> <out folder> [epochs] [seed]
"""
import json, os, random, sys
import cv2 as cv
import numpy as np
import torch
import torch.nn.functional as F

split_file, root, out = sys.argv[1:4]
epochs = int(sys.argv[4]) if len(sys.argv) > 4 else 100
seed = int(sys.argv[5]) if len(sys.argv) > 5 else 0
S, BATCH = 32, 16
os.makedirs(out, exist_ok=True)
split = json.load(open(split_file))


def load(sample_id):
    image = cv.imread(f'{root}/images/{sample_id}.png')
    mask = cv.imread(f'{root}/masks/{sample_id}.png', cv.IMREAD_GRAYSCALE).astype(np.float64) / 255.
    return image, (mask > 0.5).astype(np.float64)


train = [load(i) for i in sorted(split['train'])]
valid = [load(i) for i in sorted(split['valid'])]
rnd = random.Random(seed)
order_gen = torch.Generator().manual_seed(seed)


def augment(image, mask):
    if rnd.random() < 0.5:
        angle, scale = rnd.uniform(-15, 15), rnd.uniform(0.9, 1.1)
        dx, dy = rnd.uniform(-0.0625, 0.0625), rnd.uniform(-0.0625, 0.0625)
        h, w = image.shape[:2]
        m = cv.getRotationMatrix2D((w / 2, h / 2), angle, scale)
        m[0, 2] += dx * w
        m[1, 2] += dy * h
        image = cv.warpAffine(image, m, (w, h), flags=cv.INTER_LINEAR, borderMode=cv.BORDER_REFLECT_101)
        mask = cv.warpAffine(mask, m, (w, h), flags=cv.INTER_NEAREST, borderMode=cv.BORDER_REFLECT_101)
    if rnd.random() < 0.3:
        image, mask = cv.flip(image, 1), cv.flip(mask, 1)
    return image, mask


def to_input(image, mask):
    x = F.interpolate(torch.from_numpy(image[..., ::-1].copy()).permute(2, 0, 1).float()[None], S)[0]
    y = F.interpolate(torch.from_numpy(mask)[None, None].float(), S)[0, 0]
    return x.permute(1, 2, 0).numpy(), y.numpy()


def write(name, pairs):
    xs, ys = zip(*pairs)
    np.stack(xs).astype('<f4').tofile(f'{out}/{name}_x.f32')
    np.stack(ys).astype('<f4').tofile(f'{out}/{name}_y.f32')


write('valid', [to_input(*p) for p in valid])
for e in range(epochs):
    order = torch.randperm(len(train), generator=order_gen).tolist()[: len(train) // BATCH * BATCH]
    write(f'train{e}', [to_input(*augment(*train[i])) for i in order])
    print(f'epoch {e + 1}/{epochs}', flush=True)
