"""sd-webui-smoothie: noun-free prompt ensembles, CFG rescale, a negative LoRA and LoRA dataset preparation.

The core (everything outside :mod:`smoothie.webui`) imports neither A1111's ``modules`` nor ``gradio``;
``tests/unit/test_host_free.py`` enforces that.
"""

from __future__ import annotations

__version__ = "0.1.0"
