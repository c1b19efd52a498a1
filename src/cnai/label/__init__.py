"""GB 45438-2025 AI-generated content labels: implicit (metadata) and explicit (visible/audible).

The library API is the CLI (`cnai label VERB`), one function per verb; each takes files or folders and returns a
cnai.label.verbs.BatchResult (records, tally, exit_code):

    from cnai.label import embed, read, check, classify, propagate, visible, code, keygen

One file at a time: cnai.label.api (read_file, embed_file, check_file, classify_file, propagate_file).
Containers: cnai.label.registry.carriers() (handlers registered on the `cnai.carriers` entry points).
"""

from cnai.label.model import KEYS, AIGCLabel

_VERBS = ("embed", "read", "check", "classify", "propagate", "visible", "code", "keygen", "BatchResult")

__all__ = ["KEYS", "AIGCLabel", *_VERBS]


def __getattr__(name: str):
    # lazy, so `import cnai.label` (and `cnai --help`) stays cheap
    if name in _VERBS:
        from cnai.label import verbs

        return getattr(verbs, name)
    raise AttributeError(f"module 'cnai.label' has no attribute {name!r}")
