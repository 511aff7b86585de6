"""A1111 entry point: the ``Smoothie`` dropdown script (code in ``smoothie.webui``)."""

from smoothie.webui import register
from smoothie.webui.script import SmoothieScript, SmoothieXYZ

register()

__all__ = ["SmoothieScript", "SmoothieXYZ"]
