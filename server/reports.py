"""The street office's monthly report as PDF: headline figures, four charts and the month's
late items (resolvers.analytics.monthly_report).

Charts are drawn by matplotlib (Figure objects, no pyplot and no display) and the page laid out by ReportLab; both take
the same CJK font, and ReportLab embeds the subset of it that the report uses, so the PDF reads
the same on a machine without Chinese fonts.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

# Named from their module: flowables builds its __all__ at run time, which a type checker cannot read.
from reportlab.platypus.flowables import Image, PageBreak, Spacer

from models.calendar import SHANGHAI
from models.fonts import PDF_FONT, cjk_font, pdf_font
from resolvers.analytics import Cohort, MonthlyReport
from resolvers.complaints import STATUS_NAMES

INK = "#1f3a5f"
ACCENT = "#d9822b"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _number(value: float | None, unit: str = "") -> str:
    return "—" if value is None else f"{value:g}{unit}"


def _chart(figure: Figure) -> Image:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=160, bbox_inches="tight")
    buffer.seek(0)
    width, height = figure.get_size_inches()
    return Image(buffer, width=170 * mm, height=170 * mm * height / width)


def _weekly_chart(report: MonthlyReport, font: FontProperties) -> Image:
    figure = Figure(figsize=(8, 3.6))
    axes = figure.subplots()
    weeks = sorted(report.weekly)
    categories = sorted({name for counts in report.weekly.values() for name in counts})
    bottom = [0] * len(weeks)
    palette = colormaps["tab10"]
    for i, name in enumerate(categories):
        values = [report.weekly[w].get(name, 0) for w in weeks]
        axes.bar([w.strftime("%m-%d") for w in weeks], values, bottom=bottom, label=name, color=palette(i % 10))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_title("各周诉求量（按类别，周一起算）", fontproperties=font)
    axes.set_ylabel("件", fontproperties=font)
    if categories:
        axes.legend(
            prop=font, ncol=min(len(categories), 6), loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False
        )
    return _chart(figure)


def _rates_chart(report: MonthlyReport, font: FontProperties) -> Image:
    figure = Figure(figsize=(8, 3.2))
    axes = figure.subplots()
    labels = ["办结关闭率", "按时受理率", "按时办结率"]

    def rates(cohort: Cohort) -> list[float]:
        found = (cohort.closure_rate, cohort.on_time_acknowledge_rate, cohort.on_time_resolve_rate)
        return [(r or 0) * 100 for r in found]

    positions = range(len(labels))
    now, before = rates(report.dashboard.cohort), rates(report.dashboard.previous_cohort)
    axes.bar([p - 0.2 for p in positions], before, width=0.4, label="上月", color="#9fb3c8")
    bars = axes.bar([p + 0.2 for p in positions], now, width=0.4, label="本月", color=INK)
    axes.bar_label(bars, labels=[f"{v:.1f}%" for v in now], fontsize=8)
    axes.set_xticks(list(positions), labels, fontproperties=font)
    axes.set_ylim(0, 110)
    axes.set_title("办结与按时率", fontproperties=font)
    axes.legend(prop=font, frameon=False)
    return _chart(figure)


def _hotspots_chart(report: MonthlyReport, font: FontProperties) -> Image:
    figure = Figure(figsize=(8, 3.4))
    axes = figure.subplots()
    top = list(reversed(report.dashboard.top_buildings[:10]))
    axes.barh([v.name for v in top], [v.count for v in top], color=ACCENT)
    for label in axes.get_yticklabels():
        label.set_fontproperties(font)
    axes.set_title("诉求最多的楼栋（顽疾）", fontproperties=font)
    axes.set_xlabel("件", fontproperties=font)
    return _chart(figure)


def _satisfaction_chart(report: MonthlyReport, font: FontProperties) -> Image:
    figure = Figure(figsize=(8, 2.8))
    axes = figure.subplots()
    ratings = report.dashboard.cohort.ratings
    bars = axes.bar([f"{r} 星" for r, _ in ratings], [n for _, n in ratings], color=INK)
    axes.bar_label(bars, fontsize=8)
    for label in axes.get_xticklabels():
        label.set_fontproperties(font)
    average = report.dashboard.cohort.average_rating
    axes.set_title(f"满意度评价分布（平均 {_number(average)} 分）", fontproperties=font)
    return _chart(figure)


def _headline(report: MonthlyReport) -> Table:
    now, before = report.dashboard.cohort, report.dashboard.previous_cohort
    rows = [
        ["指标", "本月", "上月"],
        ["诉求总量", str(now.submitted), str(before.submitted)],
        ["已关闭", str(now["closed"]), str(before["closed"])],
        ["办结关闭率", _percent(now.closure_rate), _percent(before.closure_rate)],
        ["按时受理率", _percent(now.on_time_acknowledge_rate), _percent(before.on_time_acknowledge_rate)],
        ["按时办结率", _percent(now.on_time_resolve_rate), _percent(before.on_time_resolve_rate)],
        ["平均办理时长（工作小时）", _number(now.average_handling_hours), _number(before.average_handling_hours)],
        ["90% 办结用时不超过（工作小时）", _number(now.p90_handling_hours), _number(before.p90_handling_hours)],
        ["重新办理率", _percent(now.reopen_rate), _percent(before.reopen_rate)],
        ["平均满意度（1–5 分）", _number(now.average_rating), _number(before.average_rating)],
        ["当前超期未办结", str(report.dashboard.overdue_now), ""],
    ]
    table = Table(rows, colWidths=[80 * mm, 40 * mm, 40 * mm])
    table.setStyle(_table_style())
    return table


def _table_style() -> TableStyle:
    return TableStyle(
        [
            ("FONT", (0, 0), (-1, -1), PDF_FONT, 9),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor(INK)),
            ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#eef2f6")]),
            ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#b8c4d0")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]
    )


def _late_items(report: MonthlyReport) -> Table:
    rows = [["诉求", "类别", "网格", "办结期限", "办结时间", "状态"]]
    for item in report.late:
        rows.append(
            [
                item.title[:16],
                item.category,
                item.grid[:14],
                item.resolve_due_at.astimezone(SHANGHAI).strftime("%m-%d %H:%M"),
                item.resolved_at.astimezone(SHANGHAI).strftime("%m-%d %H:%M") if item.resolved_at else "未办结",
                STATUS_NAMES[item.status],
            ]
        )
    table = Table(rows, colWidths=[44 * mm, 20 * mm, 42 * mm, 24 * mm, 24 * mm, 18 * mm], repeatRows=1)
    table.setStyle(_table_style())
    return table


def month_name(month: date) -> str:
    return f"{month.year} 年 {month.month} 月"


def render_monthly_report(report: MonthlyReport, out: Path) -> Path:
    """Writes the report to `out` (a PDF) and answers its path. The charts are drawn first, as
    images: only laying out the PDF holds the process's one-PDF-at-a-time lock (models.fonts),
    so a certificate asked for meanwhile waits for the layout, not for the charts."""
    chart_font = FontProperties(fname=str(cjk_font()), size=9)
    weekly, rates = _weekly_chart(report, chart_font), _rates_chart(report, chart_font)
    hotspots, satisfaction = _hotspots_chart(report, chart_font), _satisfaction_chart(report, chart_font)
    title = ParagraphStyle("title", fontName=PDF_FONT, fontSize=18, leading=24, textColor=colors.HexColor(INK))
    heading = ParagraphStyle("heading", fontName=PDF_FONT, fontSize=12, leading=18, spaceBefore=6, spaceAfter=4)
    body = ParagraphStyle("body", fontName=PDF_FONT, fontSize=9, leading=14)
    dashboard = report.dashboard
    late_note = f"办结期限在本月、已过期限而未按时办结的诉求共 {report.late_total} 件" + (
        f"，下表列出最早到期的 {len(report.late)} 件。" if report.late_total > len(report.late) else "。"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    with pdf_font():
        story = [
            Paragraph(f"{report.office} {month_name(report.month)}诉求工作月报", title),
            Paragraph(
                f"统计期间：{dashboard.current.start:%Y-%m-%d} 至 {dashboard.current.end:%Y-%m-%d}（不含）；"
                "办结、按时、满意度等比率均指本月提交的诉求截至出报时的情况。",
                body,
            ),
            Spacer(1, 4 * mm),
            Paragraph("一、主要指标", heading),
            _headline(report),
            Paragraph("二、各周诉求量", heading),
            weekly,
            Paragraph("三、办结与按时率", heading),
            rates,
            PageBreak(),
            Paragraph("四、热点楼栋", heading),
            hotspots,
            Paragraph("五、满意度", heading),
            satisfaction,
            PageBreak(),
            Paragraph("六、本月超期事项", heading),
            Paragraph(late_note, body),
            Spacer(1, 2 * mm),
            _late_items(report),
        ]
        document = SimpleDocTemplate(
            str(out),
            pagesize=A4,
            title=f"{report.office} {month_name(report.month)}月报",
            author="万家",
            leftMargin=18 * mm,
            rightMargin=18 * mm,
            topMargin=16 * mm,
            bottomMargin=16 * mm,
        )
        document.build(story)
    return out
