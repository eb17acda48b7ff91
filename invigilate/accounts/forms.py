from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from . import throttle


class CandidateLoginForm(forms.Form):
    id_number = forms.CharField(
        label=_("ID number"), max_length=18, widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"})
    )
    ticket_number = forms.CharField(label=_("Admission ticket number"), max_length=32)


class StaffLoginForm(AuthenticationForm):
    """Django's login form, refusing a username after repeated failures."""

    def clean(self):
        username = (self.data.get("username") or "").strip().lower()
        key = f"login-fail:staff:{username}"
        if throttle.failures_count(key) >= settings.STAFF_LOGIN_FAILURES_PER_USER:
            raise forms.ValidationError(_("Too many failed attempts for this account. Try again in 15 minutes."))
        try:
            return super().clean()
        except forms.ValidationError:
            throttle.failure_record(key, lifetime_seconds=15 * 60)
            raise
