"""A font with Chinese characters, found on the machine: badges and certificates print Chinese.

The first of Debian's CJK fonts present (`fonts-wqy-microhei`, which the Makefile installs,
`fonts-noto-cjk`, …), else any that `fc-list :lang=zh` names.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
)


class NoCjkFont(RuntimeError):
    pass


def cjk_font() -> Path:
    for candidate in CJK_FONTS:
        if Path(candidate).is_file():
            return Path(candidate)
    if shutil.which("fc-list"):
        listed = subprocess.run(
            ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, check=False, timeout=10
        ).stdout
        for line in listed.splitlines():
            path = line.split(":")[0].strip()
            if path and Path(path).is_file():
                return Path(path)
    raise NoCjkFont("no font with Chinese characters: install Debian's fonts-wqy-microhei (or fonts-noto-cjk)")


PDF_FONT = "WanjiaCJK"
_ONE_PDF_AT_A_TIME = threading.Lock()


@contextlib.contextmanager
def pdf_font() -> Iterator[str]:
    """The name under which ReportLab knows the CJK font, for making one PDF: registered once per
    process, since parsing the font file is most of what a one-page PDF costs, and each PDF
    embeds only the subset of it that it uses. One PDF at a time per process: the registered
    font reads its file through one shared position while a PDF embeds its subset, so two made
    at once in two threads (certificates, monthly reports) could take each other's bytes."""
    with _ONE_PDF_AT_A_TIME:
        yield _registered()


@functools.cache
def _registered() -> str:
    # ReportLab takes a while to import: a process that makes no PDF never pays it.
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    # A .ttc holds several faces; the first is the regular one of every CJK collection Debian ships.
    pdfmetrics.registerFont(TTFont(PDF_FONT, str(cjk_font()), subfontIndex=0))
    return PDF_FONT
