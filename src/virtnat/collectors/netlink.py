"""Link facts of the host the suite runs on, through pyroute2 (netlink): where the probe's
`ip -j` cannot give them (iproute2 older than 4.14, or a probe that failed).

Importing pyroute2 costs far more than the dump itself (~0.1 s of CPU). Started (start(), or
`apart` at the first collect()), the dump runs in a helper process of its own, on another core,
while pytest goes on in this one; collect() then only reads its answer. Else it runs in-process.
"""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

from ..errors import FactError
from ..facts.links import links_from_netlink
from ..facts.model import LinkFacts

SRC = str(Path(__file__).resolve().parents[2])  # so the helper finds virtnat from a bare checkout too


def dump() -> dict[str, LinkFacts]:
    try:
        from pyroute2 import IPRoute
    except ImportError:
        raise FactError("pyroute2 is not installed: pip install pyroute2") from None
    with IPRoute() as ipr:
        return links_from_netlink(ipr.get_links(), ipr.get_addr())


class NetlinkSource:
    def __init__(self, stats=None, apart: bool = False):
        self.stats, self.apart = stats, apart
        self._helper: subprocess.Popen | None = None

    def start(self) -> None:
        """Begin the dump in a helper process (same network namespace: it is our child)."""
        if self.stats is not None:
            self.stats.subprocesses += 1
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")])))
        self._helper = subprocess.Popen([sys.executable, "-m", "virtnat.collectors.netlink"], env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def collect(self) -> dict[str, LinkFacts]:
        if self._helper is None and self.apart:
            self.start()
        if self._helper is None:
            return dump()
        out, err = self._helper.communicate(timeout=120)
        if self._helper.returncode != 0:
            lines = err.decode(errors="replace").strip().splitlines()
            raise FactError(lines[-1] if lines else f"netlink helper exited {self._helper.returncode}")
        return pickle.loads(out)


def _light_pyroute2() -> None:
    """In the helper only: load pyroute2's netlink modules without its package __init__, which
    imports every pyroute2 feature (ndb, ipdb, conntrack, wireless...) and doubles the cost.
    If this pyroute2 does not load that way, the full import is used."""
    import importlib.util
    import types

    spec = importlib.util.find_spec("pyroute2")
    if spec is None or not spec.submodule_search_locations:
        return
    package = types.ModuleType("pyroute2")
    package.__path__ = list(spec.submodule_search_locations)
    package.__spec__ = spec
    sys.modules["pyroute2"] = package
    try:
        from pyroute2.iproute.linux import IPRoute

        package.IPRoute = IPRoute
    except Exception:
        for name in [m for m in sys.modules if m == "pyroute2" or m.startswith("pyroute2.")]:
            del sys.modules[name]


def main() -> int:
    _light_pyroute2()
    try:
        links = dump()
    except FactError as exc:
        print(exc, file=sys.stderr)
        return 1
    sys.stdout.buffer.write(pickle.dumps(links))
    return 0


if __name__ == "__main__":
    sys.exit(main())
