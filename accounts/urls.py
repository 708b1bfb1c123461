from django.urls import path

from accounts import views

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("profile/sign-out-everywhere/", views.sign_out_everywhere, name="sign_out_everywhere"),
    path("notifications/", views.notification_list, name="notification_list"),
    path("notifications/<int:notification_id>/", views.notification_detail, name="notification_detail"),
    path("notifications/read/", views.notification_mark_read, name="notification_mark_read"),
]
