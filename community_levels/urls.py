from django.urls import path

from community_levels import views

app_name = "community_levels"

urlpatterns = [
    path("levels/", views.levels, name="levels"),
    path("me/", views.me, name="me"),
    path("boss/", views.boss, name="boss"),
]
