"""The law as data: instruments, articles, concepts, duties, parameters, cases, topics (see docs/law.md).

Library API (the CLI's verbs):
    load() -> KnowledgeBase                                   the knowledge base (`cnai law list/show`)
    search(query, top=10, lang=None) -> list[Hit]             `cnai law search`
    guide(as_of=None, since=None, question=None, lang="en")   `cnai law guide` (render with guide_render)
    changes(start, end) -> list[Change]                       `cnai law changes`
    parameters() / param_value(name, on)                      `cnai law params`
    stats(kb) -> dict                                         `cnai law stats`

Note: `cnai.law.search` and `cnai.law.guide` are the functions; their modules stay importable with
`from cnai.law.search import Index` etc. (the modules are loaded here first, so the names stay bound to
the functions).
"""

from __future__ import annotations

import cnai.law.guide as _guide_module
import cnai.law.search as _search_module
from cnai.law.changes import changes
from cnai.law.kb import load
from cnai.law.params import parameters
from cnai.law.params import value as param_value
from cnai.law.stats import stats

search = _search_module.search
guide = _guide_module.guide
guide_render = _guide_module.render

__all__ = ["load", "search", "guide", "guide_render", "changes", "parameters", "param_value", "stats"]
