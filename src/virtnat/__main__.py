"""`python -m virtnat`: the `virtnat` command."""
from .cli import run

run()
