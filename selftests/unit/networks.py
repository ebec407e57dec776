"""A libvirt network's facts for unit tests, from the values the checks read."""
from virtnat.facts.model import DhcpRange, NetworkDefinition, NetworkFacts


def network(name: str = "default", active: bool = True, persistent: bool = True, autostart: bool = True,
            forward_mode: str | None = "nat", bridge: str | None = "virbr0", stp: bool = True,
            gateway: str | None = "192.168.122.1/24", dhcp_ranges: tuple[DhcpRange, ...] = ()) -> NetworkFacts:
    definition = NetworkDefinition(forward_mode, bridge, (gateway,) if gateway else (), dhcp_ranges)
    return NetworkFacts(name, active, persistent, autostart, stp, definition)
