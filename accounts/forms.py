from allauth.account.forms import LoginForm
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts import selectors
from accounts.models import TIME_ZONE_CHOICES, InterestTopic, User
from accounts.services import PROFILE_FIELDS, password_refusal


class EmailStepForm(forms.Form):
    """Step one of signing in: the email decides which ways of signing in are offered."""

    email = forms.EmailField(
        label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )


class SignInForm(LoginForm):
    """allauth's login form (rate limits, MFA stage) that refuses passwords where the organization requires SSO."""

    def clean(self):
        login = (self.data.get("login") or "").strip()
        refusal = password_refusal(organization=selectors.organization_for_email(email=login))
        if refusal is not None:
            raise forms.ValidationError(refusal)
        cleaned = super().clean()
        # Only once the password is right (so nothing is revealed to anyone else): a member of an
        # "SSO required" organization signs in with SSO even from a personal address.
        refusal = password_refusal(organization=getattr(self.user, "organization", None))
        if refusal is not None:
            raise forms.ValidationError(refusal)
        return cleaned


class ProfileForm(forms.ModelForm):
    linkedin_url = forms.URLField(
        label=_("LinkedIn profile"),
        required=False,
        max_length=300,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://www.linkedin.com/in/your-name"}),
    )
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=TIME_ZONE_CHOICES)
    interests = forms.MultipleChoiceField(
        label=_("Engagement interests"),
        choices=InterestTopic.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The program team uses these to invite you to opportunities that fit."),
    )

    class Meta:
        model = User
        fields = PROFILE_FIELDS
        widgets = {
            "bio": forms.Textarea(attrs={"rows": 4, "maxlength": 1000}),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        }
        help_texts = {
            "preferred_name": _("What we call you in MA Home, if not your first name."),
            "bio": _("Up to 1000 characters, shown to the program team."),
        }

    def clean_linkedin_url(self) -> str:
        url = self.cleaned_data["linkedin_url"].strip()
        if url and "linkedin.com/" not in url.lower():
            raise forms.ValidationError(_("Enter the address of your LinkedIn profile (it contains linkedin.com/)."))
        return url

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
