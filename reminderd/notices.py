"""Mail other than reminders: change notices, the week ahead, and operator alerts.

- **Change notices**: a reload that moves a task's deadline, adds a task or cancels one
  mails each affected agency once, one message listing old -> new. Every change is keyed
  in the store (``change|<item>|<old>|<new>|<agency>``) before the message goes out, so it
  is never sent twice, across restarts and replicas; and never on a first load (there is
  nothing to compare with).
- **The week ahead** ("Lịch công tác tuần"): on Monday from the send time, to the agencies
  ``weekly.agencies`` names (or all), the week's deadlines, windows and occasions; keyed
  ``weekly|<agency>|<ISO week>``.
- **Operator alerts**, like Postfix's ``delay_warning``: to ``mail.operator`` when due
  reminders stay undelivered, or edits keep failing to load, for longer than the
  ``operator:`` thresholds; once, and again only after ``operator.quiet_hours``.

The messages are made here in Python (escaped for HTML), not from the admin-edited
templates, and carry ``X-Reminderd-Kind`` ``change``, ``weekly`` or ``operator``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape

from reminderd.core.occurrence import Occurrence
from reminderd.core.reminders import TASK_KINDS, Role
from reminderd.mail.message import RenderedMail, build_message, message_id_for
from reminderd.mail.setup import Mailer
from reminderd.mail.transport import PermanentSendError, TransientSendError
from reminderd.store.base import DeliveryStore, Notice
from reminderd.wording import (
    KIND_LABELS,
    ROLE_LABELS,
    occurrence_window,
    short_date,
    vn_date,
    zone_label,
)
from reminderd.workspace import Workspace, with_done

log = logging.getLogger("reminderd.notices")

CHANGE_AHEAD = timedelta(days=365)  # changes to items further ahead are not worth a mail
_LOOKUP = (timedelta(days=400), timedelta(days=800))  # where an item's old/new date is found


# --- sending one message -----------------------------------------------------------------

def _html(title: str, paragraphs: Sequence[str]) -> str:
    body = "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    return (f'<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8">'
            f"<title>{escape(title)}</title></head><body style=\"font-family: 'Times New "
            f"Roman', Times, serif; font-size: 15px; line-height: 1.5;\">{body}</body></html>\n")


def _footer(mailer: Mailer) -> str:
    if mailer.reply_to:
        return f"Thư này được gửi tự động từ reminderd. Trả lời thư này sẽ đến {mailer.reply_to}."
    return "Thư này được gửi tự động từ reminderd; vui lòng không trả lời."


async def _send(mailer: Mailer, to: Sequence[str], subject: str, paragraphs: list[str],
                kind: str, keys: Sequence[str], now: datetime) -> str:
    """Send one message; its Message-ID (errors raise, for the caller to record)."""
    mail = RenderedMail(" ".join(subject.split()), "\n\n".join(paragraphs) + "\n",
                        _html(subject, paragraphs))
    message_id = message_id_for(keys, mailer.domain)
    data = build_message(mail, sender=mailer.sender, to=list(to), message_id=message_id,
                         ics=None, date=now, kind=kind, reply_to=mailer.reply_to)
    transport = mailer.transport()
    async with transport:
        result = await transport.send(mailer.sender, list(to), data)
    if not result.accepted:
        raise PermanentSendError(f"every recipient refused: {result.refused}")
    return message_id


async def _send_keyed(ws: Workspace, store: DeliveryStore, mailer: Mailer, agency_id: str,
                      keys: list[str], subject: str, paragraphs: list[str], kind: str,
                      now: datetime) -> bool:
    agency = ws.agencies().get(agency_id)
    if agency is None or not agency.emails:
        store.finish_notices(keys, now, error="the agency has no e-mail address")
        return False
    try:
        message_id = await _send(mailer, agency.emails, subject, paragraphs, kind, keys, now)
    except (PermanentSendError, TransientSendError, OSError, ValueError) as exc:
        store.finish_notices(keys, now, error=str(exc) or type(exc).__name__)
        log.warning("notice.failed kind=%s agency=%s error=%s", kind, agency_id, exc)
        return False
    store.finish_notices(keys, now, message_id=message_id)
    log.info("notice.sent kind=%s agency=%s items=%d", kind, agency_id, len(keys))
    return True


# --- change notices ------------------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    key: str  # the occurrence key
    title: str
    plan: str
    old: date | None  # None: a new task
    new: date | None  # None: cancelled
    agencies: tuple[str, ...]

    def line(self) -> str:
        if self.old is None and self.new is not None:
            return f"Nhiệm vụ mới, thời hạn {short_date(self.new)}"
        if self.new is None and self.old is not None:
            return f"Đã hủy (thời hạn cũ {short_date(self.old)})"
        assert self.old is not None and self.new is not None
        return f"Thời hạn: {short_date(self.old)} → {short_date(self.new)}"


def _who(occ: Occurrence) -> tuple[str, ...]:
    leads = occ.lead or ((occ.coordinator,) if occ.coordinator else ())
    return tuple(dict.fromkeys((*leads, *occ.support)))


def changes(old: Workspace, new: Workspace, today: date) -> list[Change]:
    """Tasks whose deadline moved, tasks added and tasks cancelled between two versions,
    for items due from today to a year ahead (before or after), not done."""
    start, end = today - _LOOKUP[0], today + _LOOKUP[1]

    def tasks(ws: Workspace) -> dict[str, Occurrence]:
        return {o.key: o for o in ws.occurrences(start, end) if o.kind in TASK_KINDS}

    before, after = tasks(old), tasks(new)
    out = []
    for key in sorted(before.keys() | after.keys()):
        was, now = before.get(key), after.get(key)
        if was is not None and now is not None and was.date == now.date:
            continue
        days = [o.date for o in (was, now) if o is not None]
        if not any(today <= d <= today + CHANGE_AHEAD for d in days):
            continue
        if any(o.done is not None for o in (was, now) if o is not None):
            continue
        shown = now or was
        assert shown is not None
        agencies = tuple(dict.fromkeys(a for o in (was, now) if o is not None for a in _who(o)))
        out.append(Change(key, shown.title, shown.source_title,
                          was.date if was else None, now.date if now else None, agencies))
    return out


async def send_changes(old: Workspace, new: Workspace, store: DeliveryStore, mailer: Mailer,
                       now: datetime) -> int:
    """One message per affected agency listing its changes; the messages sent."""
    found = changes(old, new, new.local_today(now))
    by_agency: dict[str, list[tuple[str, Change]]] = defaultdict(list)
    for change in found:
        for agency in change.agencies:
            key = f"change|{change.key}|{change.old or '-'}|{change.new or '-'}|{agency}"
            by_agency[agency].append((key, change))
    notices = [Notice(key, "change", agency) for agency, rows in by_agency.items()
               for key, _ in rows]
    if not notices:
        return 0
    taken = store.claim_notices(notices, now)
    sent = 0
    names = {a.id: a.name for a in new.plans.agencies}
    for agency, rows in sorted(by_agency.items()):
        mine = [(k, c) for k, c in rows if k in taken]
        if not mine:
            continue
        items = []
        for i, (_, c) in enumerate(mine, 1):
            plan = f"\nKế hoạch: {c.plan}" if c.plan else ""
            items.append(f"{i}. {c.title}{plan}\n{c.line()}")
        paragraphs = [f"Kính gửi: {names.get(agency, agency)}",
                      "Sở Ngoại vụ xin thông báo: kế hoạch vừa được cập nhật, có thay đổi về "
                      f"thời hạn liên quan đến Quý cơ quan ({len(mine)} nội dung):",
                      *items,
                      f"Lịch đăng ký của Quý cơ quan đã được cập nhật: {mailer.feed_url(agency)}",
                      "Trân trọng./.", "--\n" + _footer(mailer)]
        subject = (f"[Thay đổi lịch] {len(mine)} nội dung thay đổi thời hạn - "
                   f"{names.get(agency, agency)}")
        if await _send_keyed(new, store, mailer, agency, [k for k, _ in mine], subject,
                             paragraphs, "change", now):
            sent += 1
    return sent


# --- the week ahead -------------------------------------------------------------------------

def _week_agencies(ws: Workspace) -> list[str]:
    wanted = ws.settings.weekly.agencies
    return list(ws.agencies()) if wanted == ("all",) else list(wanted)


def next_weekly(ws: Workspace, now: datetime) -> datetime | None:
    """When the next weekly mail is due (Monday at the send time), or None when off."""
    if not ws.settings.weekly.agencies:
        return None
    zone, at = ws.settings.zone, ws.settings.reminders.send_time
    local = now.astimezone(zone)
    monday = local.date() - timedelta(days=local.weekday())
    due = datetime.combine(monday, at, tzinfo=zone)
    return due if due > now else datetime.combine(monday + timedelta(days=7), at, tzinfo=zone)


def _role(occ: Occurrence, agency: str) -> str:
    if agency in occ.lead:
        return ROLE_LABELS[Role.LEAD]
    if agency in occ.support:
        return ROLE_LABELS[Role.SUPPORT]
    return ROLE_LABELS[Role.COORDINATOR]


async def send_weekly(ws: Workspace, store: DeliveryStore, mailer: Mailer, now: datetime
                      ) -> int:
    """On Monday from the send time: each chosen agency's week, once; messages sent."""
    agencies = _week_agencies(ws)
    local = now.astimezone(ws.settings.zone)
    if not agencies or local.weekday() != 0 or local.time() < ws.settings.reminders.send_time:
        return 0
    monday = local.date()
    sunday = monday + timedelta(days=6)
    year, week, _ = monday.isocalendar()
    items = [o for o in with_done(ws.occurrences(monday, sunday, open_during=True),
                                  store.completions(), ws.settings.zone) if o.done is None]
    names = {a.id: a.name for a in ws.plans.agencies}
    sent = 0
    for agency in agencies:
        mine = [o for o in items if agency in _who(o)
                or (agency == o.coordinator and o.kind in TASK_KINDS and not o.lead)]
        if not mine:
            continue
        key = f"weekly|{agency}|{year}-W{week:02d}"
        if not store.claim_notices([Notice(key, "weekly", agency)], now):
            continue
        lines = []
        for i, occ in enumerate(mine, 1):
            when = occurrence_window(occ) or vn_date(occ.date)
            label = KIND_LABELS.get(occ.kind, "")
            lines.append(f"{i}. {occ.title}\n{label}: {when} - {_role(occ, agency)}")
        week_text = f"{monday:%d/%m} – {short_date(sunday)}"
        paragraphs = [f"Kính gửi: {names.get(agency, agency)}",
                      f"Lịch công tác tuần {week_text} của Quý cơ quan ({len(mine)} nội dung):",
                      *lines,
                      f"Đăng ký lịch của Quý cơ quan: {mailer.feed_url(agency)}",
                      "Trân trọng./.", "--\n" + _footer(mailer)]
        subject = f"[Lịch công tác tuần] {week_text} - {names.get(agency, agency)}"
        if await _send_keyed(ws, store, mailer, agency, [key], subject, paragraphs, "weekly",
                             now):
            sent += 1
    return sent


# --- operator alerts ----------------------------------------------------------------------

async def check_operator(ws: Workspace, store: DeliveryStore, mailer: Mailer, now: datetime,
                         failing_since: datetime | None, problems: Sequence[str]) -> list[str]:
    """Send the alerts that are due; their names ("undelivered", "reload")."""
    if not mailer.operator:
        return []
    alerts = ws.settings.operator
    quiet = timedelta(hours=alerts.quiet_hours)
    admin = "{}:{}".format(*ws.settings.http.admin_listen)
    zone = ws.settings.zone
    sent: list[str] = []
    count, oldest = store.undelivered(now)
    limit = timedelta(hours=alerts.undelivered_hours)
    if oldest is not None and now - oldest > limit and store.alert_due("undelivered", now, quiet):
        errors = sorted({d.last_error for d in store.deliveries(limit=50)
                         if d.status in ("retrying", "failed") and d.last_error})[:5]
        local = oldest.astimezone(zone)
        await _operator_mail(mailer, "undelivered", now, (
            f"[reminderd] Cảnh báo: {count} thư nhắc chưa gửi được quá "
            f"{alerts.undelivered_hours} giờ"), [
            f"{count} thư nhắc đã đến hạn nhưng chưa gửi được; thư cũ nhất đến hạn lúc "
            f"{local:%H:%M} {local:%d/%m/%Y} ({zone_label(ws.settings.timezone)}).",
            *(["Lỗi gần đây:\n" + "\n".join(errors)] if errors else []),
            f"Xem trang tình trạng (cổng quản trị http://{admin}/) và reminderd outbox."])
        sent.append("undelivered")
    limit = timedelta(hours=alerts.reload_failing_hours)
    if failing_since is not None and now - failing_since > limit \
            and store.alert_due("reload", now, quiet):
        local = failing_since.astimezone(zone)
        await _operator_mail(mailer, "reload", now, (
            "[reminderd] Cảnh báo: không nạp được kế hoạch hoặc cấu hình mới quá "
            f"{alerts.reload_failing_hours} giờ"), [
            f"Từ {local:%H:%M} {local:%d/%m/%Y}, bản sửa kế hoạch hoặc cấu hình có lỗi nên "
            "không được áp dụng; hệ thống vẫn chạy theo bản hợp lệ trước đó.",
            "Các lỗi (TỆP:DÒNG:CỘT):\n" + "\n".join(problems[:20]),
            f"Xem trang tình trạng (cổng quản trị http://{admin}/)."])
        sent.append("reload")
    return sent


async def _operator_mail(mailer: Mailer, name: str, now: datetime, subject: str,
                         paragraphs: list[str]) -> None:
    try:
        await _send(mailer, [mailer.operator], subject, paragraphs, "operator",
                    [f"operator|{name}|{now.isoformat()}"], now)
        log.warning("operator.alert name=%s", name)
    except (PermanentSendError, TransientSendError, OSError, ValueError) as exc:
        log.error("operator.alert_failed name=%s error=%s", name, exc)


