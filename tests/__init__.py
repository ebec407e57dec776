"""virtnat's catalogue of checks: one folder per family (host, network, path, vm).

This folder is their one source. The build puts it into the package as virtnat.catalog
(src/virtnat/catalog is a link to it), so an installed virtnat carries every check.
"""
