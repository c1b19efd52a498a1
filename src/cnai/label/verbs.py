"""The label commands as library calls: `cnai label embed|read|check|classify|propagate|visible` are these
functions (the CLI only parses arguments and prints). Each takes paths (files or folders, walked recursively),
returns a BatchResult with one record per file, and never stops on one bad file.

    from cnai.label import embed
    res = embed(["photos/"], producer="001191110102MACQD9K64010000", out="labelled/")
    res.exit_code, res.tally.line(), [r["path"] for r in res.records if r.get("error")]
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from cnai.errors import InputError
from cnai.label.batch import Interrupted, Tally, expand, run

DUPLICATE = "\x00duplicate"


@dataclass
class BatchResult:
    verb: str
    records: list[dict] = field(default_factory=list)
    total: int = 0                      # files the batch was given (after walking folders)
    tally: Tally | None = None
    interrupted: int | None = None      # the signal number when SIGINT/SIGTERM stopped the batch

    @property
    def exit_code(self) -> int:
        """130/143 when stopped by a signal; 1 when any file failed (or there was none); else 0.
        `check` also fails when any file lacks a valid label; `conformance` when any file does not conform
        (on a corpus folder with corpus_expected.yaml: when any reading differs from its expectation)."""
        if self.interrupted:
            return 128 + self.interrupted
        if not self.records:
            return 1
        if self.verb == "check":
            return 0 if all(r.get("ok") for r in self.records) else 1
        if self.verb == "conformance":
            if any(r.get("error") for r in self.records):
                return 1
            if any("expected_match" in r for r in self.records):  # a corpus: does each reading match?
                return 0 if all(r.get("expected_match", True) for r in self.records) else 1
            return 0 if all(r.get("conforms") in ("yes", "unclear") for r in self.records) else 1
        return 1 if any(r.get("error") for r in self.records) else 0


def _collect(verb: str, items: list, fn: Callable, *, workers: int, progress: bool | None,
             on_record: Callable[[dict], None] | None, status_key: str | None = None,
             post: Callable[[dict], None] | None = None, threads: bool = False) -> BatchResult:
    res = BatchResult(verb, total=len(items), tally=Tally(verb))
    try:
        for rec in run(items, fn, workers=workers, progress=progress, desc=verb, threads=threads):
            if post:
                post(rec)
            res.tally.add(rec, rec.get(status_key) if status_key else None)
            res.records.append(rec)
            if on_record:
                on_record(rec)
    except Interrupted as e:
        res.interrupted = e.signum
    return res


def _outputs(paths: Iterable[str], out: str | None, in_place: bool, resume: bool = False) -> list:
    if bool(out) == bool(in_place):
        raise InputError("give exactly one of -o OUTDIR or --in-place", field="-o/--in-place")
    if resume and in_place:
        raise InputError("works only with -o OUTDIR (in place, rerun the same command: labelled files are "
                         "left unchanged)", field="--resume")
    return [(s, s if in_place else d) for s, d in expand(paths, out)]


def _id_for(template: str | None, n: int, src: str, many: bool) -> str | None:
    if template is None:
        return None
    if many and "{n}" not in template and "{stem}" not in template:
        raise InputError("one --produce-id for many files would not be unique; use {n} or {stem} in it",
                         field="--produce-id/--propagate-id")
    stem = os.path.splitext(os.path.basename(src))[0]
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)
    return template.replace("{n}", str(n)).replace("{stem}", stem)


_KEY = None


def _priv(sign: bool, *, load: bool = False):
    """The signing key, loaded once per batch (before any file is touched) and kept in a module global so
    forked workers inherit it (key objects cannot be pickled)."""
    global _KEY
    if not sign:
        return None
    if load or _KEY is None:
        from cnai.label.integrity import load_private_key

        _KEY = load_private_key()
    return _KEY


def _pre(src: str, dst: str | None, resume: bool) -> dict | None:
    """A record for items that are not processed: duplicate outputs, and outputs done by an earlier run."""
    if dst == DUPLICATE:
        return {"path": src, "output": None, "status": "error", "error": "two inputs map to the same output",
                "skip_reason": "duplicate output path"}
    if resume and dst and os.path.lexists(dst):
        return {"path": src, "output": dst, "status": "done earlier", "error": None}
    return None


_C2PA = None  # C2PA credentials, loaded once per batch (module global, like _KEY, for forked workers)


def _embed_one(item, *, producer, produce_id, label, in_place, fill, hash_only, sign, dst_type, many, hash_alg,
               allow_damaged, resume):
    from cnai.label.api import embed_file

    n, (src, dst) = item
    pre = _pre(src, dst, resume)
    if pre:
        return pre
    return embed_file(src, dst, producer=producer, produce_id=_id_for(produce_id, n, src, many), label=label,
                      in_place=in_place, fill_propagator=fill, hash_only=hash_only, priv=_priv(sign),
                      digital_source_type=dst_type, hash_alg=hash_alg, allow_damaged=allow_damaged, c2pa=_C2PA)


def embed(paths: Iterable[str], *, producer: str, out: str | None = None, in_place: bool = False,
          produce_id: str | None = None, label: str = "1", fill_propagator: bool = False, hash: bool = False,
          sign: bool = False, iptc: bool = False, hash_alg: str = "sha256", allow_damaged: bool = False,
          resume: bool = False, workers: int | None = 1, progress: bool | None = False,
          on_record: Callable[[dict], None] | None = None, c2pa_cert: str | None = None,
          c2pa_key: str | None = None) -> BatchResult:
    """Write (or replace) the implicit label; pixels and samples are never re-encoded. `out` (a folder) or
    `in_place`; `resume` skips files whose output exists (from an interrupted run). With `c2pa_cert` (PEM
    chain) and `c2pa_key` (PEM file, else $CNAI_C2PA_KEY) a signed C2PA manifest is added after the label."""
    global _C2PA
    from cnai.label.api import check_field, validate_code, validate_label_value
    from cnai.label.xmp import DST_AI

    validate_label_value(label)
    validate_code(producer, "--producer")
    check_field(produce_id, "--produce-id")
    items = list(enumerate(_outputs(paths, out, in_place, resume), 1))
    if produce_id:
        _id_for(produce_id, 1, "x", len(items) > 1)
    if sign:
        _priv(True, load=True)  # fail early, before any file is touched
    _C2PA = None
    if c2pa_key and not c2pa_cert:
        raise InputError("needs --c2pa-cert CHAIN.pem too", field="--c2pa-key")
    if c2pa_cert:
        from cnai.label.c2pa_side import load_credentials

        if label != "1":
            raise InputError("C2PA signing states the content is AI-generated (c2pa.created with an AI source "
                             "type); use it with --label 1", field="--c2pa-cert")
        _C2PA = load_credentials(c2pa_cert, c2pa_key)
    fn = functools.partial(_embed_one, producer=producer, produce_id=produce_id, label=label, in_place=in_place,
                           fill=fill_propagator, hash_only=hash, sign=sign, dst_type=DST_AI if iptc else None,
                           many=len(items) > 1, hash_alg=hash_alg, allow_damaged=allow_damaged, resume=resume)
    # -j N: worker threads for plain labelling (its time goes to system calls that release the GIL); processes
    # when signing (SM2 key objects, c2pa-python) -- thread safety of those libraries is not promised.
    # workers=None (the CLI's -j auto): two threads for plain labelling of several files on 2+ cores, so the
    # kernel's copy of one file overlaps the parsing of the next; one worker when signing (process start-up
    # would cost more than it saves on a typical batch)
    threads = not sign and _C2PA is None
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if threads and len(items) > 1 else 1
    return _collect("embed", items, fn, workers=workers, progress=progress, on_record=on_record,
                    threads=threads)


def load_anchors(path: str | None) -> bytes | None:
    """C2PA trust anchors (PEM certificates) for --c2pa-trust."""
    if not path:
        return None
    try:
        data = open(path, "rb").read()
    except OSError as e:
        raise InputError(f"cannot read trust anchors: {e.strerror}", path=path) from None
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise InputError("not a PEM file of certificates", path=path)
    return data


def read(paths: Iterable[str], *, c2pa_trust: str | None = None, workers: int = 1,
         progress: bool | None = False, on_record: Callable[[dict], None] | None = None) -> BatchResult:
    """The labels each file carries and where they were found (plus IPTC/C2PA findings and damage)."""
    from cnai.label.api import read_file

    items = [s for s, _ in expand(paths)]
    fn = functools.partial(read_file, c2pa_trust=load_anchors(c2pa_trust))
    return _collect("read", items, fn, workers=workers, progress=progress, on_record=on_record)


def _check_status(rec: dict) -> None:
    rec["status"] = "ok" if rec.get("ok") else "failed"


def check(paths: Iterable[str], *, trust: Iterable[str] = (), loose_charset: bool = False,
          c2pa_trust: str | None = None, workers: int = 1, progress: bool | None = False,
          on_record: Callable[[dict], None] | None = None) -> BatchResult:
    """Provider-side conformance; exit_code 1 if any file lacks a valid implicit label or carries a bad one."""
    from cnai.label.api import check_file
    from cnai.label.integrity import load_trusted

    trusted = load_trusted(list(trust)) if trust else None
    items = [s for s, _ in expand(paths)]
    fn = functools.partial(check_file, trusted=trusted, strict_charset=not loose_charset,
                           c2pa_trust=load_anchors(c2pa_trust))
    return _collect("check", items, fn, workers=workers, progress=progress, on_record=on_record,
                    post=_check_status)


def is_declared(src: str, declared) -> bool:
    if declared is None:
        return False
    if declared == "*":
        return True
    return os.path.abspath(src) in declared or os.path.basename(src) in declared


def load_declared(value: str | None):
    """--declared: '*' (all), a file listing paths one per line, or a comma-separated list."""
    if value is None:
        return None
    if value == "*":
        return "*"
    if os.path.isfile(value):
        from cnai.core.loaders import read_text

        names = [ln.strip() for ln in read_text(value, what="list of declared files").splitlines()
                 if ln.strip() and not ln.startswith("#")]
    else:
        names = [x.strip() for x in value.split(",") if x.strip()]
    return {os.path.abspath(x) if os.sep in x else x for x in names}


def _classify_one(src, *, declared, watermark=True):
    from cnai.label.api import classify_file

    return classify_file(src, declared=is_declared(src, declared), watermark=watermark)


def classify(paths: Iterable[str], *, declared=None, watermark: bool = True, workers: int = 1,
             progress: bool | None = False, on_record: Callable[[dict], None] | None = None) -> BatchResult:
    """Platform-side category per file (Labeling Measures Art. 6): confirmed, possible, suspected or none.
    `declared`: None, '*', or a set of paths/names (see load_declared); `watermark=False` skips the search for
    cnai's invisible watermark in images that carry no valid metadata label."""
    items = [s for s, _ in expand(paths)]
    return _collect("classify", items, functools.partial(_classify_one, declared=declared, watermark=watermark),
                    workers=workers, progress=progress, on_record=on_record, status_key="category")


def _prop_one(item, *, propagator, propagate_id, in_place, declared, hash_only, sign, many, hash_alg,
              allow_damaged, resume):
    from cnai.label.api import propagate_file

    n, (src, dst) = item
    pre = _pre(src, dst, resume)
    if pre:
        return pre
    return propagate_file(src, dst, propagator=propagator, propagate_id=_id_for(propagate_id, n, src, many),
                          in_place=in_place, declared=is_declared(src, declared), hash_only=hash_only,
                          priv=_priv(sign), hash_alg=hash_alg, allow_damaged=allow_damaged)


def propagate(paths: Iterable[str], *, propagator: str, out: str | None = None, in_place: bool = False,
              propagate_id: str | None = None, declared=None, hash: bool = False, sign: bool = False,
              hash_alg: str = "sha256", allow_damaged: bool = False, resume: bool = False, workers: int = 1,
              progress: bool | None = False, on_record: Callable[[dict], None] | None = None) -> BatchResult:
    """Add ContentPropagator/PropagateID without touching producer fields (Measures Art. 6)."""
    from cnai.label.api import check_field, validate_code

    validate_code(propagator, "--propagator")
    check_field(propagate_id, "--propagate-id")
    items = list(enumerate(_outputs(paths, out, in_place, resume), 1))
    if sign:
        _priv(True, load=True)
    if propagate_id:
        _id_for(propagate_id, 1, "x", len(items) > 1)
    fn = functools.partial(_prop_one, propagator=propagator, propagate_id=propagate_id, in_place=in_place,
                           declared=declared, hash_only=hash, sign=sign, many=len(items) > 1, hash_alg=hash_alg,
                           allow_damaged=allow_damaged, resume=resume)
    return _collect("propagate", items, fn, workers=workers, progress=progress, on_record=on_record)


def _visible_one(item, *, resume, **opts):
    from cnai.label.visible import visible_file

    src, dst = item
    pre = _pre(src, dst, resume) if dst != DUPLICATE else None
    return pre or visible_file(item, **opts)


def visible(paths: Iterable[str], *, out: str, text: str = "AI生成", position: str = "bottom-right",
            seconds: float = 3.0, persistent: bool = False, text_mode: str = "prefix", audio_where: str = "start",
            audio_mode: str = "rhythm", voice_text: str = "本内容由人工智能生成", resume: bool = False,
            workers: int = 1, progress: bool | None = False,
            on_record: Callable[[dict], None] | None = None) -> BatchResult:
    """Explicit labels: image text, video burn-in (ffmpeg), audio Morse 'AI' rhythm or voice, text prefix/suffix."""
    from cnai.label.visible import check_text

    probs = check_text(text)
    if probs:
        raise InputError("; ".join(probs), field="--text")
    if audio_mode != "rhythm" and check_text(voice_text):
        raise InputError("; ".join(check_text(voice_text)), field="--voice-text")
    if not out:
        raise InputError("an output folder is required", field="-o")
    items = expand(paths, out)
    fn = functools.partial(_visible_one, resume=resume, text=text, position=position, seconds=seconds,
                           persistent=persistent, text_mode=text_mode, audio_where=audio_where,
                           audio_mode=audio_mode, voice_text=voice_text)
    return _collect("visible", items, fn, workers=workers, progress=progress, on_record=on_record)


def code(uscc: str | None = None, *, service: str = "1", app_code: str = "0000", check: str | None = None) -> dict:
    """Build a 27-character provider code from a USCC (GB 32100 check character verified), or describe `check`."""
    from cnai.label.codes import build_provider_code, describe_provider_code

    if check:
        return describe_provider_code(check)
    if not uscc:
        raise InputError("give a USCC or --check CODE", field="USCC")
    return describe_provider_code(build_provider_code(uscc, service, app_code))


def keygen(out: str, alg: str = "ed25519") -> str:
    """Create a signing key file for --sign (Ed25519, or SM2 with `alg="sm2"`) and return the public key
    (base64url). The file is a secret: it is created new (never replacing a file or following a link) with
    mode 0600 whatever the umask. Its content is what CNAI_LABEL_SIGNING_KEY takes."""
    import base64

    from cnai.label.integrity import SM2Key, public_b64

    if alg not in ("ed25519", "sm2"):
        raise InputError("must be ed25519 or sm2", field="--alg")
    if os.path.lexists(out):
        raise InputError("refusing to overwrite an existing key file", path=out)
    if alg == "sm2":
        k = SM2Key.generate()
        text = "sm2:" + base64.b64encode(k.secret_bytes()).decode()
    else:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        k = Ed25519PrivateKey.generate()
        text = base64.b64encode(k.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                                serialization.NoEncryption())).decode()
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as e:
        raise InputError(f"cannot create the key file: {e.strerror}", path=out) from None
    with os.fdopen(fd, "w") as fh:
        fh.write(text + "\n")
    return public_b64(k)
