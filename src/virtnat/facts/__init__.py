"""Facts: what a host says, parsed into frozen dataclasses by pure functions."""
