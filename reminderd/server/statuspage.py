"""The status page template: compiled and checked like the mail templates, rendered once per
status.

The template (``templates/status/index.html``) is edited by admins, so it runs in the mail's
Jinja sandbox (:func:`reminderd.mail.render.sandbox_environment`, StrictUndefined): no
``__class__``/``__mro__``/``__globals__`` walks, no access to ``os`` or the environment.
:func:`load_status_template` compiles it and renders it against sample statuses; the
service calls it as part of validating a new version (``load_version``) and ``reminderd
check`` calls it too, so a broken or hostile edit is rejected with ``FILE:LINE:COL`` and the
last good template keeps serving. :class:`StatusPage` renders the current template once per
status and keeps the HTML.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import Final

from jinja2 import Template, TemplateError, TemplateSyntaxError

from reminderd.core.occurrence import OccurrenceKind
from reminderd.core.reminders import Role
from reminderd.feeds.build import FeedSet
from reminderd.feeds.tokens import FeedTokens
from reminderd.mail.render import TemplateProblem, sandbox_environment
from reminderd.server.publish import Published, publish
from reminderd.server.status import (
    AgencyStatus,
    AgendaItem,
    CompletionRow,
    DeliveryRow,
    LastPass,
    StatusInfo,
)
from reminderd.wording import KIND_LABELS, ROLE_LABELS

log = logging.getLogger("reminderd.web")

STATUS_TEMPLATE: Final = "status/index.html"
MAX_PROBLEMS: Final = 200
MAX_PAGE_CHARS: Final = 20_000_000


def bounded(problems: list[str], limit: int = MAX_PROBLEMS) -> list[str]:
    """The first ``limit`` problems, then one line counting the rest."""
    if len(problems) <= limit:
        return problems
    return [*problems[:limit], f"… và {len(problems) - limit} lỗi khác (sửa các lỗi trên, "
                               "lưu lại, rồi xem tiếp)"]


def _samples() -> list[tuple[StatusInfo | None, Published | None]]:
    at = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
    item = AgendaItem(date=date(2026, 6, 12), date_text="Thứ Sáu, 12/06/2026",
                      title="Gửi báo cáo <b>&</b>", kind="deadline", role=ROLE_LABELS[Role.LEAD],
                      days_text="còn 11 ngày", text="trước ngày 12/6/2026", plan="Kế hoạch",
                      lead=("Sở Ngoại vụ",), done=False,
                      kind_label=KIND_LABELS[OccurrenceKind.DEADLINE])
    window = AgendaItem(date=date(2026, 7, 31), date_text="Thứ Sáu, 31/07/2026",
                        title="Đón đoàn", kind="window", role=ROLE_LABELS[Role.SUPPORT],
                        days_text="còn 60 ngày", kind_label=KIND_LABELS[OccurrenceKind.WINDOW],
                        window="trong khoảng 16/07 – 31/07/2026 (5 ngày làm việc)",
                        done=True, done_text="đã hoàn thành 12/06/2026 (Sở Ngoại vụ báo qua thư)")
    closed = CompletionRow(key="task/p/1", title="Gửi báo cáo <i>", date_text="12/06/2026",
                           agency="Sở Ngoại vụ", done_at="08:05 10/06/2026", note="Số 12/BC")
    row = DeliveryRow(key="k", agency="Sở Ngoại vụ", title="Gửi báo cáo", kind="deadline",
                      status="failed", due="08:00 01/06/2026", updated="08:01 01/06/2026",
                      attempts=2, error="550 no such user", uncertain=True)
    full = StatusInfo(
        generated_at=at, problems=("plans.yaml:3:5: lỗi", "store: down"), store_ok=False,
        store_reason="OperationalError: down", counts={"sent": 3, "failed": 1},
        last_pass=LastPass(at=at, duration=0.5, sent=3, failed=1, error="store: down"),
        calendar_url="https://lich.example/calendar.ics",
        calendar_webcal="webcal://lich.example/calendar.ics",
        agencies=(AgencyStatus(id="snv", name="Sở Ngoại vụ",
                               feed_url="https://lich.example/feeds/t.ics",
                               webcal_url="webcal://lich.example/feeds/t.ics",
                               items=(item, AgendaItem(**{**item.__dict__, "done": True}),
                                      window)),),
        overdue=(item, window), recent=(row,), failures=(row,), completions=(closed,))
    tokens = FeedTokens(b"0" * 32, ["snv"])
    published = publish(FeedSet(whole=b"BEGIN:VCALENDAR\r\n", agencies={"snv": b"x"}),
                        tokens, None, at)
    return [(None, None), (StatusInfo(generated_at=at), None), (full, published)]


def _problem(exc: BaseException, path: Path) -> TemplateProblem:
    """Where in the template it failed (Jinja rewrites tracebacks to template lines)."""
    line = exc.lineno if isinstance(exc, TemplateSyntaxError) and exc.lineno else 1
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == str(path):
            line = tb.tb_lineno
        tb = tb.tb_next
    message = exc.message if isinstance(exc, TemplateSyntaxError) else str(exc)
    return TemplateProblem(str(path), line, f"{type(exc).__name__}: {message}")


def _render(template: Template, status: StatusInfo | None, published: Published | None,
            problems: list[str], undo_token: str = "") -> str:
    html = template.render(status=status, published=published, template_problems=problems,
                           undo_token=undo_token)
    if len(html) > MAX_PAGE_CHARS:
        raise TemplateError(f"the page is larger than {MAX_PAGE_CHARS} characters; a "
                            "runaway loop?")
    return html


def load_status_template(templates: Path) -> Template:
    """The compiled status page template, rendered once against each sample status;
    TemplateProblem (``FILE:LINE:COL: message``) if it is missing, does not compile, or does
    anything the sandbox refuses."""
    path = templates / STATUS_TEMPLATE
    env = sandbox_environment(templates)
    try:
        template = env.get_template(STATUS_TEMPLATE)
    except TemplateSyntaxError as exc:
        raise _problem(exc, path) from None
    except (TemplateError, OSError, UnicodeDecodeError) as exc:
        raise TemplateProblem(str(path), 1, f"cannot load the status page template: "
                                            f"{type(exc).__name__}: {exc}") from None
    for status, published in _samples():
        try:
            _render(template, status, published, ["status/index.html:1:1: mẫu"], "mau")
        except Exception as exc:  # the sandbox's SecurityError, undefined names, ...
            try:
                env.handle_exception()  # re-raised with the template's own line numbers
            except Exception as located:
                raise _problem(located, path) from None
            raise _problem(exc, path) from None
    return template


def check_status_template(templates: Path) -> list[str]:
    """Problems of the status page template, as ``FILE:LINE:COL: message`` lines."""
    try:
        load_status_template(templates)
    except TemplateProblem as exc:
        return [str(exc)]
    return []


class StatusPage:
    """Renders ``/`` from the current template and status, once per (template, status,
    published) and never per request."""

    def __init__(self, undo_token: str = "") -> None:
        self.undo_token = undo_token  # the admin's undo form (issue 14)
        # the objects are kept (not their ids) so a new one is never mistaken for a freed one
        self._cache: tuple[Template, StatusInfo | None, Published | None, str] | None = None

    def render(self, template: Template, status: StatusInfo | None,
               published: Published | None) -> str:
        cache = self._cache
        if (cache is not None and cache[0] is template and cache[1] is status
                and cache[2] is published):
            return cache[3]
        try:
            html = _render(template, status, published, [], self.undo_token)
        except Exception as exc:  # data the samples did not have: one line, not a page
            log.warning("web.status_page_failed %s: %s", type(exc).__name__, exc)
            raise
        self._cache = (template, status, published, html)
        return html
