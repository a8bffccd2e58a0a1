from django import template

from letters import embeds

register = template.Library()


@register.simple_tag
def embed_html(letter) -> str:
    """The HTML another site pastes to frame the letter's embed."""
    return embeds.embed_html(letter)


@register.simple_tag
def oembed_url(letter) -> str:
    return embeds.oembed_url(letter)
