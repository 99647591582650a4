"""The Monday mix's actions one by one, in process: CPU and statements a request (issue 12).

    MONDAY_DATABASE_URL=postgres://postgres@127.0.0.1:5432/h14a_cpu python bench/monday_cpu.py
    python bench/monday_cpu.py --requests 300 --only facility_inbox --profile 40

Each action of `bench/monday.json` (the same requests `bench/monday.py` sends) is called through
the WSGI application as gunicorn calls it (an environ, start_response, the body read and
closed), with `DEBUG` off and the server's settings, by people signed in with a password and a
second factor. For each action it prints the app's CPU a request (this process's
`process_time`), the PostgreSQL backend's CPU a request (`/proc/<backend pid>/stat` of the
connection's server process, 10 ms ticks: read it over a few hundred requests), statements a
request and the response codes. `--profile N` prints cProfile's N most expensive functions of
each action (own time and cumulative). One request at a time: no queueing, no other client; the
host's load still slows everything, so compare trees in one run (bench/before_after.sh with
`--root .`).

The database is created and seeded as monday.py seeds it when it does not exist (`--reseed`
drops it first); runs add applications, cases and consultations to it, which the next run reads.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/renkei_monday_cpu"
ACTIONS = (
    "public_search",
    "public_apply",
    "msw_search",
    "msw_send",
    "facility_inbox",
    "facility_vacancy",
    "desk_consult",
)


def world_file(url: str) -> Path:
    return ROOT / "var" / f"monday_cpu_{urlsplit(url).path.lstrip('/')}.json"


def ensure_seeded(url: str, reseed: bool) -> dict[str, Any]:
    """Seed in a child process with DEBUG on (migrations, fixtures), as monday.py does."""
    here = Path(__file__).resolve().parent
    wf = world_file(url)
    if reseed or not wf.exists():
        code = (
            f"import json, sys; sys.path.insert(0, {str(here)!r}); import monday;"
            f" sc = json.load(open({str(here / 'monday.json')!r}));"
            f" monday.recreate_database({url!r});"
            f" json.dump(monday.seed(sc), open({str(wf)!r}, 'w'))"
        )
        env = {**os.environ, "DATABASE_URL": url, "DEBUG": "True"}
        env["DJANGO_SETTINGS_MODULE"] = "renkei.settings"
        env["PYTHONPATH"] = str(ROOT)
        wf.parent.mkdir(exist_ok=True)
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
    world: dict[str, Any] = json.loads(wf.read_text())
    return world


class Browser:
    """Cookies and requests through the WSGI application, as gunicorn calls it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.cookies: dict[str, str] = {}

    def call(
        self, method: str, path: str, body: Any = None, form: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        url = urlsplit(path)
        if form is not None:
            data = urlencode(form).encode()
            ctype = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body).encode() if body is not None else b""
            ctype = "application/json" if body is not None else ""
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": url.path,
            "QUERY_STRING": url.query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8110",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "REMOTE_PORT": "40000",
            "HTTP_HOST": "127.0.0.1:8110",
            "HTTP_ACCEPT": "application/json",
            "HTTP_CONNECTION": "keep-alive",
            "HTTP_X_CSRFTOKEN": self.cookies.get("csrftoken", ""),
            "CONTENT_LENGTH": str(len(data)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(data),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.file_wrapper": None,
        }
        if ctype:
            environ["CONTENT_TYPE"] = ctype
        if self.cookies:
            environ["HTTP_COOKIE"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        status: list[int] = []

        def start_response(s: str, headers: Any, exc_info: Any = None) -> Any:
            status.append(int(s.split()[0]))
            for k, v in headers:
                if k.lower() == "set-cookie":
                    name, _, rest = v.strip().partition("=")
                    self.cookies[name] = rest.split(";", 1)[0]
            return lambda b: None

        result = self.app(environ, start_response)
        try:
            payload = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close:
                close()
        return status[0], payload

    def sign_in(self, username: str, password: str) -> None:
        from renkei.testing import totp_code

        code, _ = self.call("GET", "/accounts/login/")
        if "csrftoken" not in self.cookies:
            raise SystemExit(f"the sign-in page: {code}, cookies {sorted(self.cookies)}")
        for path, data in (
            ("/accounts/login/", {"username": username, "password": password}),
            ("/accounts/2fa/verify/", {"token": totp_code()}),
        ):
            code, _ = self.call(
                "POST", path, form={**data, "csrfmiddlewaretoken": self.cookies["csrftoken"]}
            )
            if code != 302:
                raise SystemExit(f"{path} of {username}: {code}")


def backend_cpu_ticks(pid: int) -> int:
    # utime + stime of the PostgreSQL server process (fields 14 and 15 of /proc/pid/stat).
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--requests", type=int, default=200, help="measured requests an action")
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--only", help="comma-separated actions")
    ap.add_argument("--profile", type=int, default=0, help="print the N top functions an action")
    ap.add_argument(
        "--statements", action="store_true", help="print one request's SQL an action (shortened)"
    )
    ap.add_argument("--reseed", action="store_true")
    ap.add_argument("--root", help="the tree whose code runs (bench/before_after.sh: `.`)")
    args = ap.parse_args()
    root = Path(args.root).resolve() if args.root else ROOT
    sys.path.insert(0, str(root))
    url = os.getenv("MONDAY_DATABASE_URL", DEFAULT_URL)
    world = ensure_seeded(url, args.reseed)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import monday  # the scenario's requests and the servers' settings

    # monday.py puts its own tree first on sys.path when imported: put the measured tree back
    # in front, or bench/before_after.sh's "before" runs this tree's code too (both sides of
    # session 11's before/after did; their statement counts were equal).
    sys.path.insert(0, str(root))

    os.chdir(root)
    os.environ.update(monday.env_for(url, 1))
    os.environ["JOBS_BACKEND"] = "procrastinate"
    # One backend for the whole run, so that its CPU can be read (the servers' 60 s would
    # reconnect part-way through an action).
    os.environ["DB_CONN_MAX_AGE"] = "3600"
    os.environ["DJANGO_SETTINGS_MODULE"] = "renkei.settings"
    # DEBUG off serves assets by their manifest, as monday.py's servers do.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=root,
        env=os.environ,
        check=True,
    )
    import django

    django.setup()
    from django.db import connection

    from renkei.wsgi import application

    print(f"load average before: {os.getloadavg()}; code: {root}")
    people = world["people"]
    msws = [Browser(application) for _ in range(4)]
    facilities = [Browser(application) for _ in range(8)]
    desks = [Browser(application) for _ in range(2)]
    for b, name in zip(msws, people["msw"], strict=False):
        b.sign_in(name, monday.PASSWORD)
    for b, (name, _) in zip(facilities, people["facilities"], strict=False):
        b.sign_in(name, monday.PASSWORD)
    for b, name in zip(desks, people["desk"], strict=False):
        b.sign_in(name, monday.PASSWORD)
    public = Browser(application)
    fcodes = [code for _, code in people["facilities"]]
    n = iter(range(10**9))
    stamp = int(time.time())

    def one(action: str, i: int) -> list[int]:
        if action == "public_search":
            q = monday.QUERIES[i % len(monday.QUERIES)]
            return [public.call("GET", f"/api/v1/directory/facilities?q={quote(q)}")[0]]
        if action == "public_apply":
            k = f"{stamp}-{next(n)}"
            body = {
                "office_name": "さくら訪問看護ステーション",
                "contact_name": "連絡 担当",
                "contact_email": f"apply{k}@example.jp",
                "contact_phone": "046-000-0001",
                "applicants": [
                    {
                        "name": "山田 花子",
                        "kana": "ヤマダ ハナコ",
                        "email": f"applicant{k}@example.jp",
                        "occupation": "nurse",
                    }
                ],
                "question_to": None,
                "question": "",
                "agree": True,
            }
            path = f"/api/v1/events/{world['event']}/applications"
            return [public.call("POST", path, body)[0]]
        if action == "msw_search":
            path = "/api/v1/directory/facilities?capability=suction&vacancy=true"
            return [msws[i % len(msws)].call("GET", path)[0]]
        if action == "msw_send":
            who = msws[i % len(msws)]
            status, payload = who.call("POST", "/api/v1/referrals/cases", monday.CASE)
            if status != 201:
                return [status]
            deadline = time.strftime(
                "%Y-%m-%dT%H:%M:%S+09:00", time.localtime(time.time() + 172800)
            )
            picked = [fcodes[(i + j * 7) % len(fcodes)] for j in range(3)]
            body = {"facilities": picked, "deadline": deadline}
            code = json.loads(payload)["code"]
            path = f"/api/v1/referrals/cases/{code}/requests"
            return [status, who.call("POST", path, body)[0]]
        if action == "facility_inbox":
            return [facilities[i % len(facilities)].call("GET", "/api/v1/referrals/requests")[0]]
        if action == "facility_vacancy":
            k = i % len(facilities)
            status_ = ("available", "few", "none")[i % 3]
            body = {"status": status_, "count": 1 + i % 5 if status_ != "none" else None}
            path = f"/api/v1/directory/facilities/{people['facilities'][k][1]}/vacancy"
            return [facilities[k].call("PUT", path, body)[0]]
        if action == "desk_consult":
            body = {
                "received_at": time.strftime("%Y-%m-%dT%H:%M:%S+09:00"),
                "channel": "phone",
                "asker_type": "family",
                "topics": [world["topic"]],
                "scene": "daily",
                "summary": "訪問看護を利用したいが、どこに相談すればよいか。",
            }
            path = f"/api/v1/desk/desks/{world['desk']}/consultations"
            return [desks[i % len(desks)].call("POST", path, body)[0]]
        raise ValueError(action)

    statements = [0]
    seen: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements[0] += 1
        seen.append(sql)
        return execute(sql, params, many, context)

    only = args.only.split(",") if args.only else list(ACTIONS)
    print(
        f"{'action':18} {'app CPU ms':>10} {'PG CPU ms':>10} {'statements':>10} "
        f"{'wall ms':>8}  codes"
    )
    for action in only:
        for i in range(args.warmup):
            one(action, i)
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            pid = cur.fetchone()[0]
        codes: Counter[int] = Counter()
        statements[0] = 0
        prof = cProfile.Profile(time.process_time) if args.profile else None
        ticks = backend_cpu_ticks(pid)
        cpu, wall = time.process_time(), time.perf_counter()
        with connection.execute_wrapper(count):
            if prof:
                prof.enable()
            for i in range(args.requests):
                codes.update(one(action, i))
            if prof:
                prof.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            same = cur.fetchone()[0] == pid
        pg_ms = (backend_cpu_ticks(pid) - ticks) * 1000 / os.sysconf("SC_CLK_TCK") if same else 0
        r = args.requests
        print(
            f"{action:18} {cpu / r * 1000:10.2f} "
            f"{(f'{pg_ms / r:.2f}' if same else 'n/a'):>10} {statements[0] / r:10.1f} "
            f"{wall / r * 1000:8.2f}  {dict(codes)}",
            flush=True,
        )
        if args.statements:
            seen.clear()
            with connection.execute_wrapper(count):
                one(action, args.requests)
            for sql in seen:
                print(f"    {sql[:300]}")
        if prof:
            for key in ("tottime", "cumulative"):
                out = io.StringIO()
                pstats.Stats(prof, stream=out).sort_stats(key).print_stats(args.profile)
                print(out.getvalue())
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
