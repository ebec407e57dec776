# virtnat: `make audit` audits this host, `make test` runs the project's own tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# vagrant, vagrant-libvirt (from Debian), rsync and qemu-utils: make vagrant-audit. apt-install.sh
# installs without recommends (vagrant-libvirt's would pull a kernel and an MTA).
APT_LAB := libvirt-daemon-system libvirt-clients libvirt-daemon-driver-qemu qemu-system-x86 \
	firewalld dnsmasq-base iptables nftables openssh-server openssh-client sudo dbus bridge-utils \
	debootstrap systemd-container chromium vagrant vagrant-libvirt rsync qemu-utils
APT_BUILD := libvirt-dev pkg-config gcc python3-dev python3-venv
STAMP := $(VENV)/.installed

# The virtualenv's tools (ansible-inventory for ansible:// hosts) come first on PATH.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: audit test unit mutants e2e bench dist lab-up lab-down lab-status deps lab-deps clean .apt-build

## audit: install what the suite needs, then audit this host; prints where the report is
audit: $(STAMP)
	@$(PY) -m pytest -p no:cacheprovider --report-dir=$(CURDIR)/reports $(ARGS); rc=$$?; \
	  echo "report: $(CURDIR)/reports/latest.html (JSON: reports/latest.json)"; exit $$rc

## test: install everything the tests need (the lab's packages too) and run all selftests
test: lab-deps $(STAMP)
	$(VENV)/bin/ruff check --select F,E9 src tests selftests bench
	$(PY) -m pytest selftests -p no:cacheprovider -v $(ARGS)

## unit: the unit tests alone (no root, no lab), with their branch coverage of src/virtnat and tests/
# Three workers (the tests wait part of the time; -n 2 and --dist loadfile measured no less CPU, and --dist loadgroup
# groups nothing with pytest 9 and xdist 3.8); pytest may keep the checks' rewritten bytecode (the in-process plugin runs
# load them again). A passing test's tmp_path is removed as it ends, while its files are fresh: kept (pytest's default),
# they were deleted three runs later at the run's exit, ~4,000 files once on disk at ~2 ms each (9 s of wall time here).
unit: $(STAMP)
	rm -f $(VENV)/.coverage*
	PYTHONDONTWRITEBYTECODE= $(PY) -m coverage run -m pytest selftests/unit -p no:cacheprovider -q -n 3 -o tmp_path_retention_policy=failed
	$(PY) -m coverage combine -q
	$(PY) -m coverage report

## mutants: mutation testing (mutmut, ~25 min) of src/virtnat and tests/ against the unit tests; prints the score and the survivors
# A fresh run in mutants/; ARGS='virtnat.facts.links.*' tests those mutants again on the last run's copy.
mutants: $(VENV)/.installed-mutants
	$(if $(ARGS),,rm -rf mutants)
	$(PY) mk/mutants.py $(ARGS)

$(VENV)/.installed-mutants: $(STAMP)
	$(PY) -m pip install -q -e '.[mutants]'
	touch $@

## dist: the sdist and the wheel built from it, into dist/, checked with twine
dist: $(STAMP)
	rm -rf dist
	$(PY) -m build --outdir dist .
	$(PY) -m twine check --strict dist/*

e2e: lab-deps $(STAMP)
	$(PY) -m pytest selftests/e2e -p no:cacheprovider -v

## bench: time an audit of the lab host against pytest's bare collection, and audits of 10, 100 and 1000 bundles
bench: lab-deps $(STAMP)
	$(PY) bench/audit_bench.py
	$(PY) bench/fleet_bench.py

# The lab host: LAB=9 (default: Debian 12's libvirt 9, audited locally or over SSH) or
# LAB=11 (Debian 13's libvirt 11 in a cached chroot, over SSH), with BACKEND=iptables|nftables
# and FIREWALLD=1|0 for LAB=11, or LAB=sd (a Debian 12 systemd host booted with systemd-nspawn,
# over SSH; LABSD_LIBVIRT=11 in the environment takes libvirt 11 from bookworm-backports,
# LABSD_LIBVIRT=13 Debian 13 itself).
LAB ?= 9
BACKEND ?= iptables
FIREWALLD ?= 1
LAB_ENV = LAB_GEN=$(LAB) LAB_BACKEND=$(BACKEND) LAB_FIREWALLD=$(FIREWALLD)

lab-up: lab-deps
	$(LAB_ENV) lab/lab.sh up

lab-down:
	$(LAB_ENV) lab/lab.sh down

lab-status:
	$(LAB_ENV) lab/lab.sh status

deps: $(STAMP)

# System packages: libvirt's headers to build libvirt-python; the lab's daemons for the tests.
.apt-build:
	@lab/apt-install.sh $(APT_BUILD)

lab-deps:
	@lab/apt-install.sh $(APT_LAB)

$(STAMP): pyproject.toml | .apt-build
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

clean:
	rm -rf $(VENV) src/*.egg-info mutants dist build

include mk/vagrant.mk
