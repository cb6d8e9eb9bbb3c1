"""Mustache templating as Elasticsearch Watcher renders it.

Watcher renders its templates with Elasticsearch's `lang-mustache` module: the Java library
mustache.java plus Elasticsearch's own object handler, encoders and functions. This module
reproduces that behaviour over plain Python data, so that a watch written for Watcher renders
the same text here.

What a template can use:

- variables `{{ctx.payload.hits.total}}`, looked up by dotted path; a list element by index
  (`{{ctx.payload.hits.hits.0._id}}`) and a list's length (`{{ctx.payload.hits.hits.size}}`);
  a missing value renders as nothing;
- `{{{x}}}` and `{{& x}}` (never escaped), sections `{{#x}}...{{/x}}` (once per list item, once
  with a map or any other truthy value as the context, `{{.}}` being that context), inverted
  sections `{{^x}}...{{/x}}`, comments `{{! ...}}`, delimiter changes `{{=<% %>=}}`;
- Elasticsearch's functions: `{{#toJson}}ctx.payload{{/toJson}}` (the value as JSON),
  `{{#join}}ctx.payload.list{{/join}}` (items joined by ","; `{{#join delimiter=' | '}}...
  {{/join delimiter=' | '}}` for another delimiter) and `{{#url}}...{{/url}}` (the rendered
  content, form-URL-encoded).

Values print as Java prints them: `3.0` for a float, `1.0E-4` and `1.0E20` for small and large
ones, `true`/`false`, a map as `{key=value, other=[a, b]}` and, when a list itself is printed,
`{0=a, 1=b}` (Elasticsearch presents lists to mustache.java as index-keyed maps).

Where each `escape` applies in Watcher (checked against Elasticsearch's TextTemplateEngine,
EmailTemplate and WatcherSearchTemplateService):

- `"none"`: every text template of a watch - logging text, email from/to/subject and both text
  *and html* bodies, webhook and http-input host, path, params, headers and body, index action
  fields. Watcher renders them as `text/plain`. It does not HTML-escape email html bodies:
  it renders them unescaped and then strips tags outside an allow-list.
- `"json"`: search input and search transform request bodies and search templates (Watcher
  serialises the body to JSON text and renders that text as one template with Elasticsearch's
  default `application/json` media type), and a text template written with the prefix
  `__json__::` (see `split_content_type`).
- `"html"`: never used by Watcher; mustache.java's stock HTML escaping, for edgewatch's own use.

Known differences from Watcher, each where Watcher would fail or where Java objects have no
Python counterpart:

- partials `{{> name}}` and parent templates `{{< name}}...{{/name}}` render as nothing
  (Elasticsearch fails to compile them: it has no templates to include);
- a list index out of range or negative renders as nothing (Elasticsearch fails the action),
  and so does a `None` inside `{{#join}}` (Elasticsearch fails on it);
- a tag left unclosed at the end of the template is always an error (mustache.java silently
  accepts a few kinds, such as `{{& x` or `{{! x`), and so is a `{{#toJson}}` or `{{#join}}`
  whose body is not plain text;
- sections nested more than 100 deep, values nested more than 200 deep and self-containing
  values are errors rather than stack overflows;
- maps print in insertion order (Java's order for a parsed search response is unspecified);
- a `datetime` prints like Java's `ZonedDateTime.toString()` and goes into JSON like
  Elasticsearch's `strict_date_optional_time`; other unknown objects print with `str()`.

Like Watcher, a template without `{{` is returned unchanged; in one with `{{`, a carriage return
not followed by a line feed is dropped, and the line break after a section tag that stands alone
on its line is dropped, as mustache.java does.
"""

from __future__ import annotations

from pipeline.alerting.engine.mustache.render import (
    Escape,
    check,
    escape_for,
    render,
    render_value,
    split_content_type,
)
from pipeline.alerting.engine.mustache.syntax import TemplateError

__all__ = [
    "Escape",
    "TemplateError",
    "check",
    "escape_for",
    "render",
    "render_value",
    "split_content_type",
]
