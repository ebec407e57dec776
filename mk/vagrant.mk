# Audit a Vagrant VM (Vagrantfile) over SSH: a real libvirt NAT host without touching this one.
# Included by the Makefile; uses its PY and STAMP. Needs vagrant with the vagrant-libvirt plugin.
.PHONY: vagrant-audit vagrant-down

## vagrant-audit: bring up and provision the Debian 12 VM, then audit it over SSH
# --sudo: firewall rulesets are readable only as root; the box's vagrant user has passwordless sudo.
vagrant-audit: $(STAMP)
	vagrant up --provider=libvirt
	vagrant ssh-config > .vagrant/ssh-config
	@$(PY) -m pytest -p no:cacheprovider --hosts=ssh://default --ssh-config=.vagrant/ssh-config --sudo $(ARGS); \
	  rc=$$?; echo "report: $(CURDIR)/reports/latest.html (JSON: reports/latest.json)"; exit $$rc

## vagrant-down: destroy the VM
vagrant-down:
	vagrant destroy -f
