# Two commands do all the set-up on a fresh Debian machine:
#   make run    installs everything and builds all documents of the bundled data into output/
#   make test   installs everything and runs the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
APT_PACKAGES := libreoffice-writer-nogui libreoffice-calc-nogui fonts-noto-cjk fonts-noto-cjk-extra fonts-lxgw-wenkai poppler-utils fontconfig chromium

.PHONY: run test lint golden system venv clean

run: venv
	$(BIN)/gaizao validate
	$(BIN)/gaizao build --out output
	$(BIN)/gaizao report --out output

test: system venv
	$(BIN)/python -m pytest -q

lint: venv
	$(BIN)/ruff check generator tests tools
	$(BIN)/mypy generator

golden: venv
	$(BIN)/python -m tests.golden --update
	$(BIN)/python -m tests.golden_reports --update

# LibreOffice and CJK fonts: PDF output and the tests that open files the way a clerk's office suite does.
# Chromium: the web front end's browser tests (Playwright drives the system's chromium).
system:
	@if ! command -v soffice >/dev/null || ! command -v pdftoppm >/dev/null || ! fc-list | grep -qi "noto serif cjk sc light" \
		|| ! fc-list | grep -qi "lxgw wenkai" || ! command -v chromium >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(APT_PACKAGES); \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

clean:
	rm -rf $(VENV) output
