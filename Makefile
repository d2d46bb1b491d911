# The two commands: `make run` (the local server on embedded defaults) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

SAM_VENV := .tools/sam
LAYER_LIMIT_BYTES := 262144000

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

LANGGRAPH_VENV := .tools/langgraph

.PHONY: install run run-aws test lint build deploy deploy-params browser bench audit clean js-test agui-frontend agui-copilotkit

install: $(STAMP)

$(STAMP): requirements/dev.txt requirements/local.txt layers/runtime/requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip==26.3
	$(BIN)/pip install --quiet -r requirements/dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $(STAMP)

run: install
	$(BIN)/python -m local_server --host $(HOST) --port $(PORT)

AWS_PORT ?= 8001
# The production path on one machine: the Lambda handlers behind an emulated API Gateway WebSocket API,
# turns through SQS, state in moto's server, each function's IAM role enforced (SAM's translator reads it).
run-aws: install $(SAM_VENV)/bin/sam
	$(BIN)/python -m local_server.emulator --host $(HOST) --port $(AWS_PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/cfn-lint template.yaml -a cfn_lint_serverless.rules

# The browser tests drive Debian's chromium (never a browser download of Playwright's own).
browser:
	@command -v chromium >/dev/null || { echo "installing Debian's chromium"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# The AWS tests expand template.yaml with the SAM translator from SAM CLI's own environment.
test: lint browser $(SAM_VENV)/bin/sam js-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

JS := clients/js
# npm ci again only when node_modules is missing or older than the lockfile.
$(JS)/node_modules/.installed: $(JS)/package-lock.json
	cd $(JS) && npm ci --no-audit --no-fund
	@touch $@

AGUI_FRONTEND := examples/agui_frontend
AGUI_FRONTEND_PORT ?= 8002
$(AGUI_FRONTEND)/node_modules/.installed: $(AGUI_FRONTEND)/package-lock.json
	cd $(AGUI_FRONTEND) && npm ci --no-audit --no-fund
	@touch $@

AGUI_COPILOTKIT := examples/agui_copilotkit
# --ignore-scripts: none of its packages needs an install script (esbuild's binary is an optional dependency),
# and one of CopilotKit's (@scarf/scarf) only reports the install.
$(AGUI_COPILOTKIT)/node_modules/.installed: $(AGUI_COPILOTKIT)/package-lock.json
	cd $(AGUI_COPILOTKIT) && npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

# The JavaScript clients: build, node tests against real servers, ag-ui-validate on the recorded AG-UI streams;
# and the example frontends' bundles (on the package's build) that tests/browser/test_agui_*.py drive.
js-test: install $(JS)/node_modules/.installed $(AGUI_FRONTEND)/node_modules/.installed \
  $(AGUI_COPILOTKIT)/node_modules/.installed
	cd $(JS) && rm -rf test/streams && npm run build && npm test
	cd $(AGUI_FRONTEND) && npm run build
	cd $(AGUI_COPILOTKIT) && npm run build
	$(JS)/validate.sh

# The AG-UI example frontend (docs/ag-ui.md), built and served as static files; `make run` serves the agent.
agui-frontend: $(JS)/node_modules/.installed $(AGUI_FRONTEND)/node_modules/.installed
	cd $(JS) && npm run build
	cd $(AGUI_FRONTEND) && npm run build
	@echo "AG-UI frontend: http://$(HOST):$(AGUI_FRONTEND_PORT)/?server=ws://$(HOST):$(PORT)/ws"
	$(PYTHON) -m http.server --bind $(HOST) --directory $(AGUI_FRONTEND) $(AGUI_FRONTEND_PORT)

# The same with CopilotKit's React chat (examples/agui_copilotkit), no CopilotKit Runtime.
agui-copilotkit: $(JS)/node_modules/.installed $(AGUI_COPILOTKIT)/node_modules/.installed
	cd $(JS) && npm run build
	cd $(AGUI_COPILOTKIT) && npm run build
	@echo "CopilotKit frontend: http://$(HOST):$(AGUI_FRONTEND_PORT)/?server=ws://$(HOST):$(PORT)/ws"
	$(PYTHON) -m http.server --bind $(HOST) --directory $(AGUI_COPILOTKIT) $(AGUI_FRONTEND_PORT)

$(SAM_VENV)/bin/sam: requirements/sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/sam.txt
	@touch $@

# Deployable artifacts in .aws-sam/build, without Docker; fails if the layer would not fit in Lambda.
# MODEL=provider:model puts that provider's integration in the layer; LANGGRAPH_CONFIG=path/langgraph.json
# ships your graph (see docs/own-graph.md).
build: install $(SAM_VENV)/bin/sam
	PYTHON=$(abspath $(BIN)/python) MODEL=$(MODEL) \
	  LAYER_GRAPH_DIR=$(if $(LANGGRAPH_CONFIG),$(abspath $(dir $(LANGGRAPH_CONFIG)))) \
	  SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam build --template-file template.yaml \
	  $(if $(MODEL)$(LANGGRAPH_CONFIG),--no-cached)
	SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam validate --lint --template-file template.yaml
	@size=$$(du -sb .aws-sam/build/RuntimeLayer | cut -f1); \
	  echo "layer unzipped: $$size bytes (limit $(LAYER_LIMIT_BYTES))"; \
	  test $$size -lt $(LAYER_LIMIT_BYTES)
	@echo "$(DEPLOY_NEXT)"

CONFIG_ENV ?= default
# What to run after a build, instead of the `sam deploy --guided` that sam build suggests (docs/deploy.md).
DEPLOY_NEXT := Next: make deploy PARAMS=\"JwtSecretParameter=...\" [CONFIG_ENV=prod], not the --guided deploy that \
  sam build suggests above (it skips make deploy's merge of samconfig.toml's parameters with yours)
PARAMS ?=
# Build, then sam deploy with samconfig.toml's parameters for CONFIG_ENV and PARAMS="Key=Value ..." over them
# (sam's own --parameter-overrides would replace samconfig's instead of adding to them).
# An unknown CONFIG_ENV or a bad PARAMS pair stops the deploy before the build, not after it.
deploy: install deploy-params build
	params="$$($(BIN)/python scripts/deploy_params.py --config-env $(CONFIG_ENV) $(PARAMS))" && \
	  SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam deploy --config-env $(CONFIG_ENV) --parameter-overrides "$$params"

deploy-params: install
	@$(BIN)/python scripts/deploy_params.py --config-env $(CONFIG_ENV) $(PARAMS) >/dev/null

AUDIT_VENV := .tools/audit
# checkov findings that stay, each with its reason in docs/security.md; any other finding fails the audit.
CHECKOV_SKIPS := CKV_AWS_27,CKV_AWS_119,CKV_AWS_28,CKV_AWS_18,CKV_AWS_21,CKV_AWS_116,CKV_AWS_117,CKV_AWS_115,CKV_AWS_173,CKV_AWS_158,CKV_AWS_26

$(AUDIT_VENV)/bin/checkov: requirements/audit.txt
	$(PYTHON) -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/audit.txt
	@touch $@

# checkov on the template and bandit on the code, beyond what `make lint` checks.
audit: $(AUDIT_VENV)/bin/checkov
	$(AUDIT_VENV)/bin/checkov -f template.yaml --framework cloudformation --compact --quiet --skip-download \
	  --skip-check $(CHECKOV_SKIPS)
	$(AUDIT_VENV)/bin/bandit -q -c pyproject.toml -r layers local_server functions

$(LANGGRAPH_VENV)/bin/langgraph: requirements/bench.txt layers/runtime/requirements.txt
	$(PYTHON) -m venv $(LANGGRAPH_VENV)
	$(LANGGRAPH_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/bench.txt
	@touch $@

BENCHMARKS := turn_overhead concurrency sender critical_path dynamodb_cost delta_channel bedrock_cost run_aws follow_up cold_start faults retries cancel
# Every benchmark, side by side with its baseline; figures go to docs/performance.md. Each one runs even if
# an earlier one failed; the failed ones are named at the end. BENCH_ARGS=--quick: a smoke run on tiny settings.
BENCH_ARGS ?=
bench: install $(LANGGRAPH_VENV)/bin/langgraph
	@failed=""; for name in $(BENCHMARKS); do \
	  echo "== bench.$$name"; $(BIN)/python -m bench.$$name $(BENCH_ARGS) || failed="$$failed $$name"; \
	done; test -z "$$failed" || { echo "benchmarks that failed:$$failed"; exit 1; }

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis
