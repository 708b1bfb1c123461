from django.urls import path

from contributions import views

app_name = "contributions"

urlpatterns = [
    path("", views.contribution_list, name="list"),
    path("new/", views.contribution_new, name="new"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("preview/", views.contribution_preview, name="preview"),
    path("opt-out/", views.opt_out, name="opt_out"),
    path("opt-out/undo/", views.opt_out_undo, name="opt_out_undo"),
    path("requirements/<int:pk>/report/", views.requirement_report, name="requirement_report"),
    path("<int:pk>/", views.contribution_detail, name="detail"),
    path("<int:pk>/edit/", views.contribution_edit, name="edit"),
    path("<int:pk>/submit/", views.contribution_submit, name="submit"),
    path("<int:pk>/withdraw/", views.contribution_withdraw, name="withdraw"),
    path("<int:pk>/reply/", views.contribution_reply, name="reply"),
    path("<int:pk>/audit/", views.contribution_audit_answer, name="audit_answer"),
    path("<int:pk>/delete/", views.contribution_draft_delete, name="delete"),
    path("<int:pk>/evidence/", views.contribution_evidence, name="evidence"),
]
