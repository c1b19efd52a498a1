"""Byte-level readers/writers, one module per container format. No pixels or samples are decoded."""
