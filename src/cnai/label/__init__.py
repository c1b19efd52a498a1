"""GB 45438-2025 AI-generated content labels: implicit (metadata) and explicit (visible/audible).

Library entry points (the CLI in cnai.cli.label is a thin layer over these):

- :func:`cnai.label.api.read_file`      -> what labels a file carries and where
- :func:`cnai.label.api.embed_file`     -> write/replace the implicit label (lossless, atomic)
- :func:`cnai.label.api.check_file`     -> provider-side conformance findings
- :func:`cnai.label.api.classify_file`  -> platform-side category (Labeling Measures Art. 6)
- :func:`cnai.label.api.propagate_file` -> add propagator fields without touching producer fields
- :mod:`cnai.label.visible`              -> explicit labels for images, audio, video and text
"""

from cnai.label.model import KEYS, AIGCLabel

__all__ = ["KEYS", "AIGCLabel"]
