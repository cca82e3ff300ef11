# The course's commands. Each creates .venv on first use; nothing is installed outside it.
#   make lab        open the course in JupyterLab, on your own copy of the notebooks in work/
#   make refresh NB=05_dropout   replace your copy of one notebook by the course's current one
#   make test       the whole suite: library, notebooks (two seeds), exercises, grader, browser
#   make exercises  regenerate exercises/ from solutions/
#   make grade SUBMISSIONS=dir   grade dir/<student>/<NN_topic>.ipynb into grades.csv
#   make bench      every speed budget, measured and printed against its target
#   make sync       re-pair every notebook with its py:percent file (jupytext)

PYTHON ?= python3
VENV   ?= .venv
VENV_DIR := $(abspath $(VENV))
BIN    := $(VENV_DIR)/bin
STAMP  := $(VENV_DIR)/.installed
PORT   ?= 8888
SUBMISSIONS ?= submissions
GRADES ?= grades
JOBS   ?=
LAB_ARGS ?=
# the second seed under which `make test` re-runs every lecture notebook
SECOND_SEED ?= 1
# keep Jupyter's per-user state inside the venv, not in ~ (a caller may point them elsewhere)
JUPYTERLAB_SETTINGS_DIR ?= $(VENV_DIR)/share/jupyter/lab/user-settings
JUPYTERLAB_WORKSPACES_DIR ?= $(VENV_DIR)/share/jupyter/lab/workspaces
export JUPYTERLAB_SETTINGS_DIR JUPYTERLAB_WORKSPACES_DIR

# Headless targets draw into Agg; `make lab` must not (its kernels would show no figures).
HEADLESS := MPLBACKEND=Agg
# One BLAS thread per process: two test workers on two cores would otherwise oversubscribe.
THREADS := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

.PHONY: lab refresh test exercises grade bench sync install clean

$(STAMP): pyproject.toml etc/overrides.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV_DIR)
	@echo "Installing the course and its dependencies into $(VENV) (a few minutes, once)…"
	# pip's chatter (setuptools' "editable installation" banner, index notices) goes to a log,
	# shown only if the install fails
	$(BIN)/python -m pip install --quiet --upgrade pip > $(VENV_DIR)/install.log 2>&1 \
		|| { cat $(VENV_DIR)/install.log; exit 1; }
	$(BIN)/python -m pip install --quiet -e ".[test]" >> $(VENV_DIR)/install.log 2>&1 \
		|| { cat $(VENV_DIR)/install.log; exit 1; }
	# JupyterLab defaults for the course: start the notebook's kernel without asking, no news
	# pop-up, a closed notebook's kernel shut down
	mkdir -p $(VENV_DIR)/share/jupyter/lab/settings
	cp etc/overrides.json $(VENV_DIR)/share/jupyter/lab/settings/overrides.json
	touch $(STAMP)

install: $(STAMP)

# Idle kernels are ended after an hour (a notebook tab left open keeps no memory forever).
lab: $(STAMP)
	@$(BIN)/python scripts/student_copy.py sync
	@echo "Starting JupyterLab on your copy of the start page, work/notebooks/welcome.ipynb:"
	@echo "open the address with its ?token= printed below (Ctrl+C twice to stop)."
	$(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" --ServerApp.port=$(PORT) \
		--LabApp.default_url=/lab/tree/work/notebooks/welcome.ipynb \
		--MappingKernelManager.cull_idle_timeout=3600 --MappingKernelManager.cull_interval=300 \
		--MappingKernelManager.cull_connected=True --KernelManager.transport=ipc \
		$(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

refresh: $(STAMP)
	@$(BIN)/python scripts/student_copy.py refresh $(NB)

# Every stage runs even when an earlier one failed; the summary names the failed stages.
test: $(STAMP)
	@$(HEADLESS) $(THREADS) $(BIN)/python scripts/test_stages.py --second-seed $(SECOND_SEED)

exercises: $(STAMP)
	$(BIN)/python scripts/exercises.py build solutions exercises

grade: $(STAMP)
	$(HEADLESS) $(BIN)/python scripts/exercises.py grade "$(SUBMISSIONS)" --out "$(GRADES)/grades.csv" \
		$(if $(JOBS),--jobs $(JOBS))

bench: $(STAMP)
	@$(HEADLESS) $(BIN)/python benchmarks/run_all.py

sync: $(STAMP)
	$(BIN)/jupytext --sync notebooks/*.ipynb solutions/*.ipynb

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
