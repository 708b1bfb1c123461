from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from contributions import views as contribution_views
from mahome import views

admin.site.site_header = "MA Home — program administration"
admin.site.site_title = "MA Home admin"
admin.site.index_title = "Program administration"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    path("contributions/", include("contributions.urls")),
    path("verify/<str:code>/", contribution_views.certificate_verify, name="certificate_verify"),
    path("engagements/", include("engagements.urls")),
    path("community/", include("community_levels.urls")),
    path("admin/", admin.site.urls),
]

handler403 = "mahome.views.error_403"
handler404 = "mahome.views.error_404"
handler500 = "mahome.views.error_500"

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
