#!/usr/bin/env python3
"""candex benchmarks, side by side: one run, same machine, ratios of medians.

Scenarios (each can be chosen with --only):
  profile      the seed candidateProfile query: candex vs an Apollo Server peer vs a bare
               hyper server returning candex's own bytes (the static bound)
  attachments  16 KiB / 256 KiB / 4 MiB downloads with a partner token vs nginx
  exporter     candex export sync over N profiles with attachments: profiles/s, MiB/s, peak RSS
  scaling      lookups at 1k and a large size on SQLite and PostgreSQL: p50 ratio, bytes/profile,
               ingest rate

Servers run on CPU 1 and the load generator on CPU 0 (taskset). Every peer must return the
same response before anything is timed. Rounds are interleaved (rotated order) after a
warm-up; the report gives the median per peer, the min-max spread and ratios of medians.
Standard library only; the tools (wrk, oha, nginx, node) are installed by run.sh.
"""

import argparse
import datetime
import json
import os
import platform
import random
import resource
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
# The Cargo profile run.sh built: release (what ships), or profiling (release with symbols and
# line tables, for perf) with CANDEX_BENCH_PROFILE=profiling.
PROFILE_DIR = os.path.join(os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target"),
                           os.environ.get("CANDEX_BENCH_PROFILE", "release"))
CANDEX = os.path.join(PROFILE_DIR, "candex")
STATIC_PEER = os.path.join(PROFILE_DIR, "candex-bench-static-peer")
APOLLO = os.path.join(BENCH, "peers", "apollo", "server.js")
SEED_QUERY = open(os.path.join(ROOT, "crates", "candex-server", "src", "graphql", "seed_query.graphql")).read()
SERVER_CPU = "1"
LOAD_CPU = "0"
CLK_TCK = os.sysconf("SC_CLK_TCK")
WORK = None  # set by main(): where databases, files and logs of a run go


def log(msg):
    print(f"[{datetime.datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)


# ---------------------------------------------------------------- processes

class Proc:
    """A server process pinned to a CPU; waits for a readiness line on stdout or stderr."""

    def __init__(self, name, cmd, ready, cpu=SERVER_CPU, env=None, cwd=None, timeout=120):
        self.name = name
        full = ["taskset", "-c", cpu] + cmd if cpu is not None else cmd
        self.log_path = os.path.join(WORK, f"{name}.log")
        self.log = open(self.log_path, "w")
        merged = dict(os.environ)
        merged.update(env or {})
        self.p = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=merged, cwd=cwd,
                                  text=True, start_new_session=True)
        self.lines = []
        self.ready = threading.Event()
        self.match = None
        pattern = re.compile(ready or "$^")

        def pump():
            for line in self.p.stdout:
                self.log.write(line)
                self.log.flush()
                if not self.ready.is_set():
                    m = pattern.search(line)
                    if m:
                        self.match = m
                        self.ready.set()
        threading.Thread(target=pump, daemon=True).start()
        if ready is None:
            return
        if not self.ready.wait(timeout):
            self.stop()
            raise SystemExit(f"{name} did not start; see {self.log_path}")

    def cpu_seconds(self):
        """CPU time of the process and its children that are still running (nginx's worker)."""
        total = 0.0
        pending = [self.p.pid]
        while pending:
            pid = pending.pop()
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / CLK_TCK
                for task in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{task}/children") as f:
                        pending.extend(int(c) for c in f.read().split())
            except (OSError, ValueError):
                continue
        return total

    def rss_mib(self):
        with open(f"/proc/{self.p.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def stop(self):
        if self.p.poll() is None:
            os.killpg(self.p.pid, signal.SIGTERM)
            try:
                self.p.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait()


def wait_http(url, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            status, _ = http("GET", url, timeout=2)
            if status < 500:
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.05)
    raise SystemExit(f"{url} did not answer within {timeout} s")


def run(cmd, **kw):
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if res.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])}… failed ({res.returncode}):\n{res.stderr[-2000:]}")
    return res.stdout


def http(method, url, body=None, headers=None, timeout=30):
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None and "Content-Type" not in (headers or {}):
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.status, res.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def token(base, client_id, secret):
    status, body = http("POST", f"{base}/oauth/token",
                        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
    assert status == 200, body
    return json.loads(body)["access_token"]


# A fixed master key (KEK) for every candex the harness starts, and for the Apollo peer, which
# opens candex's sealed signing key with it to verify candex's tokens.
MASTER_KEY = "YmVuY2htYXJrLW1hc3Rlci1rZXktMzItYnl0ZXMhISE="


def candex_serve(name, db, port, extra=()):
    # Rate limits off: the benchmarks measure the server, not its per-partner budget.
    return Proc(name, [CANDEX, "serve", "--database", db, "--listen", f"127.0.0.1:{port}",
                       "--token-lifetime", "86400", "--rate-partner", "0",
                       "--rate-anonymous-per-address", "0", *extra],
                r"candex is listening on http://",
                # A fixed master key (KEK): benchmarks need no secrecy, but candex refuses to
                # start without one outside --demo.
                env={"RUST_LOG": "warn,candex=info", "CANDEX_MASTER_KEY": MASTER_KEY})


# ---------------------------------------------------------------- load generators

def parse_duration_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)", text)
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(url, seconds, conns=32, script=None, headers=(), env=None):
    """Closed-loop saturation run on the load CPU; returns rps, latencies, errors, load CPU share."""
    cmd = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency"]
    for h in headers:
        cmd += ["-H", h]
    if script:
        cmd += ["-s", script]
    cmd.append(url)
    merged = dict(os.environ)
    merged.update(env or {})
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=merged)
    out, err = p.communicate()
    wall = time.time() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if p.returncode != 0:
        raise SystemExit(f"wrk failed: {err}")
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        result[f"p{pct}_ms"] = parse_duration_ms(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in", out)
    result["requests"] = int(m.group(1)) if m else 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["errors"] = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sock.groups())) if sock else 0)
    m = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
    if m:
        factor = {"B": 1 / 1048576, "KB": 1 / 1024, "MB": 1, "GB": 1024}.get(m.group(2), 1)
        result["mib_per_s"] = float(m.group(1)) * factor
    result["wall_s"] = wall
    # The run is only valid if the load generator was not the bottleneck.
    result["load_cpu_share"] = load_cpu / wall if wall else None
    return result


def oha(url, seconds, rate, conns=32, body=None, headers=()):
    """Open-loop run at a fixed offered rate with latency correction; None if oha is missing."""
    exe = shutil.which("oha") or os.path.join(BENCH, ".tools", "bin", "oha")
    if not os.path.exists(exe):
        return None
    cmd = ["taskset", "-c", LOAD_CPU, exe, "--no-tui", "--output-format", "json", "-z", f"{seconds}s",
           "-c", str(conns), "-q", str(rate), "--latency-correction",
           # Requests in flight when the duration ends are waited for: oha otherwise aborts them
           # and counts each as an error ("aborted due to deadline") against the server.
           "--wait-ongoing-requests-after-deadline"]
    for h in headers:
        cmd += ["-H", h]
    if body is not None:
        cmd += ["-m", "POST", "-d", body]
    cmd.append(url)
    out = run(cmd)
    data = json.loads(out)
    pct = data.get("latencyPercentiles", {})
    codes = data.get("statusCodeDistribution", {})
    errors = sum(v for k, v in codes.items() if not k.startswith("2")) + sum(data.get("errorDistribution", {}).values())
    return {"rate": rate, "rps": data["summary"]["requestsPerSec"], "p50_ms": pct.get("p50", 0) * 1000,
            "p99_ms": pct.get("p99", 0) * 1000, "errors": errors,
            "error_kinds": {**{f"HTTP {k}": v for k, v in codes.items() if not k.startswith("2")},
                            **data.get("errorDistribution", {})}}


# ---------------------------------------------------------------- statistics

def summarise(values):
    values = [v for v in values if v is not None]
    if not values:
        return {"median": None, "min": None, "max": None, "cv": None}
    med = statistics.median(values)
    cv = statistics.pstdev(values) / statistics.mean(values) if len(values) > 1 and statistics.mean(values) else 0.0
    return {"median": med, "min": min(values), "max": max(values), "cv": cv}


def ratio(a, b):
    return a / b if a and b else None


def canonical(body):
    return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))


def interleaved(peers, rounds, measure):
    """Runs measure(peer) for each peer in rotated order, `rounds` times; returns peer -> [results]."""
    results = {p: [] for p in peers}
    for r in range(rounds):
        order = peers[r % len(peers):] + peers[:r % len(peers)]
        for peer in order:
            results[peer].append(measure(peer))
    return results


# ---------------------------------------------------------------- scenario: profile

WRK_PROFILE_LUA = r'''
local ids = {}
for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
local query = os.getenv("BENCH_QUERY_JSON")
math.randomseed(tonumber(os.getenv("BENCH_SEED") or "1"))
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
request = function()
  local id = ids[math.random(#ids)]
  return wrk.format(nil, "/graphql", nil, '{"query":' .. query .. ',"variables":{"id":"' .. id .. '"}}')
end
'''


def scenario_profile(args, results):
    n = args.profiles
    db_path = os.path.join(WORK, f"profile-{n}.db")
    db = f"sqlite://{db_path}"
    if not os.path.exists(db_path):
        log(f"seeding {n} profiles")
        seeded = json.loads(run([CANDEX, "seed", "--database", db, "--profiles", str(n), "--seed", "7"]))
        with open(db_path + ".partner.json", "w") as f:
            json.dump(seeded["partner"], f)
    partner = json.load(open(db_path + ".partner.json"))
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    ids = [r[0] for r in conn.execute("SELECT profile_id FROM profiles ORDER BY seq")]
    conn.close()
    ids_path = os.path.join(WORK, "profile-ids.txt")
    with open(ids_path, "w") as f:
        f.write("\n".join(ids) + "\n")

    candex = candex_serve("candex-profile", db, 18600)
    tok = token("http://127.0.0.1:18600", partner["clientId"], partner["clientSecret"])
    auth = {"Authorization": f"Bearer {tok}"}
    gql = lambda base, pid: http("POST", f"{base}/graphql", {"query": SEED_QUERY, "variables": {"id": pid}}, auth)

    log("recording candex's responses for the static peer")
    responses_path = os.path.join(WORK, "static-responses.ndjson")
    sizes = []
    with open(responses_path, "w") as f:
        for pid in ids:
            status, body = gql("http://127.0.0.1:18600", pid)
            assert status == 200 and b'"errors"' not in body, body[:300]
            sizes.append(len(body))
            f.write(json.dumps({"id": pid, "body": json.loads(body)}, separators=(",", ":")) + "\n")
    static = Proc("static-peer", [STATIC_PEER, "127.0.0.1:18601", responses_path], r"static peer listening")
    apollo = Proc("apollo-peer", ["node", APOLLO], r"apollo peer listening",
                  env={"CANDEX_DB": db_path, "PORT": "18602", "NODE_ENV": "production",
                       "CANDEX_PUBLIC_URL": "http://127.0.0.1:18600", "CANDEX_MASTER_KEY": MASTER_KEY},
                  cwd=os.path.dirname(APOLLO))
    peers = {"candex": (candex, "http://127.0.0.1:18600"), "apollo": (apollo, "http://127.0.0.1:18602"),
             "static": (static, "http://127.0.0.1:18601")}
    try:
        log("correctness gate: 1,000 random ids, every peer the same answer")
        rng = random.Random(11)
        sample = [rng.choice(ids) for _ in range(1000)] + ["seekAnzPublicTest:candidateProfile:apply:nope"]
        diffs = 0
        for pid in sample:
            answers = {}
            for name, (_, base) in peers.items():
                status, body = gql(base, pid)
                answers[name] = (status, canonical(body))
            if len({a for a in answers.values()}) != 1:
                diffs += 1
                if diffs == 1:
                    log(f"DIFF for {pid}: " + json.dumps({k: v[1][:400] for k, v in answers.items()}))
        if diffs:
            raise SystemExit(f"correctness gate failed: {diffs} of {len(sample)} ids differ between peers")

        script = os.path.join(WORK, "profile.lua")
        with open(script, "w") as f:
            f.write(WRK_PROFILE_LUA)
        env = {"BENCH_IDS": ids_path, "BENCH_TOKEN": tok, "BENCH_QUERY_JSON": json.dumps(SEED_QUERY)}

        def measure(name, seconds=args.seconds):
            proc, base = peers[name]
            cpu0 = proc.cpu_seconds()
            r = wrk(f"{base}/graphql", seconds, conns=32, script=script, env=env)
            r["cpu_us_per_req"] = (proc.cpu_seconds() - cpu0) * 1e6 / r["requests"] if r["requests"] else None
            log(f"  {name}: {r['rps']:.0f} req/s, p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, "
                f"{r['cpu_us_per_req']:.0f} CPU-us/req, errors {r['errors']}, load CPU {r['load_cpu_share']:.0%}")
            return r

        log(f"warm-up ({args.warmup} s each)")
        for name in peers:
            measure(name, args.warmup)
        log(f"{args.rounds} interleaved rounds of {args.seconds} s")
        runs = interleaved(list(peers), args.rounds, measure)

        fixed = {}
        slowest = min(statistics.median(r["rps"] for r in runs[p]) for p in peers)
        body = json.dumps({"query": SEED_QUERY, "variables": {"id": ids[len(ids) // 2]}})
        for share in (0.25, 0.5, 0.75):
            rate = max(1, int(slowest * share))
            for name, (_, base) in peers.items():
                r = oha(f"{base}/graphql", args.fixed_seconds, rate, body=body,
                        headers=[f"Authorization: Bearer {tok}", "Content-Type: application/json"])
                if r is None:
                    break
                fixed.setdefault(name, []).append(r)
                log(f"  {name} at {rate} req/s offered: p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms")
        peak_rss = {name: proc.rss_mib() for name, (proc, _) in peers.items()}
    finally:
        for proc, _ in peers.values():
            proc.stop()

    table = {}
    for name in peers:
        rs = runs[name]
        table[name] = {
            "rps": summarise([r["rps"] for r in rs]),
            "p50_ms": summarise([r["p50_ms"] for r in rs]),
            "p99_ms": summarise([r["p99_ms"] for r in rs]),
            "cpu_us_per_req": summarise([r["cpu_us_per_req"] for r in rs]),
            "errors": sum(r["errors"] for r in rs),
            "max_load_cpu_share": max(r["load_cpu_share"] or 0 for r in rs),
            "peak_rss_mib": peak_rss[name],
            "fixed_load": fixed.get(name, []),
        }
    sizes.sort()
    results["profile"] = {
        "profiles": n,
        "response_bytes_p50": sizes[len(sizes) // 2],
        "response_bytes_p95": sizes[int(len(sizes) * 0.95)],
        "peers": table,
        "gate": {"ids": len(sample), "diffs": 0},
    }
    results["summary"]["profile_rps_vs_apollo"] = ratio(table["candex"]["rps"]["median"], table["apollo"]["rps"]["median"])
    results["summary"]["profile_rps_vs_static"] = ratio(table["candex"]["rps"]["median"], table["static"]["rps"]["median"])


# ---------------------------------------------------------------- scenario: attachments

OPERATOR_KEY = "bench-operator-key"
SIZES = {"16k": 16 * 1024, "256k": 256 * 1024, "4m": 4 * 1024 * 1024}


def operator(base, path, body):
    status, out = http("POST" if not path.startswith("PUT ") else "PUT", f"{base}/operator/v1{path.removeprefix('PUT ')}",
                       body, {"Authorization": f"Bearer {OPERATOR_KEY}", "Content-Type": "application/json"})
    assert status in (200, 201), (path, status, out[:300])
    return json.loads(out)


def multipart(fields, files):
    boundary = "candexbench" + os.urandom(8).hex()
    parts = []
    for name, value in fields:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n'
                     f"Content-Type: application/json\r\n\r\n{value}\r\n".encode())
    for name, filename, data in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: application/pdf\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def nginx(files_dir, port):
    conf = os.path.join(WORK, "nginx.conf")
    tmp = os.path.join(WORK, "nginx-tmp")
    os.makedirs(tmp, exist_ok=True)
    with open(conf, "w") as f:
        f.write(f"""worker_processes 1;
daemon off;
pid {WORK}/nginx.pid;
error_log {WORK}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    open_file_cache max=10000;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    types {{ application/pdf pdf; }}
    server {{
        listen 127.0.0.1:{port};
        root {files_dir};
    }}
}}
""")
    exe = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = Proc("nginx", [exe, "-c", conf, "-e", os.path.join(WORK, "nginx-error.log")], None)
    wait_http(f"http://127.0.0.1:{port}/")
    return proc


def scenario_attachments(args, results):
    import hashlib
    db_path = os.path.join(WORK, "attachments.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db_path + suffix):
            os.remove(db_path + suffix)
    shutil.rmtree(os.path.join(WORK, "attachments-blobs"), ignore_errors=True)
    files_dir = os.path.join(WORK, "files")
    os.makedirs(files_dir, exist_ok=True)
    rng = random.Random(5)
    payloads = {}
    for label, size in SIZES.items():
        data = b"%PDF-1.4\n" + rng.randbytes(size - 9)
        payloads[label] = data
        with open(os.path.join(files_dir, f"{label}.pdf"), "wb") as f:
            f.write(data)
    base = "http://127.0.0.1:18620"
    candex = candex_serve("candex-attachments", f"sqlite://{db_path}", 18620,
                          ["--operator-key", OPERATOR_KEY, "--blobs", os.path.join(WORK, "attachments-blobs")])
    web = None
    try:
        hirer = operator(base, "/hirers", {"name": "Bench"})["id"]
        partner = operator(base, "/partners", {"name": "Bench ATS"})
        operator(base, f"PUT /partners/{partner['id']}/relationships/{hirer}", {"relationshipTypeCodes": ["ApplicationExport"]})
        position = operator(base, "/positions", {"hirerId": hirer, "positionTitle": "Bench"})["id"]
        application = {"positionProfileId": position,
                       "candidate": {"person": {"name": {"given": "B", "family": "E"},
                                                "communication": {"email": [{"address": "b@example.com"}]}}},
                       "attachments": [{"file": label, "seekRoleCode": None} for label in SIZES]}
        body, ctype = multipart([("application", json.dumps(application))],
                                [(label, f"{label}.pdf", data) for label, data in payloads.items()])
        status, out = http("POST", f"{base}/operator/v1/applications", body,
                           {"Authorization": f"Bearer {OPERATOR_KEY}", "Content-Type": ctype}, timeout=120)
        assert status == 201, out[:300]
        profile_id = json.loads(out)["candidateProfileId"]
        tok = token(base, partner["clientId"], partner["clientSecret"])
        status, out = http("POST", f"{base}/graphql",
                           {"query": "query($id:String!){candidateProfile(id:$id){attachments{url}}}",
                            "variables": {"id": profile_id}}, {"Authorization": f"Bearer {tok}"})
        urls = [a["url"] for a in json.loads(out)["data"]["candidateProfile"]["attachments"]]
        web = nginx(files_dir, 18621)
        targets = {}
        for (label, data), url in zip(payloads.items(), urls):
            for name, u, headers in (("candex", url, {"Authorization": f"Bearer {tok}"}),
                                     ("nginx", f"http://127.0.0.1:18621/{label}.pdf", {})):
                status, got = http("GET", u, headers=headers, timeout=60)
                assert status == 200 and hashlib.sha256(got).digest() == hashlib.sha256(data).digest(), (name, label)
            targets[label] = {"candex": (candex, url, [f"Authorization: Bearer {tok}"]),
                              "nginx": (web, f"http://127.0.0.1:18621/{label}.pdf", [])}
        log("correctness gate: candex and nginx serve identical bytes for every size")

        table = {}
        for label, peers in targets.items():
            def measure(name, seconds=args.seconds, peers=peers, label=label):
                proc, url, headers = peers[name]
                cpu0 = proc.cpu_seconds()
                r = wrk(url, seconds, conns=16, headers=headers)
                r["mib_per_s"] = r["rps"] * SIZES[label] / 1048576
                r["cpu_us_per_req"] = (proc.cpu_seconds() - cpu0) * 1e6 / r["requests"] if r["requests"] else None
                log(f"  {label} {name}: {r['rps']:.0f} req/s, {r['mib_per_s']:.0f} MiB/s, p99 {r['p99_ms']:.2f} ms, "
                    f"errors {r['errors']}, load CPU {r['load_cpu_share']:.0%}")
                return r
            for name in peers:
                measure(name, args.warmup)
            runs = interleaved(list(peers), args.rounds, measure)
            table[label] = {name: {"rps": summarise([r["rps"] for r in rs]),
                                   "mib_per_s": summarise([r["mib_per_s"] for r in rs]),
                                   "p99_ms": summarise([r["p99_ms"] for r in rs]),
                                   "cpu_us_per_req": summarise([r["cpu_us_per_req"] for r in rs]),
                                   "errors": sum(r["errors"] for r in rs),
                                   "max_load_cpu_share": max(r["load_cpu_share"] or 0 for r in rs)}
                            for name, rs in runs.items()}
        table["candex_peak_rss_mib"] = candex.rss_mib()
    finally:
        candex.stop()
        if web:
            web.stop()
    results["attachments"] = table
    results["summary"]["attachment_4mib_mibps_vs_nginx"] = ratio(table["4m"]["candex"]["mib_per_s"]["median"],
                                                                 table["4m"]["nginx"]["mib_per_s"]["median"])
    results["summary"]["attachment_16kib_rps_vs_nginx"] = ratio(table["16k"]["candex"]["rps"]["median"],
                                                                table["16k"]["nginx"]["rps"]["median"])


# ---------------------------------------------------------------- scenario: exporter

def write_applications(path, files_dir, count, position, rng):
    """An NDJSON import file of `count` applications with 1-3 attachments from a pool of files."""
    pool = sorted(os.listdir(files_dir))
    with open(path, "w") as f:
        for i in range(count):
            attachments = [{"path": os.path.join(files_dir, name), "seekRoleCode": ["Resume", "CoverLetter", None][k]}
                           for k, name in enumerate(rng.sample(pool, rng.randint(1, 3)))]
            f.write(json.dumps({"positionProfileId": position,
                                "candidate": {"person": {"name": {"given": f"Ex{i}", "family": "Porter"},
                                                         "communication": {"email": [{"address": f"ex{i}@example.com"}]}}},
                                "employment": [{"organization": {"name": "Co"}, "positionHistories": [{"title": "Dev", "start": "2020-01"}]}],
                                "attachments": attachments}) + "\n")


def scenario_exporter(args, results):
    rng = random.Random(3)
    pool_dir = os.path.join(WORK, "exporter-pool")
    os.makedirs(pool_dir, exist_ok=True)
    for i in range(200):
        size = int(min(max(rng.lognormvariate(10.4, 0.8), 2048), 1_500_000))  # median ~32 KiB
        path = os.path.join(pool_dir, f"doc{i:03}.pdf")
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(b"%PDF-1.4\n" + rng.randbytes(size))
    # Outputs are deleted only when every size has run: ext4 skips inodes deleted in the last
    # 60-300 s when it allocates new ones, reading their inode blocks to check (`recently_deleted`),
    # so deleting one run's ~6 inodes per profile right before the next export made that export
    # spend a third of its core scanning past them (bench/README.md, "The exporter").
    outputs = [os.path.join(WORK, f"exporter-{n}-out") for n in args.exporter_sizes]
    for out in outputs:
        if os.path.exists(out):
            log(f"deleting {out} from an earlier run (exports right after a large delete are slower on ext4)")
            shutil.rmtree(out, ignore_errors=True)
    table = {}
    for n in args.exporter_sizes:
        db_path = os.path.join(WORK, f"exporter-{n}.db")
        db = f"sqlite://{db_path}"
        blobs = os.path.join(WORK, f"exporter-{n}-blobs")
        base = "http://127.0.0.1:18630"
        fresh = not os.path.exists(db_path + ".partner.json")
        server = candex_serve(f"candex-exporter-{n}", db, 18630, ["--operator-key", OPERATOR_KEY, "--blobs", blobs])
        try:
            if fresh:
                hirer = operator(base, "/hirers", {"name": "Export"})["id"]
                partner = operator(base, "/partners", {"name": "Export ATS"})
                operator(base, f"PUT /partners/{partner['id']}/relationships/{hirer}", {"relationshipTypeCodes": ["ApplicationExport"]})
                position = operator(base, "/positions", {"hirerId": hirer, "positionTitle": "Export"})["id"]
                server.stop()
                ndjson = os.path.join(WORK, f"exporter-{n}.ndjson")
                write_applications(ndjson, pool_dir, n, position, rng)
                log(f"importing {n} applications with attachments")
                started = time.time()
                run([CANDEX, "import", ndjson, "--database", db, "--blobs", blobs])
                log(f"  imported in {time.time() - started:.0f} s")
                with open(db_path + ".partner.json", "w") as f:
                    json.dump(partner, f)
                server = candex_serve(f"candex-exporter-{n}", db, 18630, ["--operator-key", OPERATOR_KEY, "--blobs", blobs])
            partner = json.load(open(db_path + ".partner.json"))
            out = os.path.join(WORK, f"exporter-{n}-out")
            log(f"exporting {n} profiles")
            cpu0 = server.cpu_seconds()
            cmd = ["/usr/bin/time", "-v", "taskset", "-c", LOAD_CPU, CANDEX, "export", "sync", "--server", base,
                   "--out", out, "--progress", "log", "--concurrency", str(args.exporter_concurrency)]
            env = dict(os.environ, CANDEX_EXPORT_CLIENT_ID=partner["clientId"],
                       CANDEX_EXPORT_CLIENT_SECRET=partner["clientSecret"], RUST_LOG="warn")
            res = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if res.returncode != 0:
                raise SystemExit(f"export of {n} failed:\n{res.stderr[-2000:]}")
            summary = json.loads(res.stdout.strip().splitlines()[-1])
            rss_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", res.stderr).group(1))
            server_cpu = server.cpu_seconds() - cpu0
        finally:
            server.stop()
        assert summary["profiles"] == n and summary["failures"] == 0, summary
        row = {"profiles": n, "attachments": summary["attachments"], "bytes": summary["bytes"],
               "elapsed_s": summary["elapsedSecs"], "profiles_per_s": n / summary["elapsedSecs"],
               "mib_per_s": summary["bytes"] / 1048576 / summary["elapsedSecs"], "peak_rss_mib": rss_kib / 1024,
               "server_cpu_ms_per_profile": server_cpu * 1000 / n, "concurrency": args.exporter_concurrency}
        log(f"  {n}: {row['profiles_per_s']:.0f} profiles/s, {row['mib_per_s']:.1f} MiB/s, peak RSS {row['peak_rss_mib']:.1f} MiB")
        table[str(n)] = row
    for out in outputs:
        shutil.rmtree(out, ignore_errors=True)
    results["exporter"] = table
    largest = table[str(max(args.exporter_sizes))]
    results["summary"]["exporter_profiles_per_s"] = largest["profiles_per_s"]
    results["summary"]["exporter_server_cpu_ms_per_profile"] = largest["server_cpu_ms_per_profile"]
    for n, key in ((10_000, "exporter_peak_rss_mib_10k"), (100_000, "exporter_peak_rss_mib_100k")):
        if str(n) in table:
            results["summary"][key] = table[str(n)]["peak_rss_mib"]


# ---------------------------------------------------------------- scenario: scaling

WRK_PACED_LUA = WRK_PROFILE_LUA + r'''
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
delay = function() return pause end
'''

PG_SERVER = os.environ.get("CANDEX_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")


def psql(sql, db="postgres"):
    return run(["psql", f"{PG_SERVER}/{db}", "-Atqc", sql]).strip()


def scenario_scaling(args, results):
    script = os.path.join(WORK, "paced.lua")
    with open(script, "w") as f:
        f.write(WRK_PACED_LUA)
    table = {}
    backends = ["sqlite"] + (["postgres"] if shutil.which("psql") else [])
    for backend in backends:
        for n in (1000, args.scaling_size):
            label = f"{backend}-{n}"
            if backend == "sqlite":
                path = os.path.join(WORK, f"scaling-{n}.db")
                for suffix in ("", "-wal", "-shm"):
                    if os.path.exists(path + suffix):
                        os.remove(path + suffix)
                db = f"sqlite://{path}"
            else:
                name = f"candex_bench_{n}"
                psql(f"DROP DATABASE IF EXISTS {name}")
                psql(f"CREATE DATABASE {name}")
                db = f"{PG_SERVER}/{name}"
            log(f"seeding {n} profiles on {backend}")
            started = time.time()
            seeded = json.loads(run([CANDEX, "seed", "--database", db, "--profiles", str(n), "--seed", "9"]))
            seed_s = time.time() - started
            if backend == "sqlite":
                conn = sqlite3.connect(path)
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                size = conn.execute("PRAGMA page_count").fetchone()[0] * conn.execute("PRAGMA page_size").fetchone()[0]
                ids = [r[0] for r in conn.execute("SELECT profile_id FROM profiles")]
                conn.close()
            else:
                psql("VACUUM ANALYZE", name)
                size = int(psql(f"SELECT pg_database_size('{name}')"))
                ids = psql("SELECT profile_id FROM profiles", name).splitlines()
            ids_path = os.path.join(WORK, f"scaling-ids-{label}.txt")
            with open(ids_path, "w") as f:
                f.write("\n".join(ids) + "\n")
            server = candex_serve(f"candex-{label}", db, 18640)
            try:
                tok = token("http://127.0.0.1:18640", seeded["partner"]["clientId"], seeded["partner"]["clientSecret"])
                env = {"BENCH_IDS": ids_path, "BENCH_TOKEN": tok, "BENCH_QUERY_JSON": json.dumps(SEED_QUERY),
                       "BENCH_DELAY_MS": str(args.paced_delay_ms)}
                wrk("http://127.0.0.1:18640/graphql", args.warmup, conns=4, script=script, env=env)
                runs = [wrk("http://127.0.0.1:18640/graphql", args.seconds, conns=4, script=script, env=env)
                        for _ in range(args.rounds)]
            finally:
                server.stop()
            row = {"backend": backend, "profiles": n, "ingest_profiles_per_s": n / seed_s,
                   "db_bytes": size, "bytes_per_profile": size / n, "lookup_rps": summarise([r["rps"] for r in runs]),
                   "lookup_p50_ms": summarise([r["p50_ms"] for r in runs]),
                   "lookup_p99_ms": summarise([r["p99_ms"] for r in runs]),
                   "errors": sum(r["errors"] for r in runs)}
            log(f"  {label}: p50 {row['lookup_p50_ms']['median']:.2f} ms at {row['lookup_rps']['median']:.0f} req/s, "
                f"{row['bytes_per_profile']:.0f} B/profile, ingest {row['ingest_profiles_per_s']:.0f}/s")
            table[label] = row
            if backend == "postgres" and n != 1000:
                psql(f"DROP DATABASE IF EXISTS candex_bench_{n}")
        if backend == "postgres":
            psql("DROP DATABASE IF EXISTS candex_bench_1000")
        small, large = table[f"{backend}-1000"], table[f"{backend}-{args.scaling_size}"]
        # A database has a fixed floor (PostgreSQL's catalogue is ~8 MB): the marginal cost per
        # profile is the honest figure.
        large["marginal_bytes_per_profile"] = (large["db_bytes"] - small["db_bytes"]) / (args.scaling_size - 1000)
        key = f"lookup_p50_{size_label(args.scaling_size)}_over_1k_{backend}"
        results["summary"][key] = ratio(large["lookup_p50_ms"]["median"], small["lookup_p50_ms"]["median"])
    results["scaling"] = table


# Which summary keys each scenario writes (to merge a partial run with the last full one).
SUMMARY_PREFIX = {"profile": "profile_", "attachments": "attachment_", "exporter": "exporter_", "scaling": "lookup_"}


def size_label(n):
    return f"{n // 1_000_000}m" if n % 1_000_000 == 0 else f"{n // 1000}k"


# ---------------------------------------------------------------- report

TARGETS = {
    "profile_rps_vs_apollo": (">=", 5.0, "candidateProfile req/s, candex / Apollo"),
    "profile_rps_vs_static": (">=", 0.5, "candidateProfile req/s, candex / static bound"),
    "attachment_16kib_rps_vs_nginx": (">=", 0.3, "16 KiB download req/s, candex / nginx"),
    # The design brief asked for 0.7; issue 18 raised it to 0.9.
    "attachment_4mib_mibps_vs_nginx": (">=", 0.9, "4 MiB download MiB/s, candex / nginx"),
    "exporter_profiles_per_s": (">=", 1000, "exporter profiles/s, largest size, into a folder"),
    "exporter_server_cpu_ms_per_profile": ("<=", 0.6, "server CPU ms per exported profile, largest size"),
    "exporter_peak_rss_100k_over_10k": ("<=", 1.2, "exporter peak RSS, 100k / 10k profiles"),
    "lookup_p50_1m_over_1k_sqlite": ("<=", 1.5, "lookup p50, 1M / 1k profiles, SQLite"),
    "lookup_p50_1m_over_1k_postgres": ("<=", 1.5, "lookup p50, 1M / 1k profiles, PostgreSQL"),
}


def machine():
    info = {"platform": platform.platform(), "cpus": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
        with open("/proc/meminfo") as f:
            info["mem_gib"] = round(int(f.readline().split()[1]) / 1048576, 1)
    except (OSError, StopIteration):
        pass
    oha_exe = shutil.which("oha") or os.path.join(BENCH, ".tools", "bin", "oha")
    nginx_exe = shutil.which("nginx") or "/usr/sbin/nginx"
    for tool, cmd in (("wrk", ["wrk", "--version"]), ("nginx", [nginx_exe, "-v"]), ("node", ["node", "--version"]),
                      ("oha", [oha_exe, "--version"])):
        try:
            res = subprocess.run(cmd, capture_output=True, text=True)
            info[tool] = (res.stdout + res.stderr).strip().splitlines()[0].split(" Copyright")[0]
        except (OSError, IndexError):
            info[tool] = "not found"
    return info


def fmt(s, unit="", digits=0):
    if not s or s.get("median") is None:
        return "–"
    return f"{s['median']:.{digits}f}{unit} [{s['min']:.{digits}f}–{s['max']:.{digits}f}]"


def verdict(key, value):
    if key not in TARGETS or value is None:
        return ""
    op, target, _ = TARGETS[key]
    ok = value >= target if op == ">=" else value <= target
    return "met" if ok else "MISSED"


def write_report(results, path):
    r, s = results, results["summary"]
    lines = [f"# candex benchmarks", "",
             f"Run {r['date']} on {r['machine'].get('cpu', '?')} ({r['machine']['cpus']} CPUs, "
             f"{r['machine'].get('mem_gib', '?')} GiB), {r['machine']['platform']}.",
             f"Command: `{r['command']}` (commit {r['commit']}). Tools: {r['machine']['wrk']}; "
             f"{r['machine']['nginx']}; node {r['machine']['node']}; {r['machine']['oha']}.", "",
             "Servers ran on CPU 1 and the load generator on CPU 0 (`taskset`). Figures are medians over "
             f"{r['settings']['rounds']} interleaved rounds of {r['settings']['seconds']} s after a "
             f"{r['settings']['warmup']} s warm-up, with [min–max] across rounds. Ratios are of medians in this run.", ""]
    others = {name: run for name, run in r.get("runs", {}).items()
              if (run.get("date"), run.get("command")) != (r["date"], r["command"])}
    if others:
        def rounds(run):
            st = run.get("settings") or {}
            return (f", {st['rounds']} rounds of {st['seconds']} s after a {st['warmup']} s warm-up"
                    if {"rounds", "seconds", "warmup"} <= st.keys() else "")
        lines += ["That describes this run. Scenarios kept from an earlier run of the same "
                  "harness (`--only` merges into the last results): "
                  + "; ".join(f"{name} from `{run['command']}` (commit {run['commit']}, {run['date']}{rounds(run)})"
                              for name, run in others.items()) + ".", ""]
    lines += ["## Targets", "", "| figure | measured | target | |", "|---|---|---|---|"]
    for key, (op, target, what) in TARGETS.items():
        value = s.get(key)
        lines.append(f"| {what} (`{key}`) | {value:.2f} | {op} {target} | {verdict(key, value)} |" if value is not None
                     else f"| {what} (`{key}`) | not measured in this run | {op} {target} | |")
    for key, value in s.items():
        if key not in TARGETS and value is not None and not isinstance(value, dict):
            lines.append(f"| `{key}` | {value:.2f} | | |")
    if "profile" in r:
        p = r["profile"]
        lines += ["", "## candidateProfile (seed query, random ids)", "",
                  f"{p['profiles']} seeded profiles; response size p50 {p['response_bytes_p50']} B, p95 "
                  f"{p['response_bytes_p95']} B. Correctness gate: {p['gate']['ids']} ids, {p['gate']['diffs']} differences.",
                  "`wrk -t1 -c32` with a Lua script choosing a random id per request.", "",
                  "| peer | req/s | p50 ms | p99 ms | CPU µs/req | errors | peak RSS MiB | load-gen CPU |",
                  "|---|---|---|---|---|---|---|---|"]
        for name, t in p["peers"].items():
            bound = " (load-generator bound: a lower limit)" if t["max_load_cpu_share"] > 0.9 else ""
            lines.append(f"| {name}{bound} | {fmt(t['rps'])} | {fmt(t['p50_ms'], digits=2)} | {fmt(t['p99_ms'], digits=2)} | "
                         f"{fmt(t['cpu_us_per_req'])} | {t['errors']} | {t['peak_rss_mib']:.0f} | {t['max_load_cpu_share']:.0%} |")
        if any(t["fixed_load"] for t in p["peers"].values()):
            lines += ["", "Latency at fixed offered loads (`oha -q RATE --latency-correction`, one id per run):", "",
                      "| peer | offered req/s | p50 ms | p99 ms | errors |", "|---|---|---|---|---|"]
            for name, t in p["peers"].items():
                for f in t["fixed_load"]:
                    lines.append(f"| {name} | {f['rate']} | {f['p50_ms']:.2f} | {f['p99_ms']:.2f} | {f['errors']} |")
    if "attachments" in r:
        a = r["attachments"]
        lines += ["", "## Attachment downloads (partner token) vs nginx (sendfile)", "",
                  "`wrk -t1 -c16` on one URL per size; candex checks the token and the hirer relationship on every request.", "",
                  "| size | peer | req/s | MiB/s | p99 ms | CPU µs/req | errors |", "|---|---|---|---|---|---|---|"]
        for label in SIZES:
            for name, t in a[label].items():
                bound = " (load-generator bound)" if t["max_load_cpu_share"] > 0.9 else ""
                lines.append(f"| {label} | {name}{bound} | {fmt(t['rps'])} | {fmt(t['mib_per_s'])} | {fmt(t['p99_ms'], digits=2)} | "
                             f"{fmt(t['cpu_us_per_req'])} | {t['errors']} |")
        lines.append(f"\ncandex peak RSS during the downloads: {a['candex_peak_rss_mib']:.0f} MiB.")
    if "exporter" in r:
        lines += ["", "## Exporter (`candex export sync` into a folder)", "",
                  "| profiles | attachments | MiB | seconds | profiles/s | MiB/s | peak RSS MiB | server CPU ms/profile |",
                  "|---|---|---|---|---|---|---|---|"]
        for row in r["exporter"].values():
            lines.append(f"| {row['profiles']} | {row['attachments']} | {row['bytes'] / 1048576:.0f} | {row['elapsed_s']:.1f} | "
                         f"{row['profiles_per_s']:.0f} | {row['mib_per_s']:.1f} | {row['peak_rss_mib']:.1f} | "
                         f"{row['server_cpu_ms_per_profile']:.2f} |")
    if "scaling" in r:
        lines += ["", "## Scaling (lookups paced at about 500 req/s offered, `wrk -c4` with a delay)", "",
                  "| backend | profiles | lookup p50 ms | p99 ms | req/s | database bytes/profile (marginal) | ingest profiles/s | errors |",
                  "|---|---|---|---|---|---|---|---|"]
        for row in r["scaling"].values():
            marginal = f" ({row['marginal_bytes_per_profile']:.0f})" if "marginal_bytes_per_profile" in row else ""
            lines.append(f"| {row['backend']} | {row['profiles']} | {fmt(row['lookup_p50_ms'], digits=2)} | "
                         f"{fmt(row['lookup_p99_ms'], digits=2)} | {fmt(row['lookup_rps'])} | {row['bytes_per_profile']:.0f}{marginal} | "
                         f"{row['ingest_profiles_per_s']:.0f} | {row['errors']} |")
    lines += ["", "## Notes", ""] + [f"- {n}" for n in r.get("notes", [])]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


# ---------------------------------------------------------------- main

SCENARIOS = {"profile": scenario_profile, "attachments": scenario_attachments,
             "exporter": scenario_exporter, "scaling": scenario_scaling}


def main():
    global WORK
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=list(SCENARIOS), help="run only this scenario (repeatable)")
    parser.add_argument("--size", choices=["small", "default", "large"], default="default",
                        help="small: a quick check; default: within 30 min on 2 cores; large: 1M profiles")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--seconds", type=int, default=None)
    parser.add_argument("--work", default=os.path.join(BENCH, ".work"))
    parser.add_argument("--out", default=os.path.join(BENCH, "results.json"))
    parser.add_argument("--report", default=os.path.join(BENCH, "RESULTS.md"))
    args = parser.parse_args()
    presets = {"small": dict(rounds=2, seconds=3, warmup=2, fixed_seconds=2, profiles=2000,
                             exporter_sizes=[1000, 5000], scaling_size=20_000),
               "default": dict(rounds=3, seconds=10, warmup=5, fixed_seconds=5, profiles=10_000,
                               exporter_sizes=[10_000, 100_000], scaling_size=100_000),
               "large": dict(rounds=5, seconds=20, warmup=10, fixed_seconds=10, profiles=10_000,
                             exporter_sizes=[10_000, 100_000], scaling_size=1_000_000)}[args.size]
    for key, value in presets.items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    args.exporter_concurrency = 16
    args.paced_delay_ms = 8
    WORK = args.work
    os.makedirs(WORK, exist_ok=True)
    for exe in (CANDEX, STATIC_PEER):
        if not os.path.exists(exe):
            raise SystemExit(f"{exe} is missing: run bench/run.sh (it builds the binaries)")
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    results = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "command": "bench/run.sh " + " ".join(sys.argv[1:]), "commit": commit, "machine": machine(),
               "settings": {k: getattr(args, k) for k in ("size", "rounds", "seconds", "warmup", "profiles",
                                                          "exporter_sizes", "scaling_size")},
               "summary": {}, "notes": []}
    started = time.time()
    for name in args.only or list(SCENARIOS):
        log(f"== {name}")
        SCENARIOS[name](args, results)
    s = results["summary"]
    if s.get("exporter_peak_rss_mib_10k") and s.get("exporter_peak_rss_mib_100k"):
        s["exporter_peak_rss_100k_over_10k"] = s["exporter_peak_rss_mib_100k"] / s["exporter_peak_rss_mib_10k"]
    results["elapsed_s"] = round(time.time() - started)
    ran = args.only or list(SCENARIOS)
    results["runs"] = {name: {k: results[k] for k in ("date", "command", "commit", "settings")} for name in ran}
    # Keep what an earlier run measured for scenarios this run skipped, and say which run that was.
    if args.only and os.path.exists(args.out):
        previous = json.load(open(args.out))
        kept = [key for key in previous if key in SCENARIOS and key not in results]
        for key in kept:
            results[key] = previous[key]
            results["runs"][key] = previous.get("runs", {}).get(
                key, {k: previous.get(k) for k in ("date", "command", "commit", "settings")})
        for key, value in previous.get("summary", {}).items():
            if any(key.startswith(SUMMARY_PREFIX[name]) for name in kept):
                s.setdefault(key, value)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)
    write_report(results, args.report)
    log(f"done in {results['elapsed_s']} s: {args.out}, {args.report}")
    for key, value in s.items():
        print(f"  {key}: {value:.3f} {verdict(key, value)}" if isinstance(value, float) else f"  {key}: {value}")


if __name__ == "__main__":
    main()
