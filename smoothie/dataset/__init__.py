"""The dataset pipeline: a folder of images → a clean LoRA training set (``python -m smoothie dataset prep``).

Modules: :mod:`~smoothie.dataset.options` (the validated parameters), :mod:`~smoothie.dataset.scan`
(finding and decoding files), :mod:`~smoothie.dataset.quality` (blur, near-duplicates),
:mod:`~smoothie.dataset.faces` (faces, direction, shot), :mod:`~smoothie.dataset.colours`,
:mod:`~smoothie.dataset.caption` (schema, vocabulary, template, compounds, lint, left/right),
:mod:`~smoothie.dataset.crop`, :mod:`~smoothie.dataset.classify`, :mod:`~smoothie.dataset.analyzers`
(WD14, transformers, callables), :mod:`~smoothie.dataset.cooccur`, :mod:`~smoothie.dataset.export`,
:mod:`~smoothie.dataset.pipeline` (the run) and :mod:`~smoothie.dataset.cli`.

Importing this package is cheap: numpy, Pillow and OpenCV are imported inside the functions that use them.
"""
