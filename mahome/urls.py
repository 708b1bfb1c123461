from django.contrib import admin
from django.urls import include, path

from accounts import views as accounts_views
from contributions import certificate_views
from mahome import admin_home, views

# admin.site is mahome.admin_site.MAHomeAdminSite (title, allauth sign-in, the program team's home page).
admin_home.install(admin.site)

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("healthz", views.healthz, name="healthz"),
    path("status/", views.status, name="status"),
    path("help/", views.help_page, name="help"),
    path("dev/outbox/", views.dev_outbox, name="dev_outbox"),
    path("accounts/login/", accounts_views.SignInView.as_view(), name="account_login"),
    path("accounts/password/reset/", accounts_views.PasswordResetView.as_view(), name="account_reset_password"),
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    path("contributions/", include("contributions.urls")),
    path("certificates/", certificate_views.certificate_list, name="certificate_list"),
    path("certificates/<int:pk>/visibility/", certificate_views.certificate_visibility, name="certificate_visibility"),
    path("verify/<str:code>.json", certificate_views.certificate_verify_json, name="certificate_verify_json"),
    path("verify/<str:code>/", certificate_views.certificate_verify, name="certificate_verify"),
    path("verify/<str:code>/credential", certificate_views.certificate_credential, name="certificate_credential"),
    path("verify/<str:code>/certificate.pdf", certificate_views.certificate_pdf, name="certificate_pdf"),
    path("verify/<str:code>/badge.png", certificate_views.certificate_badge, name="certificate_badge"),
    path("credentials/status/<int:number>", certificate_views.credential_status_list, name="credential_status_list"),
    path(
        "credentials/achievements/<slug:slug>",
        certificate_views.credential_achievement,
        name="credential_achievement",
    ),
    path(".well-known/jwks.json", certificate_views.jwks, name="jwks"),
    path("engagements/", include("engagements.urls")),
    path("community/", include("community_levels.urls")),
    path("admin/", admin.site.urls),
]

handler403 = "mahome.views.error_403"
handler404 = "mahome.views.error_404"
handler429 = "mahome.views.error_429"  # read by allauth's rate limits
handler500 = "mahome.views.error_500"
