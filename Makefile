# Entry points for newcomers and CI. Each target creates (and then reuses) the virtual
# environment .venv from the lock file, using a pinned uv in .uv.
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .uv/bin/uv

.PHONY: demo test check bench clean prerequisites-demo prerequisites-test

# Before the virtual environment is built: Python 3.11+ with venv, and for the tests the
# system programs they drive (installed with apt-get when run as root).
prerequisites-demo prerequisites-test: prerequisites-%:
	PYTHON=$(PYTHON) ./scripts/prerequisites $*

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.synced: pyproject.toml uv.lock | $(UV)
# Bytecode compiled at install, as pip does for a wheel: without it, where Python may not
# write .pyc files (PYTHONDONTWRITEBYTECODE), every process compiles SQLAlchemy & co. anew
# and a worker's start-up triples.
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	touch $@

## The main job: a seeded sandbox org, the web app and a worker on SQLite.
demo: prerequisites-demo .venv/.synced
	.venv/bin/salesync demo

## The full test suite: lint, types, import contracts, then pytest.
test: prerequisites-test .venv/.synced
	./scripts/test

check: .venv/.synced
	./scripts/check

bench: .venv/.synced
	./scripts/bench

clean:
	rm -rf .venv .uv
