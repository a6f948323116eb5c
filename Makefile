# Two commands do all the set-up on a fresh Debian machine:
#   make run    installs everything and builds all documents of the bundled data into output/
#   make test   installs everything and runs the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= output

.PHONY: run test lint golden system venv clean

# Without root or apt the system step says what is missing and run still builds every document that does
# not need it (the reports' charts need a CJK font); the report names what it skipped.
run: venv
	@sh tools/system.sh run
	$(BIN)/gaizao validate
	$(BIN)/gaizao build --out "$(OUT)"
	$(BIN)/gaizao report --out "$(OUT)"

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
	@sh tools/system.sh test

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

clean:
	rm -rf $(VENV) output
