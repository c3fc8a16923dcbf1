"""The documentation builds without warnings and its examples run (sphinx doctest)."""
import os

import pytest

DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs")


def _build(args):
    pytest.importorskip("sphinx")
    pytest.importorskip("numpydoc")
    from sphinx.cmd.build import build_main
    return build_main(args)


def test_doc_examples_run(tmp_path):
    """Every ``.. doctest::`` / ``>>>`` example in docs/ gives its shown output."""
    status = _build(["-b", "doctest", "-q", DOCS, str(tmp_path)])
    report = tmp_path / "output.txt"
    details = report.read_text() if report.exists() else ""
    assert status == 0, details[-4000:]


def test_html_builds_without_warnings(tmp_path):
    """``sphinx -W``: any warning (bad reference, docstring markup, toctree) fails."""
    assert _build(["-W", "--keep-going", "-b", "html", "-q", DOCS, str(tmp_path)]) == 0
