"""The profile: the values a site expects, with the document's values as defaults."""
from __future__ import annotations

import ipaddress
import re
import shlex
from dataclasses import asdict, dataclass, fields

from .errors import ProfileError
from .tomlfile import read_toml
from .waivers import Waiver, parse_waivers


@dataclass(frozen=True)
class Profile:
    network: str = "default"
    bridge: str = "virbr0"
    gateway: str = "192.168.122.1/24"
    dhcp_start: str = "192.168.122.2"
    dhcp_end: str = "192.168.122.254"
    require_firewalld: bool = True
    require_ipv6_forwarding: bool = True
    libvirt_uri: str = "qemu:///system"
    source: str = "built-in defaults"
    waivers: tuple[Waiver, ...] = ()  # the profile's [[waiver]] tables

    @property
    def subnet(self) -> str:
        return str(ipaddress.ip_interface(self.gateway).network)

    def as_dict(self) -> dict:
        """Plain data, as the JSON document holds it."""
        data = asdict(self)
        data["waivers"] = list(data["waivers"])
        return data

    def substitute(self, text: str, **extra: str) -> str:
        """Fill {network}, {bridge}, {gateway}... (and extra, e.g. {guest}, {tap}) in a remediation.
        The extra values come from hosts and are quoted for the shell: a guest named `vm1;touch X`
        is the one word 'vm1;touch X' of the command. A plain name stays as it is; the profile's
        own names are plain (load_profile refuses others)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}  # as_dict() copies the waivers deeply
        return text.format(subnet=self.subnet, **values, **{k: shlex.quote(str(v)) for k, v in extra.items()})


# TOML layout: [network] name, bridge, gateway, dhcp_start, dhcp_end; [host] ...
SECTIONS = {
    "network": {"name": "network", "bridge": "bridge", "gateway": "gateway", "dhcp_start": "dhcp_start", "dhcp_end": "dhcp_end"},
    "host": {"firewalld": "require_firewalld", "ipv6_forwarding": "require_ipv6_forwarding"},
    "libvirt": {"uri": "libvirt_uri"},
}
TYPES = {f.name: f.type for f in fields(Profile)}
# driver[+transport]://[user@][host][:port]/path[?params]: nothing a shell or virsh would split or expand
_NAME = re.compile(r"[A-Za-z0-9_.+-]+")
_URI = re.compile(r"[a-z][a-z0-9]*(\+[a-z0-9]+)?://[\w.@:\[\]%-]*/[\w./%=&?,:@-]*")


def _validate(values: dict, where) -> None:
    try:
        gw = ipaddress.ip_interface(values["gateway"])
    except ValueError:
        raise ProfileError(where("network.gateway", f"{values['gateway']!r} is not an IPv4 address with a prefix, like 192.168.122.1/24")) from None
    if gw.version != 4 or "/" not in values["gateway"]:
        raise ProfileError(where("network.gateway", f"{values['gateway']!r} is not an IPv4 address with a prefix, like 192.168.122.1/24"))
    for key in ("dhcp_start", "dhcp_end"):
        try:
            addr = ipaddress.ip_address(values[key])
        except ValueError:
            raise ProfileError(where(f"network.{key}", f"{values[key]!r} is not an IPv4 address")) from None
        if addr not in gw.network:
            raise ProfileError(where(f"network.{key}", f"{addr} is outside the gateway's subnet {gw.network}"))
    if ipaddress.ip_address(values["dhcp_start"]) > ipaddress.ip_address(values["dhcp_end"]):
        raise ProfileError(where("network.dhcp_start", f"{values['dhcp_start']} is after dhcp_end {values['dhcp_end']}"))
    if not _URI.fullmatch(values["libvirt_uri"]):
        raise ProfileError(where("libvirt.uri", f"{values['libvirt_uri']!r} is not a libvirt URI like qemu:///system "
                                               "(a scheme, ://, and no spaces or shell characters)"))
    for key in ("network", "bridge"):  # they go into the fixes' commands as they are: plain words only
        if not _NAME.fullmatch(values[key]) or (key == "bridge" and len(values[key]) > 15):
            name = "network.name" if key == "network" else "network.bridge"
            raise ProfileError(where(name, f"{values[key]!r} is not a valid name (letters, digits, _ . + -"
                                           f"{'; at most 15' if key == 'bridge' else ''})"))


def load_profile(path: str | None) -> Profile:
    """The profile at path (None: the defaults). Raises ProfileError with one line."""
    if path is None:
        return Profile()

    def where(key: str, problem: str) -> str:
        return f"profile {path}: {key}: {problem}"

    data = read_toml(path, "profile", "file not found (see profiles/default.toml for an example)")
    values = Profile().as_dict()
    values["source"] = str(path)
    values["waivers"] = ()
    for section, body in data.items():
        if section == "waiver":
            values["waivers"] = parse_waivers(body, f"profile {path}")
            continue
        if section not in SECTIONS:
            raise ProfileError(where(section, f"unknown section (known: {', '.join(SECTIONS)}, waiver)"))
        if not isinstance(body, dict):
            raise ProfileError(where(section, "must be a [table]"))
        for key, value in body.items():
            if key not in SECTIONS[section]:
                raise ProfileError(where(f"{section}.{key}", f"unknown key (known: {', '.join(SECTIONS[section])})"))
            attr = SECTIONS[section][key]
            expected = bool if TYPES[attr] in (bool, "bool") else str
            if type(value) is not expected:
                raise ProfileError(where(f"{section}.{key}", f"{value!r} is not a {expected.__name__}"))
            values[attr] = value
    _validate(values, where)
    return Profile(**values)
