"""Writes the test files that a text editor cannot: other encodings, XLSX and binaries.

Run from anywhere with the project's virtualenv: ``.venv/bin/python tests/files/make_files.py``.
The files are checked in; this script documents how they were made.
"""

import random
import struct
import subprocess
import tempfile
import zlib
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent


def windows_1252_csv() -> None:
    """As Excel on Windows saves "CSV (Comma delimited)": Windows-1252, CRLF."""
    rows = [
        "name,kind,country,statement",
        "Zoë’s Straße Initiative,organisation,Germany,Wir unterstützen den Brief – ganz.",
        "Café Élan Collective,organisation,France,« Nous signons. »",
    ]
    (HERE / "windows1252.csv").write_bytes("\r\n".join(rows).encode("cp1252") + b"\r\n")


def european_csv() -> None:
    """As Excel set to a German or Danish locale saves "CSV (Trennzeichen-getrennt)":
    Windows-1252, semicolons, CRLF, countries in the language of the person who typed
    them, dates day first with dots."""
    rows = [
        "name;kind;country;signed_at",
        "Verein Beispiel Kinderschutz e.V.;organisation;Deutschland;14.09.2023",
        "Asociación Ejemplo;organisation;España;05.09.2023",
        "Eksempel Børneforening;organisation;Danmark;25.09.2023",
        "Association Exemple;organisation;Frankreich;01.10.2023",
        "Voorbeeld Kinderrechten vzw;organisation;België;",
        "Beispielverein Wien;organisation;Österreich;2023-09-30",
    ]
    (HERE / "european.csv").write_bytes("\r\n".join(rows).encode("cp1252") + b"\r\n")


def utf16_text() -> None:
    """As Excel saves "Unicode Text": UTF-16 little-endian with BOM, tab-separated."""
    rows = ["name\tcountry", "Łukasz Przykładowy\tPoland", "Ioana Exemplu\tRomania"]
    (HERE / "utf16.txt").write_bytes(
        "\r\n".join(rows).encode("utf-16") + "\r\n".encode("utf-16-le")
    )


def workbook() -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Signatories"
    sheet.append(["Name", "Kind", "Category", "Country", "Role", "Signed_at", "Display"])
    sheet.append(
        ["Spreadsheet Org", "organisation", "NGO", "Germany", None, datetime(2024, 5, 6), None]
    )
    sheet.append(["Sheet Person", "individual", "advocate", "gb", 42, None, "initials"])
    sheet.append([])
    sheet.append(["  Third   Row Org ", "org", "company", "Japan", None, None, "full"])
    # A second sheet that must be ignored.
    book.create_sheet("Notes").append(["name", "Not A Signatory"])
    book.save(HERE / "signatories.xlsx")


def libreoffice_workbooks() -> None:
    """As LibreOffice Calc saves its own .ods, Excel 97's .xls and Excel's .xlsx: a
    workbook with a country merged over two signatories' rows, real date cells, a totals
    row and a note below the list, written
    by openpyxl, then opened and saved by LibreOffice itself (``soffice --headless
    --convert-to``)."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Unterzeichner"
    sheet.append(["name", "kind", "category", "country", "signed_at"])
    sheet.append(["Merged Org One", "organisation", "NGO", "Deutschland", datetime(2023, 9, 14)])
    sheet.append(["Merged Org Two", "organisation", "charity", None, datetime(2023, 9, 5)])
    sheet.append([])
    sheet.append(["Lone Org", "organisation", "NGO", "Danmark", None])
    sheet.append([])
    # LibreOffice computes the formula on opening and saves its value (3) beside it.
    sheet.append(["Total signatories", "=COUNTA(A2:A5)"])
    sheet.append([])
    sheet.append(["Source: partners' lists compiled in September 2023"])
    sheet.merge_cells("D2:D3")
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "libreoffice.xlsx"
        book.save(source)
        out = Path(folder) / "out"
        for target, name in (
            ("ods", "libreoffice.ods"),
            ("xls:MS Excel 97", "libreoffice.xls"),
            ("xlsx:Calc MS Excel 2007 XML", "libreoffice.xlsx"),
        ):
            subprocess.run(
                ["soffice", "--headless", "--convert-to", target, "--outdir", out, source],
                check=True,
                capture_output=True,
            )
            (HERE / name).write_bytes((out / name).read_bytes())


def png() -> None:
    """A real 1×1 PNG image: what a user uploads by mistake."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    image = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
    (HERE / "image.png").write_bytes(image + chunk(b"IEND", b""))


def random_bytes() -> None:
    data = bytearray(random.Random(3).randbytes(4096))
    data[100] = 0
    (HERE / "random.bin").write_bytes(bytes(data))


if __name__ == "__main__":
    windows_1252_csv()
    european_csv()
    utf16_text()
    workbook()
    libreoffice_workbooks()
    png()
    random_bytes()
