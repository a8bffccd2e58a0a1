import markdown as markdown_lib
import nh3
from django import template
from django.utils.safestring import mark_safe

register = template.Library()

ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


@register.filter(is_safe=True)
def markdown(text: str) -> str:
    """Markdown to HTML, then sanitised: letter bodies come from staff, but a pasted
    script or event handler must never run on a public page."""
    html = markdown_lib.markdown(text or "", extensions=["extra", "sane_lists"])
    return mark_safe(
        nh3.clean(
            html,
            url_schemes=ALLOWED_URL_SCHEMES,
            link_rel="noopener noreferrer nofollow",
        )
    )
