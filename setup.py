"""Build of the optional compiled parts (metadata lives in pyproject.toml).

cnai.corpus._wordscan speeds up the corpus detector's keyword and name-cue pass; it is optional: when no
C compiler is available the install goes on and the detector uses its pure-Python path (same results).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("cnai.corpus._wordscan", ["src/cnai/corpus/_wordscan.c"], optional=True,
                             extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter",
                                                 "-Wno-missing-field-initializers"])])
