# `make run` sets up and asks a sample question; `make test` sets up and runs the tests.
VENV := .venv
PY := $(VENV)/bin/python
Q ?= 外泌体是怎么提取分离的?

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, pinned: the CPU wheel on disk; an unpinned torch pulls GBs of CUDA packages.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[st,test]'
	touch $@

run: $(VENV)/.installed
	$(VENV)/bin/exoqa ask "$(Q)"

test: $(VENV)/.installed
	HF_HUB_OFFLINE=1 $(VENV)/bin/pytest -q

.PHONY: run test
