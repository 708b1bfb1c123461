"""The one-page PDF certificate (reportlab, pure-Python wheels): holder, number, dates, the status
when it was printed, and a QR code to the public page, where anyone checks it is still valid."""

from io import BytesIO

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.colors import Color, HexColor, white
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from contributions.credentials import CertificateFacts

BRAND = HexColor("#0b4f8a")
GOLD = HexColor("#c9a227")
INK = HexColor("#1d2733")
MUTED = HexColor("#5b6675")


def _qr(url: str, size: float) -> Drawing:
    widget = QrCodeWidget(url, barLevel="M")
    x1, y1, x2, y2 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x2 - x1), 0, 0, size / (y2 - y1), 0, 0])
    drawing.add(widget)
    return drawing


def render(*, facts: CertificateFacts, badge_png: bytes) -> bytes:
    """A4 landscape, one page; fonts are the PDF standard fonts (nothing to embed or install)."""
    buffer = BytesIO()
    width, height = landscape(A4)
    pdf = canvas.Canvas(buffer, pagesize=(width, height), invariant=1)
    pdf.setTitle(f"{facts.credential_name} {facts.year} — {facts.number}")
    pdf.setAuthor(facts.issuer_name)
    pdf.setSubject(facts.page_url)
    _draw_heading(pdf, facts=facts, badge_png=badge_png, width=width, height=height)
    _draw_holder(pdf, facts=facts, width=width, height=height)
    _draw_facts(pdf, rows=certificate_rows(facts), top=height - 360)
    _draw_check(pdf, facts=facts, width=width)
    if facts.is_revoked:
        _draw_revoked(pdf, width=width, height=height)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def certificate_rows(facts: CertificateFacts) -> list[tuple[str, str]]:
    """The printed facts, label and value (a value is cut at 90 characters when drawn)."""
    return [
        (_("Certificate number"), facts.number),
        (_("Issued on"), date_format(facts.issued_on, "j F Y")),
        (_("Valid from"), date_format(facts.valid_from, "j F Y")),
        (_("Valid until"), date_format(facts.last_valid_day, "j F Y")),
        (_("Status when printed"), facts.status_text),
    ]


def _draw_heading(
    pdf: canvas.Canvas, *, facts: CertificateFacts, badge_png: bytes, width: float, height: float
) -> None:
    """The double frame, the badge, the issuer and the title."""
    pdf.setStrokeColor(GOLD)
    pdf.setLineWidth(6)
    pdf.rect(24, 24, width - 48, height - 48)
    pdf.setStrokeColor(BRAND)
    pdf.setLineWidth(1.5)
    pdf.rect(36, 36, width - 72, height - 72)

    pdf.drawImage(ImageReader(BytesIO(badge_png)), 70, height - 210, width=130, height=130, mask="auto")
    pdf.setFillColor(BRAND)
    pdf.setFont("Helvetica-Bold", 13)
    pdf.drawString(225, height - 100, facts.issuer_name.upper())
    pdf.setFillColor(INK)
    pdf.setFont("Helvetica-Bold", 34)
    pdf.drawString(225, height - 145, _("Certificate"))
    pdf.setFont("Helvetica", 13)
    pdf.setFillColor(MUTED)
    pdf.drawString(225, height - 170, _("This certifies that"))


def _draw_holder(pdf: canvas.Canvas, *, facts: CertificateFacts, width: float, height: float) -> None:
    pdf.setFillColor(INK)
    pdf.setFont("Helvetica-Bold", 30)
    pdf.drawCentredString(width / 2, height - 265, facts.holder)
    pdf.setStrokeColor(GOLD)
    pdf.setLineWidth(1)
    pdf.line(width / 2 - 220, height - 277, width / 2 + 220, height - 277)
    pdf.setFont("Helvetica", 15)
    pdf.drawCentredString(
        width / 2,
        height - 305,
        _("is a %(name)s, certified for %(year)s.") % {"name": facts.credential_name, "year": facts.year},
    )


def _draw_facts(pdf: canvas.Canvas, *, rows: list[tuple[str, str]], top: float) -> None:
    y = top
    for label, value in rows:
        pdf.setFont("Helvetica", 11)
        pdf.setFillColor(MUTED)
        pdf.drawString(90, y, label)
        pdf.setFont("Helvetica-Bold", 11)
        pdf.setFillColor(INK)
        pdf.drawString(230, y, value[:90])
        y -= 20


def _draw_check(pdf: canvas.Canvas, *, facts: CertificateFacts, width: float) -> None:
    """The QR code to the public page and, beside it, where and how to check the certificate."""
    qr_size = 130
    qr_x, qr_y = width - 90 - qr_size, 80
    pdf.setFillColor(white)
    pdf.rect(qr_x - 6, qr_y - 6, qr_size + 12, qr_size + 12, stroke=0, fill=1)
    renderPDF.draw(_qr(facts.page_url, qr_size), pdf, qr_x, qr_y)
    pdf.setFont("Helvetica", 9)
    pdf.setFillColor(MUTED)
    pdf.drawCentredString(qr_x + qr_size / 2, qr_y - 18, _("Scan to check it is still valid"))

    pdf.setFont("Helvetica", 9)
    pdf.drawString(90, 92, _("Check this certificate at any time:"))
    pdf.setFillColor(BRAND)
    pdf.setFont("Helvetica", 9)
    pdf.drawString(90, 78, facts.page_url)
    pdf.setFillColor(MUTED)
    pdf.drawString(
        90,
        64,
        _("A signed Open Badges 3.0 credential of it verifies offline with the issuer's public keys."),
    )


def _draw_revoked(pdf: canvas.Canvas, *, width: float, height: float) -> None:
    pdf.saveState()
    pdf.setFillColor(Color(0.6, 0.05, 0.05, alpha=0.25))
    pdf.setFont("Helvetica-Bold", 110)
    pdf.translate(width / 2, height / 2 - 40)
    pdf.rotate(20)
    pdf.drawCentredString(0, 0, _("REVOKED"))
    pdf.restoreState()
