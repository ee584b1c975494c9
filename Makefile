# `make run` sets up and starts the web chat + HTTP API; `make ask Q=...` asks on the command line;
# `make test` sets up and runs the tests.
VENV := .venv
PY := $(VENV)/bin/python
Q ?= 外泌体是怎么提取分离的?
HOST ?= 127.0.0.1
PORT ?= 7860

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, pinned: the CPU wheel on disk; an unpinned torch pulls GBs of CUDA packages.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[st,test,langchain,llamaindex,mcp]'
	touch $@

run: $(VENV)/.installed
	HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False $(VENV)/bin/exoqa serve --host $(HOST) --port $(PORT)

ask: $(VENV)/.installed
	$(VENV)/bin/exoqa ask "$(Q)"

# The browser tests drive Debian's Chromium (never `playwright install`); CJK fonts make the screenshot legible.
# Installed when missing; if that cannot be done the run stops here, so the browser tests are never left out.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@echo "make: $(CHROMIUM) is missing; installing Debian's chromium and fonts-noto-cjk for the browser tests"
	@SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	{ $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk; } \
	|| { echo "make: could not install chromium (run as root or with sudo: apt-get install chromium fonts-noto-cjk);" \
	          "the browser tests need it, so the tests were not run" >&2; exit 1; }
	@test -x $(CHROMIUM) || { echo "make: apt-get finished but $(CHROMIUM) is still missing" >&2; exit 1; }

test: $(VENV)/.installed $(CHROMIUM)
	HF_HUB_OFFLINE=1 $(VENV)/bin/pytest -q

# The benchmark suite (docs/performance.md); QUICK=1 for the short CI-sized run.
bench: $(VENV)/.installed
	HF_HUB_OFFLINE=1 $(PY) -m benchmarks.run $(if $(QUICK),--quick)

# Re-take docs/screenshot.png (desktop) and docs/screenshot-phone.png from the browser tests (a normal test run
# writes them to a temporary folder).
screenshot: $(VENV)/.installed $(CHROMIUM)
	HF_HUB_OFFLINE=1 EXOQA_SCREENSHOTS=$(CURDIR)/docs $(VENV)/bin/pytest -q tests/test_browser.py \
		-k "highlighted_quote or phone_screenshot"

.PHONY: run ask test bench screenshot
