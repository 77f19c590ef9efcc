"""Feed serving speed: reminderd.server.web beside nginx serving the same bytes as static files.

Usage: .venv/bin/python bench/bench_http.py [--duration 10] [--connections 50] [--threads 2]
            [--rounds 1] [--agencies 300] [--no-nginx] [--python-load] [--nginx PATH] [--wrk PATH]

It builds two feeds with reminderd's FeedBuilder from generated occurrences: one agency's
feed of ~50 KB and a whole calendar of ~2 MB (plus small feeds for the other agencies, so the
token lookup has as many candidates as a real deployment). Then, in the same run:

- reminderd: ``reminderd.server.publish`` + ``reminderd.server.web`` (publish + make_admin_app +
  start_site) in a subprocess on 127.0.0.1, serving the feeds from memory;
- nginx (when installed): a throwaway config in a temp folder on another loopback port,
  serving the files that ``reminderd.server.publish.export`` wrote (``gzip_static on``, the .gz
  beside each file, as an operator would set it up);

and loads each with ``wrk -t2 -c50 -d10s --latency`` (a bounded load, loopback only) for:

1. a 304 revalidation of the 50 KB agency feed (If-None-Match: its ETag),
2. a full 200 of the 50 KB agency feed (no Accept-Encoding),
3. a gzip 200 of the 2 MB whole feed (Accept-Encoding: gzip; precomputed gzip bytes).

It prints requests/s and latency percentiles side by side and the ratio to nginx, against the
targets of issue 5 (304 >= 20%, 50 KB >= 30%, 2 MB gzip >= 50% of nginx). Without wrk it
falls back to an asyncio HTTP/1.1 load generator in separate processes (and says so: that
generator is slower than wrk, so it measures less of the servers).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import platform
import random
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reminderd.config import load_settings
from reminderd.core.model import Agency
from reminderd.core.occurrence import Occurrence, OccurrenceKind
from reminderd.feeds.build import FeedSet, feed_options
from reminderd.feeds.ics import FeedBuilder
from reminderd.feeds.tokens import FeedTokens

SECRET = b"bench-secret-not-for-production"
NOW = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
BIG = "a000"  # the agency whose feed is ~50 KB
SMALL_TARGET = 50_000
WHOLE_TARGET = 2_000_000
TARGETS = {"304": 0.20, "200-50k": 0.30, "gzip-2m": 0.50}
# Words of real plans: generated titles and notes compress about as well as real feeds (~7x).
_VOCABULARY = """
báo cáo kết quả thực hiện kế hoạch hợp tác tỉnh Chungcheongbuk Hàn Quốc tổ chức đón tiếp
đoàn đại biểu hội hữu nghị Việt Nam Lào Campuchia Nhật Bản gửi thư chúc mừng quốc khánh nước
cộng hòa dân chủ nhân dân rà soát đánh giá thỏa thuận quốc tế đã ký kết giai đoạn xây dựng tuần
văn hóa du lịch tại chủ trì phối hợp sở ngoại vụ văn phòng ủy ban tài chính thông tin truyền thông
công an biên phòng giáo dục đào tạo lao động thương binh xã hội y tế nông nghiệp phát triển nông
thôn công thương kế hoạch đầu tư khoa học công nghệ tư pháp nội vụ tài nguyên môi trường giao thông
vận tải xây dựng hội đồng nhân dân mặt trận tổ quốc liên hiệp các tổ chức doanh nghiệp hiệp hội
trường đại học bệnh viện tỉnh thành phố huyện xã phường thị trấn cửa khẩu khu kinh tế dự án viện
trợ phi chính phủ nước ngoài tình nguyện viên lưu học sinh chuyên gia hội nghị hội thảo diễn đàn
xúc tiến thương mại đầu tư quảng bá hình ảnh địa phương kỷ niệm năm thiết lập quan hệ ngoại giao
chương trình hành động nghị quyết chỉ thị công văn quyết định thông báo kết luận ý kiến góp ý dự
thảo trình ký ban hành hướng dẫn triển khai sơ kết tổng kết định kỳ hằng năm quý tháng tuần
"""
WORDS = _VOCABULARY.split()


def words(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


# --- the feeds ----------------------------------------------------------------------------

def is_working(day: date) -> bool:
    return day.weekday() < 5


def occurrences(n: int, agency: str, salt: str) -> list[Occurrence]:
    base = date(2026, 1, 5)
    kinds = [OccurrenceKind.DEADLINE, OccurrenceKind.REPORT, OccurrenceKind.OCCASION]
    rng = random.Random(f"{salt}-{n}")
    return [Occurrence(
        key=f"task/bench-{salt}/{i}", kind=kinds[i % 3], date=base + timedelta(days=i % 700),
        title=words(rng, 8, 24).capitalize(), lead=(agency,), source=f"bench-{salt}",
        reference=f"{rng.randint(1, 999)}/KH-UBND ngày {rng.randint(1, 28)}/02/2026",
        source_title="Kế hoạch " + words(rng, 5, 12), text="trước ngày 15/3/2026",
        notes=words(rng, 10, 40),
    ) for i in range(n)]


def sized_feed(builder: FeedBuilder, agency: str, target: int, salt: str) -> bytes:
    """Feed bytes of about ``target`` bytes: scale the event count from a sample."""
    n = 50
    for _ in range(4):
        data = builder.build(occurrences(n, agency, salt), {}, today=NOW.date(),
                             is_working=is_working)
        if abs(len(data) - target) < target * 0.03:
            return data
        n = max(1, round(n * target / len(data)))
    return data


def make_feedset(n_agencies: int) -> FeedSet:
    ids = [f"a{i:03d}" for i in range(n_agencies)]
    agencies = {a: Agency(a, f"Sở Ngoại vụ tỉnh số {a[1:]}", (f"{a}@example.gov.vn",))
                for a in ids}
    options = replace(feed_options(load_settings(None, {})), uid_domain="bench.example")
    builder = FeedBuilder(options, agencies)
    small = sized_feed(builder, BIG, SMALL_TARGET, "small")
    whole = sized_feed(builder, BIG, WHOLE_TARGET, "whole")
    feeds = {BIG: small}
    for a in ids[1:]:
        feeds[a] = builder.build(occurrences(1, a, a), {}, today=NOW.date(),
                                 is_working=is_working, agency=a)
    return FeedSet(whole=whole, agencies=feeds)


def write_feedset(feedset: FeedSet, folder: Path) -> None:
    (folder / "agencies").mkdir(parents=True, exist_ok=True)
    (folder / "whole.ics").write_bytes(feedset.whole)
    for agency, body in feedset.agencies.items():
        (folder / "agencies" / f"{agency}.ics").write_bytes(body)


def read_feedset(folder: Path) -> FeedSet:
    agencies = {p.stem: p.read_bytes() for p in sorted((folder / "agencies").glob("*.ics"))}
    return FeedSet(whole=(folder / "whole.ics").read_bytes(), agencies=agencies)


# --- the servers --------------------------------------------------------------------------

def serve(folder: Path) -> None:
    """The reminderd side (run in a subprocess): serve until stdin closes."""
    from reminderd.server import web
    from reminderd.server.publish import publish

    feedset = read_feedset(folder)
    tokens = FeedTokens(SECRET, feedset.agencies)
    state = web.WebState(published=publish(feedset, tokens, None, NOW))

    async def main() -> None:
        # the admin app serves both /calendar.ics and the agency feeds (issue 12 split the
        # public listener off: it has the agency feeds only)
        runner = await web.start_site(web.make_admin_app(state), "127.0.0.1", 0)
        print(json.dumps({"port": web.bound_port(runner)}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await runner.cleanup()

    asyncio.run(main())


def read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        raise RuntimeError("the server did not start in time")
    return proc.stdout.readline()


def start_reminderd(folder: Path) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(folder)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = read_line(proc, 60)
    if not line:
        raise RuntimeError(f"the reminderd server exited with {proc.wait()}")
    return proc, int(json.loads(line)["port"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


NGINX_CONF = """\
worker_processes {workers};
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    types {{ text/calendar ics; }}
    default_type application/octet-stream;
    charset utf-8;
    charset_types text/calendar;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        gzip off;
        gzip_static on;
        location = /calendar.ics {{ add_header Cache-Control "public, max-age=300"; }}
        location /feeds/ {{ add_header Cache-Control "private, max-age=300"; }}
    }}
}}
"""


def start_nginx(nginx: str, root: Path, folder: Path, workers: str
                ) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    (folder / "tmp").mkdir(parents=True, exist_ok=True)
    conf = folder / "nginx.conf"
    conf.write_text(NGINX_CONF.format(workers=workers, dir=folder, port=port, root=root))
    proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(folder)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"nginx exited: {err.strip()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.terminate()
    raise RuntimeError("nginx did not start listening in time")


# --- one request, for checks --------------------------------------------------------------

@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


def fetch(port: int, path: str, headers: dict[str, str]) -> Reply:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.endheaders()
        resp = conn.getresponse()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


# --- load ---------------------------------------------------------------------------------

@dataclass
class Result:
    rps: float
    latency: dict[str, float]  # "50%" -> milliseconds
    errors: str = ""


_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def run_wrk(wrk: str, url: str, headers: dict[str, str], args: argparse.Namespace) -> Result:
    argv = [wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s",
            "--latency", "--timeout", "5s"]
    for k, v in headers.items():
        argv += ["-H", f"{k}: {v}"]
    out = subprocess.run([*argv, url], capture_output=True, text=True,
                         timeout=args.duration + 60, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    latency = {}
    for pct, value, unit in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M):
        latency[f"{pct}%"] = float(value) * _UNIT[unit]
    errors = []
    for pattern in (r"Non-2xx or 3xx responses: \d+", r"Socket errors: [^\n]+"):
        found = re.search(pattern, out)
        if found:
            errors.append(found[0])
    return Result(rps, latency, "; ".join(errors))


async def _load_worker(host: str, port: int, request: bytes, stop_at: float,
                       latencies: list[float], statuses: dict[int, int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < stop_at:
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
            if length and status != 304:
                await reader.readexactly(int(length[1]))
            latencies.append(time.perf_counter() - start)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


def load_process(url: str, headers: dict[str, str], connections: int, duration: float) -> None:
    """The fallback load generator (one process): prints its latencies as JSON."""
    match = re.match(r"http://([^:/]+):(\d+)(/.*)", url)
    assert match, url
    host, port, path = match[1], int(match[2]), match[3]
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def main() -> None:
        stop_at = time.perf_counter() + duration
        await asyncio.gather(*(_load_worker(host, port, request, stop_at, latencies, statuses)
                               for _ in range(connections)))

    started = time.perf_counter()
    asyncio.run(main())
    print(json.dumps({"elapsed": time.perf_counter() - started, "latencies": latencies,
                      "statuses": statuses}))


def run_python_load(url: str, headers: dict[str, str], args: argparse.Namespace) -> Result:
    procs = args.threads
    per = max(1, args.connections // procs)
    children = [subprocess.Popen(
        [sys.executable, __file__, "--load", url, "--load-headers", json.dumps(headers),
         "--connections", str(per), "--duration", str(args.duration)],
        stdout=subprocess.PIPE, text=True) for _ in range(procs)]
    latencies: list[float] = []
    total = 0
    elapsed = 0.0
    statuses: dict[str, int] = {}
    for child in children:
        out, _ = child.communicate(timeout=args.duration + 60)
        data = json.loads(out)
        latencies += data["latencies"]
        total += len(data["latencies"])
        elapsed = max(elapsed, data["elapsed"])
        for k, v in data["statuses"].items():
            statuses[k] = statuses.get(k, 0) + v
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    bad = {k: v for k, v in statuses.items() if not 200 <= int(k) < 400}
    return Result(total / elapsed, {f"{p}%": pct(p) for p in (50, 75, 90, 99)},
                  f"statuses {bad}" if bad else "")


# --- the run ------------------------------------------------------------------------------

@dataclass
class Scenario:
    key: str
    label: str
    path: str
    headers: dict[str, str]
    expect_status: int
    expect_gzip: bool


def check(port: int, scenario: Scenario, feedset: FeedSet, name: str) -> None:
    """One request before the load: the server answers what the scenario claims to measure."""
    import gzip as gz

    reply = fetch(port, scenario.path, scenario.headers)
    ok = reply.status == scenario.expect_status
    if ok and reply.status == 200:
        body = gz.decompress(reply.body) if scenario.expect_gzip else reply.body
        expected = feedset.whole if scenario.path == "/calendar.ics" else feedset.agencies[BIG]
        ok = (body == expected
              and (reply.headers.get("content-encoding") == "gzip") == scenario.expect_gzip)
    if not ok:
        raise RuntimeError(f"{name} {scenario.label}: got {reply.status} {reply.headers}")


def median(runs: list[Result]) -> Result:
    """Median requests/s and, separately, the median of each latency percentile."""
    rps = statistics.median(r.rps for r in runs)
    keys = {k for r in runs for k in r.latency}
    latency = {k: statistics.median(r.latency[k] for r in runs if k in r.latency)
               for k in keys}
    return Result(rps, latency, "; ".join(r.errors for r in runs if r.errors))


def fmt_ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per load (max 60)")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1,
                        help="repeat the loads, alternating servers; report medians (max 5)")
    parser.add_argument("--agencies", type=int, default=300,
                        help="agencies (token lookup candidates)")
    parser.add_argument("--nginx-workers", default="auto")
    parser.add_argument("--nginx", help="nginx binary (default: from PATH or /usr/sbin)")
    parser.add_argument("--wrk", help="wrk binary (default: from PATH)")
    parser.add_argument("--no-nginx", action="store_true")
    parser.add_argument("--python-load", action="store_true",
                        help="use the asyncio load generator even when wrk is installed")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--load", help=argparse.SUPPRESS)
    parser.add_argument("--load-headers", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0
    if args.load:
        load_process(args.load, json.loads(args.load_headers), args.connections, args.duration)
        return 0
    args.duration = max(1, min(args.duration, 60))
    args.connections = max(1, min(args.connections, 1000))
    args.rounds = max(1, min(args.rounds, 5))

    wrk = None if args.python_load else shutil.which(args.wrk or "wrk")
    nginx = None
    if not args.no_nginx:
        nginx = shutil.which(args.nginx or "nginx") or shutil.which(args.nginx or "/usr/sbin/nginx")
    print(f"machine: {os.cpu_count()} cores, {platform.python_implementation()} "
          f"{platform.python_version()}, {platform.platform()}")
    if wrk:
        version = subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout
        print(f"load: {version.splitlines()[0] if version else 'wrk'}: "
              f"-t{args.threads} -c{args.connections} -d{args.duration}s --latency")
    else:
        print("load: wrk is not installed (apt-get install wrk); using the asyncio load "
              f"generator in {args.threads} processes, {args.connections} connections, "
              f"{args.duration}s. It is slower than wrk: the figures measure the generator "
              "as much as the servers.")
    busy = os.getloadavg()[0]
    if busy > 1.0:
        print(f"warning: load average {busy:.1f} before the run: other processes are using the "
              "CPU, so the figures are noisy (compare ratios from one run, use --rounds 3)")
    if nginx is None:
        print("nginx: " + ("skipped (--no-nginx)" if args.no_nginx else
                           "not installed (apt-get install nginx-light); reminderd alone, "
                           "no ratios"))

    from reminderd.server.publish import export, publish

    started = time.perf_counter()
    feedset = make_feedset(args.agencies)
    tokens = FeedTokens(SECRET, feedset.agencies)
    published = publish(feedset, tokens, None, NOW)
    small, whole = published.agencies[BIG], published.calendar
    print(f"feeds: agency {len(small.body):,} B (gzip {len(small.gzip):,} B); whole "
          f"{len(whole.body):,} B (gzip {len(whole.gzip):,} B); {args.agencies} agencies; "
          f"built and compressed in {time.perf_counter() - started:.1f}s")
    agency_path = f"/feeds/{tokens.token(BIG)}.ics"

    procs: list[subprocess.Popen[str] | subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp:
        folder = Path(tmp)
        os.chmod(folder, 0o755)  # nginx workers run as an unprivileged user
        write_feedset(feedset, folder / "src")
        export_dir = folder / "export"
        export(published, export_dir)
        for p in export_dir.rglob("*"):
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        os.chmod(export_dir, 0o755)
        try:
            ours, our_port = start_reminderd(folder / "src")
            procs.append(ours)
            servers = [("reminderd", our_port)]
            if nginx:
                ngx, ngx_port = start_nginx(nginx, export_dir, folder / "nginx",
                                            args.nginx_workers)
                procs.append(ngx)
                servers.append(("nginx", ngx_port))
            results: dict[tuple[str, str], list[Result]] = {}
            scenarios_by_server: dict[str, list[Scenario]] = {}
            for name, port in servers:
                etag = fetch(port, agency_path, {}).headers["etag"]
                scenarios_by_server[name] = [
                    Scenario("304", "304 revalidation (If-None-Match), 50 KB agency feed",
                             agency_path, {"If-None-Match": etag}, 304, False),
                    Scenario("200-50k", "200 of the 50 KB agency feed (identity)",
                             agency_path, {}, 200, False),
                    Scenario("gzip-2m", "200 gzip of the 2 MB whole feed",
                             "/calendar.ics", {"Accept-Encoding": "gzip"}, 200, True),
                ]
                for scenario in scenarios_by_server[name]:
                    check(port, scenario, feedset, name)
            for index in [i for _ in range(args.rounds) for i in range(3)]:
                for name, port in servers:
                    scenario = scenarios_by_server[name][index]
                    url = f"http://127.0.0.1:{port}{scenario.path}"
                    if wrk:
                        r = run_wrk(wrk, url, scenario.headers, args)
                    else:
                        r = run_python_load(url, scenario.headers, args)
                    results.setdefault((scenario.key, name), []).append(r)
                    print(f"  {scenario.key:8} {name:9} {r.rps:>10,.0f} req/s "
                          f"p50 {fmt_ms(r.latency.get('50%'))} ms "
                          f"p99 {fmt_ms(r.latency.get('99%'))} ms {r.errors}", flush=True)
        finally:
            for proc in procs:
                if proc.poll() is None:
                    if proc.stdin:
                        proc.stdin.close()
                    else:
                        proc.send_signal(signal.SIGQUIT)  # nginx: graceful stop
                    try:
                        proc.wait(10)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()

    print()
    if args.rounds > 1:
        print(f"medians of {args.rounds} rounds")
    header = (f"{'scenario':<52} {'server':<10} {'req/s':>9} {'p50 ms':>8} {'p75 ms':>8} "
              f"{'p90 ms':>8} {'p99 ms':>8} {'ratio':>7} {'target':>7}")
    print(header)
    print("-" * len(header))
    for index, key in enumerate(TARGETS):
        label = scenarios_by_server["reminderd"][index].label
        for name, _ in servers:
            r = median(results[(key, name)])
            ratio = target = ""
            if name == "reminderd" and ("gzip-2m", "nginx") in results:
                value = r.rps / median(results[(key, "nginx")]).rps
                met = "ok" if value >= TARGETS[key] else "BELOW"
                ratio, target = f"{value:.0%}", f">={TARGETS[key]:.0%} {met}"
            lat = r.latency
            print(f"{label if name == 'reminderd' else '':<52} {name:<10} {r.rps:>9,.0f} "
                  f"{fmt_ms(lat.get('50%')):>8} {fmt_ms(lat.get('75%')):>8} "
                  f"{fmt_ms(lat.get('90%')):>8} {fmt_ms(lat.get('99%')):>8} {ratio:>7} "
                  f"{target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
