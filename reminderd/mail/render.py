"""Reminder mail: Jinja2 rendering. No network, no disk writes (MIME: :mod:`.message`).

:class:`Renderer` renders ``templates/mail/`` (subject.txt, digest.txt, digest.html and one
partial per reminder kind, ``_<kind>.txt``/``.html``, which import shared macros from
``_common.txt``/``.html``) in a sandboxed environment with StrictUndefined, autoescape for
``.html`` only and a cap on output size, because admins edit the templates. Every template
is compiled when the renderer is made; problems carry the template's file and line
(:class:`TemplateProblem`).
"""

from __future__ import annotations

from itertools import islice
from pathlib import Path
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import (
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    Undefined,
    select_autoescape,
)
from jinja2.sandbox import SandboxedEnvironment

from reminderd.core.errors import Problem
from reminderd.core.reminders import ReminderKind
from reminderd.mail.message import RenderedMail
from reminderd.mail.samples import sample_digests
from reminderd.mail.view import Digest, context

__all__ = ["Renderer", "TemplateProblem", "check_templates", "sandbox_environment",
           "template_problems"]

MAIN_TEMPLATES = ("subject.txt", "digest.txt", "digest.html")
PARTIALS = tuple(f"_{kind}.{ext}" for kind in ReminderKind for ext in ("txt", "html"))
SHARED = ("_common.txt", "_common.html")  # macros the partials import


class TemplateProblem(Exception):
    """A template that does not compile or render; ``str()`` is ``FILE:LINE:COL: message``."""

    def __init__(self, file: str, line: int, message: str, col: int = 1) -> None:
        super().__init__(f"{file}:{line}:{col}: {message}")
        self.file = file
        self.line = line
        self.col = col
        self.message = message

    @property
    def problem(self) -> Problem:
        return Problem(self.file, self.line, self.col, self.message)


class _TooBig(Exception):
    pass


def sandbox_environment(template_dir: Path,
                        undefined: type[Undefined] = StrictUndefined) -> SandboxedEnvironment:
    """The one Jinja environment for admin-edited templates (the mail and the status page):
    sandboxed (no ``__class__``/``__globals__``/``mro`` walks, no unsafe calls; jinja2>=3.1.6
    for the known escapes), autoescape for .html, compiled once."""
    return SandboxedEnvironment(
        loader=FileSystemLoader(str(template_dir), encoding="utf-8"),
        undefined=undefined,
        autoescape=select_autoescape(enabled_extensions=("html", "htm"),
                                     disabled_extensions=(), default_for_string=False,
                                     default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # compiled once; no stat() per include
        cache_size=-1,
    )


def _load(
    env: SandboxedEnvironment, template_dir: Path
) -> tuple[dict[str, Template], list[TemplateProblem]]:
    """Compile every template in the folder; a problem for each that fails or is missing."""
    templates: dict[str, Template] = {}
    problems: list[TemplateProblem] = []
    present = (sorted(p.name for p in template_dir.iterdir()
                      if p.is_file() and p.suffix in (".txt", ".html"))
               if template_dir.is_dir() else [])
    for name in (*MAIN_TEMPLATES, *PARTIALS, *SHARED):
        if name not in present:
            hint = (" (the _<kind> partials import their shared rows from it)"
                    if name in SHARED else
                    " (every reminder kind needs a _<kind>.txt and a _<kind>.html partial)"
                    if name.startswith("_") else "")
            problems.append(TemplateProblem(str(template_dir / name), 1,
                                            f"template missing{hint}"))
    for name in present:
        try:
            templates[name] = env.get_template(name)
        except TemplateSyntaxError as exc:
            problems.append(TemplateProblem(str(template_dir / (exc.name or name)),
                                            exc.lineno, exc.message or "syntax error"))
        except (TemplateError, UnicodeDecodeError, OSError) as exc:
            problems.append(TemplateProblem(str(template_dir / name), 1,
                                            f"{type(exc).__name__}: {exc}"))
    return templates, problems


class Renderer:
    """Renders digests with the admin-edited templates in ``template_dir`` (templates/mail).

    Raises :class:`TemplateProblem` at construction for the first template that does not
    compile or is missing (:func:`check_templates` lists them all).
    """

    def __init__(
        self, template_dir: Path, *, max_output_bytes: int = 512_000,
        zone: str = "Asia/Ho_Chi_Minh",
    ) -> None:
        self._dir = Path(template_dir)
        self._max = max_output_bytes
        self._zone = ZoneInfo(zone)
        self._env = sandbox_environment(self._dir)
        self._templates, problems = _load(self._env, self._dir)
        if problems:
            raise problems[0]
        self._files = {t.filename: str(self._dir / name)
                       for name, t in self._templates.items() if t.filename}

    def render(self, digest: Digest) -> RenderedMail:
        ctx = context(digest, self._zone)
        budget = [self._max]
        subject = " ".join(self._run("subject.txt", ctx, budget).split())
        text = self._run("digest.txt", ctx, budget)
        html = self._run("digest.html", ctx, budget)
        size = len(subject.encode()) + len(text.encode()) + len(html.encode())
        if size > self._max:
            raise self._too_big("digest.html")
        if not subject:
            raise TemplateProblem(self._display("subject.txt"), 1, "the subject is empty")
        if "=?" in subject:
            raise TemplateProblem(self._display("subject.txt"), 1,
                                  f"the subject contains '=?' (header injection): {subject!r}")
        return RenderedMail(subject, text, html)

    def check(self) -> list[Problem]:
        """Render every template against built-in samples (every kind and role, a round
        anniversary, overdue, a late send, a deadline on a day off); each problem found,
        empty when all is well."""
        problems: list[Problem] = []
        for digest in sample_digests():
            try:
                self.render(digest)
            except TemplateProblem as exc:
                if exc.problem not in problems:
                    problems.append(exc.problem)
        return problems

    def _run(self, name: str, ctx: dict[str, Any], budget: list[int]) -> str:
        """Render one template, stopping once the message's output cap is passed.

        Chunks are taken 256 at a time (``islice`` + ``sum(map(len))`` run in C): checking
        the cap per chunk cost more than the rendering itself."""
        template = self._templates[name]
        out: list[str] = []
        left = budget[0]  # characters <= bytes: cut off early; render() checks bytes
        try:
            chunks = template.root_render_func(template.new_context(ctx))
            while block := list(islice(chunks, 256)):
                left -= sum(map(len, block))
                if left < 0:
                    raise _TooBig
                out += block
        except _TooBig:
            raise self._too_big(name) from None
        except Exception:
            try:
                self._env.handle_exception()  # re-raises with template file:line frames
            except Exception as exc:
                raise self._problem(exc, name) from exc
        budget[0] = left
        return "".join(out)

    def _too_big(self, name: str) -> TemplateProblem:
        return TemplateProblem(self._display(name), 1,
                               f"the mail is larger than {self._max} bytes (max_output_bytes);"
                               " a runaway loop?")

    def _display(self, name: str) -> str:
        return str(self._dir / name)

    def _problem(self, exc: Exception, name: str) -> TemplateProblem:
        """Where in which template it failed: Jinja rewrites tracebacks to template lines."""
        file, line = self._display(name), 1
        tb: TracebackType | None = exc.__traceback__
        while tb is not None:
            where = self._files.get(tb.tb_frame.f_code.co_filename)
            if where is not None:
                file, line = where, tb.tb_lineno
            tb = tb.tb_next
        if isinstance(exc, TemplateSyntaxError) and exc.lineno:
            line = exc.lineno
        if isinstance(exc, TemplateNotFound):
            message = f"template {exc.name!r} not found (imported or included here)"
        elif isinstance(exc, TemplateError):
            message = str(exc)
        else:
            message = f"{type(exc).__name__}: {exc}"
        return TemplateProblem(file, line, message)


def template_problems(template_dir: Path, *, zone: str = "Asia/Ho_Chi_Minh",
                      max_output_bytes: int = 512_000) -> list[Problem]:
    """Every template problem in the folder: compile errors, missing files, render errors."""
    template_dir = Path(template_dir)
    _, problems = _load(sandbox_environment(template_dir), template_dir)
    if problems:
        return [p.problem for p in problems]
    return Renderer(template_dir, zone=zone, max_output_bytes=max_output_bytes).check()


def check_templates(template_dir: Path, *, zone: str = "Asia/Ho_Chi_Minh",
                    max_output_bytes: int = 512_000) -> list[str]:
    """:func:`template_problems` as ``FILE:LINE:COL: message`` lines."""
    return [str(p) for p in template_problems(template_dir, zone=zone,
                                              max_output_bytes=max_output_bytes)]
