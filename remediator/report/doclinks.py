"""A finding's doc section (``troubleshoot.md#anchor``) as a link to its Microsoft Learn page.

Learn serves every article under a locale (``/en-us/``, ``/ja-jp/``...): operators read the page
in their own language, and the section anchors are the English heading ids in every locale, so
one anchor works for all of them (Japanese pages are linked that way, e.g.
``/ja-jp/azure/virtual-machines/windows/tutorial-manage-vm#vm-power-states``). The article
paths are the published addresses listed in ``azure/docs/SOURCES.md`` (shared folder) for the
copies the playbooks cite.
"""

from __future__ import annotations

import re

from ..errors import UsageError

LEARN = "https://learn.microsoft.com"
DEFAULT_LOCALE = "en-us"

# Article file -> its path on Learn (azure/docs/SOURCES.md, "Published at").
ARTICLES = {
    "troubleshoot.md": "azure/update-manager/troubleshoot",
    "query-logs.md": "azure/update-manager/query-logs",
    "sample-query-logs.md": "azure/update-manager/sample-query-logs",
    "prerequsite-for-schedule-patching.md": "azure/update-manager/prerequsite-for-schedule-patching",
    "manage-dynamic-scoping.md": "azure/update-manager/manage-dynamic-scoping",
    "troubleshoot-maintenance-configurations.md": "azure/virtual-machines/troubleshoot-maintenance-configurations",
    "remediation-structure.md": "azure/governance/policy/concepts/remediation-structure",
    "remediate-resources.md": "azure/governance/policy/how-to/remediate-resources",
}
# An article not listed above is one of Update Manager's own (e.g. prerequisites.md).
DEFAULT_FOLDER = "azure/update-manager"

# Learn locales are language-region (en-us, ja-jp, pt-br, zh-tw) or language-script-region (sr-latn-rs).
LOCALE = re.compile(r"^[a-z]{2,3}(-[a-z]{2,4}){1,2}$")


def validate_locale(value: str) -> str:
    locale = value.strip().lower()
    if not LOCALE.match(locale):
        raise UsageError(f"invalid locale {value!r}: expected a Microsoft Learn locale such as en-us or ja-jp")
    return locale


def doc_url(doc: str, locale: str = DEFAULT_LOCALE) -> str:
    """``troubleshoot.md#x`` -> ``https://learn.microsoft.com/<locale>/azure/update-manager/troubleshoot#x``.

    >>> doc_url("troubleshoot.md#extension-check-fails", "ja-jp")
    'https://learn.microsoft.com/ja-jp/azure/update-manager/troubleshoot#extension-check-fails'
    >>> doc_url("https://example.org/page")
    'https://example.org/page'
    """
    if doc.startswith(("https://", "http://")) or not doc:
        return doc
    article, _, anchor = doc.partition("#")
    path = ARTICLES.get(article) or f"{DEFAULT_FOLDER}/{article.removesuffix('.md')}"
    return f"{LEARN}/{locale}/{path}" + (f"#{anchor}" if anchor else "")
