"""reminderd import of .odt and .doc through a real LibreOffice: seed 002's appendix, saved
by LibreOffice from the committed seed-002.docx, reads as the .docx does.

Skips with a reason where LibreOffice is not installed, except when
REMINDERD_REQUIRE_LIBREOFFICE=1 (.ci/run sets it and installs Debian's
libreoffice-writer-nogui), so CI cannot pass by skipping."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from reminderd.plans.importer.build import extract

DATA = Path(__file__).resolve().parent / "data" / "import"

pytestmark = pytest.mark.slow


def _soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        if os.environ.get("REMINDERD_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail("REMINDERD_REQUIRE_LIBREOFFICE=1 but LibreOffice is not installed")
        pytest.skip("LibreOffice is not installed (apt-get install libreoffice-writer-nogui)")
    return found


def _convert(soffice: str, source: Path, kind: str, profile: Path) -> Path:
    subprocess.run(
        [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to",
         kind, "--outdir", str(source.parent), str(source)],
        check=True, capture_output=True, timeout=180,
    )
    converted = source.with_suffix(f".{kind}")
    assert converted.is_file()
    return converted


def test_odt_and_doc_read_as_the_docx(tmp_path: Path) -> None:
    """The .docx saved as .odt, that .odt saved as .doc (LibreOffice's direct .docx to .doc
    export drops this python-docx table) and as an RTF named .doc, each read through
    LibreOffice."""
    soffice = _soffice()
    source = tmp_path / "seed-002.docx"
    shutil.copyfile(DATA / "seed-002.docx", source)
    odt = _convert(soffice, source, "odt", tmp_path / "profile")
    (tmp_path / "saved").mkdir()
    doc = _convert(soffice, shutil.copy(odt, tmp_path / "saved" / odt.name), "doc",
                   tmp_path / "profile")
    _info, want = extract(DATA / "seed-002.docx")
    assert len(want) == 31
    rtf = _convert(soffice, odt, "rtf", tmp_path / "profile")
    renamed = rtf.rename(tmp_path / "van-ban-rtf.doc")  # a ".doc" that is an RTF, as offices send
    for converted in (odt, doc, renamed):
        _info, got = extract(converted)
        assert [(t.number, t.lead_text, t.support_text, t.when) for t in got] == [
            (t.number, t.lead_text, t.support_text, t.when) for t in want], converted.name
