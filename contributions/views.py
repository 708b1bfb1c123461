from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.requests import AuthenticatedRequest
from accounts.roles import staff_mfa_ready, staff_mfa_required_response
from contributions import rules, selectors, services
from contributions.evidence import download_name, kind_of_stored
from contributions.forms import (
    AuditAnswerForm,
    ContributionForm,
    OptOutForm,
    ReplyForm,
    RequirementReportForm,
    id_from_input,
)
from contributions.models import Contribution, TechnicalRequirement
from contributions.services import audits as audit_services
from mahome.errors import show_refusal


def _own_or_404(request: AuthenticatedRequest, pk: int) -> Contribution:
    contribution = selectors.contribution_get(user=request.user, pk=pk)
    if contribution is None:
        raise Http404
    return contribution


@login_required
def contribution_list(request: AuthenticatedRequest) -> HttpResponse:
    today = timezone.localdate()
    current = selectors.program_year_current(today=today)
    year = id_from_input(request.GET.get("year"))
    program_year = selectors.program_year_get(year=year) if year else current
    state = request.GET.get("state", "")
    contributions = selectors.contribution_list(user=request.user, program_year=program_year)
    if state in Contribution.State.values:
        contributions = contributions.filter(state=state)
    standing = (
        selectors.member_year_for(user=request.user, program_year=program_year, today=today) if program_year else None
    )
    page = Paginator(contributions, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "contributions/list.html",
        {
            "page": page,
            "program_year": program_year,
            "years": selectors.member_contribution_years(user=request.user, current=current),
            "state": state,
            "states": Contribution.State.choices,
            "standing": standing,
        },
    )


def _form_kwargs(form: ContributionForm) -> dict:
    data = form.cleaned_data
    return {
        "activity_type": data["activity_type"],
        "title": data["title"],
        "description": data["description"],
        "occurred_on": data["occurred_on"],
        "quantity": data["quantity"],
        "evidence_url": data["evidence_url"],
        "evidence_file": data["evidence_file"] or None,
    }


@login_required
def contribution_new(request: AuthenticatedRequest) -> HttpResponse:
    # ?type=<id> (from the dashboard's "quickest ways") preselects a type; anything else is ignored.
    form = ContributionForm(
        request.POST or None, request.FILES or None, initial={"activity_type": id_from_input(request.GET.get("type"))}
    )
    if request.method == "POST" and form.is_valid():
        submit = request.POST.get("action") != "draft"
        try:
            contribution = services.contribution_create(member=request.user, submit=submit, **_form_kwargs(form))
        except services.ContributionError as error:
            show_refusal(request, error, form=form)
        else:
            if submit:
                messages.success(
                    request,
                    _("“%(title)s” was submitted for verification (%(points)s points claimed).")
                    % {"title": contribution.title, "points": intcomma(contribution.claimed_points)},
                )
            else:
                messages.success(request, _("Draft saved. Submit it when it is ready."))
            return redirect("contributions:detail", pk=contribution.pk)
    return render(
        request,
        "contributions/form.html",
        {"form": form, "contribution": None, "preview": _preview_for(request, form), "thread": []},
    )


@login_required
def contribution_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    contribution = _own_or_404(request, pk)
    if contribution.state not in services.EDITABLE_STATES or contribution.requirement_id:
        messages.info(request, _("Only drafts and items that need more information can be changed."))
        return redirect("contributions:detail", pk=pk)
    initial = {
        "activity_type": contribution.activity_type_id,
        "title": contribution.title,
        "description": contribution.description,
        "occurred_on": contribution.occurred_on,
        "quantity": contribution.quantity,
        "evidence_url": contribution.evidence_url,
    }
    asked = contribution.state == Contribution.State.NEEDS_INFO
    form = ContributionForm(request.POST or None, request.FILES or None, initial=initial, asked=asked)
    submit = request.POST.get("action") != "draft"
    if request.method == "POST" and form.is_valid() and asked and submit and not form.cleaned_data["answer"].strip():
        form.add_error("answer", _("Answer the verifier's question to resubmit (or save your changes for later)."))
    if request.method == "POST" and form.is_valid():
        try:
            contribution = services.contribution_edit(
                contribution=contribution,
                member=request.user,
                submit=submit,
                answer=form.cleaned_data["answer"] if asked else "",
                **_form_kwargs(form),
            )
        except services.ContributionError as error:
            show_refusal(request, error, form=form)
        else:
            if contribution.state == Contribution.State.SUBMITTED:
                messages.success(request, _("Submitted for verification."))
            else:
                messages.success(request, _("Changes saved."))
            return redirect("contributions:detail", pk=pk)
    return render(
        request,
        "contributions/form.html",
        {
            "form": form,
            "contribution": contribution,
            "preview": _preview_for(request, form),
            "thread": _thread(contribution),
        },
    )


def _thread(contribution: Contribution | None) -> list:
    return list(contribution.messages.select_related("author")) if contribution else []


def _preview_for(request: AuthenticatedRequest, form: ContributionForm) -> selectors.ClaimPreview:
    data = form.data if form.is_bound else {}
    activity_type = data.get("activity_type") if data else form.initial.get("activity_type")
    quantity = data.get("quantity") if data else form.initial.get("quantity", 1)
    return selectors.claim_preview(user=request.user, activity_type_id=id_from_input(activity_type), quantity=quantity)


@login_required
@require_GET
def contribution_preview(request: AuthenticatedRequest) -> HttpResponse:
    """The live preview beside the form (htmx): the points the claim would earn, the cap left, the evidence."""
    preview = selectors.claim_preview(
        user=request.user,
        activity_type_id=id_from_input(request.GET.get("activity_type")),
        quantity=request.GET.get("quantity"),
    )
    return render(request, "contributions/_claim_preview.html", {"preview": preview})


@login_required
@require_POST
def contribution_reply(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    contribution = _own_or_404(request, pk)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            services.contribution_reply(contribution=contribution, member=request.user, body=form.cleaned_data["body"])
        except services.ContributionError as error:
            show_refusal(request, error, form=form, field="body")
        else:
            messages.success(request, _("Your answer is sent; the item is back with the verifier."))
            return redirect("contributions:detail", pk=pk)
    return _detail(request, contribution, reply_form=form)


@login_required
@require_POST
def contribution_audit_answer(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The member answers an audit of their item with evidence (another member's item: 404)."""
    contribution = _own_or_404(request, pk)
    if audit_services.audit_open_for_member(contribution=contribution) is None:
        raise Http404
    form = AuditAnswerForm(request.POST)
    if form.is_valid():
        try:
            audit_services.audit_answer(
                contribution_id=contribution.pk,
                member=request.user,
                answer=form.cleaned_data["answer"],
                evidence_url=form.cleaned_data["evidence_url"],
            )
        except services.ContributionError as error:
            form.add_error("answer", str(error))
        else:
            messages.success(request, _("Thank you: your evidence is with the program team."))
            return redirect("contributions:detail", pk=pk)
    return _detail(request, contribution, audit_form=form)


@login_required
@require_POST
def contribution_draft_delete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    contribution = _own_or_404(request, pk)
    try:
        services.contribution_draft_delete(contribution=contribution, member=request.user)
    except services.ContributionError as error:
        show_refusal(request, error)
        return redirect("contributions:detail", pk=pk)
    messages.success(request, _("Draft “%(title)s” deleted.") % {"title": contribution.title})
    return redirect("contributions:list")


@login_required
def contribution_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _detail(request, _own_or_404(request, pk))


def _detail(
    request: HttpRequest,
    contribution: Contribution,
    reply_form: ReplyForm | None = None,
    audit_form: AuditAnswerForm | None = None,
) -> HttpResponse:
    audit = audit_services.audit_open_for_member(contribution=contribution)
    return render(
        request,
        "contributions/detail.html",
        {
            "contribution": contribution,
            "history": selectors.contribution_history(contribution=contribution),
            "editable": contribution.state in services.EDITABLE_STATES and not contribution.requirement_id,
            "withdrawable": contribution.state in services.WITHDRAWABLE_STATES
            and contribution.state != Contribution.State.DRAFT,
            "deletable": contribution.state == Contribution.State.DRAFT,
            "thread": _thread(contribution),
            "reply_form": reply_form or (ReplyForm() if contribution.state == Contribution.State.NEEDS_INFO else None),
            "audit": audit,
            "audit_form": audit_form or (AuditAnswerForm() if audit else None),
        },
        status=400 if (reply_form is not None and reply_form.errors) or (audit_form and audit_form.errors) else 200,
    )


@login_required
@require_POST
def contribution_submit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    contribution = _own_or_404(request, pk)
    try:
        services.contribution_submit(contribution=contribution, member=request.user)
    except services.ContributionError as error:
        show_refusal(request, error)
    else:
        messages.success(request, _("Submitted for verification."))
    return redirect("contributions:detail", pk=pk)


@login_required
@require_POST
def contribution_withdraw(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    contribution = _own_or_404(request, pk)
    try:
        services.contribution_withdraw(contribution=contribution, member=request.user)
    except services.ContributionError as error:
        show_refusal(request, error)
    else:
        messages.success(request, _("Contribution withdrawn."))
    return redirect("contributions:detail", pk=pk)


@login_required
@require_GET
def contribution_evidence(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    """The evidence file, to its owner and to staff who review contributions (with MFA, as in the admin);
    images inline, everything else downloads."""
    contribution = selectors.contribution_get(user=request.user, pk=pk)
    staff_preview = False
    if contribution is None and request.user.has_perm("contributions.view_contribution"):
        # Another member's evidence is a staff power: the admin's MFA rule applies here too.
        if not staff_mfa_ready(request.user):
            return staff_mfa_required_response(request)
        contribution = Contribution.objects.filter(pk=pk).first()
        staff_preview = request.GET.get("preview") == "1"
    if contribution is None or not contribution.evidence_file:
        raise Http404
    try:
        handle = contribution.evidence_file.open("rb")
    except FileNotFoundError as error:
        raise Http404 from error
    head = handle.read(16)
    handle.seek(0)
    kind = kind_of_stored(head=head, name=contribution.evidence_file.name)
    filename = download_name(original=contribution.evidence_name, kind=kind, fallback=f"evidence-{contribution.pk}")
    # A PDF is shown inside the staff's decide page (?preview=1): inline and framable by this site only.
    # Uploads are checked for active markup (contributions.evidence), and Chrome's PDF viewer needs an
    # unsandboxed frame; everywhere else a PDF downloads.
    pdf_preview = staff_preview and kind is not None and kind.content_type == "application/pdf"
    response = FileResponse(
        handle,
        as_attachment=not (kind and (kind.inline or pdf_preview)),
        filename=filename,
        content_type=kind.content_type if kind else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    if pdf_preview:
        response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; frame-ancestors 'self'"
        response["X-Frame-Options"] = "SAMEORIGIN"
    else:
        response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def requirement_report(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Report a training completed or a credential held; staff verify it in the contribution queue."""
    requirement = TechnicalRequirement.objects.select_related("program_year").filter(pk=pk).first()
    current = selectors.program_year_current()
    if requirement is None or current is None or requirement.program_year_id != current.pk:
        raise Http404
    certification = getattr(request.user, "certification", None)
    if certification is None or not rules.requirement_owed(
        due_on=requirement.due_on, qualified_on=certification.qualified_on
    ):
        raise Http404  # nothing to report: not an MA, or not owed this year
    refusal = services.requirement_report_refusal(requirement=requirement, member=request.user)
    form = RequirementReportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            report = services.requirement_report_create(
                member=request.user,
                requirement=requirement,
                met_on=data["met_on"],
                note=data["note"],
                evidence_url=data["evidence_url"],
                evidence_file=data["evidence_file"] or None,
            )
        except services.ContributionError as error:
            show_refusal(request, error, form=form)
        else:
            messages.success(
                request,
                _("Thank you: “%(name)s” is reported. The program team will verify it and tell you.")
                % {"name": requirement.name},
            )
            return redirect("contributions:detail", pk=report.pk)
    return render(
        request,
        "contributions/requirement_report.html",
        {"requirement": requirement, "form": form, "refusal": refusal},
    )


@login_required
def catalogue(request: AuthenticatedRequest) -> HttpResponse:
    return render(request, "contributions/catalogue.html", {"years": selectors.catalogue_years()})


@login_required
@require_POST
def opt_out(request: AuthenticatedRequest) -> HttpResponse:
    program_year = selectors.program_year_current()
    form = OptOutForm(request.POST)
    if program_year is None or not form.is_valid():
        messages.error(request, _("There is no program year to opt out of."))
        return redirect("dashboard")
    try:
        services.opt_out_create(member=request.user, program_year=program_year, reason=form.cleaned_data["reason"])
    except services.ContributionError as error:
        show_refusal(request, error)
    else:
        messages.success(
            request,
            _("You opted out of %(year)s. You will get no more reminders; you can undo this until the deadline.")
            % {"year": program_year.year},
        )
    return redirect("dashboard")


@login_required
@require_POST
def opt_out_undo(request: AuthenticatedRequest) -> HttpResponse:
    program_year = selectors.program_year_current()
    if program_year is None:
        return redirect("dashboard")
    try:
        undone = services.opt_out_undo(member=request.user, program_year=program_year)
    except services.ContributionError as error:
        show_refusal(request, error)
    else:
        if undone:
            messages.success(request, _("Welcome back: your opt-out is undone."))
    return redirect("dashboard")
