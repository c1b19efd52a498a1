"""Build of the optional compiled parts (metadata lives in pyproject.toml).

cnai.corpus._wordscan speeds up the corpus detector's keyword and name-cue pass, cnai.corpus._namescan the
person-name CRF (cnai.corpus.namemodel). Both are optional: when no C compiler is available the install goes on
and the detector and the name model use their pure-Python paths (same results).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("cnai.corpus._wordscan", ["src/cnai/corpus/_wordscan.c"], optional=True,
                             extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter",
                                                 "-Wno-missing-field-initializers"]),
                   # the name CRF (cnai.corpus.namemodel); no FP contraction: marginals must equal crfsuite's
                   # (-O3 keeps IEEE semantics without -ffast-math; about 5 % faster than -O2 here)
                   Extension("cnai.corpus._namescan", ["src/cnai/corpus/_namescan.c"], optional=True,
                             extra_compile_args=["-O3", "-std=c11", "-ffp-contract=off", "-Wall", "-Wextra",
                                                 "-Wno-unused-parameter", "-Wno-missing-field-initializers"])])
