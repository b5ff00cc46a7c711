# Vigie: the two commands a user needs are `make demo` and `make test`.
# Both install what is missing first (system services, then the Python environment) and are fast
# when everything is already there.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
PYTEST_ARGS ?=

.PHONY: install system venv node-red demo test lint unit integration e2e bench clean

SISFALL ?= ../shared/datasets/falls/sisfall_dev.npz
# Where the dashboard benchmark writes its section (it replaces only that section).
BENCH_OUT ?= docs/benchmarks.md
# The load benchmark (drains against the baselines, then each size for its duration; a size the gateway cannot
# carry is called off once its lag passes 60 s): about 20 min with these.
BENCH_LOAD_ARGS ?= --wearables 500,2000,10000 --robots 100 --duration-s 600

install: system venv node-red

system:
	@bash scripts/install-system.sh

# The load benchmark's Node-RED baseline (npm ci of benchmarks/baselines/nodered/package-lock.json).
node-red:
	@bash scripts/install-node-red.sh

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev,ros]' --config-settings editable_mode=compat
	@MPLBACKEND=Agg $(BIN)/python -c "import matplotlib.pyplot"  # builds the font cache once, not in a request
	@rm -f $(VENV)/.installed-* && touch $@

demo: install
	@$(BIN)/vigie up $(DEMO_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy services gateway simulations dashboards robot_nodes benchmarks
	$(BIN)/lint-imports

test: install lint
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

unit: venv
	$(BIN)/python -m pytest -q tests/unit

integration: install
	$(BIN)/python -m pytest -q tests/integration

e2e: install
	$(BIN)/python -m pytest -q tests/e2e

# The fall benchmark's figures go to docs/benchmarks.md by hand-off (see that file for the commands); the
# dashboard benchmark (headless Chromium, about 2 min, no data set) rewrites its own section of $(BENCH_OUT).
bench: venv
	@if [ -f "$(SISFALL)" ]; then \
		$(BIN)/vigie bench falls --data $(SISFALL) --cv loso; \
	else \
		echo "fall benchmark: no SisFall file at $(SISFALL) (see README, Datasets); set SISFALL=path"; \
	fi
	$(BIN)/python -m benchmarks.bench_dashboard --out $(BENCH_OUT)
	$(BIN)/vigie bench reports --out $(BENCH_OUT)
	$(BIN)/vigie bench load --out $(BENCH_OUT) $(BENCH_LOAD_ARGS)
	$(BIN)/vigie bench signals --out $(BENCH_OUT)
	$(BIN)/python -m benchmarks.bench_hotpath --out $(BENCH_OUT)

clean:
	rm -rf .vigie test-artifacts .pytest_cache .mypy_cache .ruff_cache
