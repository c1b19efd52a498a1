"""Compliance gateway: an OpenAI-compatible reverse proxy that enforces the runtime duties.

Library layout: policy.py (policy file model + default), matching.py (the one adapter to the keyword
engine and the PI detector), stream.py (chunk-proof streaming interception), chainlog.py (hash-chained
SQLite log), app.py (the ASGI app). The CLI (cnai.cli.gateway) is a thin layer over these.
"""
