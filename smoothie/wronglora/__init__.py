"""The wrong-LoRA kit: make the negative "wrong" LoRA for a model from the model itself.

Generate images of typical flaws through the WebUI (:mod:`~smoothie.wronglora.dataset`, from the catalogue in
:mod:`~smoothie.wronglora.catalogue`), write them in kohya's layout with an sd-scripts dataset config and
training command (:mod:`~smoothie.wronglora.kohya`), and train and install the LoRA with the user's own
sd-scripts (:mod:`~smoothie.wronglora.train`). ``python -m smoothie wrong-lora …`` (:mod:`~smoothie.wronglora.cli`).
"""
