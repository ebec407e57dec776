"""Retention (--keep N): the newest N runs' reports stay, by the time in their names."""
from virtnat.report.retention import prune_reports


def test_prune_keeps_the_newest_runs(tmp_path):
    runs = ["hv1-20261125T010000Z", "hv1-20261126T010000Z", "2-hosts-20261127T010000Z", "hv1-20261128T010000Z"]
    for stem in runs:
        for suffix in (".html", ".json", ".xml"):
            (tmp_path / f"{stem}{suffix}").write_text("x")
    others = ["latest.html", "latest.json", ".gitkeep", "notes.txt", "hv1-20261101T010000Z.json.tmp", "hv1-yesterday.json"]
    for name in others:
        (tmp_path / name).write_text("x")
    (tmp_path / "hv1-20261101T010000Z.xml").mkdir()  # a directory is not a report

    removed = prune_reports(tmp_path, 2)

    assert sorted(p.name for p in removed) == sorted(f"{s}{x}" for s in runs[:2] for x in (".html", ".json", ".xml"))
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(others + ["hv1-20261101T010000Z.xml"]
                          + [f"{s}{x}" for s in runs[2:] for x in (".html", ".json", ".xml")])
    assert prune_reports(tmp_path, 2) == []  # nothing more to do


def test_prune_counts_incomplete_runs(tmp_path):
    (tmp_path / "hv1-20261125T010000Z.json").write_text("x")  # a run whose HTML was never written
    (tmp_path / "hv1-20261126T010000Z.json").write_text("x")
    (tmp_path / "hv1-20261126T010000Z.html").write_text("x")
    assert [p.name for p in prune_reports(tmp_path, 1)] == ["hv1-20261125T010000Z.json"]
