"""The PDF of a community certificate (社区证明): A4, the Chinese font embedded (subset), and a QR
code, drawn as vector squares, linking to the page that checks it by its code.

Pure: the certificate's words in, the PDF's bytes out. The first certificate of a process parses
the font (models.fonts.pdf_font); callers run rendering off the event loop all the same.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING

import segno

from models.calendar import SHANGHAI
from models.fonts import pdf_font

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

MARGIN = 25  # mm, as are all lengths here
QR_SIDE = 38
RED = (200 / 255, 16 / 255, 46 / 255)
POINTS_PER_MM = 72 / 25.4


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


def render_certificate(text: CertificateText) -> bytes:
    # ReportLab takes a while to import: the first certificate pays it, not every process that starts.
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    with pdf_font() as font:
        out = io.BytesIO()
        pdf = Canvas(out, pagesize=A4, pageCompression=1)
        pdf.setTitle(text.title)
        pdf.setAuthor(text.issuer)
        pdf.setCreator("wanjia")
        page = _Page(pdf, A4[0] / POINTS_PER_MM, A4[1] / POINTS_PER_MM)
        width = page.width - 2 * MARGIN

        pdf.setFont(font, 26)
        pdf.drawCentredString(*page.at(page.width / 2, 50), text.title)
        pdf.setStrokeColorRGB(*RED)
        pdf.setLineWidth(0.6 * POINTS_PER_MM)
        pdf.line(*page.at(MARGIN, 58), *page.at(page.width - MARGIN, 58))

        below = page.paragraph(text.statement, font, 14, 10, MARGIN, 72, width)
        page.paragraph("特此证明。", font, 14, 10, MARGIN, below + 4, width)

        pdf.setFont(font, 14)
        pdf.drawRightString(*page.at(page.width - MARGIN, 177), text.issuer)
        pdf.drawRightString(*page.at(page.width - MARGIN, 187), chinese_date(text.issued_at))

        qr_top = page.height - MARGIN - QR_SIDE - 12
        page.qr(text.check_url, MARGIN, qr_top, QR_SIDE)
        notice = f"扫描二维码核验本证明真伪\n核验码：{text.code}\n本证明以线上核验结果为准，涂改无效。"
        page.paragraph(notice, font, 11, 6, MARGIN + QR_SIDE + 6, qr_top + 8, width - QR_SIDE - 6)
        pdf.showPage()
        pdf.save()
        return out.getvalue()


@dataclass(frozen=True)
class _Page:
    """Drawing in mm measured from the page's top left, as the layout above is written; ReportLab
    measures in points from the bottom left."""

    pdf: Canvas
    width: float
    height: float

    def at(self, left: float, top: float) -> tuple[float, float]:
        return left * POINTS_PER_MM, (self.height - top) * POINTS_PER_MM

    def paragraph(
        self, words: str, font: str, size: float, leading: float, left: float, top: float, width: float
    ) -> float:
        """Draws `words` wrapped to `width` (Chinese wraps between any two characters), line
        breaks kept; answers how far down the page it ends."""
        from reportlab.lib.styles import ParagraphStyle
        from reportlab.platypus import Paragraph

        style = ParagraphStyle(
            "certificate", fontName=font, fontSize=size, leading=leading * POINTS_PER_MM, wordWrap="CJK"
        )
        paragraph = Paragraph(escape(words, quote=False).replace("\n", "<br/>"), style)
        height: float = (
            paragraph.wrapOn(self.pdf, width * POINTS_PER_MM, self.height * POINTS_PER_MM)[1] / POINTS_PER_MM
        )
        paragraph.drawOn(self.pdf, *self.at(left, top + height))
        return top + height

    def qr(self, link: str, left: float, top: float, side: float) -> None:
        """The QR code as vector squares, `side` mm wide."""
        matrix = segno.make(link, error="m", micro=False).matrix
        module = side / len(matrix)
        self.pdf.setFillColorRGB(0, 0, 0)
        for y, row in enumerate(matrix):
            for x, dark in enumerate(row):
                if dark:
                    self.pdf.rect(
                        *self.at(left + x * module, top + (y + 1) * module),
                        module * POINTS_PER_MM,
                        module * POINTS_PER_MM,
                        stroke=0,
                        fill=1,
                    )
