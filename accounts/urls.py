from django.urls import path

from accounts import views

urlpatterns = [
    path("notifications/", views.notification_list, name="notification_list"),
    path("notifications/read/", views.notification_mark_read, name="notification_mark_read"),
]
