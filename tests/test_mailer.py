"""Mail rendering and message building: templates, Vietnamese content, MIME correctness,
the RFC 2047 subject trap, header injection and cost."""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import random
import re
import shutil
import sys
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from email.header import decode_header, make_header
from email.message import EmailMessage
from pathlib import Path

import icalendar
import pytest
from defaults import POLICY
from hypothesis import given, settings
from hypothesis import strategies as st

from reminderd.core.model import Agency
from reminderd.core.occurrence import Occurrence, OccurrenceKind
from reminderd.core.reminders import Reminder, ReminderKind, Role, plan
from reminderd.core.workdays import WorkCalendar
from reminderd.holidays_vn import build_calendar
from reminderd.mail.message import RenderedMail, build_message, envelope_address, message_id_for
from reminderd.mail.render import Renderer, TemplateProblem, check_templates
from reminderd.mail.samples import AGENCY, FEED, NAMES, NOW, sample_digests, sample_reminders
from reminderd.mail.view import Digest
from reminderd.wording import days_text, vn_date, webcal

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "mail"
SENDER = "Sở Ngoại vụ <lich@songoaivu.example>"
DATE = datetime(2026, 6, 10, 1, 0, tzinfo=UTC)

# A Vietnamese word list (administrative and everyday words, with every tone mark and the
# letters ă â đ ê ô ơ ư) for generated subjects.
_VI_TEXT = """
Nhắc việc nhiệm vụ sắp đến hạn quá hạn Sở Văn hóa Thể thao và Du lịch Ngoại vụ Công Thương
Tài chính Kế hoạch Đầu tư Nội vụ Tư pháp Y tế Giáo dục Đào tạo Xây dựng Giao thông vận tải
Nông nghiệp Phát triển nông thôn Tài nguyên Môi trường Lao động Thương binh Xã hội Khoa học
Công nghệ Thông tin Truyền thông Ủy ban nhân dân tỉnh huyện thành phố thị xã Hội hữu nghị
Việt Nam Lào Campuchia Thái Lan Trung Quốc Hàn Quốc Nhật Bản Liên bang Nga Cộng hòa Pháp
Đức Hoa Kỳ Ấn Độ Xinh-ga-po kỷ niệm năm chẵn tròn thiết lập quan hệ ngoại giao hữu nghị
hợp tác toàn diện chiến lược đối tác Quốc khánh Tết Nguyên Đán Bun Pi May Chol Chnam Thmay
báo cáo kết quả công tác đối ngoại tháng quý đầu cuối nửa trước ngày trong thường xuyên
hằng tuần lễ đón tiếp đoàn đại biểu cấp cao thăm làm việc tổ chức hội nghị hội thảo xúc tiến
thương mại văn bản công văn quyết định thông báo tờ trình rà soát sơ kết tổng kết hết hiệu lực
thỏa thuận biên bản ghi nhớ tầng tư phòng họp số một hai ba bốn năm sáu bảy tám chín mười
chủ trì phối hợp theo dõi đôn đốc đề nghị Quý cơ quan khẩn trương hoàn thành gửi về trước
hạn chót hôm nay còn ngày đã gửi muộn lưu ý ngày nghỉ làm việc liền kề người nước ngoài
lưu học sinh biên giới cửa khẩu kinh tế đầu tư vốn viện trợ phi chính phủ dự án tỉnh bạn
Bắc Giang Hà Nội Thừa Thiên Huế Đà Nẵng Quảng Nam Cần Thơ Lạng Sơn Điện Biên Sơn La
ưu tiên đặc biệt quan trọng khẩn thượng khẩn mật tuyệt mật ý kiến góp ý dự thảo điều chỉnh
"""
VI_WORDS = _VI_TEXT.split()


def _sentence(rng: random.Random, low: int = 20, high: int = 200) -> str:
    target = rng.randint(low, high)
    words: list[str] = []
    while len(" ".join(words)) < target:
        words.append(rng.choice(VI_WORDS))
    text = " ".join(words)
    if len(text) > high:
        text = text[:high].rstrip()
    return text


def vietnamese_subjects(n: int, seed: int = 20260612) -> list[str]:
    rng = random.Random(seed)
    return [_sentence(rng) for _ in range(n)]


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(TEMPLATES)


@pytest.fixture()
def tdir(tmp_path: Path) -> Path:
    """An editable copy of the shipped templates."""
    target = tmp_path / "mail"
    shutil.copytree(TEMPLATES, target)
    return target


def digest_of(reminders: list[Reminder], now: datetime = NOW,
              calendar: WorkCalendar | None = None, agency: Agency = AGENCY) -> Digest:
    return Digest(agency, reminders, now, FEED, NAMES, calendar or WorkCalendar())


def mail_for(subject: str, text: str = "Nội dung thư.\n", html: str = "<p>Nội dung</p>\n"
             ) -> RenderedMail:
    return RenderedMail(subject, text, html)


def tiny_ics() -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//reminderd//tests//VI")
    cal.add("version", "2.0")
    event = icalendar.Event()
    event.add("uid", "task/kh-34-2026/bao-cao@songoaivu.example")
    event.add("dtstamp", datetime(2026, 6, 1, tzinfo=UTC))
    event.add("dtstart", date(2026, 6, 12))
    event.add("summary", "Hạn: Báo cáo kết quả công tác đối ngoại 6 tháng đầu năm")
    cal.add_component(event)
    ical: bytes = cal.to_ical()
    return ical


def parse(raw: bytes) -> EmailMessage:
    msg: EmailMessage = email.message_from_bytes(raw, policy=email.policy.default)
    return msg


def build(mail: RenderedMail, **kw: object) -> bytes:
    args: dict[str, object] = {"sender": SENDER, "to": ["vhttdl@example.gov.vn"],
                               "message_id": message_id_for(["k1"], "songoaivu.example"),
                               "ics": tiny_ics(), "date": DATE}
    args.update(kw)
    return build_message(mail, **args)  # type: ignore[arg-type]


# --- formatting ------------------------------------------------------------------------


def test_vietnamese_weekday_and_date() -> None:
    assert vn_date(date(2026, 6, 12)) == "Thứ Sáu, 12/06/2026"
    names = [vn_date(date(2026, 6, 8) + timedelta(days=i)).split(",")[0] for i in range(7)]
    assert names == ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy",
                     "Chủ Nhật"]
    assert vn_date(date(2027, 1, 3)) == "Chủ Nhật, 03/01/2027"


def test_days_left_phrases() -> None:
    assert days_text(ReminderKind.DEADLINE, 7) == "còn 7 ngày"
    assert days_text(ReminderKind.DEADLINE, 0) == "hôm nay là hạn chót"
    assert days_text(ReminderKind.OVERDUE, -3) == "đã quá hạn 3 ngày"
    assert days_text(ReminderKind.OCCASION, 0) == "diễn ra hôm nay"
    assert days_text(ReminderKind.OCCASION, 14) == "còn 14 ngày"


def test_webcal_link() -> None:
    assert webcal("https://x.example/f.ics") == "webcal://x.example/f.ics"
    assert webcal("http://127.0.0.1:8080/f.ics") == "webcal://127.0.0.1:8080/f.ics"


# --- rendering -------------------------------------------------------------------------


def test_shipped_templates_pass_check(renderer: Renderer) -> None:
    assert renderer.check() == []
    assert check_templates(TEMPLATES) == []


def test_digest_content_in_text_and_html(renderer: Renderer) -> None:
    mail = renderer.render(sample_digests()[0])
    for body in (mail.text, mail.html):
        assert "Kính gửi: Sở Văn hóa, Thể thao và Du lịch" in body
        assert "Sở Ngoại vụ xin nhắc lịch công việc" in body
        assert "Kế hoạch công tác đối ngoại năm 2026" in body
        assert "34/KH-UBND ngày 22/02/2026" in body
        assert "Chủ trì" in body and "Phối hợp" in body and "Cơ quan theo dõi, đôn đốc" in body
        assert "Thứ Sáu, 12/06/2026" in body
        assert "còn 2 ngày" in body and "đã quá hạn 5 ngày" in body
        assert "Kỷ niệm 50 năm" in body
        assert "năm chẵn, năm tròn: cần xây dựng kế hoạch" in body
        assert "Nhiệm vụ đã quá hạn, đề nghị báo cáo tình hình thực hiện" in body
        assert "webcal://lich.songoaivu.example/feeds/so-vhttdl.ics" in body
        assert "https://lich.songoaivu.example/feeds/so-vhttdl.ics" in body
        assert "Thư này được gửi tự động từ reminderd; vui lòng không trả lời." in body
        # the agreement review falls on Saturday 20/06/2026
        assert "Thứ Bảy, 20/06/2026 là ngày nghỉ" in body
        assert "chậm nhất Thứ Sáu, 19/06/2026" in body
    # the document's own wording ("as written"); quotes are escaped in the HTML
    assert '"Trước ngày 15/6/2026"' in mail.text
    assert "Trước ngày 15/6/2026" in mail.html


def test_items_in_date_order(renderer: Renderer) -> None:
    reminders = sample_reminders()
    mail = renderer.render(digest_of(list(reversed(reminders))))
    titles = sorted(reminders, key=lambda r: r.occurrence.date)
    positions = [mail.text.index(r.occurrence.title) for r in titles]
    assert positions == sorted(positions)
    numbered = re.findall(r"^(\d+)\. ", mail.text, flags=re.M)
    assert numbered == [str(i) for i in range(1, len(reminders) + 1)]


def test_late_note_only_after_an_hour(renderer: Renderer) -> None:
    deadline = sample_reminders()[0]
    on_time = replace(deadline, due=NOW - timedelta(minutes=59))
    late = replace(deadline, due=NOW - timedelta(minutes=61))
    assert "Gửi muộn" not in renderer.render(digest_of([on_time])).text
    text = renderer.render(digest_of([late])).text
    assert "Gửi muộn" in text
    assert "06:59 Thứ Tư, 10/06/2026" in text  # the due time, in Hà Nội time
    assert "Gửi muộn" in renderer.render(digest_of([late])).html


def test_deadline_today_and_catch_up_counts_from_now(renderer: Renderer) -> None:
    deadline = sample_reminders()[0]  # due 12/06/2026
    today = renderer.render(digest_of([deadline], now=datetime(2026, 6, 12, 1, tzinfo=UTC)))
    assert "hôm nay là hạn chót" in today.text
    # sent two days late: the mail counts from the day it is actually sent
    late = replace(deadline, due=datetime(2026, 6, 3, 1, tzinfo=UTC))
    text = renderer.render(digest_of([late], now=datetime(2026, 6, 5, 1, tzinfo=UTC))).text
    assert "còn 7 ngày" in text and "Gửi muộn" in text


def test_several_steps_of_one_item_show_once(renderer: Renderer) -> None:
    deadline = sample_reminders()[0]
    earlier = replace(deadline, key=deadline.key.replace("lead-1wd", "lead-3wd"),
                      step="lead-3wd", due=NOW - timedelta(days=2))
    mail = renderer.render(digest_of([earlier, deadline]))
    assert mail.text.count(deadline.occurrence.title) == 1
    assert mail.subject.startswith("[Nhắc việc] 1 nhiệm vụ sắp đến hạn (12/06/2026)")
    assert "Gửi muộn" not in mail.text  # the newest step is on time


def test_subject_one_line_with_count_date_and_agency(renderer: Renderer) -> None:
    reminders = sample_reminders()
    tasks = [r for r in reminders if r.kind is ReminderKind.DEADLINE]
    tasks += [replace(tasks[0], key="k2", occurrence=replace(
        tasks[0].occurrence, key="task/2", date=date(2026, 6, 19), title="Nhiệm vụ hai"))]
    tasks += [replace(tasks[0], key="k3", occurrence=replace(
        tasks[0].occurrence, key="task/3", date=date(2026, 6, 26), title="Nhiệm vụ ba"))]
    subject = renderer.render(digest_of(tasks)).subject
    assert subject == ("[Nhắc việc] 3 nhiệm vụ sắp đến hạn (gần nhất 12/06/2026) - "
                       "Sở Văn hóa, Thể thao và Du lịch")
    for digest in sample_digests():
        s = renderer.render(digest).subject
        assert "\n" not in s and "\r" not in s and "=?" not in s
        assert s.endswith(" - Sở Văn hóa, Thể thao và Du lịch")
    overdue = [r for r in reminders if r.kind is ReminderKind.OVERDUE]
    assert renderer.render(digest_of(overdue)).subject.startswith(
        "[Nhắc việc] 2 nhiệm vụ đã quá hạn")


def test_html_is_escaped_text_is_not(renderer: Renderer) -> None:
    r = sample_reminders()[0]
    evil = replace(r, occurrence=replace(r.occurrence, title="<script>alert(1)</script> & co"))
    mail = renderer.render(digest_of([evil]))
    assert "<script>" not in mail.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in mail.html
    assert "<script>alert(1)</script> & co" in mail.text


def test_name_with_line_break_cannot_reach_subject(renderer: Renderer) -> None:
    agency = Agency("x", "Sở A\nBcc: victim@example.com")
    subject = renderer.render(digest_of(sample_reminders()[:1], agency=agency)).subject
    assert "\n" not in subject and subject.endswith("Sở A Bcc: victim@example.com")
    encoded = Agency("x", "Sở =?utf-8?q?A=0AB?=")
    with pytest.raises(TemplateProblem, match="=\\?"):
        renderer.render(digest_of(sample_reminders()[:1], agency=encoded))


def test_non_working_deadline_with_the_real_calendar(renderer: Renderer) -> None:
    calendar = build_calendar([2026])
    occ = Occurrence(key="task/x", kind=OccurrenceKind.DEADLINE, date=date(2026, 9, 2),
                     title="Nộp báo cáo", lead=("so-vhttdl",), text="02/9/2026")
    reminders = [r for r in plan([occ], POLICY, calendar) if r.step == "lead-3wd"]
    now = reminders[0].due
    mail = renderer.render(digest_of(reminders, now=now, calendar=calendar))
    assert "Thứ Tư, 02/09/2026 là ngày nghỉ" in mail.text  # Quốc khánh
    # 1/9 is the adjacent holiday, 29-30/8 the weekend: the working day before is Fri 28/8
    assert "chậm nhất Thứ Sáu, 28/08/2026" in mail.text
    # an occasion's day is fixed: no such note even on a holiday
    occasion = Occurrence(key="occasion/qk@2026", kind=OccurrenceKind.OCCASION,
                          date=date(2026, 9, 2), title="Quốc khánh", lead=("so-vhttdl",))
    r = plan([occasion], POLICY, calendar)[0]
    assert "ngày nghỉ" not in renderer.render(
        digest_of([r], now=r.due, calendar=calendar)).text


def test_no_working_day_test_no_note(renderer: Renderer) -> None:
    digest = replace(sample_digests()[0], calendar=None)
    assert "ngày nghỉ" not in renderer.render(digest).text


def test_roles_and_names(renderer: Renderer) -> None:
    reminders = {r.role: r for r in sample_reminders()}
    text = renderer.render(digest_of([reminders[Role.SUPPORT]])).text
    assert "Vai trò của Quý cơ quan: Phối hợp" in text
    assert "Cơ quan chủ trì: Sở Ngoại vụ" in text
    text = renderer.render(digest_of([reminders[Role.COORDINATOR]])).text
    assert "Vai trò của Quý cơ quan: Cơ quan theo dõi, đôn đốc" in text
    assert "đôn đốc cơ quan chủ trì báo cáo tình hình thực hiện" in text


def test_empty_or_naive_digest_is_a_programming_error(renderer: Renderer) -> None:
    with pytest.raises(ValueError, match="at least one"):
        renderer.render(digest_of([]))
    with pytest.raises(ValueError, match="aware"):
        renderer.render(digest_of(sample_reminders(), now=datetime(2026, 6, 10, 8)))


# --- template problems -----------------------------------------------------------------


def test_undefined_variable_names_file_and_line(tdir: Path) -> None:
    partial = tdir / "_occasion.txt"
    lines = partial.read_text(encoding="utf-8").splitlines()
    lines.insert(2, "   {{ item.titel }}")
    partial.write_text("\n".join(lines) + "\n", encoding="utf-8")
    renderer = Renderer(tdir)  # compiles: the mistake shows only when rendering
    problems = [str(p) for p in renderer.check()]
    assert problems, "check() must report the undefined variable"
    assert problems[0] == f"{partial}:3:1: 'dict object' has no attribute 'titel'"
    with pytest.raises(TemplateProblem) as info:
        renderer.render(sample_digests()[3])  # the occasion alone
    assert (info.value.file, info.value.line) == (str(partial), 3)


def test_syntax_errors_at_load_with_file_and_line(tdir: Path) -> None:
    (tdir / "digest.txt").write_text("Kính gửi: {{ agency.name }}\n{% for x in items %}\n",
                                     encoding="utf-8")
    (tdir / "_overdue.html").write_text("<tr>\n<td>{{ item.title }</td>\n", encoding="utf-8")
    with pytest.raises(TemplateProblem) as info:
        Renderer(tdir)
    assert info.value.file.endswith(".html") or info.value.file.endswith(".txt")
    problems = check_templates(tdir)
    assert len(problems) == 2
    assert any(p.startswith(f"{tdir / 'digest.txt'}:") for p in problems)
    assert any(p.startswith(f"{tdir / '_overdue.html'}:2:1: ") for p in problems)


def test_missing_partial_is_reported(tdir: Path) -> None:
    (tdir / "_agreement.html").unlink()
    assert check_templates(tdir) == [
        f"{tdir / '_agreement.html'}:1:1: template missing (every reminder kind needs a "
        "_<kind>.txt and a _<kind>.html partial)"]


def test_shared_macros_missing_or_broken_are_reported(tdir: Path) -> None:
    common = (tdir / "_common.html").read_text(encoding="utf-8")
    (tdir / "_common.html").unlink()
    assert check_templates(tdir) == [
        f"{tdir / '_common.html'}:1:1: template missing (the _<kind> partials import their "
        "shared rows from it)"]
    (tdir / "_common.html").write_text(common.replace("item.support |", "item.nope |"),
                                       encoding="utf-8")
    problems = check_templates(tdir)
    assert problems and all(p.startswith(f"{tdir / '_common.html'}:") for p in problems)
    assert "nope" in problems[0]
    (tdir / "_common.html").write_text(common, encoding="utf-8")
    deadline = tdir / "_deadline.txt"
    deadline.write_text(deadline.read_text(encoding="utf-8").replace(
        '"_common.txt"', '"_shared.txt"'), encoding="utf-8")
    assert check_templates(tdir) == [
        f"{tdir / '_deadline.txt'}:2:1: template '_shared.txt' not found (imported or "
        "included here)"]


def test_sandbox_blocks_unsafe_access(tdir: Path) -> None:
    (tdir / "_deadline.txt").write_text(
        "{{ item.__class__.__mro__[1].__subclasses__() }}\n", encoding="utf-8")
    problems = [str(p) for p in Renderer(tdir).check()]
    assert problems and problems[0].startswith(f"{tdir / '_deadline.txt'}:1:1: ")
    assert "unsafe" in problems[0] or "__class__" in problems[0]


def test_output_cap(tdir: Path) -> None:
    (tdir / "digest.html").write_text(
        "{% for i in range(100000) %}{% for j in range(100000) %}xxxxxxxxxx{% endfor %}"
        "{% endfor %}", encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(TemplateProblem, match="max_output_bytes"):
        Renderer(tdir, max_output_bytes=100_000).render(sample_digests()[0])
    assert time.perf_counter() - started < 2.0
    with pytest.raises(TemplateProblem, match="max_output_bytes"):
        Renderer(TEMPLATES, max_output_bytes=2_000).render(sample_digests()[0])


def test_templates_compiled_once(tdir: Path) -> None:
    renderer = Renderer(tdir)
    for path in tdir.iterdir():
        path.unlink()  # nothing is read from disk after construction
    assert "Kính gửi" in renderer.render(sample_digests()[0]).text


# --- message building ------------------------------------------------------------------


def test_message_structure_and_parts(renderer: Renderer) -> None:
    mail = renderer.render(sample_digests()[0])
    ics = tiny_ics()
    mid = message_id_for(["a|1", "b|2"], "songoaivu.example")
    raw = build(mail, message_id=mid, to=["vhttdl@example.gov.vn", "vp@example.gov.vn"])
    msg = parse(raw)
    assert msg.get_content_type() == "multipart/mixed"
    alternative, attachment = msg.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    plain, html = alternative.iter_parts()
    assert plain.get_content_type() == "text/plain" and plain.get_content_charset() == "utf-8"
    assert html.get_content_type() == "text/html" and html.get_content_charset() == "utf-8"
    assert plain.get_content() == mail.text
    assert html.get_content() == mail.html
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_content_charset() == "utf-8"
    assert attachment.get_param("method") is None  # no iTIP: an attachment, not an invitation
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "nhac-viec.ics"
    assert attachment.get_content() == ics.decode("utf-8")  # CRLF kept
    event = icalendar.Calendar.from_ical(attachment.get_content()).walk("VEVENT")[0]
    assert str(event["SUMMARY"]).startswith("Hạn: Báo cáo kết quả")
    assert msg["Message-ID"] == mid
    assert msg["Subject"] == mail.subject
    assert msg["From"].addresses[0].display_name == "Sở Ngoại vụ"
    assert msg["From"].addresses[0].addr_spec == "lich@songoaivu.example"
    assert [a.addr_spec for a in msg["To"].addresses] == ["vhttdl@example.gov.vn",
                                                          "vp@example.gov.vn"]
    assert msg["Date"].datetime == DATE
    assert msg["MIME-Version"] == "1.0"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg.defects == [] and all(not p.defects for p in msg.walk())


def test_message_without_attachment_is_alternative() -> None:
    raw = build(mail_for("[Nhắc việc] thử"), ics=None)
    msg = parse(raw)
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]


def test_wire_format_crlf_ascii_short_lines(renderer: Renderer) -> None:
    raw = build(renderer.render(sample_digests()[0]))
    assert raw.isascii()
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert b"\r" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert not re.search(r"=\?[^?]+\?[bBqQ]\?[^?]*\?=[^\s]", head)  # words stay separated


def test_same_inputs_same_bytes() -> None:
    mail = mail_for("[Nhắc việc] 1 nhiệm vụ sắp đến hạn (12/06/2026) - Sở Nội vụ")
    assert build(mail) == build(mail)


def test_compat32_mime_equivalent(renderer: Renderer) -> None:
    """The hand-written MIME parses exactly like email.mime's for the same content."""
    from email.encoders import encode_base64
    from email.mime.base import MIMEBase
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText

    mail = renderer.render(sample_digests()[0])
    ics = tiny_ics()
    ours = email.message_from_bytes(build(mail, ics=ics), policy=email.policy.default)
    root = MIMEMultipart("mixed")
    alt = MIMEMultipart("alternative")
    alt.attach(MIMEText(mail.text, "plain", "utf-8"))
    alt.attach(MIMEText(mail.html, "html", "utf-8"))
    root.attach(alt)
    cal = MIMEBase("text", "calendar", charset="utf-8")
    cal.set_payload(ics)
    encode_base64(cal)
    cal.add_header("Content-Disposition", "attachment", filename="nhac-viec.ics")
    root.attach(cal)
    theirs = email.message_from_bytes(root.as_bytes(), policy=email.policy.default)

    def shape(msg: email.message.Message) -> list[tuple[str, str | None, object]]:
        out = []
        for part in msg.walk():
            body = None if part.is_multipart() else part.get_payload(decode=True)
            out.append((part.get_content_type(), part.get_content_charset(), body))
        return out

    assert shape(ours) == shape(theirs)


# --- the subject trap (RFC 2047, docs/library-pitfalls.md) ----------------------------------------


@pytest.mark.slow
def test_thousand_vietnamese_subjects_survive() -> None:
    subjects = vietnamese_subjects(1000)
    assert min(map(len, subjects)) >= 20 and max(map(len, subjects)) <= 200
    damaged = []
    for subject in subjects:
        raw = build(mail_for(subject), ics=None)
        header = re.search(rb"^Subject: (.*?)\r\n(?! )", raw, flags=re.M | re.S)
        assert header is not None
        folded = header.group(1).decode("ascii")
        via_header = str(make_header(decode_header(folded)))
        via_default = email.message_from_bytes(raw, policy=email.policy.default)["Subject"]
        via_compat = str(make_header(decode_header(email.message_from_bytes(raw)["Subject"])))
        if not (subject == via_header == via_default == via_compat):
            damaged.append((subject, via_header, via_default, via_compat))
    assert damaged == []


@pytest.mark.slow
def test_the_trap_is_real_on_this_interpreter() -> None:
    """The generated subjects do catch the bug: EmailMessage(policy=SMTP) loses spaces."""
    damaged = 0
    for subject in vietnamese_subjects(1000):
        msg = EmailMessage(policy=email.policy.SMTP)
        msg["Subject"] = subject
        msg.set_content("x")
        back = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
        damaged += back["Subject"] != subject
    if damaged == 0:
        pytest.skip(f"policy.SMTP folding is fixed on Python {sys.version.split()[0]}")
    assert damaged > 20


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1,
               max_size=300))
def test_any_one_line_subject_survives(text: str) -> None:
    subject = " ".join(text.split())
    if not subject or "=?" in subject:
        return
    raw = build(mail_for(subject), ics=None)
    assert email.message_from_bytes(raw, policy=email.policy.default)["Subject"] == subject


# --- header injection ------------------------------------------------------------------


@pytest.mark.parametrize("subject", [
    "Nhắc việc\nBcc: victim@example.com", "Nhắc việc\r", "Nhắc việc\n",
    "Nhắc =?utf-8?q?x=0ABcc:_victim@example.com?=", "a\u2028b", "a\x85b", "a\x00b",
])
def test_unsafe_subject_rejected(subject: str) -> None:
    with pytest.raises(ValueError, match="header"):
        build(mail_for(subject))


@pytest.mark.parametrize("field,value", [
    ("sender", "Sở Ngoại vụ <lich@x.example>\nBcc: v@example.com"),
    ("sender", "=?utf-8?q?S=0A?= <lich@x.example>"),
    ("to", ["a@example.gov.vn\r\nBcc: v@example.com"]),
    ("to", ["a@example.gov.vn", "=?utf-8?q?x?= <b@example.gov.vn>"]),
    ("message_id", "<abc@x.example>\nBcc: v@example.com"),
    ("message_id", "no-brackets@x.example"),
    ("to", []),
    ("to", ["not an address"]),
    ("date", datetime(2026, 6, 10, 8, 0)),
])
def test_unsafe_or_bad_headers_rejected(field: str, value: object) -> None:
    with pytest.raises(ValueError):
        build(mail_for("[Nhắc việc] thử"), **{field: value})


def test_envelope_address() -> None:
    assert envelope_address(SENDER) == "lich@songoaivu.example"
    assert envelope_address("a@example.gov.vn") == "a@example.gov.vn"
    with pytest.raises(ValueError):
        envelope_address("Sở <lich@x.example>\r\nBcc: v@x")


def test_date_header_keeps_the_zone() -> None:
    hcm = timezone(timedelta(hours=7))
    raw = build(mail_for("x"), date=datetime(2026, 6, 10, 8, 0, tzinfo=hcm))
    assert b"Date: Wed, 10 Jun 2026 08:00:00 +0700\r\n" in raw


# --- Message-ID ------------------------------------------------------------------------


def test_message_id_is_deterministic() -> None:
    keys = ["task/a@2026|2026-06-12|lead-1wd|so-vhttdl", "occasion/b@2026|2026-06-12|day-3|x"]
    mid = message_id_for(keys, "songoaivu.example")
    assert mid == message_id_for(list(reversed(keys)), "songoaivu.example")
    expected = hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:32]
    assert mid == f"<{expected}@songoaivu.example>"
    assert re.fullmatch(r"<[0-9a-f]{32}@songoaivu\.example>", mid)
    assert mid != message_id_for(keys[:1], "songoaivu.example")
    with pytest.raises(ValueError):
        message_id_for([], "songoaivu.example")
    with pytest.raises(ValueError):
        message_id_for(keys, "bad domain>\n")


# --- cost ------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=400),
       st.integers(20, 78))
def test_encoded_words_fold_within_78_and_keep_whole_characters(text: str, room: int) -> None:
    from reminderd.mail.message import encoded_words

    folded = encoded_words(text, first_line_room=room)
    lines = folded.split("\r\n")
    assert len(lines[0]) <= max(room, 16) and all(len(line) <= 78 for line in lines)
    assert all(line.startswith(" ") for line in lines[1:])
    words = [line.strip() for line in lines]
    assert all(w.startswith("=?utf-8?b?") and w.endswith("?=") and len(w) <= 75
               for w in words)
    parts = [base64.b64decode(w[10:-2]) for w in words]
    assert "".join(p.decode("utf-8") for p in parts) == text  # each word: whole characters
    assert str(make_header(decode_header(folded))) == text
