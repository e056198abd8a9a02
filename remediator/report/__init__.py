"""Renderers: the only code (with the CLI) that turns results into text for people or machines."""

from __future__ import annotations

from collections.abc import Callable

from ..model import Plan
from .html import render_html
from .jsonfmt import render_json
from .junit import render_junit
from .markdown import render_markdown
from .table import render_table
from .view import PlaybookInfo, ReportContext, headline

Renderer = Callable[[Plan, tuple[str, ...], tuple[str, ...], ReportContext | None], str]

RENDERERS: dict[str, Renderer] = {
    "table": render_table,
    "json": render_json,
    "markdown": render_markdown,
    "junit": render_junit,
    "html": render_html,
}


def render(
    plan: Plan, fmt: str, errors: tuple[str, ...] = (), notes: tuple[str, ...] = (), ctx: ReportContext | None = None
) -> str:
    return RENDERERS[fmt](plan, errors, notes, ctx)


__all__ = ["RENDERERS", "PlaybookInfo", "ReportContext", "headline", "render"]
