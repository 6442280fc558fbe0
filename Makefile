# The two commands of the README:
#   make book   set up .venv if needed, build the book into _build/html/
#   make test   same environment, then every test (unit, C simulation, notebooks, built site)
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
ENV_STAMP := $(VENV)/.compsparse-env
VENDOR := _vendor
BUILD := _build
JB_FLAGS := -W -n --keep-going
# pip's "Location ... is ignored" notes come from this machine's pip configuration, not from us
QUIET_PIP := { grep -v "^WARNING: Location" || true; }

.PHONY: help env ap-types book test test-unit test-site test-slow lint csim lock readme-figure clean

help:
	@echo "make book       build the book into $(BUILD)/html (sets up $(VENV) first)"
	@echo "make test       run every test: lint, unit, C simulation, notebooks, the built site"
	@echo "make test-slow  the long property-based and end-to-end runs"
	@echo "make lock       re-resolve the pinned environment into constraints.txt"
	@echo "make clean      remove $(BUILD) and $(VENDOR) (keeps $(VENV))"

# ---------------------------------------------------------------- environment
env: $(ENV_STAMP)

$(ENV_STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing the pinned environment into $(VENV) (first time: a few minutes)"
	$(PY) -m pip install --quiet -c constraints.txt -e ".[all]" 2>&1 | $(QUIET_PIP)
	$(PY) -m pip check 2>&1 | $(QUIET_PIP)
	$(MAKE) --no-print-directory ap-types
	@touch $@

# The Apache-2.0 ap_int/ap_fixed headers for C simulation of hls/ ship in the hls4ml wheel. Take
# only those files from it (not its Xilinx-proprietary hls_stream.h or ap_shift_reg.h) into the venv.
HLS4ML_WHEEL := hls4ml==1.3.0
AP_TYPES := $(VENV)/include/ap_types
AP_TYPES_FILES := ap_common.h ap_decl.h ap_fixed.h ap_fixed_base.h ap_fixed_ref.h ap_fixed_special.h \
	ap_int.h ap_int_base.h ap_int_ref.h ap_int_special.h etc/ap_private.h

ap-types: $(AP_TYPES)/ap_int.h

$(AP_TYPES)/ap_int.h:
	rm -rf $(VENV)/wheels/hls4ml && mkdir -p $(VENV)/wheels/hls4ml $(AP_TYPES)/etc
	$(PY) -m pip download --quiet --no-deps --dest $(VENV)/wheels/hls4ml $(HLS4ML_WHEEL) 2>&1 | $(QUIET_PIP)
	cd $(AP_TYPES) && $(abspath $(PY)) -c 'import sys, zipfile; \
	  z = zipfile.ZipFile(sys.argv[1]); pre = "hls4ml/templates/vivado/ap_types/"; \
	  [open(n, "wb").write(z.read(pre + n)) for n in sys.argv[2:]]' \
	  $(abspath $(VENV))/wheels/hls4ml/hls4ml-*.whl $(AP_TYPES_FILES)
	@echo "ap_types headers (Apache-2.0, from $(HLS4ML_WHEEL)) in $(AP_TYPES)"

$(VENDOR)/.versions: tools/fetch_web_assets.sh
	tools/fetch_web_assets.sh $(VENDOR)

# ---------------------------------------------------------------- book
# jupyter-cache re-runs a notebook only when its code cells change, and Sphinx re-reads only
# changed sources. Key both on everything else a chapter reads too (package, data, HLS sources,
# pins, the speech data source) and drop the execution cache and Sphinx's environment when that
# changes.
CACHE_KEY_INPUTS := src data hls pyproject.toml constraints.txt _config.yml

book: env $(VENDOR)/.versions
	@mkdir -p $(BUILD)
	@key=$$({ find $(wildcard $(CACHE_KEY_INPUTS)) -type f -not -path '*/__pycache__/*' \
	    -not -path '*/build/*' -print0 | sort -z | xargs -0 sha256sum; \
	    echo "COMPSPARSE_SPEECH=$$COMPSPARSE_SPEECH"; } | sha256sum | cut -c1-16); \
	  if [[ -f $(BUILD)/.cache-key && $$(cat $(BUILD)/.cache-key) != $$key ]]; then \
	    echo "package, data, pins or data source changed since the last build: re-executing every chapter"; \
	    rm -rf $(BUILD)/.jupyter_cache $(BUILD)/.doctrees; \
	  fi; \
	  echo $$key > $(BUILD)/.cache-key
	$(VENV)/bin/jupyter-book build $(JB_FLAGS) .
	@test -f $(BUILD)/html/index.html
	@echo "The book: $(abspath $(BUILD)/html/index.html)"

readme-figure: env
	$(PY) -m compsparse figure readme --out book/images/readme.png

# ---------------------------------------------------------------- tests
lint: env
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check src tests

test-unit: env
	$(PY) -m pytest -m "not site and not slow"

test-site: env
	$(PY) -m pytest -m "site and not slow"

test: lint test-unit book test-site
	@echo "make test: all passed"

test-slow: env
	$(PY) -m pytest -m slow

csim: env
	$(MAKE) -C hls csim PYTHON=$(abspath $(PY))

# ---------------------------------------------------------------- maintenance
# Resolve the newest versions allowed by pyproject.toml in a scratch venv and pin them.
lock:
	rm -rf $(BUILD)/lock-venv
	$(PYTHON) -m venv $(BUILD)/lock-venv
	$(BUILD)/lock-venv/bin/pip install --quiet -e ".[all]" 2>&1 | $(QUIET_PIP)
	{ echo "# Pinned environment for compsparse: 'make lock' regenerates it. Python 3.11, Linux x86_64."; \
	  $(BUILD)/lock-venv/bin/pip freeze --exclude-editable 2>/dev/null | grep -v "^-e "; } > constraints.txt
	rm -rf $(BUILD)/lock-venv
	@echo "constraints.txt updated: review the diff"

clean:
	rm -rf $(BUILD) $(VENDOR)
	if [[ -f hls/Makefile ]]; then $(MAKE) -C hls clean; fi
