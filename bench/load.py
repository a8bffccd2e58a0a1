"""Requests per second through a real server: gunicorn with production settings (DEBUG off,
Redis cache, PostgreSQL), loaded by wrk in its own process.

    apt-get install wrk
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/undersigned_load \\
        .venv/bin/python bench/load.py [--slug SLUG] [--duration 30] [--connections 32]

Three phases, one after the other, each after a short unmeasured warm-up:

- ``hello``: ``/bench/hello`` (routed only with ``DJANGO_BENCH_HELLO=1``), every middleware
  and no database: the floor the pages are compared with;
- ``letter``: the letter's page, ``GET /letters/<slug>/``;
- ``sign``: the sign form sent back, ``POST /letters/<slug>/sign/``, each with a new email
  address, the anti-forgery cookie and token and a form stamp from a real ``GET`` of the
  form more than ``SIGN_FORM_MIN_SECONDS`` earlier. The per-IP limits hold all but the
  first few for a moderator; the answer is still the 302 to "check your email".

An error is an unexpected status (hello and letter: not 200; sign: not 302, so a form
shown again with errors counts), a socket error or a timeout. The server and wrk share
the machine: on a small one the load generator takes a good part of the CPU.

No assertion: figures to read, not a test. ``run_load`` is for other scripts.
"""
# It runs programs it names itself (gunicorn, wrk, py-spy) against its own local server.
# ruff: noqa: S310, S603

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from http.cookies import SimpleCookie
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEMO_SLUG = "survivors-child-safety-risk-assessment-2023"
# A Redis database of its own: the sign phase fills the per-IP rate-limit counters.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/3"
FORM_MIN_SECONDS = 3  # SIGN_FORM_MIN_SECONDS's default; the server runs with it
FORM_STAMP_SALT = "signatories.sign-form-stamp"  # signatories.abuse.FORM_STAMP_SALT
# Stamps made for the sign phase: more than it sends at 200 a second for 70 s.
STAMPS = 15_000
WRK_TIMEOUT = "10s"

# Globals set by wrk: `id` (setup), `ok`/`unexpected` (init). Without LOAD_BODY the request
# is static (wrk's fast path); with it each request gets its own address from the thread id
# and a counter, so every POST is a new signer.
WRK_SCRIPT = r"""
local expected = tonumber(os.getenv("LOAD_EXPECT"))
local body = os.getenv("LOAD_BODY")
local cookie = os.getenv("LOAD_COOKIE")
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  ok, unexpected, counter = 0, 0, 0
  stamps, nthreads = {}, tonumber(os.getenv("LOAD_THREADS") or "1")
  if os.getenv("LOAD_STAMPS") then
    for line in io.lines(os.getenv("LOAD_STAMPS")) do table.insert(stamps, line) end
  end
  if body then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
    wrk.headers["Cookie"] = cookie
  end
end

if body then
  function request()
    counter = counter + 1
    local b = body:gsub("__T__", tostring(id)):gsub("__N__", tostring(counter))
    if #stamps > 0 then
      -- Each request its own form stamp, as each signer's own GET of the form gives.
      b = b:gsub("__S__", stamps[((counter - 1) * nthreads + id - 1) % #stamps + 1])
    end
    return wrk.format(nil, nil, nil, b)
  end
end

function response(status, headers, resp_body)
  if status == expected then ok = ok + 1 else unexpected = unexpected + 1 end
end

function done(summary, latency, requests)
  local good, bad = 0, 0
  for _, t in ipairs(threads) do
    good = good + t:get("ok")
    bad = bad + t:get("unexpected")
  end
  local e = summary.errors
  io.write(string.format(
    'LOAD_RESULT {"requests": %d, "duration_us": %d, "ok": %d, "unexpected": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "timeout": %d, ' ..
    '"p50_ms": %.1f, "p99_ms": %.1f}\n',
    summary.requests, summary.duration, good, bad,
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


class LoadError(Exception):
    """The run cannot start or was spoiled; the message says why."""


def default_workers() -> int:
    """As ``make serve``: two per core plus one."""
    return 2 * (os.cpu_count() or 1) + 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(*, database_url: str, redis_url: str, port: int) -> dict:
    """Production settings, except that there is no TLS here."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_ENV_FILE=os.devnull,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SITE_URL=f"http://127.0.0.1:{port}",
        DJANGO_SSL_REDIRECT="0",
        DJANGO_BENCH_HELLO="1",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
    )
    return env


def manage(*args: str, env: dict) -> None:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise LoadError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-2000:]}")


def start_server(*, env: dict, port: int, workers: int, logs: Path) -> subprocess.Popen:
    """gunicorn with ``make serve``'s options; logs in files (the access log's cost is real)."""
    command = [
        str(Path(PYTHON).with_name("gunicorn")),
        "config.wsgi",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        "--timeout=30",
        "--graceful-timeout=30",
        "--keep-alive=5",
        "--max-requests=10000",
        "--max-requests-jitter=1000",
        f"--access-logfile={logs / 'access.log'}",
        f"--error-logfile={logs / 'error.log'}",
        "--no-control-socket",
    ]
    return subprocess.Popen(command, cwd=BASE_DIR, env=env)


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)  # gunicorn's graceful stop, workers included
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def wait_until_healthy(base: str, server: subprocess.Popen, logs: Path, timeout=60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise LoadError(f"gunicorn exited:\n{tail(logs / 'error.log')}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise LoadError(
        f"/healthz did not answer 200 within {timeout:.0f} s:\n{tail(logs / 'error.log')}"
    )


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text().splitlines()[-lines:])
    except OSError:
        return ""


def proc_stat(path: Path) -> list[str]:
    """/proc/<pid>/stat's fields after the command name: [1] ppid, [11] utime,
    [12] stime, [13] cutime, [14] cstime (clock ticks)."""
    return path.read_text().rsplit(")", 1)[1].split()


def worker_pids(master: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(proc_stat(stat)[1]) == master:
                pids.append(int(stat.parent.name))
        except (OSError, IndexError):
            continue
    return sorted(pids)


def server_cpu_seconds(master: int) -> float | None:
    """CPU time used so far by gunicorn: the master, its live workers, and the workers it
    has replaced (reaped children's time). Linux only; None elsewhere. Unlike requests per
    second, CPU per request holds still when other work shares the machine."""
    try:
        fields = proc_stat(Path(f"/proc/{master}/stat"))
        ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))
        for pid in worker_pids(master):
            worker = proc_stat(Path(f"/proc/{pid}/stat"))
            ticks += int(worker[11]) + int(worker[12])
    except (OSError, IndexError, ValueError):
        return None
    return ticks / os.sysconf("SC_CLK_TCK")


def sign_form(base: str, slug: str) -> tuple[str, dict]:
    """The anti-forgery cookie and the form's hidden fields, from a real GET of the form
    (its second step, signing as yourself: the first only asks how you sign)."""
    url = f"{base}/letters/{slug}/sign/?as=individual"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            html = response.read().decode()
            cookies = SimpleCookie()
            for header in response.headers.get_all("Set-Cookie") or []:
                cookies.load(header)
    except urllib.error.HTTPError as error:
        raise LoadError(
            f"GET {url} answered {error.code}: the letter must be published, open and "
            "accept public signatures (the demo letter does: manage.py load_demo)."
        ) from error
    fields = {}
    for name in ("csrfmiddlewaretoken", "stamp"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
        value = tag and re.search(r'value="([^"]*)"', tag.group(0))
        if not value:
            raise LoadError(f"The sign form at {url} has no {name} field.")
        fields[name] = value.group(1)
    if "csrftoken" not in cookies:
        raise LoadError(f"GET {url} set no csrftoken cookie.")
    return f"csrftoken={cookies['csrftoken'].value}", fields


def form_stamps(secret_key: str, count: int) -> list[str]:
    """``count`` sign-form stamps as the server makes them (``signatories.abuse.form_stamp``:
    the time the form was shown and a nonce, signed with its key), shown long enough ago
    that none is held as too fast. Stamps are single-use: each signer gets its own, as
    each signer's own GET of the form would give, without the GETs in the measurement."""
    from django.core.signing import TimestampSigner

    signer = TimestampSigner(key=secret_key, salt=FORM_STAMP_SALT, fallback_keys=[])
    shown = int(time.time()) - FORM_MIN_SECONDS - 1
    return [signer.sign_object([shown, secrets.token_urlsafe(12)]) for _ in range(count)]


def sign_body(fields: dict, nonce: str) -> str:
    """The form, urlencoded, with __T__ (wrk thread), __N__ (counter) and __S__ (a form
    stamp of its own) to fill in."""
    body = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": fields["csrfmiddlewaretoken"],
            "stamp": "__S__",
            "kind": "individual",
            "name": "Load Tester __T__ __N__",
            "email": f"load-{nonce}-__T__-__N__@example.org",
            "country": "GB",
            "category": "advocate",
            "display": "full",
            "statement": "",
            "consent": "on",
            "homepage": "",
        }
    )
    return body


def wrk(
    url: str, *, duration: float, connections: int, expect: int, script: Path, extra: dict
) -> dict:
    threads = max(1, min(connections, os.cpu_count() or 1))
    result = subprocess.run(
        [
            shutil.which("wrk") or "wrk",
            f"--threads={threads}",
            f"--connections={connections}",
            f"--duration={max(1, round(duration))}s",
            f"--timeout={WRK_TIMEOUT}",
            f"--script={script}",
            url,
        ],
        env={**os.environ, "LOAD_EXPECT": str(expect), "LOAD_THREADS": str(threads), **extra},
        capture_output=True,
        text=True,
    )
    match = re.search(r"^LOAD_RESULT (.*)$", result.stdout, re.MULTILINE)
    if result.returncode != 0 or not match:
        raise LoadError(f"wrk failed:\n{result.stdout}\n{result.stderr}")
    figures = json.loads(match.group(1))
    seconds = figures["duration_us"] / 1e6
    figures["rps"] = figures["requests"] / seconds if seconds else 0.0
    figures["errors"] = sum(
        figures[k] for k in ("unexpected", "connect", "read", "write", "timeout")
    )
    return figures


def profile_workers(pids: list[int], duration: float, out: Path) -> list[subprocess.Popen]:
    """py-spy on two workers (``--profile``), folded stacks, one per line: ``out`` samples
    the first all the time it is busy (time spent, waits on PostgreSQL and Redis included),
    ``out.gil`` the second only while it holds the GIL (its Python CPU time)."""
    py_spy = shutil.which("py-spy") or str(Path(PYTHON).with_name("py-spy"))
    runs = [(pids[0], out, [])]
    if len(pids) > 1:
        runs.append((pids[1], out.with_name(out.name + ".gil"), ["--gil"]))
    return [
        subprocess.Popen(
            [
                py_spy,
                "record",
                f"--pid={pid}",
                f"--duration={max(1, round(duration))}",
                "--rate=250",
                "--format=raw",
                f"--output={path}",
                "--nonblocking",
                *flags,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for pid, path, flags in runs
    ]


PROJECT_PACKAGES = ("config", "letters", "signatories")


def frame_package(frame: str) -> str:
    """``psycopg``, ``redis``, ``django/db``, ``signatories``… for a py-spy frame
    ``name (path/file.py:line)``: Django by subpackage, the rest by top-level package."""
    path = frame.rpartition("(")[2].split(":")[0]
    parts = path.split("/")
    return "/".join(parts[:2]) if parts[0] == "django" and len(parts) > 2 else parts[0]


def summarise_profile(folded: Path, top: int = 15) -> str:
    """Share of the samples in which each package, and each line of the project's own
    code, is on the stack (inclusive: a query's wait counts for psycopg, for the ORM and for
    the view that asked)."""
    packages, lines, total = Counter(), Counter(), 0
    for line in folded.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        total += int(count)
        frames = stack.split(";")
        for package in {frame_package(f) for f in frames}:
            packages[package] += int(count)
        for frame in set(frames):
            if frame_package(frame) in PROJECT_PACKAGES:
                lines[frame] += int(count)
    if not total:
        return "no samples"

    def rows(counter: Counter) -> str:
        return "\n".join(f"  {100 * n / total:5.1f}%  {k}" for k, n in counter.most_common(top))

    return f"{total} samples. By package:\n{rows(packages)}\nProject code:\n{rows(lines)}"


def new_sign_run(fields: dict, *, secret_key: str, stamps: Path) -> str:
    """The sign phase's body for a new run of addresses, and a new file of form stamps
    for it: every POST is a new signer."""
    body = sign_body(fields, nonce=secrets.token_hex(4))
    made = form_stamps(secret_key, STAMPS)
    stamps.write_text("\n".join(made) + "\n")
    return body


def measure_run(
    url: str,
    *,
    server: subprocess.Popen,
    seconds: float,
    connections: int,
    expect: int,
    script: Path,
    extra: dict,
    profile: Path | None,
) -> dict:
    """One wrk run against the server (a phase or its warm-up): wrk's figures, the
    server's CPU per request, the machine's load average before it and when it ended.
    ``profile``: py-spy two workers all the while (``profile_workers``)."""
    spies, load_before = [], os.getloadavg()[0]
    if profile:
        spies = profile_workers(worker_pids(server.pid), seconds, profile)
    cpu_before = server_cpu_seconds(server.pid)
    figures = wrk(
        url,
        duration=seconds,
        connections=connections,
        expect=expect,
        script=script,
        extra=extra,
    )
    cpu_after = server_cpu_seconds(server.pid)
    for spy in spies:
        if spy.wait(timeout=60) != 0:
            raise LoadError(f"py-spy failed: {spy.stderr.read()}")
    cpu_ms = None
    if cpu_before is not None and cpu_after is not None:
        cpu_ms = 1000 * (cpu_after - cpu_before) / max(1, figures["requests"])
    # The machine's load average before the run: other work on it skews requests per
    # second (not CPU per request).
    figures.update(
        cpu_ms_per_request=cpu_ms,
        load_before=round(load_before, 2),
        ended=time.time(),
    )
    return figures


def measure_phases(
    *,
    server: subprocess.Popen,
    base: str,
    letter_slug: str,
    secret_key: str,
    tmpdir: Path,
    duration: float,
    sign_duration: float | None,
    warmup: float,
    connections: int,
    profile: Path | None,
    profile_phase: str,
) -> tuple[dict, int]:
    """hello, letter and sign in turn, each after its warm-up, on a healthy server; its
    files (wrk's script, the form stamps) in ``tmpdir``. Returns the figures of each
    phase and the sign POSTs answered with the redirect, warm-up included."""
    script = tmpdir / "load.lua"
    script.write_text(WRK_SCRIPT)
    cookie, fields = sign_form(base, letter_slug)
    form_shown = time.monotonic()
    stamps = tmpdir / "stamps.txt"
    sign_extra = {"LOAD_COOKIE": cookie, "LOAD_STAMPS": str(stamps)}
    phases = {
        "hello": (f"{base}/bench/hello", 200, {}),
        "letter": (f"{base}/letters/{letter_slug}/", 200, {}),
        "sign": (f"{base}/letters/{letter_slug}/sign/", 302, sign_extra),
    }
    details = {}
    sign_posts_answered = 0
    for name, (url, expect, extra) in phases.items():
        if name == "sign":
            # The stamp must be older than the form's minimum time, or every
            # signature is held for filling the form in too fast.
            time.sleep(max(0.0, form_shown + FORM_MIN_SECONDS + 1 - time.monotonic()))
        phase_seconds = sign_duration if name == "sign" and sign_duration else duration
        for measured, seconds in ((False, warmup), (True, phase_seconds)):
            if not seconds:
                continue
            if extra:
                extra["LOAD_BODY"] = new_sign_run(fields, secret_key=secret_key, stamps=stamps)
            figures = measure_run(
                url,
                server=server,
                seconds=seconds,
                connections=connections,
                expect=expect,
                script=script,
                extra=extra,
                profile=profile if measured and name == profile_phase else None,
            )
            if name == "sign":
                sign_posts_answered += figures["ok"]
            if measured:
                details[name] = figures
    return details, sign_posts_answered


def run_load(
    *,
    database_url: str,
    letter_slug: str,
    duration: float,
    connections: int,
    workers: int | None = None,
    redis_url: str | None = None,
    warmup: float | None = None,
    profile: Path | None = None,
    profile_phase: str = "sign",
    sign_duration: float | None = None,
) -> dict:
    """Measure hello, letter page and sign-form requests per second on a real server.

    Returns ``hello_rps``, ``letter_rps``, ``sign_rps``, ``letter_vs_hello``,
    ``sign_vs_hello`` and ``load_errors`` (all phases), and ``details`` per phase.
    ``sign_duration`` (default ``duration``) is the sign phase's own length: the issue's
    "sustained for 60 s". ``sign_posts_answered`` counts every sign POST answered with
    the redirect, warm-up included, for a caller to check against the rows recorded.
    """
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise LoadError(
            "DATABASE_URL must be PostgreSQL (postgres://…): a load test on SQLite measures "
            "its file locks, not the app."
        )
    if not shutil.which("wrk"):
        raise LoadError("wrk is not on PATH: apt-get install wrk (or brew install wrk).")
    workers = workers or default_workers()
    redis_url = redis_url or os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    warmup = min(2.0, duration / 5) if warmup is None else warmup
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = server_env(database_url=database_url, redis_url=redis_url, port=port)
    manage("migrate", "--noinput", env=env)
    manage("collectstatic", "--noinput", "-v0", env=env)

    with tempfile.TemporaryDirectory(prefix="undersigned-load-") as tmp:
        tmpdir = Path(tmp)
        server = start_server(env=env, port=port, workers=workers, logs=tmpdir)
        try:
            wait_until_healthy(base, server, tmpdir)
            details, sign_posts_answered = measure_phases(
                server=server,
                base=base,
                letter_slug=letter_slug,
                secret_key=env["DJANGO_SECRET_KEY"],
                tmpdir=tmpdir,
                duration=duration,
                sign_duration=sign_duration,
                warmup=warmup,
                connections=connections,
                profile=profile,
                profile_phase=profile_phase,
            )
            if server.poll() is not None:
                raise LoadError(f"gunicorn died during the run:\n{tail(tmpdir / 'error.log')}")
            server_errors = (tmpdir / "error.log").read_text().count("Traceback")
        finally:
            stop_server(server)

    hello, letter, sign = (details[k]["rps"] for k in ("hello", "letter", "sign"))
    return {
        "hello_rps": hello,
        "letter_rps": letter,
        "sign_rps": sign,
        "letter_vs_hello": letter / hello if hello else 0.0,
        "sign_vs_hello": sign / hello if hello else 0.0,
        "load_errors": sum(d["errors"] for d in details.values()),
        "sign_posts_answered": sign_posts_answered,
        "details": {
            "phases": details,
            "duration": duration,
            "connections": connections,
            "workers": workers,
            "server_tracebacks": server_errors,
        },
    }


def print_table(result: dict) -> None:
    d = result["details"]
    print(
        f"gunicorn {d['workers']} sync workers, wrk {d['connections']} connections, "
        f"{d['duration']:g} s per phase\n"
    )
    print(
        f"{'phase':<8}{'rps':>9}{'requests':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
        f"{'app CPU ms/req':>16}{'load avg':>10}"
    )
    for name, p in d["phases"].items():
        cpu = "n/a" if p["cpu_ms_per_request"] is None else f"{p['cpu_ms_per_request']:.2f}"
        print(
            f"{name:<8}{p['rps']:>9.1f}{p['requests']:>10}{p['p50_ms']:>9.1f}"
            f"{p['p99_ms']:>9.1f}{p['errors']:>8}{cpu:>16}{p['load_before']:>10.2f}"
        )
    print(
        f"\nletter/hello {result['letter_vs_hello']:.3f} (target >= 0.5)   "
        f"sign/hello {result['sign_vs_hello']:.3f} (target >= 0.1)   "
        f"errors {result['load_errors']}   server tracebacks {d['server_tracebacks']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slug", default=DEMO_SLUG, help="an open letter taking signatures")
    parser.add_argument("--duration", type=float, default=30, help="seconds per phase")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=None, help="default: 2 x cores + 1")
    parser.add_argument(
        "--profile", type=Path, help="py-spy two workers during one phase; folded stacks"
    )
    parser.add_argument(
        "--profile-phase", choices=["hello", "letter", "sign"], default="sign", help="(sign)"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url:
        sys.exit("Set DATABASE_URL to a PostgreSQL database (postgres://…), migrated or not.")
    try:
        result = run_load(
            database_url=database_url,
            letter_slug=args.slug,
            duration=args.duration,
            connections=args.connections,
            workers=args.workers,
            profile=args.profile,
            profile_phase=args.profile_phase,
        )
    except LoadError as error:
        sys.exit(str(error))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)
    if args.profile:
        for path, what in ((args.profile, "time"), (Path(f"{args.profile}.gil"), "Python CPU")):
            if path.exists():
                print(f"\n{args.profile_phase} phase, one worker's {what} ({path}):")
                print(summarise_profile(path))


if __name__ == "__main__":
    main()
