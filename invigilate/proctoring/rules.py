"""Which signal raises which alert, how serious it is, and what the invigilator reads.

The table is keyed by signal kind. A kind that is not in the table still raises an alert
(medium, named after the kind), so a detector or app that adds a kind is never ignored;
give it a row here to give it a sentence. Kinds in ``QUIET_KINDS`` are stored on the
candidate's timeline but raise nothing (the return to the page, heartbeats...).
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

LOW, MEDIUM, HIGH = "low", "medium", "high"


@dataclass(frozen=True)
class AlertRule:
    severity: str
    sentence: object  # a lazy translation; may use %(count)s and %(kind)s

    def sentence_for(self, alert) -> str:
        return str(self.sentence) % {"count": alert.count, "kind": alert.kind}


ALERT_RULES: dict[str, AlertRule] = {
    # From the candidate's browser.
    "focus_lost": AlertRule(MEDIUM, _("Left the exam window (another window or screen has the focus).")),
    "page_hidden": AlertRule(HIGH, _("The exam page was hidden (switched tab, window or screen).")),
    "fullscreen_exited": AlertRule(MEDIUM, _("Left full-screen mode.")),
    "multiple_screens": AlertRule(HIGH, _("More than one screen is attached.")),
    "screenshot_key": AlertRule(HIGH, _("Pressed a screenshot key or shortcut.")),
    "shortcut": AlertRule(MEDIUM, _("Pressed a blocked keyboard shortcut.")),
    "copy": AlertRule(MEDIUM, _("Copied from the exam page.")),
    "cut": AlertRule(MEDIUM, _("Cut text on the exam page.")),
    "paste": AlertRule(HIGH, _("Pasted into the exam page.")),
    "context_menu": AlertRule(LOW, _("Opened the context menu.")),
    "devtools_opened": AlertRule(HIGH, _("Developer tools appear to be open.")),
    "page_unload": AlertRule(MEDIUM, _("Reloaded or navigated away from the exam page.")),
    "offline": AlertRule(MEDIUM, _("The browser reports the network is offline.")),
    # From the server.
    "disconnected": AlertRule(HIGH, _("The exam page stopped responding (no heartbeat).")),
    "second_login": AlertRule(HIGH, _("Someone tried to sign in as this candidate on another computer.")),
    # From the detectors (media).
    "no_face": AlertRule(HIGH, _("No face in the camera picture.")),
    "multiple_faces": AlertRule(HIGH, _("More than one face in the camera picture.")),
    "face_mismatch": AlertRule(HIGH, _("The face does not match the registered photo.")),
    "looking_away": AlertRule(MEDIUM, _("Looking away from the screen.")),
    "speech": AlertRule(MEDIUM, _("Speech was heard.")),
    "camera_blocked": AlertRule(HIGH, _("The camera is covered or dark.")),
    "camera_frozen": AlertRule(MEDIUM, _("The camera picture is frozen.")),
    # From the evidence recordings and the help desk.
    "recording_interrupted": AlertRule(HIGH, _("The screen/camera recording was interrupted.")),
    "phone_interrupted": AlertRule(HIGH, _("The phone's evidence recording was interrupted.")),
    "help_requested": AlertRule(MEDIUM, _("The candidate asked for help.")),
}

UNKNOWN_RULE = AlertRule(MEDIUM, _("Unusual activity: %(kind)s."))

# Stored on the timeline, never alerting.
QUIET_KINDS = frozenset({
    "heartbeat", "focus_gained", "page_visible", "fullscreen_entered", "online", "reconnected",
    "single_screen", "warning_confirmed", "page_loaded", "malformed_message",
    # How a help request ended; the phone heard from again after a silence.
    "help_ended", "phone_resumed",
})


def alert_rule(kind: str) -> AlertRule:
    return ALERT_RULES.get(kind, UNKNOWN_RULE)


def signal_raises_alert(kind: str) -> bool:
    return kind not in QUIET_KINDS


def signal_kind_label(kind: str) -> str:
    """A short readable name for a signal kind on the timeline."""
    return SIGNAL_LABELS.get(kind, kind.replace("_", " "))


SIGNAL_LABELS = {
    "focus_lost": _("left the window"),
    "focus_gained": _("back in the window"),
    "page_hidden": _("page hidden"),
    "page_visible": _("page visible again"),
    "fullscreen_exited": _("left full screen"),
    "fullscreen_entered": _("full screen"),
    "multiple_screens": _("several screens"),
    "single_screen": _("one screen"),
    "online": _("network back"),
    "offline": _("network offline"),
    "reconnected": _("reconnected"),
    "disconnected": _("disconnected"),
    "warning_confirmed": _("confirmed a warning"),
    "page_loaded": _("opened the exam page"),
    "page_unload": _("left or reloaded the page"),
    "screenshot_key": _("screenshot key"),
    "shortcut": _("blocked shortcut"),
    "copy": _("copy"),
    "cut": _("cut"),
    "paste": _("paste"),
    "context_menu": _("context menu"),
    "devtools_opened": _("developer tools"),
    "second_login": _("second sign-in refused"),
    "malformed_message": _("malformed message from the page"),
    "help_requested": _("asked for help"),
    "help_ended": _("help request ended"),
    "phone_interrupted": _("phone recording interrupted"),
    "phone_resumed": _("phone heard from again"),
}
