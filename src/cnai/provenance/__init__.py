"""Authorship evidence for AI-assisted works (issue #17): a tamper-evident creative log and a report.

Library API (the CLI `cnai provenance ...` is a thin layer over it):

    from cnai.provenance import Store
    st = Store.init("my-work/", title="Mountain series", author="Li Hua")
    e = st.add("generation", {"prompt": "...", "seed": 42, "outputs": [...]})
    st.verify()                       # -> VerifyResult(ok, entries, first_broken, reason)
    import_paths(st, ["outputs/"])    # WebUI / ComfyUI PNG chunks, JSON sidecars
    write_report(st, "report.html", pdf="report.pdf")
"""

from cnai.provenance.importers import import_paths, read_generation_record
from cnai.provenance.store import Entry, Store, VerifyResult

__all__ = ["Entry", "Store", "VerifyResult", "import_paths", "read_generation_record"]
