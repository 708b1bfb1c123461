from urllib.parse import urlencode

from allauth.account import views as allauth_views
from allauth.account.internal.decorators import login_not_required
from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.forms import EmailStepForm, ProfileForm
from accounts.models import Notification, SSOConnection, User, password_allowed
from accounts.requests import AuthenticatedRequest


def _sso_login_url(connection: SSOConnection) -> str:
    if connection.kind == SSOConnection.Kind.SAML:
        return reverse("saml_login", kwargs={"organization_slug": connection.slug})
    return reverse("openid_connect_login", kwargs={"provider_id": connection.slug})


@method_decorator(login_not_required, name="dispatch")
class SignInView(allauth_views.LoginView):
    """allauth's login, email first: the email's domain decides which ways of signing in are offered.

    The password step posts to this same view, so allauth's form, rate limits and MFA stage apply.
    What is offered depends only on the domain, never on whether the email has an account.
    """

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        email = (self.request.POST.get("login") or self.request.GET.get("email") or "").strip()
        email_form = EmailStepForm(data={"email": email} if email else None)
        if not email or not email_form.is_valid():
            context.update(asks_email=True, email_form=email_form if email else EmailStepForm())
            return context
        organization = selectors.organization_for_email(email=email)
        sso_connections = organization.sso_connections.all() if organization else []
        connections = [{"label": c.label, "url": _sso_login_url(c)} for c in sso_connections]
        refusal = services.password_refusal(organization=organization)
        context.update(
            asks_email=False,
            email=email_form.cleaned_data["email"],
            organization=organization,
            connections=connections,
            password_allowed=refusal is None,
            sso_required_text=refusal or "",
            next_url=self.request.GET.get("next") or self.request.POST.get("next") or "",
        )
        return context


@method_decorator(login_not_required, name="dispatch")
class PasswordResetView(allauth_views.PasswordResetView):
    """allauth's reset, except where the organization requires SSO: no link, and the page says what to do.

    The answer depends on the email's domain only, so it never reveals whether an account exists.
    """

    def form_valid(self, form) -> HttpResponse:
        email = form.cleaned_data["email"]
        organization = selectors.organization_for_email(email=email)
        if organization is None or password_allowed(organization):  # no organization: a password is allowed
            return super().form_valid(form)
        r429 = ratelimit.consume_or_429(self.request, action="reset_password", key=email.lower())
        if r429:
            return r429
        connections = list(organization.sso_connections.all())
        return render(
            self.request,
            "account/password_reset_sso_required.html",
            {
                "organization": organization,
                "email": email,
                "button_label": connections[0].label if connections else "",
                "sign_in_url": f"{reverse('account_login')}?{urlencode({'email': email})}",
                "contact": services.organization_contact_text(organization=organization),
                "contact_email": organization.contact_email,
            },
        )


@login_required
def profile(request: AuthenticatedRequest) -> HttpResponse:
    if request.method == "POST":
        form = ProfileForm(request.POST, instance=User.objects.get(pk=request.user.pk))  # leaves request.user as is
        if form.is_valid():
            services.profile_update(user=request.user, changes=form.changes(), actor=request.user)
            messages.success(request, _("Your profile is saved."))
            return redirect("profile")
        messages.error(request, _("Please correct the fields marked below; nothing was saved."))
    else:
        form = ProfileForm(instance=request.user)
    certification = getattr(request.user, "certification", None)
    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            "certification": certification,
            "organization": request.user.organization,
            "history": selectors.profile_changes(user=request.user, limit=10),
        },
    )


@login_required
@require_POST
def sign_out_everywhere(request: AuthenticatedRequest) -> HttpResponse:
    services.sessions_end_all(request=request, user=request.user)
    if request.user.is_authenticated:
        logout(request)
    messages.success(request, _("You are signed out on every device and browser, including this one."))
    return redirect("account_login")


@login_required
def notification_list(request: AuthenticatedRequest) -> HttpResponse:
    found = selectors.notification_page(user=request.user, number=request.GET.get("page"))
    return render(request, "accounts/notifications.html", {"page": found.page, "unread_notifications": found.unread})


@login_required
def notification_detail(request: AuthenticatedRequest, notification_id: int) -> HttpResponse:
    try:
        notification = selectors.notification_get(user=request.user, notification_id=notification_id)
    except Notification.DoesNotExist:
        raise Http404 from None
    if not notification.is_read:
        services.notifications_mark_read(user=request.user, notification_ids=[notification.pk])
    return render(request, "accounts/notification_detail.html", {"notification": notification})


@login_required
@require_POST
def notification_mark_read(request: AuthenticatedRequest) -> HttpResponse:
    ids = request.POST.getlist("notification")
    # Only plain ASCII ids within a database integer: "²" passes str.isdigit() but not int().
    wanted = [int(i) for i in ids if i.isascii() and i.isdigit() and int(i) < 2**31]
    services.notifications_mark_read(user=request.user, notification_ids=wanted if ids else None)
    return redirect("notification_list")
