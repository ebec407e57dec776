# The compliance checks in tests/ run through virtnat's pytest plugin.
pytest_plugins = ["virtnat.plugin"]
