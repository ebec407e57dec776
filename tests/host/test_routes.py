"""HOST-08, HOST-09: the network's subnet is routed to the bridge, and guest traffic has a way out."""
import shlex

import pytest

from virtnat.path.routing import addresses_inside, describe, overlapping, route_selector


@pytest.mark.control(
    id="HOST-08",
    title="No other interface holds an address or route inside {subnet}",
    impact="high",
    remediation="virsh net-edit {network}",
)
def test_subnet_is_only_on_the_bridge(routes, links, profile, fix):
    """With the subnet also on a LAN or a nested hypervisor's interface, the replies to
    guests can leave by the wrong interface, and libvirt refuses to start the network after
    the next restart ("Network is already in use by interface ..."). The fix takes the
    addresses and routes off the other interfaces; the other way out is to give the libvirt
    network another subnet (the marker's `virsh net-edit`)."""
    addresses = addresses_inside(links, profile.subnet, profile.bridge)
    routes_elsewhere = overlapping(routes, profile.subnet, profile.bridge)
    found = [f"{iface} has {addr}" for iface, addr in addresses]
    found += [f"route `{describe(r)}`" for r in routes_elsewhere]
    if found:
        holders = {iface for iface, _ in addresses}  # their addresses' routes go with the addresses
        commands = [f"ip addr del {shlex.quote(addr)} dev {shlex.quote(iface)}" for iface, addr in addresses]
        commands += [f"ip route del {route_selector(r)}" for r in routes_elsewhere if r.dev not in holders]
        fix(" && ".join(dict.fromkeys(commands)))
    assert not found, f"{profile.subnet} is also on another interface: {'; '.join(dict.fromkeys(found))}"


@pytest.mark.control(
    id="HOST-09",
    title="The host has a route out for guest traffic that does not lead back into {bridge}",
    impact="critical",
    remediation="ip route add default via <your gateway> dev <uplink>",
)
def test_route_out_exists(packet_path, note):
    """NAT only rewrites the source; without a route out the kernel has nowhere to send
    the guests' packets, and with a route into the bridge they loop back to the guests."""
    problem = packet_path.route_out_problem()
    assert problem is None, problem
    note(f"guest traffic leaves by {packet_path.net.uplink} (`{describe(packet_path.route_out)}`)")
    if packet_path.routing_note:
        note(packet_path.routing_note)
