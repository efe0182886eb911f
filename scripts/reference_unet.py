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
