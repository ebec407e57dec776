"""A fleet's problems grouped by cause (report/causes.py), on audit documents: one cause per check
and reason whatever each host's own names, worst impact and most hosts first."""
from selftests.unit import report_docs as docs
from virtnat.report.causes import causes, comparable, own_names


def failing(name: str, changes: dict, guests=(("vm1", "vnet0"),)) -> dict:
    return docs.host(name, {k: {"outcome": "failed", **v} for k, v in changes.items()}, guests)


def summary(found) -> list[tuple]:
    return [(c.outcome, [i for i, _, _ in c.checks], c.message, [name for _, name in c.hosts]) for c in found]


def test_the_same_check_for_the_same_reason_is_one_cause_whatever_the_host_is_called():
    doc = docs.document(
        failing("hv1.example.net", {"NET-07": {"message": "virbr0 is DOWN on hv1.example.net (hv1), expected UP"}}),
        failing("hv2.example.net", {"NET-07": {"message": "virbr0 is DOWN on hv2.example.net (hv2), expected UP"}}),
        failing("hv3", {"NET-07": {"message": "virbr0 is DOWN on hv3 (hv3), expected UP"}}),
        failing("hv4", {"NET-07": {"message": "virbr0 is missing"}}),
        docs.host("ok1"))
    assert summary(causes(doc)) == [
        ("failed", ["NET-07"], "virbr0 is DOWN on ‹host› (‹host›), expected UP", ["hv1.example.net", "hv2.example.net", "hv3"]),
        ("failed", ["NET-07"], "virbr0 is missing", ["hv4"])]
    assert [h for h, _ in causes(doc)[0].hosts] == [0, 1, 2]  # the hosts' indexes, for the page's links


def test_a_name_inside_a_longer_name_or_word_stays():
    doc = docs.document(failing("hv1", {"NET-07": {"message": "hv1 and hv10 and xhv1 and hv1-b and hv1.x"}}))
    assert causes(doc)[0].message == "‹host› and hv10 and xhv1 and hv1-b and hv1.x"
    assert comparable("pid 812 of a  name\n on two lines", {"a": "‹host›"}) == "pid ‹n› of a name on two lines"  # too short


def test_guests_taps_and_process_ids_are_the_hosts_own():
    doc = docs.document(
        failing("hv1", {"VM-03[web:vnet3]": {"message": "tap vnet3 of web is DOWN"},
                        "NET-15": {"message": "udp 53 is held by dnsmasq pid 812"}}, guests=(("web", "vnet3"),)),
        failing("hv2", {"VM-03[db1:vnet0]": {"message": "tap vnet0 of db1 is DOWN"},
                        "NET-15": {"message": "udp 53 is held by dnsmasq pid 9931"}}, guests=(("db1", "vnet0"),)))
    assert summary(causes(doc)) == [
        ("failed", ["NET-15"], "udp 53 is held by dnsmasq pid ‹n›", ["hv1", "hv2"]),  # high, then VM-03, high: by id
        ("failed", ["VM-03"], "tap ‹subject› of ‹subject› is DOWN", ["hv1", "hv2"])]


def test_a_guest_failing_twice_counts_its_host_once():
    doc = docs.document(failing("hv1", {"VM-03[a1:vnet0]": {"message": "tap vnet0 is DOWN"},
                                        "VM-03[b1:vnet1]": {"message": "tap vnet1 is DOWN"}}, guests=(("a1", "vnet0"), ("b1", "vnet1"))))
    assert summary(causes(doc)) == [("failed", ["VM-03"], "tap ‹subject› is DOWN", ["hv1"])]


def test_the_links_in_the_evidence_are_the_hosts_own_but_what_the_profile_names():
    links = {"hv1": {"lo": {"addresses": ["127.0.0.1/8"], "mac": "00:00:00:00:00:00"},
                     "eno1": {"addresses": ["10.0.0.5/24", "fe80::1/64"], "mac": "52:54:00:aa:bb:01"},
                     "virbr0": {"addresses": ["192.168.122.1/24"], "mac": "52:54:00:00:00:01"}},
             "hv2": {"enp3s0": {"addresses": ["10.0.0.6/24"], "mac": "52:54:00:aa:bb:02"}, "virbr0": {"addresses": []}},
             "hv3": ["not", "a", "dict"]}
    evidence = {"hosts": {h: {"facts": {"links": found}} for h, found in links.items()} | {"hv4": "not a dict"}}
    own = own_names(evidence, {"bridge": "virbr0", "gateway": "192.168.122.1/24", "dns": {"server": "10.0.0.6"}})
    assert own == {"hv1": {"eno1": "‹interface›", "10.0.0.5": "‹address›", "fe80::1": "‹address›", "52:54:00:aa:bb:01": "‹mac›",
                           "52:54:00:00:00:01": "‹mac›"},
                   "hv2": {"enp3s0": "‹interface›", "52:54:00:aa:bb:02": "‹mac›"}, "hv3": {}, "hv4": {}}  # 10.0.0.6: the profile's
    doc = docs.document(*(failing(h, {"HOST-08": {"message": f"192.168.122.0/24 is also on {i}: {i} has {a}/24, not 192.168.122.1"}})
                          for h, i, a in (("hv1", "eno1", "10.0.0.5"), ("hv2", "enp3s0", "10.0.0.7"))))
    assert summary(causes(doc, own)) == [
        ("failed", ["HOST-08"], "192.168.122.0/24 is also on ‹interface›: ‹interface› has 10.0.0.7/24, not 192.168.122.1", ["hv2"]),
        ("failed", ["HOST-08"], "192.168.122.0/24 is also on ‹interface›: ‹interface› has ‹address›/24, not 192.168.122.1", ["hv1"])]  # (equals: by message)
    assert own_names("not a dict", None) == {} == own_names({"hosts": ["x"]}, "no profile")


def test_the_checks_of_one_reason_on_the_same_hosts_are_one_cause_the_most_severe_first():
    doc = docs.document(docs.unreachable("down1"), docs.unreachable("down2", "cannot reach down2: Connection refused"),
                        docs.unreachable("down3", "cannot reach down3: Connection refused"),
                        failing("hv4", {"NET-09": {"message": "virbr0 is missing"}, "NET-06": {"message": "virbr0 is missing"}}),
                        failing("hv5", {"NET-06": {"message": "virbr0 is missing"}}))
    found = causes(doc)
    assert summary(found)[0] == ("failed", ["NET-06"], "virbr0 is missing", ["hv4", "hv5"])  # critical, two hosts, failed
    assert (found[1].outcome, found[1].message, found[1].hosts) == ("error", "cannot reach ‹host›: Connection refused",
                                                                     ((1, "down2"), (2, "down3")))  # then not carried out
    assert len(found[1].checks) == len(docs.unreachable("x")["checks"]) and found[1].checks[0] == ("HOST-01", docs.IDS["HOST-01"][0], "critical")
    assert [i for i, _, _ in found[1].checks[:5]] == ["HOST-01", "HOST-05", "NET-01", "NET-02", "NET-06"]  # critical, by id
    assert summary(found)[2:] == [
        ("error", [i for i, _, _ in found[1].checks], "ssh: connect to host 10.0.0.9 port 22: Connection refused", ["down1"]),
        ("failed", ["NET-09"], "virbr0 is missing", ["hv4"])]  # low
    assert found[2].impact == "critical" and found[3].impact == "low"

def test_only_failures_and_errors_are_causes_and_a_document_without_hosts_has_none():
    doc = docs.document(docs.host("hv1", {"NET-07": {"outcome": "waived", "message": "x"}, "NET-09": {"outcome": "skipped"},
                                          "NET-08": {"outcome": "mystery", "message": "?"}}),
                        "not a host", {"host": "hv2", "checks": ["not a check", {"id": "ZZ-1", "outcome": "failed"}]})
    assert summary(causes(doc)) == [("error", ["NET-08"], "?", ["hv1"]), ("failed", ["ZZ-1"], "", ["hv2"])]
    assert causes(doc)[1].hosts == ((2, "hv2"),) and causes(doc)[1].impact == ""
    assert causes(docs.document(docs.unreachable("x"), error="profile broken")) == [] == causes({}) == causes({"hosts": "x"})
