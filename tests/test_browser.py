"""The status page as an admin sees it: headless Chromium against a running daemon.

Skips with a reason where no chromium is installed, except when REMINDERD_REQUIRE_BROWSER=1
(.ci/run sets it and installs Debian's chromium), so CI cannot pass by skipping.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from bundled import single_file_text
from daemon_proc import SECRET, Daemon
from smtp_server import ThreadedSmtpServer

from reminderd.feeds.tokens import FeedTokens

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("REMINDERD_REQUIRE_BROWSER") == "1":
            pytest.fail("REMINDERD_REQUIRE_BROWSER=1 but no chromium is installed")
        pytest.skip("no chromium installed (apt-get install chromium); the status page check "
                    "needs a real browser")
    return found


def headless(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={profile}", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=90)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    with ThreadedSmtpServer() as smtp:
        plans = single_file_text()
        d = Daemon(tmp_path, plans, smtp.port, clock_start="2022-08-05T09:00:00+07:00")
        d.start()
        yield d
        d.kill()


def test_status_page_renders_agenda_and_subscription_links(daemon: Daemon,
                                                           tmp_path: Path) -> None:
    browser = chromium()
    dom = headless(browser, tmp_path / "profile", "--dump-dom", daemon.admin_url + "/")
    assert dom.returncode == 0, dom.stderr
    html = dom.stdout
    # The agenda of the next 60 days from 05/08/2022, by agency, in Vietnamese.
    assert "Gửi thư chúc mừng" in html  # Bắc Giang task 1.3a, due 14/08/2022
    assert "14/08/2022" in html
    assert "Kỷ niệm" in html or "Quốc khánh" in html
    # Each agency's subscription links, https/http and webcal, with its secret token.
    token = FeedTokens(SECRET.encode(), ["bg-songoaivu"]).token("bg-songoaivu")
    assert f"{daemon.url}/feeds/{token}.ics" in html
    assert f"webcal://127.0.0.1:{daemon.port}/feeds/{token}.ics" in html
    # And a picture a person would look at (kept as a test artifact).
    shot = tmp_path / "status.png"
    result = headless(browser, tmp_path / "profile2", f"--screenshot={shot}",
                      "--window-size=1280,2000", daemon.admin_url + "/")
    assert result.returncode == 0 and shot.stat().st_size > 10_000, result.stderr


def test_status_page_shows_a_config_error(daemon: Daemon, tmp_path: Path) -> None:
    browser = chromium()
    good = daemon.plans.read_text(encoding="utf-8")
    daemon.plans.write_text(good.replace('"Trước ngày 15/8/2022"', '"Trước ngày 32/8/2022"'),
                            encoding="utf-8")
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and daemon.get("/healthz")[0] != 503:
        time.sleep(0.2)
    html = headless(browser, tmp_path / "profile", "--dump-dom", daemon.admin_url + "/").stdout
    # the place in Vietnamese (tệp …, dòng …, cột …), then the loader's message
    assert f"Lỗi ở tệp {daemon.plans}, dòng " in html and "32/8/2022" in html
    assert "Gửi thư chúc mừng" in html  # the last good version is still shown


def test_status_page_lists_every_overdue_item_as_agenda_does(daemon: Daemon,
                                                             tmp_path: Path) -> None:
    """Every task past its date and not done, however old, as `agenda --json` gives them;
    Vietnamese time zone and decimal comma, errors framed in Vietnamese."""
    import json
    import re
    import sys
    from html import escape

    browser = chromium()
    env = {**os.environ, "REMINDERD_FEED_SECRET": SECRET}
    # 05/08/2022 on the daemon's clock: everything from the first plan's year up to 04/08
    agenda = subprocess.run(
        [sys.executable, "-m", "reminderd.cli", "agenda", "--config", str(daemon.config),
         "--from", "01/01/2020", "--days", str((date(2022, 8, 5) - date(2020, 1, 1)).days),
         "--json"], capture_output=True, text=True, env=env, timeout=120, check=True)
    expected = [i for i in json.loads(agenda.stdout)
                if i["kind"] in ("deadline", "window", "report") and i["done"] is None
                and i["date"] < "2022-08-05"]
    assert expected and min(i["date"] for i in expected) < "2022-05-07"  # older than 90 days
    html = headless(browser, tmp_path / "profile", "--dump-dom", daemon.admin_url + "/").stdout
    section = html.split('id="qua-han"', 1)[1].split("</section>", 1)[0]
    row = r'<tr class="overdue"><td>[^<]*?(\d\d/\d\d/\d{4})</td>\s*<td>(.*?)(?:<br>|</td>)'
    rows = re.findall(row, section, flags=re.S)
    assert f"Nhiệm vụ quá hạn ({len(expected)})" in section
    shown = sorted((d, t.strip()) for d, t in rows)
    wanted = sorted((f"{i['date'][8:]}/{i['date'][5:7]}/{i['date'][:4]}",
                     escape(i["title"], quote=False)) for i in expected)
    assert shown == wanted
    assert "giờ Việt Nam" in html and "Không có nhiệm vụ quá hạn" not in html
