"""The host layer (A1111, Forge, reForge): the only package that imports the WebUI's ``modules`` or ``gradio``.

``register()`` is called by ``scripts/smoothie_script.py`` each time the WebUI (re)loads its scripts: it adds the
callbacks (A1111's denoiser hook, settings, X/Y/Z axes) unless they are already registered. A1111 clears every callback
on a UI reload, so the guard looks at A1111's callback lists rather than at a module flag.
"""

from __future__ import annotations

from typing import Any


def _registered(kind: str, fn: Any) -> bool:
    from modules import script_callbacks

    return any(c.callback is fn for c in script_callbacks.callback_map.get(f"callbacks_{kind}", []))


def register() -> None:
    from modules import script_callbacks

    from smoothie.webui import host, run, settings, xyz

    # A1111 guides through combine_denoised; Forge never calls it and reForge's is a pass-through of an
    # already guided result, so there the guidance is a UNet patch (smoothie.webui.host) instead.
    if host.current().hooks_combine_denoised and not _registered("cfg_denoiser", run.on_cfg_denoiser):
        script_callbacks.on_cfg_denoiser(run.on_cfg_denoiser, name="smoothie guidance")
    if not _registered("ui_settings", settings.on_ui_settings):
        script_callbacks.on_ui_settings(settings.on_ui_settings, name="smoothie settings")
    if not _registered("before_ui", xyz.add_axes):
        script_callbacks.on_before_ui(xyz.add_axes, name="smoothie xyz axes")
