# Two entry points do all set-up on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXTRAS := dev,label,assess,corpus,dossier,web,gateway,provenance,names,watermark,label-sign,label-docs
STAMP := $(VENV)/.installed

.PHONY: demo test lint sysdeps venv bench clean

# Debian packages each capability needs, one per line in deps/apt/*.txt.
sysdeps:
	@pkgs=$$(cat deps/apt/*.txt 2>/dev/null | sed 's/#.*//' | tr -s ' \n' ' '); \
	missing=""; for p in $$pkgs; do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# setup.py builds the compiled corpus scanner: a change to it or to the C source reinstalls (rebuilds).
$(STAMP): pyproject.toml setup.py src/cnai/corpus/_wordscan.c src/cnai/corpus/_namescan.c
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[$(EXTRAS)]"
	@touch $(STAMP)

venv: sysdeps $(STAMP)

demo: venv
	@for s in demo/*.sh; do echo "== $$s"; bash $$s || exit 1; done
	@echo; echo "Reports are in demo-output/"

lint: venv
	$(BIN)/ruff check src tests benchmarks

test: venv lint
	$(BIN)/python -m pytest -n 2 --durations=15

bench: venv
	@for s in benchmarks/*.py; do echo "== $$s"; $(BIN)/python $$s || exit 1; done

clean:
	rm -rf $(VENV) demo-output .pytest_cache
