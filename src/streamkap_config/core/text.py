"""Text from files and servers made safe and plain to print."""

from __future__ import annotations

import re

__all__ = ["plain_text", "printable"]

# C0 and C1 control characters and DEL: a newline in a key could forge a second
# "file:line:col: error" line, an ESC could recolour or rewrite the terminal.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


_LINK = re.compile(
    r"<a\b[^>]*?\bhref\s*=\s*(?:\"([^\"]*)\"|'([^']*)')[^>]*>(.*?)</a\s*>", re.S | re.I
)
# Only the markup the API's descriptions use: "<Username>" is a placeholder, kept.
_TAG = re.compile(r"</?(?:a|span|code|b|i|em|strong|p|div|ul|ol|li|br|small|sup|sub)\b[^>]*>", re.I)


def plain_text(html: str) -> str:
    """A description as text: its markup dropped, links as ``text (url)``, entities read.

    >>> plain_text("<span>Upsert. <a href='https://x.io/u' target='_blank'>More</a></span> .")
    'Upsert. More (https://x.io/u).'
    >>> plain_text("Role of <Username> &amp; <code>{{name}}</code>")
    'Role of <Username> & {{name}}'
    """
    if "<" not in html and "&" not in html:
        return html
    import html as entities

    def link(m: re.Match[str]) -> str:
        url = m.group(1) if m.group(1) is not None else m.group(2)
        text = _TAG.sub("", m.group(3)).strip()
        return f"{text} ({url})" if text and url and text != url else (text or url)

    text = _TAG.sub("", _LINK.sub(link, html))
    return re.sub(r"\s+([.,;:])", r"\1", " ".join(entities.unescape(text).split()))


def printable(text: str) -> str:
    """``text`` with every control character written as an escape (``\\x1b``, ``\\n``)."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)
