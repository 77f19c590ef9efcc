"""Reading a document into lines of text and tables, whatever its format.

- ``.docx``: paragraphs and tables in document order (python-docx); a merged cell is read
  once per row it spans, as Word stores it;
- ``.pdf`` with a text layer: per page, the tables pdfplumber finds in the layout, and the
  text lines outside them; a page without ruled tables gives its text lines only (the task
  extraction then reads the table from the lines, as for a ``.txt``);
- ``.txt``: the lines (UTF-8, UTF-8 with BOM, or UTF-16 with BOM);
- ``.doc``, ``.odt``, ``.rtf``: converted to ``.docx`` by LibreOffice (``soffice
  --headless --convert-to docx``) when it is installed.

Every failure is an :class:`ImportProblem` with a message in Vietnamese that names the file
and says what to do.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


class ImportProblem(Exception):
    """The document cannot be read: the message names the file and what to do."""


@dataclass(frozen=True)
class Table:
    """A table as rows of cell texts (cells keep their line breaks)."""

    rows: tuple[tuple[str, ...], ...]


Block = str | Table  # a line of text, or a table


def read_document(path: Path) -> list[Block]:
    """The document's lines and tables, in reading order."""
    if not path.is_file():
        raise ImportProblem(f"{path}: không có tệp này; kiểm tra lại đường dẫn")
    suffix = path.suffix.lower()
    if suffix == ".txt":
        return list(_read_text(path).splitlines())
    if suffix == ".docx":
        return _read_docx(path)
    if suffix == ".pdf":
        return _read_pdf(path)
    if suffix in (".doc", ".odt", ".rtf"):
        return _read_via_libreoffice(path)
    raise ImportProblem(
        f"{path}: không đọc được định dạng {suffix or '(không có đuôi)'}; dùng tệp .docx, "
        ".pdf (có lớp chữ), .txt, hoặc .doc/.odt (cần LibreOffice)"
    )


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportProblem(
            f"{path}: tệp văn bản không phải UTF-8; lưu lại với mã UTF-8 (trong Notepad: "
            "Lưu thành… > Mã hóa: UTF-8) rồi nhập lại"
        ) from None


def _read_docx(path: Path) -> list[Block]:
    import docx  # python-docx
    from docx.table import Table as DocxTable
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises several kinds for a damaged file
        raise ImportProblem(
            f"{path}: không mở được tệp Word ({exc}); mở tệp trong Word hoặc LibreOffice và "
            "lưu lại dạng .docx"
        ) from None
    out: list[Block] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            out.extend(item.text.splitlines() or [""])
        elif isinstance(item, DocxTable):
            rows: list[tuple[str, ...]] = []
            for row in item.rows:
                cells: list[str] = []
                previous = None
                for cell in row.cells:
                    # a horizontally merged cell appears once per grid column: its text
                    # belongs to the first column, the others are empty
                    if previous is not None and cell._tc is previous:
                        cells.append("")
                        continue
                    previous = cell._tc
                    cells.append("\n".join(p.text for p in cell.paragraphs).strip())
                rows.append(tuple(cells))
            out.append(Table(tuple(rows)))
    return out


def _read_pdf(path: Path) -> list[Block]:
    import pdfplumber

    out: list[Block] = []
    try:
        pdf = pdfplumber.open(str(path))
    except Exception as exc:  # pdfminer raises several kinds for a damaged file
        raise ImportProblem(f"{path}: không mở được tệp PDF ({exc}); kiểm tra tệp") from None
    with pdf:
        chars = 0
        for page in pdf.pages:
            found = page.find_tables()
            boxes = [t.bbox for t in found]
            rest = page
            for box in boxes:
                rest = rest.outside_bbox(box)
            text = rest.extract_text() or ""
            chars += len(text)
            lines = text.splitlines()
            # lines above the first table, the tables, then the lines below them
            tops = sorted(found, key=lambda t: t.bbox[1])
            if not tops:
                out.extend(lines)
                continue
            words = rest.extract_text_lines() if hasattr(rest, "extract_text_lines") else []
            first_top = tops[0].bbox[1]
            above = [w["text"] for w in words if w["top"] < first_top]
            below = [w["text"] for w in words if w["top"] >= first_top]
            out.extend(above)
            for table in tops:
                rows = table.extract()
                chars += sum(len(c or "") for r in rows for c in r)
                out.append(Table(tuple(tuple((c or "").strip() for c in r) for r in rows)))
            out.extend(below)
        if chars == 0:
            raise ImportProblem(
                f"{path}: tệp PDF không có lớp chữ (bản quét); nhận dạng chữ (OCR) trước, "
                "hoặc dùng bản .docx/.pdf gốc của văn bản"
            )
    return out


# what each format starts with: LibreOffice reads anything else as plain text, silently.
# A ".doc" is often another format renamed (a .docx, an RTF, a web page saved by Word).
_ZIP, _OLE, _RTF = b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"{\\rtf"
_MAGIC = {
    ".odt": (_ZIP,),
    ".doc": (_OLE, _ZIP, _RTF, b"<", b"\xef\xbb\xbf<", b"MIME-Version"),
    ".rtf": (_RTF,),
}


def _read_via_libreoffice(path: Path) -> list[Block]:
    with path.open("rb") as f:
        head = f.read(16)
    if not head.lstrip().startswith(_MAGIC[path.suffix.lower()]):
        raise ImportProblem(
            f"{path}: không phải tệp {path.suffix} (nội dung không đúng định dạng); mở tệp "
            "bằng Word hoặc LibreOffice và lưu lại dạng .docx"
        )
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise ImportProblem(
            f"{path}: cần LibreOffice để đọc tệp {path.suffix}; cài LibreOffice (Debian/Ubuntu: "
            "apt-get install libreoffice-writer-nogui), hoặc mở tệp và lưu lại dạng .docx"
        )
    with tempfile.TemporaryDirectory(prefix="reminderd-import-") as tmp:
        try:
            # a profile of its own: a second LibreOffice on the same profile (the user's
            # desktop one, or another import) exits at once and converts nothing
            profile = Path(tmp, "profile").as_uri()
            subprocess.run(
                [soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to",
                 "docx", "--outdir", tmp, str(path)],
                check=True, capture_output=True, timeout=120,
            )
        except (subprocess.SubprocessError, OSError) as exc:
            raise ImportProblem(
                f"{path}: LibreOffice không chuyển được tệp sang .docx ({exc}); mở tệp và "
                "lưu lại dạng .docx"
            ) from None
        converted = Path(tmp) / (path.stem + ".docx")
        if not converted.is_file():
            raise ImportProblem(f"{path}: LibreOffice không tạo được tệp .docx; lưu lại dạng .docx")
        return _read_docx(converted)
