# The course's commands. Each creates .venv on first use; nothing is installed outside it.
#   make lab        open the course in JupyterLab (start page: notebooks/welcome.ipynb)
#   make test       the whole suite: library, notebooks (nbval), exercises, browser
#   make exercises  regenerate exercises/ from solutions/
#   make grade SUBMISSIONS=dir   grade dir/<student>/<NN_topic>.ipynb into grades.csv
#   make bench      speed benchmarks (ratios against hand-written NumPy and PyTorch)
#   make sync       re-pair every notebook with its py:percent file (jupytext)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8888
SUBMISSIONS ?= submissions
# keep Jupyter's per-user state inside the venv, not in ~
export JUPYTERLAB_SETTINGS_DIR := $(CURDIR)/$(VENV)/share/jupyter/lab/user-settings
export JUPYTERLAB_WORKSPACES_DIR := $(CURDIR)/$(VENV)/share/jupyter/lab/workspaces
export MPLBACKEND := Agg

.PHONY: lab test exercises grade bench sync install clean

$(STAMP): pyproject.toml etc/overrides.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	# JupyterLab defaults for the course: start the notebook's kernel without asking, no news pop-up
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp etc/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	touch $(STAMP)

install: $(STAMP)

lab: $(STAMP)
	@echo "Starting JupyterLab on the course start page, notebooks/welcome.ipynb: open the address with its ?token= printed below"
	$(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" --ServerApp.port=$(PORT) \
		--LabApp.default_url=/lab/tree/notebooks/welcome.ipynb $(if $(filter 0,$(shell id -u)),--allow-root)

# One BLAS thread per process: two test workers on two cores would otherwise oversubscribe.
# The browser test runs last and alone, so its slider latencies are measured on a quiet machine.
THREADS := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
test: $(STAMP)
	$(THREADS) $(BIN)/python -m pytest -n 2 --dist loadfile tests notebooks solutions \
		--nbval-lax --nbval-cell-timeout=120 -p no:cacheprovider --ignore=tests/test_browser.py
	$(THREADS) $(BIN)/python -m pytest tests/test_browser.py -p no:cacheprovider -s

exercises: $(STAMP)
	$(BIN)/python scripts/exercises.py build solutions exercises

grade: $(STAMP)
	$(BIN)/python scripts/exercises.py grade "$(SUBMISSIONS)" --out grades.csv

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_mlp.py

sync: $(STAMP)
	$(BIN)/jupytext --sync notebooks/*.ipynb solutions/*.ipynb

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
