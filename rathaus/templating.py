"""One Jinja environment for pages, messages and snippets, speaking the language set by `i18n.speaking`."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template import TemplateConfig

from rathaus import i18n
from rathaus.assets import asset_url

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _gettext(message: str) -> str:
    return i18n.translations(i18n.current_language()).gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return i18n.translations(i18n.current_language()).ngettext(singular, plural, n)


def _pgettext(context: str, message: str) -> str:
    return i18n.translations(i18n.current_language()).pgettext(context, message)


def _npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return i18n.translations(i18n.current_language()).npgettext(context, singular, plural, n)


@cache
def environment() -> Environment:
    """The template environment: HTML autoescaped, undefined names are errors, `_` in the current language."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # The same options as the jinja2 section of babel.cfg, so that extracted msgids match the rendered ones.
    env.policies["ext.i18n.trimmed"] = True
    # Callables that read the language when called: one environment serves concurrent requests in any language.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext, ngettext=_ngettext, pgettext=_pgettext, npgettext=_npgettext, newstyle=True
    )
    env.globals["current_language"] = i18n.current_language
    env.globals["asset"] = asset_url
    return env


def render(name: str, language: str, **context: Any) -> str:
    """Template `name` rendered in `language` (outside a request: messages, snippets)."""
    with i18n.speaking(language):
        return environment().get_template(name).render(context)


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    """Litestar's templating on the same environment (pages set their language per request, see web.py)."""
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment()))
