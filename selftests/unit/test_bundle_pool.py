"""Many bundles read in worker processes: the same facts and the same one-line errors as read in
the audit's own process, and each file read once."""
from concurrent.futures import Future
from pathlib import Path

import pytest

from virtnat.collectors import KINDS
from virtnat.collectors.bundle import BundleRun, bundle_bytes
from virtnat.collectors.bundle_pool import POOL_FROM, WORKER_NICE, FutureSource, read_facts, start_pool
from virtnat.collectors.command import ProbeLinkSource
from virtnat.errors import FactError
from virtnat.facts.probe import frame
from virtnat.targets import BundleTarget, Collection

DATA = Path(__file__).resolve().parents[1] / "data" / "path"
HEALTHY = DATA / "libvirt9" / "healthy.txt"
NFT = DATA / "libvirt11-nftables" / "docker-forward-drop.txt"
URI = "qemu:///system"


def in_process(path: Path, name: str = "hv1") -> dict:
    facts = BundleTarget(path, URI).facts
    for kind in KINDS:
        facts.collect(kind)
    return facts.collected()


def same(a: dict, b: dict) -> bool:
    """Equal facts, and errors equal by their one line."""
    return sorted(a) == sorted(b) and all(
        str(a[k]) == str(b[k]) if isinstance(a[k], FactError) else a[k] == b[k] for k in a)


def test_a_bundles_facts_are_read_whole_as_in_the_audits_process():
    facts = read_facts(HEALTHY, "healthy", URI)
    assert list(facts) == list(KINDS)
    assert same(facts, in_process(HEALTHY))
    assert facts["libvirt"].networks["default"].active and "virbr0" in facts["links"]


def test_a_tampered_bundle_is_the_same_error_for_every_kind(tmp_path):
    path = tmp_path / "hv1.facts"
    path.write_bytes(bundle_bytes("hv1", "2026-11-28T00:00:00+00:00", HEALTHY.read_text()).replace(b"virbr0", b"virbr9", 1))
    facts = read_facts(path, "hv1", URI)
    assert {str(facts[k]) for k in KINDS} == {
        f"{path}: its checksum does not match: the bundle was changed or cut after it was collected"}
    assert same(facts, in_process(path))


def test_worker_processes_give_each_bundle_its_own_facts_in_order(tmp_path):
    broken = tmp_path / "hv3.facts"
    broken.write_text("not the probe's output\n")
    jobs = [(HEALTHY, "hv1", URI), (NFT, "hv2", URI), (broken, "hv3", URI)]
    _pool, futures = start_pool(jobs, workers=2)
    assert [list(kinds) for kinds in futures] == [["libvirt", "links", "system"]] * 3
    assert all(kinds["links"] is kinds["system"] is not kinds["libvirt"] for kinds in futures)  # two stages
    results = [{kind: future.result(timeout=60)[kind] for kind, future in kinds.items()} for kinds in futures]
    for (path, name, _), result in zip(jobs, results):
        assert same(result, read_facts(path, name, URI)), name
    assert isinstance(results[2]["system"], FactError) and not isinstance(results[1]["system"], FactError)


def test_a_kind_a_worker_read_is_its_facts_or_raises_its_error():
    done = Future()
    done.set_result({"links": {"lo": 1}, "system": FactError("no probe output")})
    assert FutureSource(done, "links").collect() == {"lo": 1}
    with pytest.raises(FactError, match="^no probe output$"):
        FutureSource(done, "system").collect()


def test_a_worker_that_died_is_one_line_for_its_host():
    died = Future()
    died.set_exception(RuntimeError("A process in the process pool was terminated abruptly"))
    with pytest.raises(FactError) as error:
        FutureSource(died, "links").collect()
    assert str(error.value) == "reading the bundle failed: RuntimeError: A process in the process pool was terminated abruptly"


def test_a_bundle_is_read_once_for_all_its_kinds(tmp_path, monkeypatch):
    path = tmp_path / "hv1.facts"
    path.write_text(frame({"ip-link": (0, "[]"), "ip-addr": (0, "[]")}))
    run = BundleRun(path, "hv1")
    import virtnat.collectors.bundle as bundle
    reads = []
    read_regular = bundle.read_regular
    monkeypatch.setattr(bundle, "read_regular", lambda path, *args: reads.append(path) or read_regular(path, *args))
    assert ProbeLinkSource(run).collect() == {} and run.sections() == run.sections()
    assert reads == [path]
    gone = BundleRun(tmp_path / "gone.facts", "hv2")
    for _ in range(2):
        with pytest.raises(FactError, match="^cannot read the facts of hv2: No such file or directory"):
            gone.sections()
    assert reads == [path, tmp_path / "gone.facts"]  # an error is kept, not read again


@pytest.mark.parametrize("count, pooled", [(POOL_FROM - 1, False), (POOL_FROM, True)])
def test_an_audit_of_many_bundles_reads_them_in_worker_processes(tmp_path, count, pooled):
    paths = []
    for n in range(count):
        paths.append(tmp_path / f"hv{n:02}.facts")
        paths[-1].write_bytes(bundle_bytes(f"hv{n:02}", "2026-11-28T00:00:00+00:00", (HEALTHY, NFT)[n % 2].read_text()))
    targets = [BundleTarget(path, URI) for path in paths]
    collection = Collection(targets)
    collection.wait()
    assert all(isinstance(t.facts._sources["links"], FutureSource) == pooled for t in targets)
    for target, path in zip(targets, paths):
        assert same(target.facts.collected(), in_process(path, target.name)), target.name
        assert target.stats.collections == {"libvirt": 1, "links": 1, "system": 1}
    assert collection.seconds > 0


def test_a_bundle_that_cannot_be_read_names_its_host(tmp_path):
    facts = read_facts(tmp_path / "gone.facts", "hv9", URI)
    assert str(facts["links"]) == f"cannot read the facts of hv9: No such file or directory: {tmp_path}/gone.facts"


def test_the_pool_has_a_clean_worker_per_core_and_returns_before_the_work_is_done():
    import os
    pool, futures = start_pool([(HEALTHY, f"hv{n}", URI) for n in range(3)])
    assert not all(f["system"].done() for f in futures)  # the workers are still busy: start_pool did not wait
    assert (pool._max_workers, pool._mp_context.get_start_method()) == (os.cpu_count(), "fork")
    assert [f["libvirt"].result(timeout=60)["libvirt"].version for f in futures] == ["9.0.0"] * 3
    assert list(futures[0]["libvirt"].result()) == ["libvirt"] and sorted(futures[0]["links"].result()) == ["links", "system"]
    pool2, futures2 = start_pool([(HEALTHY, "hv1", URI)], workers=1)
    assert pool2._max_workers == 1 and futures2[0]["links"].result(timeout=60)["links"]


def test_only_the_kinds_asked_for_are_read():
    assert list(read_facts(HEALTHY, "hv1", URI, ("system",))) == ["system"]



def _niceness(*job):
    import os
    return {"libvirt": os.nice(0)}


def test_the_workers_run_niced_and_the_audits_process_is_not(monkeypatch):
    """The checks run in the audit's own process; the workers take what CPU it leaves."""
    import os
    import virtnat.collectors.bundle_pool as bundle_pool
    monkeypatch.setattr(bundle_pool, "read_facts", _niceness)  # what a worker runs: its niceness
    mine = os.nice(0)
    _, futures = start_pool([(HEALTHY, "hv1", URI)])
    assert futures[0]["libvirt"].result(timeout=60)["libvirt"] == mine + WORKER_NICE == mine + 10
    assert os.nice(0) == mine


def test_worker_processes_refuse_special_and_oversized_files_as_the_audits_process_does(tmp_path, monkeypatch, no_hang):
    import os

    import virtnat.inputs as inputs
    monkeypatch.setattr(inputs, "FACTS_LIMIT", 50_000)  # the workers are forked: they keep it
    os.mkfifo(tmp_path / "fifo.facts")
    jobs = [(tmp_path / "fifo.facts", "hv1", URI), (HEALTHY, "hv2", URI), (Path("/dev/zero"), "hv3", URI)]
    _pool, futures = start_pool(jobs, workers=2)
    says = [f"{tmp_path}/fifo.facts: a FIFO, not a regular file",
            f"{HEALTHY}: larger than 50000 bytes, the limit of a fact file (one host's probe output)",
            "/dev/zero: a character device, not a regular file"]
    for (path, name, _), kinds, message in zip(jobs, futures, says):
        result = {kind: future.result(timeout=60)[kind] for kind, future in kinds.items()}
        assert {str(result[k]) for k in KINDS} == {message}
        assert same(result, read_facts(path, name, URI))
