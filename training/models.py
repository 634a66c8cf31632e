"""The two classifier architectures: a small conv backbone, then GAP + Linear or GAP + MLP.

forward() returns (logits, features): features is the last conv feature map after its activation,
the exact input of global average pooling, which Grad-CAM needs and the ONNX file exposes.
"""
import torch
from torch import nn


def conv_bn(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Backbone(nn.Module):
    """128x128 -> C x 8 x 8; two convs per stage, stride 2 at the start of each stage."""

    def __init__(self, widths=(16, 32, 64, 96)) -> None:
        super().__init__()
        layers = []
        cin = 3
        for w in widths:
            layers += [conv_bn(cin, w, 2), conv_bn(w, w, 1)]
            cin = w
        self.body = nn.Sequential(*layers)
        self.out_channels = cin

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class GapLinear(nn.Module):
    """Head: GAP -> Linear. Grad-CAM weights are then exactly W[c, k] / (H*W)."""

    def __init__(self, num_classes: int = 2, dropout: float = 0.3, widths=(16, 32, 64, 96)) -> None:
        super().__init__()
        self.backbone = Backbone(widths)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(self.backbone.out_channels, num_classes)

    def forward(self, x):
        features = self.backbone(x)
        pooled = features.mean(dim=(2, 3))
        return self.fc(self.dropout(pooled)), features


class GapMlp(nn.Module):
    """Head: GAP -> Linear -> HardSwish -> Linear, so Grad-CAM must backpropagate through an MLP."""

    def __init__(self, num_classes: int = 2, hidden: int = 64, dropout: float = 0.3, widths=(16, 32, 64, 96)) -> None:
        super().__init__()
        self.backbone = Backbone(widths)
        self.fc1 = nn.Linear(self.backbone.out_channels, hidden)
        self.act = nn.Hardswish()
        self.dropout = nn.Dropout(dropout)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x):
        features = self.backbone(x)
        pooled = features.mean(dim=(2, 3))
        return self.fc2(self.dropout(self.act(self.fc1(pooled)))), features


ARCHS = {"gap-linear": GapLinear, "gap-mlp": GapMlp}
