"""The paper's reference U-Net (Benčević et al.'s unet.py) in PyTorch, shared by the fixture scripts: [conv 3x3 without
bias, batch norm, ReLU] x 2 per block, 4 poolings, 2 x 2 transposed convolutions, 1 x 1 convolution and sigmoid."""
import torch
import torch.nn as nn


def block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class UNet(nn.Module):
    def __init__(self, cin, f):
        super().__init__()
        w = [f, 2 * f, 4 * f, 8 * f]
        self.down = nn.ModuleList([block(cin if i == 0 else w[i - 1], w[i]) for i in range(4)])
        self.bottom = block(w[3], 16 * f)
        self.up = nn.ModuleList([nn.ConvTranspose2d(2 * w[i], w[i], 2, stride=2) for i in range(4)])
        self.dec = nn.ModuleList([block(2 * w[i], w[i]) for i in range(4)])
        self.head = nn.Conv2d(f, 1, 1)

    def forward(self, x):
        skips = []
        for d in self.down:
            x = d(x)
            skips.append(x)
            x = nn.functional.max_pool2d(x, 2)
        x = self.bottom(x)
        for i in range(3, -1, -1):
            x = self.dec[i](torch.cat([self.up[i](x), skips[i]], 1))
        return torch.sigmoid(self.head(x))


def in_our_layout(m):
    """The model's parameters under our layer names (src/models/unet.ts), in tfjs layouts (HWIO kernels; transposed
    convolutions H, W, out, in): what a test or script needs to start our U-Net from PyTorch's weights."""
    layers = {}

    def block(name, seq):
        for k, part in ((0, 1), (3, 2)):
            layers[f'{name}_{part}_conv'] = [seq[k].weight.permute(2, 3, 1, 0)]
            bn = seq[k + 1]
            layers[f'{name}_{part}_bn'] = [bn.weight, bn.bias, bn.running_mean, bn.running_var]

    for i in range(4):
        block(f'enc{i + 1}', m.down[i])
        block(f'dec{i + 1}', m.dec[i])
        layers[f'upconv{i + 1}'] = [m.up[i].weight.permute(2, 3, 1, 0), m.up[i].bias]
    block('bottleneck', m.bottom)
    layers['head'] = [m.head.weight.permute(2, 3, 1, 0), m.head.bias]
    return layers
