"""A1111 entry point: the ``Smoothie Dataset`` tab (code in ``smoothie.webui.tab``)."""

from smoothie.webui.tab import register

register()
