"""HTML fragments of the supervisor's view, rendered the same way for a page and a push."""

from django.template.loader import render_to_string


def room_row_html(summary) -> str:
    return render_to_string("supervision/_room_row.html", {"summary": summary})


def escalations_html(escalations, *, exam) -> str:
    return render_to_string("supervision/_escalations.html", {"escalations": escalations, "exam": exam})
