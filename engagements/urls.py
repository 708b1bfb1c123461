from django.urls import path

from engagements import views

app_name = "engagements"

urlpatterns = [
    path("", views.opportunity_list, name="opportunity_list"),
    path("mine/", views.signup_list, name="signup_list"),
    path("suggestions/", views.suggestion_list, name="suggestion_list"),
    path("signups/<int:signup_id>/withdraw/", views.signup_withdraw, name="signup_withdraw"),
    path("signups/<int:signup_id>/accept/", views.signup_offer_accept, name="signup_accept"),
    path("signups/<int:signup_id>/decline/", views.signup_offer_decline, name="signup_decline"),
    path("signups/<int:signup_id>/calendar.ics", views.signup_calendar_file, name="signup_calendar"),
    path("<slug:slug>/", views.opportunity_detail, name="opportunity_detail"),
    path("<slug:slug>/sign-up/", views.signup_create, name="signup_create"),
]
