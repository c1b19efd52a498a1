"""Training-data audit (GB/T 45654 §5): personal information, the 31 risks, sampling, sources.

Library API (the CLI `cnai corpus ...` is a thin layer over it): `audit(paths, out_dir, ...)` -> summary;
`check_sources(register)` -> scraping risk per source; `Detector` for text-level findings.
"""


def __getattr__(name):  # lazy: importing cnai.corpus stays cheap
    if name in ("audit", "scan", "AuditInterrupted", "read_options", "make_detector"):
        from cnai.corpus import api

        return getattr(api, name)
    if name == "check_sources":
        from cnai.corpus.scraping import check_sources

        return check_sources
    if name == "Detector":
        from cnai.corpus.detect import Detector

        return Detector
    raise AttributeError(name)


__all__ = ["audit", "scan", "AuditInterrupted", "check_sources", "Detector", "read_options", "make_detector"]
