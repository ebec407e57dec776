"""virtnat: a compliance suite for libvirt NAT hypervisor hosts."""

__version__ = "0.1.0"
# The version of what a site's own checks may use (docs/site-checks.md): the fixtures, their
# types and fields. It changes when one of them does.
CHECKS_API = 2
