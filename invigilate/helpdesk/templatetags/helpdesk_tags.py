from django import template

from ..models import HelpCategory
from ..selectors import help_request_summary_for_tile
from ..views import candidate_help_request, candidate_status_context, signed_in_registration

register = template.Library()


@register.inclusion_tag("helpdesk/help_widget.html", takes_context=True)
def help_widget(context):
    """The Help button and the live status of the candidate's request, for any candidate page."""
    request = context["request"]
    registration = signed_in_registration(request)
    return {
        **candidate_status_context(candidate_help_request(request)),
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "signed_in": registration is not None,
        # Only the PC page's own socket carries help updates; a paired phone's socket is the
        # phone's (its page configures it), so the widget polls there.
        "live_socket": bool(request.candidate_session),
        "phone": registration.candidate.phone if registration else "",
        "categories": HelpCategory.choices,
    }


@register.inclusion_tag("helpdesk/tile_badge.html")
def help_tile_badge(registration):
    """For the invigilator's tile: ``{% help_tile_badge registration %}``.

    A wall renders many tiles: its selector attaches ``registration.help_summary`` for all of
    them at once (``help_request_summaries_for_tiles``); a lone registration is read here.
    """
    if hasattr(registration, "help_summary"):
        return {"help": registration.help_summary}
    return {"help": help_request_summary_for_tile(registration=registration)}


@register.filter
def seconds_until(moment, now):
    return max(0, int((moment - now).total_seconds())) if moment and now else 0
