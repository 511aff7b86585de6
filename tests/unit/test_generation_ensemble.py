"""The prompt ensemble's texts, weights and conditioning per mode (smoothie.generation.ensemble)."""

from __future__ import annotations

import pytest
import torch

from smoothie.generation import (
    EnsembleError,
    EnsemblePlan,
    RunRecord,
    encode_texts,
    ensemble_conditioning,
    plan_run,
    split_batch,
)
from smoothie.generation.model import ModelFamily
from smoothie.params import EnsembleMode, SmoothieParams
from tests.unit.generation_fakes import TOKENS, FakeEncoder, FakeParaphraser, FakeSyntax

PROMPT = "a photo of a cat in a garden"


def _plan(mode: str = "average", n: int = 4, first: int = 0, long_from: int | None = None) -> EnsemblePlan:
    return EnsemblePlan(EnsembleMode.parse(mode), n, FakeParaphraser(n, long_from), first=first)


def _condition(plan, prompts, encoder=None, *, first_image=0, steps=10, hires_steps=None, syntax=None, batch=64):
    return ensemble_conditioning(
        plan,
        prompts,
        first_image=first_image,
        syntax=syntax or FakeSyntax(),
        encoder=encoder or FakeEncoder(),
        steps=steps,
        hires_steps=hires_steps,
        encode_batch=batch,
    )


def _mean(tensors) -> torch.Tensor:
    return torch.stack(list(tensors)).mean(0)


def test_members_per_mode():
    for mode in ("average", "composable"):
        members = _plan(mode).members(PROMPT, 5)
        assert [t for t, _ in members] == [f"v{k} {PROMPT}" for k in range(4)]
        assert [w for _, w in members] == [0.25] * 4
    per_image = _plan("per-image", first=1)
    assert [per_image.members(PROMPT, k) for k in range(5)] == [((f"v{(1 + k) % 4} {PROMPT}", 1.0),) for k in range(5)]


class _Repeating:
    """A prompt engine that found fewer distinct paraphrases than asked and repeated them (as rewrite does)."""

    def __init__(self, texts):
        self.texts = tuple(texts)

    def __call__(self, prompt):
        from smoothie.prompt import Rewrite

        return Rewrite(prompt, prompt, (), self.texts, "fake", ())


@pytest.mark.parametrize("mode", ["average", "composable"])
def test_repeated_paraphrases_are_one_member_weighted_by_their_count(mode):
    plan = EnsemblePlan(EnsembleMode.parse(mode), 8, _Repeating(["a", "b", "a", "c", "a", "b", "a", "a"]))
    assert plan.members(PROMPT, 0) == (("a", 5 / 8), ("b", 2 / 8), ("c", 1 / 8))
    enc = FakeEncoder()
    result = _condition(plan, [PROMPT], enc)
    weights = [5 / 8, 2 / 8, 1 / 8]
    if mode == "average":
        ((part,),) = result.positions
        ((_, cond),) = part.schedule
        expected = sum(w * enc.cross(t) for w, t in zip(weights, "abc", strict=True))
        torch.testing.assert_close(cond, expected)
    else:
        (parts,) = result.positions
        assert [p.weight for p in parts] == weights


def test_a_prompt_that_is_its_only_paraphrase_is_conditioned_exactly_as_without_the_ensemble():
    # "(:1.2) BREAK" has no words to paraphrase: all 8 members are the prompt. Summing 8 equal float32 terms of
    # weight 1/8 is off by an ulp in about half the elements, which changes the image; one member of weight 1 is not.
    plan = EnsemblePlan(EnsembleMode.AVERAGE, 8, _Repeating(["(:1.2) BREAK"] * 8))
    assert plan.members("(:1.2) BREAK", 0) == (("(:1.2) BREAK", 1.0),)
    enc = FakeEncoder()
    ((part,),) = _condition(plan, ["(:1.2) BREAK"], enc).positions
    assert part.weight == 1.0
    ((_, cond),) = part.schedule
    assert torch.equal(cond, enc.cross("(:1.2) BREAK"))


def test_paraphrases_are_computed_once_per_prompt():
    plan = _plan()
    for image in range(6):
        plan.members(PROMPT, image)
    assert plan.paraphraser.calls == [PROMPT]  # type: ignore[attr-defined]


def test_average_is_the_mean_of_the_paraphrase_encodings_in_one_part():
    enc = FakeEncoder()
    result = _condition(_plan(), [PROMPT], enc)
    (parts,) = result.positions
    assert len(parts) == 1, "average mode gives one conditioning per image: UNet cost independent of N"
    assert parts[0].weight == 1.0
    ((end, cond),) = parts[0].schedule
    assert end == 10
    torch.testing.assert_close(cond, _mean(enc.cross(f"v{k} {PROMPT}") for k in range(4)))
    assert len(enc.calls) == 1, "all paraphrases are encoded in one batch"
    assert result.encoded == 4
    assert enc.empty_calls == 0, "equal lengths need no padding"


def test_sdxl_average_includes_the_pooled_vector():
    enc = FakeEncoder("sdxl")
    ((part,),) = _condition(_plan(), [PROMPT], enc).positions
    cond = part.schedule[0][1]
    assert list(cond) == ["crossattn", "vector"]
    paras = [f"v{k} {PROMPT}" for k in range(4)]
    torch.testing.assert_close(cond["crossattn"], _mean(enc.cross(t) for t in paras))
    torch.testing.assert_close(cond["vector"], _mean(enc.vector(t) for t in paras))


def test_flux_guidance_is_copied_not_averaged():
    enc = FakeEncoder("flux", guidance=3.3)
    ((part,),) = _condition(_plan(n=3), [PROMPT], enc).positions
    cond = part.schedule[0][1]
    assert list(cond) == ["crossattn", "vector", "guidance"]
    assert torch.equal(cond["guidance"], torch.tensor(3.3))
    torch.testing.assert_close(cond["vector"], _mean(enc.vector(f"v{k} {PROMPT}") for k in range(3)))


def test_flux_members_that_disagree_on_guidance_are_refused():
    class Disagreeing(FakeEncoder):
        def encode(self, texts):
            out = super().encode(texts)
            out["guidance"] = torch.arange(len(texts), dtype=torch.float32)
            return out

    with pytest.raises(EnsembleError, match="guidance"):
        _condition(_plan(n=3), [PROMPT], Disagreeing("flux"))


def test_composable_gives_one_part_per_paraphrase_with_weight_one_over_n():
    enc = FakeEncoder()
    (parts,) = _condition(_plan("composable"), [PROMPT], enc).positions
    assert [p.weight for p in parts] == [0.25] * 4
    for k, part in enumerate(parts):
        assert torch.equal(part.schedule[0][1], enc.cross(f"v{k} {PROMPT}"))
    assert enc.empty_calls == 0


def test_per_image_gives_each_image_its_paraphrase_and_records_it():
    enc = FakeEncoder()
    plan = _plan("per-image")
    # second batch of three images: images 3, 4, 5 use paraphrases 3, 0, 1 of 4
    result = _condition(plan, [PROMPT] * 3, enc, first_image=3)
    for pos, want in enumerate([3, 0, 1]):
        (part,) = result.positions[pos]
        assert part.weight == 1.0
        assert torch.equal(part.schedule[0][1], enc.cross(f"v{want} {PROMPT}"))
    assert dict(result.used) == {3: 3, 4: 0, 5: 1}


def test_per_image_pasted_parameters_reproduce_image_k():
    """Image 2 of a batch records paraphrase 2; its parameters pasted back make image 0 of a new run the same."""
    enc = FakeEncoder()
    para = FakeParaphraser(4)
    params = SmoothieParams(ensemble_size=4, mode="per-image", rescale=0.0, negative_lora="")
    first_run = plan_run(params, family=ModelFamily.SD1, paraphraser=para)
    record = RunRecord(first_run)
    assert first_run.ensemble is not None
    batch = _condition(first_run.ensemble, [PROMPT] * 3, enc)
    record.paraphrase_used.update(batch.used)
    info = {**record.infotext(), "Smoothie paraphrase": record.paraphrase_for(2)}
    assert info["Smoothie paraphrase"] == "2"

    pasted = SmoothieParams.from_infotext(info)
    assert pasted.paraphrase == 2
    second_run = plan_run(pasted, family=ModelFamily.SD1, paraphraser=para)
    assert second_run.ensemble is not None
    again = _condition(second_run.ensemble, [PROMPT], enc)
    assert torch.equal(again.positions[0][0].schedule[0][1], batch.positions[2][0].schedule[0][1])
    assert dict(again.used) == {0: 2}


def test_per_image_first_is_ignored_in_other_modes():
    params = SmoothieParams(ensemble_size=4, mode="average", paraphrase=3)
    plan = plan_run(params, family=ModelFamily.SD1, paraphraser=FakeParaphraser(4))
    assert plan.ensemble is not None
    assert plan.ensemble.first == 0


def test_different_lengths_are_padded_with_the_empty_prompt():
    # texts encoded in one batch come back padded alike (the host does it); texts of different batches may not
    enc = FakeEncoder()
    ((part,),) = _condition(_plan(long_from=2), [PROMPT], enc, batch=2).positions
    cond = part.schedule[0][1]
    assert cond.shape == (2 * TOKENS, enc.channels)
    paras = [FakeParaphraser(4, long_from=2).paraphrase(PROMPT, k) for k in range(4)]
    assert [enc.chunks(t) for t in paras] == [1, 1, 2, 2]
    assert [len(c) for c in enc.calls] == [2, 2]
    torch.testing.assert_close(cond, _mean(enc.padded(t, 2) for t in paras))
    assert enc.empty_calls == 1


def test_sdxl_padding_applies_to_crossattn_only():
    enc = FakeEncoder("sdxl")
    ((part,),) = _condition(_plan(long_from=3), [PROMPT], enc, batch=3).positions
    cond = part.schedule[0][1]
    assert cond["crossattn"].shape == (2 * TOKENS, enc.channels)
    assert cond["vector"].shape == (enc.vector_size,)


def test_and_parts_and_prompt_editing_are_kept():
    enc = FakeEncoder()
    (parts,) = _condition(_plan(), ["a red [cat:dog:5] on a sofa AND a lamp :0.5"], enc).positions
    assert [p.weight for p in parts] == [1.0, 0.5]
    assert [end for end, _ in parts[0].schedule] == [5, 10]
    first, second = (c for _, c in parts[0].schedule)
    torch.testing.assert_close(first, _mean(enc.cross(f"v{k} a red cat on a sofa") for k in range(4)))
    torch.testing.assert_close(second, _mean(enc.cross(f"v{k} a red dog on a sofa") for k in range(4)))
    torch.testing.assert_close(parts[1].schedule[0][1], _mean(enc.cross(f"v{k} a lamp") for k in range(4)))


def test_composable_multiplies_member_and_part_weights():
    (parts,) = _condition(_plan("composable", n=2), ["a cat AND a lamp :0.5"]).positions
    assert [p.weight for p in parts] == [0.5, 0.25, 0.5, 0.25]


def test_average_refuses_paraphrases_with_different_and_shapes():
    class Broken(FakeParaphraser):
        def paraphrase(self, prompt, k):
            return f"v{k} {prompt}" + (" AND extra" if k == 1 else "")

    plan = EnsemblePlan(EnsembleMode.AVERAGE, 3, Broken(3))
    with pytest.raises(EnsembleError, match="different AND parts"):
        _condition(plan, ["a cat"])
    composable = EnsemblePlan(EnsembleMode.COMPOSABLE, 3, Broken(3))
    (parts,) = _condition(composable, ["a cat"]).positions  # composable takes any shape
    assert len(parts) == 4


def test_hires_prompts_get_their_own_paraphrases_and_steps():
    enc = FakeEncoder()
    syntax = FakeSyntax()
    plan = _plan("per-image")
    first = _condition(plan, [PROMPT, PROMPT], enc, syntax=syntax, steps=20)
    hires = _condition(plan, ["a sharp photo", "a sharp photo"], enc, syntax=syntax, steps=20, hires_steps=8)
    assert syntax.hires_steps_seen == [None, 8]
    assert hires.positions[0][0].schedule[0][0] == 8
    assert torch.equal(hires.positions[1][0].schedule[0][1], enc.cross("v1 a sharp photo"))
    assert dict(first.used) == dict(hires.used) == {0: 0, 1: 1}, "the hires pass uses the image's paraphrase"


def test_batches_of_different_prompts():
    enc = FakeEncoder()
    result = _condition(_plan(), ["a cat", "a dog"], enc)
    torch.testing.assert_close(result.positions[1][0].schedule[0][1], _mean(enc.cross(f"v{k} a dog") for k in range(4)))


def test_large_ensembles_are_encoded_in_bounded_batches():
    enc = FakeEncoder()
    _condition(_plan(n=100), [PROMPT], enc)
    assert [len(c) for c in enc.calls] == [64, 36]


def test_the_encoders_tensors_are_not_modified():
    class Keeping(FakeEncoder):
        def encode(self, texts):
            out = super().encode(texts)
            self.returned = out.clone()
            self.original = out
            return out

    enc = Keeping()
    _condition(_plan(), [PROMPT], enc)
    assert torch.equal(enc.original, enc.returned)


def test_encode_texts_dedupes_and_split_batch_checks_sizes():
    enc = FakeEncoder()
    out = encode_texts(enc, ["a", "b", "a"])
    assert list(out) == ["a", "b"]
    assert enc.calls == [["a", "b"]]
    with pytest.raises(EnsembleError, match="returned 2 conditionings for 3"):
        split_batch(torch.zeros(2, 4), 3)
    with pytest.raises(EnsembleError, match="batch sizes"):
        split_batch({"crossattn": torch.zeros(2, 4), "vector": torch.zeros(3, 2)}, 2)


def test_an_empty_prompt_raises_for_the_host_to_fall_back():
    with pytest.raises(ValueError, match="empty"):
        _condition(_plan(), [""])


def test_with_the_real_prompt_engine():
    """The rules backend's paraphrases keep AND parts and weights, so average mode holds on real output."""
    params = SmoothieParams(ensemble_size=6, rescale=0.0, negative_lora="")
    plan = plan_run(params, family=ModelFamily.SDXL)
    assert plan.ensemble is not None
    result = _condition(plan.ensemble, ["a photo of Emma Watson in Paris AND a red umbrella :0.6"], FakeEncoder("sdxl"))
    (parts,) = result.positions
    assert [round(p.weight, 6) for p in parts] == [1.0, 0.6]
    paras = plan.ensemble.paraphrases("a photo of Emma Watson in Paris AND a red umbrella :0.6")
    assert len(paras) == 6
    assert not any("Emma Watson" in t for t in paras)
