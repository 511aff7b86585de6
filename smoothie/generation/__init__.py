"""What one Smoothie run means, decided in the core: the run plan that every host adapter applies.

``plan_run(params, family=…, lora_files=…)`` gives a frozen :class:`RunPlan` (prompt edits, CFG, guidance,
the ensemble's texts and weights per mode, the negative LoRA and its message); :func:`ensemble_conditioning`
builds one batch's positive conditioning from it with the host's text encoder; :func:`comparison_cells` lists
the comparison grid. Host-free (no ``modules``, no ``gradio``), and torch is only imported when tensors flow.
"""

from __future__ import annotations

from smoothie.generation.ensemble import (
    ENCODE_BATCH,
    Encoder,
    EnsembleConditioning,
    EnsembleError,
    EnsemblePlan,
    PromptSyntax,
    WeightedPart,
    encode_texts,
    ensemble_conditioning,
    split_batch,
)
from smoothie.generation.grid import SWEEP_CFGS, GridCell, SweepGrid, caption_image, comparison_cells, sweep_cells
from smoothie.generation.guidance import GuidanceMode, GuidancePlan, GuidanceSession
from smoothie.generation.lora import LoraChoice, choose_lora, find_lora_file
from smoothie.generation.model import ModelFamily, detect_family
from smoothie.generation.plan import (
    ERROR_KEY,
    GENERIC_KEY,
    MODEL_KEY,
    NOTE_KEY,
    PARAPHRASE_KEY,
    RunPlan,
    RunRecord,
    default_paraphraser,
    embedding_words,
    keep_for,
    model_value,
    plan_run,
)

__all__ = [
    "ENCODE_BATCH",
    "ERROR_KEY",
    "GENERIC_KEY",
    "MODEL_KEY",
    "NOTE_KEY",
    "PARAPHRASE_KEY",
    "SWEEP_CFGS",
    "Encoder",
    "EnsembleConditioning",
    "EnsembleError",
    "EnsemblePlan",
    "GridCell",
    "GuidanceMode",
    "GuidancePlan",
    "GuidanceSession",
    "LoraChoice",
    "ModelFamily",
    "PromptSyntax",
    "RunPlan",
    "RunRecord",
    "SweepGrid",
    "WeightedPart",
    "caption_image",
    "choose_lora",
    "comparison_cells",
    "default_paraphraser",
    "detect_family",
    "embedding_words",
    "encode_texts",
    "ensemble_conditioning",
    "find_lora_file",
    "keep_for",
    "model_value",
    "plan_run",
    "split_batch",
    "sweep_cells",
]
