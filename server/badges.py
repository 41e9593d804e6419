"""Printable badges (工作牌) for grid workers: the registration QR code with the worker's name and
grid, as PNG (for the print shop) and SVG (for designers), rendered with segno and Pillow.

Chinese text needs a font that has it (models.fonts). The SVG names the same families and
leaves the drawing to whoever opens it.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont

from models.fonts import cjk_font
from resolvers.badges import BadgeRow, badge_link

WIDTH, HEIGHT = 640, 900
HEADER = 150
QR_SIDE = 440
RED = "#C8102E"
SVG_FONTS = "'WenQuanYi Micro Hei', 'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', sans-serif"


@dataclass(frozen=True)
class Badge:
    """What is printed on one badge."""

    office: str
    worker_name: str
    place: str  # 青年路社区 · 青年路社区第1网格
    link: str

    @classmethod
    def of(cls, office: str, row: BadgeRow, registration_page: str) -> Badge:
        return cls(
            office=office,
            worker_name=row.worker_name,
            place=f"{row.community_name} · {row.grid_name}",
            link=badge_link(registration_page, row.token),
        )


def _qr(link: str) -> segno.QRCode:
    # Quartile error correction: a badge gets scuffed and bent.
    return segno.make(link, error="q", micro=False)


def _centred(draw: ImageDraw.ImageDraw, y: int, text: str, font: ImageFont.FreeTypeFont, fill: str) -> None:
    left, _, right, _ = draw.textbbox((0, 0), text, font=font)
    draw.text(((WIDTH - (right - left)) / 2, y), text, font=font, fill=fill)


def _fitting(font_path: Path, text: str, size: int, width: int) -> ImageFont.FreeTypeFont:
    """The font at `size`, smaller if the text would not fit the width (a long grid name)."""
    while True:
        font = ImageFont.truetype(str(font_path), size)
        if font.getlength(text) <= width or size <= 14:
            return font
        size -= 2


def png(badge: Badge, font_path: Path) -> bytes:
    canvas = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, WIDTH, HEADER), fill=RED)
    _centred(draw, 30, badge.office, _fitting(font_path, badge.office, 44, WIDTH - 60), "white")
    _centred(draw, 92, "网格员工作牌", ImageFont.truetype(str(font_path), 30), "white")
    qr = _qr(badge.link)
    # A whole number of pixels per module: a scanner reads sharp, even squares best.
    scale = QR_SIDE // qr.symbol_size(scale=1, border=2)[0]
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=scale, border=2)
    code = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    canvas.paste(code, ((WIDTH - code.width) // 2, HEADER + 30 + (QR_SIDE - code.height) // 2))
    below = HEADER + 30 + QR_SIDE + 24
    _centred(draw, below, badge.worker_name, _fitting(font_path, badge.worker_name, 56, WIDTH - 60), "black")
    _centred(draw, below + 84, badge.place, _fitting(font_path, badge.place, 28, WIDTH - 60), "#333333")
    _centred(draw, below + 134, "扫码注册 · 我是您的专属网格员", ImageFont.truetype(str(font_path), 26), RED)
    out = io.BytesIO()
    canvas.save(out, format="PNG", dpi=(300, 300))
    return out.getvalue()


def svg(badge: Badge) -> str:
    code = _qr(badge.link)
    modules = code.symbol_size(scale=1, border=2)[0]
    inner = code.svg_inline(scale=QR_SIDE / modules, border=2, dark="black", light="white")
    inner = inner.replace("<svg ", f'<svg x="{(WIDTH - QR_SIDE) // 2}" y="{HEADER + 30}" ', 1)
    below = HEADER + 30 + QR_SIDE + 24

    def text(y: int, size: int, value: str, fill: str) -> str:
        return (
            f'<text x="{WIDTH // 2}" y="{y + size}" font-size="{size}" text-anchor="middle" '
            f'font-family="{SVG_FONTS}" fill="{fill}">{escape(value)}</text>'
        )

    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}">'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>'
        f'<rect width="{WIDTH}" height="{HEADER}" fill="{RED}"/>'
        + text(30, 44, badge.office, "white")
        + text(92, 30, "网格员工作牌", "white")
        + inner
        + text(below, 56, badge.worker_name, "black")
        + text(below + 84, 28, badge.place, "#333333")
        + text(below + 134, 26, "扫码注册 · 我是您的专属网格员", RED)
        + "</svg>\n"
    )


UNSAFE = re.compile(r"[^\w.-]+")


def write_badges(office: str, rows: list[BadgeRow], registration_page: str, out: Path) -> list[Path]:
    """One PNG and one SVG per grid worker and grid, named by grid code and worker."""
    font_path = cjk_font()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for row in rows:
        badge = Badge.of(office, row, registration_page)
        stem = UNSAFE.sub("_", f"{row.grid_code}-{row.worker_name}")
        (out / f"{stem}.png").write_bytes(png(badge, font_path))
        (out / f"{stem}.svg").write_text(svg(badge), encoding="utf-8")
        written += [out / f"{stem}.png", out / f"{stem}.svg"]
    return written
