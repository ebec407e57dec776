"""Reports: outcomes per check, written as JSON, HTML (pytest-html) and JUnit XML."""
