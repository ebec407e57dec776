"""Link facts of the host the suite runs on, through pyroute2 (netlink, no subprocess)."""
from __future__ import annotations

from ..errors import FactError
from ..facts.links import links_from_netlink
from ..facts.model import LinkFacts


class NetlinkSource:
    def collect(self) -> dict[str, LinkFacts]:
        try:
            from pyroute2 import IPRoute
        except ImportError:
            raise FactError("pyroute2 is not installed: pip install pyroute2") from None
        with IPRoute() as ipr:
            return links_from_netlink(ipr.get_links(), ipr.get_addr())
