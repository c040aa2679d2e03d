# authcore: build, demo and test every language. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help demo test ci rust node python c uniffi portable vectors services lint fmt bench install fuzz dist dist-test soak

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

demo: ## build what is missing and run the demo on the embedded defaults
	bash scripts/demo.sh

test: ## build and run every test in every language (Rust, Node, Python, C, ffi-tests)
	bash scripts/test-all.sh

ci: test ## what .ci/run runs

services: ## start Redis and RabbitMQ if they do not answer
	bash scripts/services.sh

rust: ## Rust: core unit, integration and vector tests
	bash scripts/rust.sh

node: ## Node: napi addon, drop-in packages, Node vector runner
	bash scripts/node.sh

python: ## Python: venv, extension, pytest, Python vector runner
	bash scripts/python.sh

c: ## C: library, generated header, pkg-config, C vector runner
	bash scripts/c.sh

uniffi: ## uniffi: Kotlin/Swift/Python sources generated, vectors through the Python and Kotlin ones
	bash scripts/uniffi.sh

portable: ## C library and Node addon built through zig (debug, --target) need at most glibc 2.17 (a cold build is ~10 min; make test relinks instead: scripts/zig-relink.sh)
	bash scripts/portable.sh

lint: ## rustfmt, clippy, one version scheme (scripts/check-versions.py), BENCHMARKS.md and the README's ratios match bench/results
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	python3 scripts/check-versions.py
	python3 scripts/benchmarks-md.py --check

bench: ## benchmarks (not part of the tests)
	bash bench/run.sh

PREFIX ?= /usr/local
PROFILE ?= release
install: ## C library into PREFIX (include/, lib/ .so + .a, lib/pkgconfig); PROFILE=release|debug
	bash scripts/c-install.sh --profile $(PROFILE) $(PREFIX)

dist: ## portable artefacts (glibc 2.17) into target/dist/: wheel, sdist, npm tarballs, C tarball
	bash scripts/dist.sh

dist-test: dist ## install each artefact of make dist outside the tree and use it (not part of make test)
	bash scripts/dist-test.sh

fuzz: ## fuzz every parser target (SECONDS_PER_TARGET=60; not part of the tests)
	bash scripts/fuzz.sh $${SECONDS_PER_TARGET:-60}

soak: ## memory soak: 1M calls per hot path in Node, Python and C; RSS to bench/results/soak.json
	bash bench/soak/run.sh
