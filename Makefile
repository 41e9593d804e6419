# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
GRAPHIQL := server/graphiql
# A front end of the API in the suite: graphql-codegen, tsc, Apollo Client, graphql-ws (tests/test_frontend.py).
FRONTEND := tests/frontend
CHROMIUM ?= /usr/bin/chromium
# Badges (`wanjia qr badges`) print grid workers' names in Chinese: a font that has them.
CJK_FONT ?= /usr/share/fonts/truetype/wqy/wqy-microhei.ttc

.PHONY: run test test-postgresql test-sqlite check install install-test assets frontend schema clean bench

run: install assets
	$(BIN)/wanjia migrate
	$(BIN)/wanjia demo --if-empty
	$(BIN)/wanjia serve

# The suite runs twice, after the checks: against PostgreSQL (production) and against SQLite
# (embedded default), side by side (each pass prints its report when it ends). Tests that use no
# database run in the SQLite pass only (tests/conftest.py).
test: check assets frontend $(CHROMIUM) $(CJK_FONT)
	$(BIN)/python -m tests.provision --check
	$(MAKE) --no-print-directory --jobs=2 --output-sync=target test-postgresql test-sqlite

# Bytecode is cached even where the environment says not to (PYTHONDONTWRITEBYTECODE): each pass,
# and each process a test starts, would otherwise compile every module it imports again.
test-postgresql test-sqlite:
	PYTHONDONTWRITEBYTECODE= WANJIA_TEST_BACKEND=$(@:test-%=%) $(BIN)/pytest

# Style, types (pyproject.toml's [tool.mypy]) and the layers (its import contracts): a renamed
# column read elsewhere or an upward import fails the build.
check: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	touch $@

$(VENV)/.installed: $(VENV)/.created pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.created pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

# GraphiQL's JS/CSS from the npm registry, pinned by the lockfile, served by the app itself.
assets: $(GRAPHIQL)/node_modules/.package-lock.json

$(GRAPHIQL)/node_modules/.package-lock.json: $(GRAPHIQL)/package-lock.json
	cd $(GRAPHIQL) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The front end's packages from the npm registry, pinned by its lockfile; offline afterwards.
frontend: $(FRONTEND)/node_modules/.package-lock.json

$(FRONTEND)/node_modules/.package-lock.json: $(FRONTEND)/package-lock.json
	cd $(FRONTEND) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The GraphiQL test drives a real headless Chromium (Debian's package).
$(CHROMIUM):
	@if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
		echo "make test needs Chromium at $(CHROMIUM) for the GraphiQL browser test:"; \
		echo "  install Debian's chromium package (sudo apt-get install chromium), or set CHROMIUM=/path/to/chromium"; \
		exit 1; \
	fi
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

$(CJK_FONT):
	@if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
		echo "wanjia qr badges (and its test) needs a Chinese font at $(CJK_FONT):"; \
		echo "  install Debian's fonts-wqy-microhei package, or set CJK_FONT=/path/to/a/CJK/font"; \
		exit 1; \
	fi
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null

# Benchmarks (bench/README.md): load BENCH_COMPLAINTS into the wanjia_bench database, then time
# wanjia, PostGraphile v4 and the one-SQL bound with wrk (Debian's package).
BENCH_COMPLAINTS ?= 1000000
POSTGRAPHILE := bench/postgraphile

bench: install-test $(POSTGRAPHILE)/node_modules/.package-lock.json /usr/bin/wrk
	$(BIN)/python -m bench.load --complaints $(BENCH_COMPLAINTS) --tenants 3
	$(BIN)/python -m bench.run

$(POSTGRAPHILE)/node_modules/.package-lock.json: $(POSTGRAPHILE)/package-lock.json
	cd $(POSTGRAPHILE) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

/usr/bin/wrk:
	@if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
		echo "make bench needs wrk: install Debian's wrk package (sudo apt-get install wrk)"; \
		exit 1; \
	fi
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null

schema: install
	$(BIN)/wanjia schema export

clean:
	rm -rf $(VENV) $(GRAPHIQL)/node_modules $(FRONTEND)/node_modules var
