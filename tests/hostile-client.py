#!/usr/bin/env python3
# Hostile clients against a running certvigild (tests/hostile-clients.sh).
#
#   hostile-client.py SOCKET DAEMON_PID MAX_CLIENTS CLIENT_TIMEOUT_S
#
# A well-behaved client connects first and asks "status" in a loop for the
# whole run, timing every answer.  Meanwhile: 1,000 connections at once
# (all but max_clients refused with a "busy" line), then, concurrently, a
# 10 MB line, slow clients sending one byte a second, invalid UTF-8,
# deeply nested JSON, and clients that pipeline requests and never read.
# Prints "ok N - ..." lines and "# measured: ..." figures; exits 1 on the
# first broken expectation.
import json
import os
import resource
import select
import socket
import sys
import threading
import time

SOCK, PID = sys.argv[1], int(sys.argv[2])
MAX_CLIENTS, TIMEOUT = int(sys.argv[3]), float(sys.argv[4])
# Memory the attack may add to the daemon's RSS, and the status p99 we
# accept on a loaded, shared 2-core machine (ASan builds included).
RSS_SLACK_KB = int(os.environ.get("HOSTILE_RSS_SLACK_KB", 64 * 1024))
# HOSTILE_SLOW stretches every wait and bound (valgrind runs: CV_SLOW).
SLOW = float(os.environ.get("HOSTILE_SLOW", 1))
P99_MAX_MS = float(os.environ.get("HOSTILE_P99_MAX_MS", 500)) * SLOW

n_ok = 0
lock = threading.Lock()


def ok(what):
    global n_ok
    with lock:
        n_ok += 1
        print(f"ok {n_ok} - {what}", flush=True)


def fail(what):
    print(f"FAIL: hostile-client: {what}", flush=True)
    os._exit(1)


def rss_kb():
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    fail("daemon gone")


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(SOCK)
    return s


def readline(s, timeout):
    """One reply line, or None at EOF/reset/timeout."""
    buf = b""
    end = time.monotonic() + timeout * SLOW
    while not buf.endswith(b"\n"):
        left = end - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            return None
        try:
            b = s.recv(65536)
        except OSError:
            return None
        if not b:
            return None
        buf += b
    return buf.decode("utf-8", "replace")


def code(line):
    if line is None:
        return "closed"
    j = json.loads(line)
    return "ok" if j.get("ok") else j["error"]["code"]


def req(cmd):
    return (json.dumps({"v": 1, "cmd": cmd}) + "\n").encode()


# ---- the well-behaved client ------------------------------------------
lat = []
rss_peak = [0]
stop = threading.Event()
attack = threading.Event()
good = connect()


def good_client():
    while not stop.is_set():
        t0 = time.monotonic()
        good.sendall(req("status"))
        r = readline(good, 10)
        dt = (time.monotonic() - t0) * 1000
        if code(r) != "ok":
            fail(f"well-behaved client: status answered {r!r}")
        if attack.is_set():
            lat.append(dt)
        rss_peak[0] = max(rss_peak[0], rss_kb())
        time.sleep(0.005)   # pacing, not synchronisation


rss_before = rss_kb()
gt = threading.Thread(target=good_client)
gt.start()
attack.set()

# ---- 1,000 connections at once ------------------------------------------
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
conns = [connect() for _ in range(1000)]
for s in conns:
    try:
        s.sendall(req("status"))
    except OSError:
        pass    # refused and closed already: its busy line is waiting
codes = [code(readline(s, 20)) for s in conns]
for s in conns:
    s.close()
n_busy, n_okc = codes.count("busy"), codes.count("ok")
if n_okc != MAX_CLIENTS - 1 or n_busy != 1000 - n_okc:
    fail(f"1000 connections: {n_okc} served, {n_busy} busy, others "
         f"{sorted(set(codes) - {'ok', 'busy'})}; expected "
         f"{MAX_CLIENTS - 1} served (max_clients {MAX_CLIENTS} with the "
         f"well-behaved one)")
ok(f"1000 connections: {n_okc} served, {n_busy} refused with 'busy'")

# ---- concurrent attacks -------------------------------------------------
results = {}


def big_line():
    s = connect()
    line = b'{"v":1,"cmd":"status","pad":"' + b"x" * 10_000_000 + b'"}\n'
    try:
        s.sendall(line)
    except OSError:
        pass
    results["big"] = code(readline(s, 30))
    s.close()


def slow(i):
    # One byte a second: the request never completes within the timeout.
    s = connect()
    msg = req("status")
    t0 = time.monotonic()
    for k in range(len(msg) - 1):
        try:
            s.sendall(msg[k:k + 1])
        except OSError:
            break
        r, _, _ = select.select([s], [], [], 1.0)
        if r:
            break
    # The daemon hangs up: EOF (or a reset) is what we read.
    r = readline(s, TIMEOUT + 5)
    results[f"slow{i}"] = (r, time.monotonic() - t0)
    s.close()


def bad_input():
    s = connect()
    s.sendall(b'{"v":1,"cmd":"st\xff\xfetus"}\n')
    a = code(readline(s, 10))
    s.sendall(b"[" * 30000 + b"]" * 30000 + b"\n")
    b = code(readline(s, 10))
    s.sendall(b'{"v":1,"cmd":"status","args":' + b'{"a":' * 5000 +
              b"1" + b"}" * 5000 + b"}\n")
    c = code(readline(s, 10))
    s.sendall(req("status"))
    d = code(readline(s, 10))
    results["bad"] = (a, b, c, d)
    s.close()


def never_read(i):
    # Pipelines requests as fast as the socket takes them, never reads.
    s = connect()
    s.setblocking(False)
    batch = req("list") * 2000
    t0 = time.monotonic()
    sent = 0
    p = select.poll()
    p.register(s, select.POLLHUP | select.POLLERR)
    while time.monotonic() - t0 < TIMEOUT + 8:
        try:
            sent += s.send(batch)
        except BlockingIOError:
            pass
        except OSError:
            break
        if p.poll(50):
            break
    dropped = bool(p.poll(0))
    if not dropped:
        try:
            s.send(b"x")
        except OSError:
            dropped = True
    results[f"nr{i}"] = (dropped, time.monotonic() - t0, sent)
    s.close()


threads = [threading.Thread(target=big_line), threading.Thread(target=bad_input)]
threads += [threading.Thread(target=slow, args=(i,)) for i in range(10)]
threads += [threading.Thread(target=never_read, args=(i,)) for i in range(10)]
for t in threads:
    t.start()
for t in threads:
    t.join()
attack.clear()

if results["big"] != "too_large":
    fail(f"10 MB line: got {results['big']}")
ok("10 MB line: too_large, connection closed")
a, b, c, d = results["bad"]
if (a, b, c, d) != ("bad_json", "bad_json", "bad_json", "ok"):
    fail(f"invalid UTF-8 / nested JSON: {results['bad']}")
ok("invalid UTF-8, 30,000-deep array, 5,000-deep object: bad_json; "
   "the connection still answers")
for i in range(10):
    r, dt = results[f"slow{i}"]
    if r is not None or not (TIMEOUT - 0.5 <= dt <= TIMEOUT + 4 * SLOW):
        fail(f"one byte a second: reply {r!r} after {dt:.1f}s "
             f"(client_timeout {TIMEOUT}s)")
ok(f"10 clients sending one byte a second: dropped after "
   f"{min(results[f'slow{i}'][1] for i in range(10)):.1f}-"
   f"{max(results[f'slow{i}'][1] for i in range(10)):.1f}s "
   f"(client_timeout {TIMEOUT:g}s)")
for i in range(10):
    dropped, dt, sent = results[f"nr{i}"]
    if not dropped:
        fail(f"never-reading client not dropped after {dt:.1f}s")
ok(f"10 clients pipelining 'list' without reading: dropped after "
   f"{max(results[f'nr{i}'][1] for i in range(10)):.1f}s at most, "
   f"{max(results[f'nr{i}'][2] for i in range(10))} bytes sent at most")

stop.set()
gt.join()
good.close()
rss_after = rss_kb()
lat.sort()
p50 = lat[len(lat) // 2]
p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
print(f"# measured: daemon RSS before {rss_before} kB, peak {rss_peak[0]} kB,"
      f" after {rss_after} kB", flush=True)
print(f"# measured: status during the attack: {len(lat)} requests, p50 "
      f"{p50:.1f} ms, p99 {p99:.1f} ms, max {lat[-1]:.1f} ms", flush=True)
if rss_peak[0] - rss_before > RSS_SLACK_KB:
    fail(f"RSS grew by {rss_peak[0] - rss_before} kB (limit {RSS_SLACK_KB})")
ok(f"RSS bounded: +{rss_peak[0] - rss_before} kB at the peak "
   f"(limit +{RSS_SLACK_KB} kB)")
if p99 > P99_MAX_MS:
    fail(f"status p99 {p99:.1f} ms during the attack (limit {P99_MAX_MS})")
ok(f"well-behaved client answered throughout: p99 {p99:.1f} ms")
