"""`cnai label watermark embed|detect`: the invisible image watermark (cnai.label.watermark)."""

from __future__ import annotations

import click

from cnai.cli.label import _finish, _printer, batch_opts, producer_opts


def _wm():
    # imported when a command runs, so `cnai label --help` works without numpy/Pillow installed
    from cnai.label import watermark

    return watermark


@click.group()
def watermark() -> None:
    """Invisible image watermark carrying a 48-bit payload tied to the implicit label.

    The mark survives JPEG, downscaling, cropping and screenshots that strip metadata; `classify` counts a
    decoded mark as a confirmed AI label. Images only (PNG, JPEG, WebP, TIFF, BMP in; HEIF read).
    """


@watermark.command()
@producer_opts(producer_help="ContentProducer: the 27-character provider code.",
               produce_id_help="ProduceID; default: a new unique ID per file (in the output record). For many "
               "files use {n} (file number) or {stem} (file name) in it.",
               out_help="Write watermarked copies here (originals are never changed).", out_required=True)
@click.option("--strength", type=click.FloatRange(0.2, 4.0), default=1.0, show_default=True,
              help="1.0 = about 41 dB PSNR; higher is more robust and more visible.")
@click.option("--quality", type=click.IntRange(50, 100), default=95, show_default=True,
              help="JPEG/WebP output quality.")
@click.option("--metadata/--no-metadata", default=True, show_default=True,
              help="Also write the implicit metadata label with the same fields.")
@click.option("--resume", is_flag=True, help="Skip files whose output already exists.")
@batch_opts
def embed(paths, producer, produce_id, label_value, outdir, strength, quality, metadata, resume, fmt, workers,
          progress) -> None:
    """Add the invisible watermark (and the metadata label) to copies of the images."""
    res = _wm().embed_batch(paths, out=outdir, producer=producer, produce_id=produce_id, label=label_value,
                            strength=strength, quality=quality, metadata=metadata, resume=resume, workers=workers,
                            progress=progress, on_record=_printer(fmt))
    _finish(res, fmt, outputs=True)


@watermark.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--producer", help="Check the mark against this ContentProducer code.")
@click.option("--produce-id", help="Check the mark against this ProduceID.")
@batch_opts
def detect(paths, producer, produce_id, fmt, workers, progress) -> None:
    """Look for the watermark. Without --producer/--produce-id the file's own metadata label (if any) is the
    comparison. Exit 0 when every file was read (marked or not), 1 when a file could not be read."""
    res = _wm().detect_batch(paths, producer=producer, produce_id=produce_id, workers=workers, progress=progress,
                             on_record=_printer(fmt))
    _finish(res, fmt)
