# Audit a Vagrant VM (Vagrantfile) over SSH: a real libvirt NAT host without touching this one.
# Included by the Makefile; uses its PY, STAMP and lab-deps (vagrant, vagrant-libvirt, rsync,
# qemu-utils are in its APT_LAB).
# VAGRANT_LAB=1 (default): the project's own run, lab/vagrant.sh: a box built here from the
# systemd lab's tree, booted under TCG in the lab's libvirtd (LAB=9, brought up if down),
# Vagrant inside the lab's network namespace. VAGRANT_LAB=0: the Vagrantfile as it stands
# (debian/bookworm64 from Vagrant Cloud, this machine's libvirtd at qemu:///system; needs KVM).
VAGRANT_LAB ?= 1
.PHONY: vagrant-audit vagrant-down

## vagrant-audit: bring up the Debian 12 VM of the Vagrantfile, audit it over SSH, destroy it
# --sudo: firewall rulesets are readable only as root; the box's vagrant user has passwordless sudo.
ifeq ($(VAGRANT_LAB),1)
vagrant-audit: lab-deps $(STAMP)
	PY=$(PY) lab/vagrant.sh audit $(ARGS); \
	  rc=$$?; echo "report: $(CURDIR)/reports/latest.html (JSON: reports/latest.json)"; exit $$rc

## vagrant-down: destroy the VM
vagrant-down:
	lab/vagrant.sh destroy
else
vagrant-audit: $(STAMP)
	vagrant up --provider=libvirt
	vagrant ssh-config > .vagrant/ssh-config
	@$(PY) -m pytest -p no:cacheprovider --report-dir=$(CURDIR)/reports --hosts=ssh://default --ssh-config=.vagrant/ssh-config --sudo $(ARGS); \
	  rc=$$?; vagrant destroy -f; echo "report: $(CURDIR)/reports/latest.html (JSON: reports/latest.json)"; exit $$rc

vagrant-down:
	vagrant destroy -f
endif
