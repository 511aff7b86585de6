"""A1111 entry point: the ``Smoothie`` dropdown script (code in ``smoothie.webui``)."""

from smoothie.webui import register
from smoothie.webui.script import SmoothieHooks, SmoothieScript

register()

__all__ = ["SmoothieHooks", "SmoothieScript"]
