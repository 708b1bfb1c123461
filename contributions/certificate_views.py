"""Certificate pages: the member's list and visibility, the public verification page, its JSON, and the
machine-readable forms (Open Badges credential, baked badge, status list, issuer keys, PDF)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.requests import AuthenticatedRequest
from contributions import credentials, selectors, services
from contributions.models import Certificate


@require_GET
def certificate_verify(request: HttpRequest, code: str) -> HttpResponse:
    """Public credential page: who, what, by whom, what it took, dates, status in words, checked when."""
    certificate = credentials.certificate_for_code(code=code)
    if certificate is None:
        return render(request, "contributions/verify_unknown.html", status=404)
    facts = credentials.facts_for(certificate=certificate)
    response = render(request, "contributions/verify.html", {"facts": facts, "certificate": certificate})
    response["Cache-Control"] = "no-store"  # "checked on" must be true when shown
    if not facts.is_public:
        response["X-Robots-Tag"] = "noindex"
    return response


@require_GET
def certificate_verify_json(request: HttpRequest, code: str) -> HttpResponse:
    """The page's facts for scripts, rate-limited per client address."""
    from allauth.core.internal import ratelimit
    from django.conf import settings

    allowed = ratelimit.consume(
        request,
        app="mahome",
        action="verify_json",
        config={"verify_json": settings.MAHOME_VERIFY_JSON_RATE},
        limit_get=True,
    )
    if not allowed:
        response = JsonResponse({"error": "rate_limited", "detail": _("Too many requests; wait a minute.")}, status=429)
        response["Retry-After"] = "60"
        return response
    certificate = credentials.certificate_for_code(code=code)
    if certificate is None:
        return JsonResponse({"error": "not_found", "detail": _("No certificate has this code.")}, status=404)
    response = JsonResponse(credentials.facts_for(certificate=certificate).as_json())
    response["Cache-Control"] = "no-store"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@login_required
@require_GET
def certificate_list(request: AuthenticatedRequest) -> HttpResponse:
    """The member's certificates, past and replaced ones included, each with its status in words."""
    today = timezone.localdate()
    certificates = list(selectors.certificates_of_member(member=request.user))
    current = selectors.current_among(certificates, today=today)
    rows = [
        {
            "certificate": c,
            "status": c.status_on(today),
            "status_label": Certificate.Status(c.status_on(today)).label,
            "status_text": selectors.certificate_status_text(certificate=c, today=today),
            "is_current": current is not None and c.pk == current.pk,
            "linkedin_url": credentials.linkedin_add_url(
                certificate=c, page_url=credentials.absolute(reverse("certificate_verify", args=[c.verification_code]))
            )
            if c.status_on(today) == Certificate.Status.VALID
            else "",
        }
        for c in certificates
    ]
    return render(request, "contributions/certificates.html", {"rows": rows, "current": current})


@login_required
@require_POST
def certificate_visibility(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The holder shows or hides a certificate's public page (a revoked one still says it is revoked)."""
    certificate = Certificate.objects.filter(pk=pk, member=request.user).first()
    if certificate is None:
        raise Http404
    public = request.POST.get("public") == "1"
    services.certificate_set_public(certificate=certificate, member=request.user, is_public=public)
    if public:
        messages.success(request, _("Certificate %(number)s is public again.") % {"number": certificate.number})
    else:
        messages.success(
            request,
            _("Certificate %(number)s is hidden: its page now says only that it is not public.")
            % {"number": certificate.number},
        )
    return redirect("certificate_list")


def _public_certificate_or_404(code: str) -> Certificate:
    """A certificate whose machine-readable forms may be served: a hidden one has none (its page
    says only "not public"), except that a revoked one always answers, so a copy can be checked."""
    certificate = credentials.certificate_for_code(code=code)
    if certificate is None or not (certificate.is_public or certificate.revoked_at is not None):
        raise Http404
    return certificate


@require_GET
def certificate_credential(request: HttpRequest, code: str) -> HttpResponse:
    """The signed Open Badges 3.0 credential (VC-JWT), for wallets and verifiers."""
    from contributions import openbadges

    certificate = _public_certificate_or_404(code)
    response = HttpResponse(openbadges.signed_credential(certificate), content_type=openbadges.MEDIA_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{certificate.number}.jwt"'
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def certificate_badge(request: HttpRequest, code: str) -> HttpResponse:
    """The badge image with the signed credential baked in (OB 3.0 PNG baking)."""
    from contributions import openbadges

    certificate = _public_certificate_or_404(code)
    response = HttpResponse(openbadges.baked_badge(certificate), content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="{certificate.number}.png"'
    return response


@require_GET
def credential_status_list(request: HttpRequest, number: int) -> HttpResponse:
    """The Bitstring Status List credential: bit set = revoked (or replaced by a re-issue)."""
    from contributions import openbadges

    response = HttpResponse(openbadges.signed_status_list(number=number), content_type=openbadges.MEDIA_TYPE)
    response["Cache-Control"] = "max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def jwks(request: HttpRequest) -> HttpResponse:
    """The issuer's public keys, current and retired (credentials signed before a rotation verify)."""
    from contributions import issuer_keys

    response = JsonResponse(issuer_keys.jwks(), content_type="application/jwk-set+json")
    response["Cache-Control"] = "max-age=3600"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def credential_achievement(request: HttpRequest, slug: str) -> HttpResponse:
    """The Achievement that every certificate's credential awards (its `id` dereferences here)."""
    from contributions import openbadges

    if slug != openbadges.ACHIEVEMENT_SLUG:
        raise Http404
    response = JsonResponse({"@context": [openbadges.VC_CONTEXT, openbadges.OB_CONTEXT], **openbadges.achievement()})
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def certificate_pdf(request: HttpRequest, code: str) -> HttpResponse:
    """The one-page PDF certificate with a QR code to its public page."""
    from contributions import certificate_pdf, openbadges

    certificate = _public_certificate_or_404(code)
    facts = credentials.facts_for(certificate=certificate)
    response = HttpResponse(
        certificate_pdf.render(facts=facts, badge_png=openbadges.badge_png()), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="{certificate.number}.pdf"'
    return response
