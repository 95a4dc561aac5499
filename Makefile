# Two commands for a newcomer:  make report   and   make test
# Both build .venv from pyproject.toml first (python3 -m venv; Python >= 3.11).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
LAB_STAMP  := $(VENV)/.installed-lab
PARAMS ?= params/sample.yaml

.PHONY: help env report test lab sample clean

help:
	@echo "make report  - build the environment, run every study on the bundled sample, render reports/sample/"
	@echo "make test    - build the environment and run the whole test suite"
	@echo "make lab     - open JupyterLab in the same environment"
	@echo "make sample  - regenerate data/sample/ from the synthetic generator"

env: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed, found " + sys.version.split()[0]'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	# Register the venv's interpreter as kernel "python3" so papermill and nbval run notebooks in it.
	# NUMPY_MADVISE_HUGEPAGE=0: numpy's documented switch; on virtual machines that back memory
	# lazily, huge pages make every large fresh array cost host faults (README, "Performance").
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (reciprocity)" \
		--env NUMPY_MADVISE_HUGEPAGE 0 >/dev/null
	touch $(STAMP)

report: $(STAMP)
	$(BIN)/reciprocity report --params $(PARAMS)

# The tests also run the Spark engine (PySpark in local mode; Java 17, which .ci/run installs).
$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,spark]'
	touch $(TEST_STAMP)

test: $(TEST_STAMP)
	$(BIN)/python -m pytest tests notebooks --nbval-lax

$(LAB_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[lab]'
	touch $(LAB_STAMP)

lab: $(LAB_STAMP)
	# Jupyter refuses to run as root unless told; containers often run as root.
	$(BIN)/jupyter lab notebooks/ $$(test "$$(id -u)" = 0 && echo --allow-root)

sample: $(STAMP)
	$(BIN)/reciprocity sample --out data/sample --seed 20240101

clean:
	rm -rf $(VENV) reports
