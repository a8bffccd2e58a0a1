from django import template

from letters import sharing

register = template.Library()


@register.filter
def absolute(path: str) -> str:
    """A path on the public site, as an absolute address (``SITE_URL``)."""
    return sharing.absolute_url(path)


@register.simple_tag
def share_links(letter) -> list[sharing.ShareLink]:
    return sharing.share_links(letter)


@register.simple_tag
def headline_of(letter, recorded: int) -> sharing.Headline:
    return sharing.Headline.of(letter, recorded or 0)
