"""virtnat: a compliance suite for libvirt NAT hypervisor hosts."""

__version__ = "0.1.0"
