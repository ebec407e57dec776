"""HOST-08, HOST-09: the network's subnet is routed to the bridge, and guest traffic has a way out."""
import pytest

from virtnat.path.routing import addresses_inside, describe, overlapping, subnet_fix


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
        fix(subnet_fix(routes, links, profile.subnet, profile.bridge))
    assert not found, f"{profile.subnet} is also on another interface: {'; '.join(dict.fromkeys(found))}"


@pytest.mark.control(
    id="HOST-09",
    title="The host has a route out for guest traffic that does not lead back into {bridge}",
    impact="critical",
    remediation="ip -4 route show table all && ip -br -4 address show up",
)
def test_route_out_exists(packet_path, note, fix):
    """NAT only rewrites the source; without a route out the kernel has nowhere to send
    the guests' packets, and with a route into the bridge they loop back to the guests. The fix
    deletes a blackhole or unreachable route out and one into the bridge; where no route out is
    left, the facts know no gateway: it lists the routes and addresses to pick the uplink and its
    gateway from (the marker's), and the note says what to add."""
    problem = packet_path.route_out_problem()
    if problem is not None:
        command, decide = packet_path.route_out_fix()
        fix(command)
        if decide:
            note(decide)
    assert problem is None, problem
    note(f"guest traffic leaves by {packet_path.net.uplink} (`{describe(packet_path.route_out)}`)")
    if packet_path.routing_note:
        note(packet_path.routing_note)
