# Two commands for a fresh machine with Python 3.10+:  make run  |  make test
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501

.PHONY: run test bench sample mutation clean

run: $(VENV)/.runtime
	$(PY) -m streamlit run app.py --server.port $(PORT)

# Most tests run side by side, one pytest worker per core (pytest-xdist); then the ones that
# measure time and load on a real server (browser, classroom) run alone, one at a time.
test: $(VENV)/.dev
	$(PY) -m pytest -n $(or $(TEST_WORKERS),auto) -m "not alone"
	$(PY) -m pytest -m alone

bench: $(VENV)/.runtime
	$(PY) -m playground bench --data-dir ../shared/mnist

# The mutation score per engine module (TESTING.md): hours on 2 cores, resumes where it stopped.
# make mutation MUTANTS='playground.digits*'   checks only those mutants
mutation: $(VENV)/.dev
	$(PY) -m pip install -q -r requirements-mutation.txt
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(VENV)/bin/mutmut run --max-children $(or $(JOBS),2) $(MUTANTS)
	$(PY) scripts/mutation_report.py --json test-artifacts/mutation.json

sample: $(VENV)/.runtime      # rebuild datasets/mnist_sample.npz from the full set
	$(PY) scripts/build_mnist_sample.py --data-dir ../shared/mnist

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# A torch wheel the machine already provides (pip find-links) saves a multi-GB download.
	-$(PY) -m pip install -q --no-index --no-deps torch 2>/dev/null
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts mutants
