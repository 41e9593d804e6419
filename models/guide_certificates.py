"""The PDF of a community certificate (社区证明): A4, the Chinese font embedded (subset), and a QR
code, drawn as vector squares, linking to the page that checks it by its code.

Pure: the certificate's words in, the PDF's bytes out. Rendering parses the font file (half a
second), so callers run it off the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import segno

from models.calendar import SHANGHAI

if TYPE_CHECKING:
    from fpdf import FPDF

FONT = "cjk"
MARGIN = 25  # mm
QR_SIDE = 38  # mm
RED = (200, 16, 46)


@dataclass(frozen=True)
class CertificateText:
    title: str  # 居住证明
    holder_name: str
    statement: str  # 兹证明……
    issuer: str  # 万青路街道青年路社区居民委员会
    issued_at: datetime
    code: str
    check_url: str


def chinese_date(moment: datetime) -> str:
    local = moment.astimezone(SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日"


def render_certificate(text: CertificateText, font: Path) -> bytes:
    # fpdf takes half a second to load: the first certificate pays it, not every process that starts.
    from fpdf import FPDF

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_title(text.title)
    pdf.set_author(text.issuer)
    pdf.set_creator("wanjia")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(auto=False)
    # A .ttc holds several faces; the first is the regular one of every CJK collection Debian ships.
    pdf.add_font(FONT, fname=str(font), collection_font_number=0)
    pdf.add_page()
    width = pdf.w - 2 * MARGIN

    pdf.set_font(FONT, size=26)
    pdf.set_y(40)
    pdf.cell(width, 14, text.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(*RED)
    pdf.set_line_width(0.6)
    pdf.line(MARGIN, 58, pdf.w - MARGIN, 58)

    pdf.set_y(72)
    pdf.set_font(FONT, size=14)
    pdf.multi_cell(width, 10, text.statement, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.multi_cell(width, 10, "特此证明。", align="L", new_x="LMARGIN", new_y="NEXT")

    pdf.set_y(170)
    pdf.cell(width, 10, text.issuer, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(width, 10, chinese_date(text.issued_at), align="R", new_x="LMARGIN", new_y="NEXT")

    top = pdf.h - MARGIN - QR_SIDE - 12
    _qr(pdf, text.check_url, MARGIN, top, QR_SIDE)
    pdf.set_xy(MARGIN + QR_SIDE + 6, top + 8)
    pdf.set_font(FONT, size=11)
    pdf.multi_cell(
        width - QR_SIDE - 6,
        6,
        f"扫描二维码核验本证明真伪\n核验码：{text.code}\n本证明以线上核验结果为准，涂改无效。",
        align="L",
    )
    return bytes(pdf.output())


def _qr(pdf: FPDF, link: str, left: float, top: float, side: float) -> None:
    code = segno.make(link, error="m", micro=False)
    matrix = code.matrix
    module = side / len(matrix)
    pdf.set_fill_color(0, 0, 0)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                pdf.rect(left + x * module, top + y * module, module, module, style="F")
