"""The whole site mounted under /moved/: a link built with reverse() follows it, a typed path does not."""

from django.urls import include, path

urlpatterns = [path("moved/", include("mahome.urls"))]
