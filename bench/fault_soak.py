#!/usr/bin/env python3
"""Fault soak of `encore serve` (stdlib only; loopback only; bounded in time).

Normal clients post /embed requests of 1 to 16 sentences of mixed lengths (so the batches
take many distinct token counts) beside clients that misbehave as real ones do:
- half-closing: send a request, shutdown(SHUT_WR), then read the answer (proxies, `nc -N`);
- slow-reading: post a large /embed_all and read its answer 1 KB at a time, or not at all;
- disconnecting: post a request and close the connection (half of them with a reset) before
  the answer.
Every few seconds the server's resident memory (VmRSS) is sampled. The report gives, per kind
of client, the requests, the answers by status and the failures; for the normal clients p50
and p99 latency; and the RSS trend. A cool-down follows (two normal clients alone), after
which the RSS that stays is measured. It fails (exit 1) when a normal or half-closing client
gets an answer other than 200, or when RSS after the cool-down and 3 s idle exceeds
--rss-limit-mb.

    bench/serve_load --faults                    # 180 s
    python3 bench/fault_soak.py --encore build/encore --duration 60
"""
import argparse
import asyncio
import json
import os
import random
import re
import select
import socket
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_test import ROOT, Server, load_sentences, read_response  # noqa: E402


def rss_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def request(path, payload):
    body = json.dumps(payload).encode()
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


class Tally:
    def __init__(self):
        self.requests, self.statuses, self.failures, self.latencies = 0, {}, [], []
        self.outcomes = {}  # slow and never-reading clients: how their connection ended

    def status(self, s):
        self.statuses[s] = self.statuses.get(s, 0) + 1


async def normal(port, sentences, stop_at, tally, rng):
    reader = writer = None
    while time.monotonic() < stop_at:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            n = rng.randint(1, 16)
            msg = request("/embed", {"inputs": [rng.choice(sentences) for _ in range(n)]})
            tally.requests += 1
            t0 = time.perf_counter()
            writer.write(msg)
            status, body, close = await read_response(reader)
            tally.latencies.append(time.perf_counter() - t0)
            tally.status(status)
            if close:
                writer.close()
                writer = None
        except (OSError, asyncio.IncompleteReadError) as e:
            tally.failures.append(f"{type(e).__name__}: {e}")
            writer = None
    if writer is not None:
        writer.close()


async def half_closing(port, sentences, stop_at, tally, rng):
    while time.monotonic() < stop_at:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request("/embed", {"inputs": [rng.choice(sentences) for _ in range(rng.randint(1, 8))]}))
            await writer.drain()
            writer.write_eof()  # shutdown(SHUT_WR)
            tally.requests += 1
            status, _, _ = await read_response(reader)
            tally.status(status)
            writer.close()
        except (OSError, asyncio.IncompleteReadError) as e:
            tally.failures.append(f"{type(e).__name__}: {e}")
        await asyncio.sleep(0.2)


async def slow_reading(port, sentences, stop_at, tally, rng):
    """A large /embed_all (32 long inputs), read 1 KB a second: the server drops it after
    --write-timeout (seen here as the connection closing before the whole answer)."""
    while time.monotonic() < stop_at:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            inputs = [" ".join(rng.choice(sentences) for _ in range(3)) for _ in range(32)]
            writer.write(request("/embed_all", {"inputs": inputs, "truncate": True}))
            tally.requests += 1
            got = 0
            while time.monotonic() < stop_at:
                chunk = await reader.read(1024)
                if not chunk:
                    break
                if got == 0:
                    tally.status(int(chunk.split(b" ", 2)[1]))
                got += len(chunk)
                await asyncio.sleep(1.0)
            if time.monotonic() < stop_at:
                tally.outcomes["closed by the server"] = tally.outcomes.get("closed by the server", 0) + 1
            else:
                tally.outcomes["open at the end"] = tally.outcomes.get("open at the end", 0) + 1
            writer.close()
        except (OSError, asyncio.IncompleteReadError) as e:
            tally.failures.append(f"{type(e).__name__}: {e}")


async def never_reading(port, sentences, stop_at, tally, rng):
    """A large /embed_all whose answer is never read (a small receive buffer, nothing taken off
    it); when the server gives up on it (--write-timeout) and closes, another one."""
    loop = asyncio.get_running_loop()
    while time.monotonic() < stop_at:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, ("127.0.0.1", port))
            inputs = [" ".join(rng.choice(sentences) for _ in range(3)) for _ in range(32)]
            await loop.sock_sendall(sock, request("/embed_all", {"inputs": inputs, "truncate": True}))
            tally.requests += 1
            poller = select.poll()
            poller.register(sock, select.POLLRDHUP | select.POLLHUP | select.POLLERR)
            closed = False
            while time.monotonic() < stop_at and not closed:
                await asyncio.sleep(1.0)
                closed = bool(poller.poll(0))
            outcome = "closed by the server" if closed else "open at the end"
            tally.outcomes[outcome] = tally.outcomes.get(outcome, 0) + 1
        except OSError as e:
            tally.failures.append(f"{type(e).__name__}: {e}")
        finally:
            sock.close()


async def disconnecting(port, sentences, stop_at, tally, rng):
    i = 0
    while time.monotonic() < stop_at:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request("/embed", {"inputs": [rng.choice(sentences) for _ in range(4)]}))
            await writer.drain()
            tally.requests += 1
            await asyncio.sleep(rng.uniform(0.0, 0.05))
            if i % 2:
                writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                                           struct.pack("ii", 1, 0))
            writer.close()
            i += 1
        except OSError as e:
            tally.failures.append(f"{type(e).__name__}: {e}")
        await asyncio.sleep(0.5)


async def soak(port, pid, sentences, args):
    stop_at = time.monotonic() + args.duration
    kinds = {k: Tally() for k in ("normal", "half-closing", "slow-reading", "never-reading", "disconnecting")}
    rng = random.Random(0)
    tasks = [normal(port, sentences, stop_at, kinds["normal"], random.Random(i)) for i in range(args.clients)]
    tasks += [half_closing(port, sentences, stop_at, kinds["half-closing"], random.Random(100 + i)) for i in range(2)]
    tasks += [slow_reading(port, sentences, stop_at, kinds["slow-reading"], random.Random(200 + i)) for i in range(2)]
    tasks += [never_reading(port, sentences, stop_at, kinds["never-reading"], random.Random(300 + i))
              for i in range(args.never_readers)]
    tasks += [disconnecting(port, sentences, stop_at, kinds["disconnecting"], random.Random(400 + i)) for i in range(2)]
    samples = []

    async def sample():
        t0 = time.monotonic()
        while time.monotonic() < stop_at:
            samples.append((time.monotonic() - t0, rss_mb(pid)))
            await asyncio.sleep(args.sample)

    del rng
    await asyncio.gather(sample(), *tasks)
    # Cool-down: normal clients alone, as traffic goes on after a burst; then the RSS that
    # stays (answers dropped, workspaces shrunk back) is the one held to the limit.
    cool = Tally()
    cool_stop = time.monotonic() + args.cooldown
    await asyncio.gather(*(normal(port, sentences, cool_stop, cool, random.Random(500 + i)) for i in range(2)))
    samples.append((time.monotonic() - (stop_at - args.duration), rss_mb(pid)))
    await asyncio.sleep(3.0)  # idle: the server gives freed heap back after a second
    samples.append((time.monotonic() - (stop_at - args.duration), rss_mb(pid)))
    kinds["cool-down (normal)"] = cool
    return kinds, samples


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--encore", default=str(ROOT / os.environ.get("ENCORE_BUILD_DIR", "build") / "encore"))
    ap.add_argument("--model", default=str(ROOT / "models" / "all-MiniLM-L6-v2"))
    ap.add_argument("--duration", type=float, default=180.0, help="seconds of soak")
    ap.add_argument("--clients", type=int, default=8, help="normal clients")
    ap.add_argument("--never-readers", type=int, default=16, help="clients that never read their /embed_all answer")
    ap.add_argument("--sample", type=float, default=5.0, help="seconds between RSS samples")
    ap.add_argument("--cooldown", type=float, default=20.0, help="seconds of 2 normal clients alone after the soak")
    ap.add_argument("--rss-limit-mb", type=float, default=0.0,
                    help="fail when RSS at the end exceeds this (default: 1.5 x weights + 200 MB)")
    ap.add_argument("--server-args", default="", help="extra `encore serve` arguments")
    ap.add_argument("--out", help="also write the markdown report here")
    args = ap.parse_args()

    weights_mb = sum(p.stat().st_size for p in Path(args.model).rglob("*.safetensors")) / 2**20
    limit = args.rss_limit_mb or 1.5 * weights_mb + 200
    sentences = load_sentences(2000, min_words=1, max_words=120)
    server = Server(args.encore, args.model, args.server_args.split())
    try:
        loaded = rss_mb(server.proc.pid)
        kinds, samples = asyncio.run(soak(server.port, server.proc.pid, sentences, args))
        metrics = server.metrics()
    finally:
        server.stop()

    lines = ["| clients | requests | answers by status | failures (first) | connections | p50 (ms) | p99 (ms) |",
             "|---|---:|---|---|---|---:|---:|"]
    for name, t in kinds.items():
        lat = sorted(t.latencies)
        pct = (lambda p: f"{lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1000:.1f}") if lat else (lambda p: "")
        first = f"{len(t.failures)} ({t.failures[0]})" if t.failures else "0"
        lines.append(f"| {name} | {t.requests} | {dict(sorted(t.statuses.items()))} | {first} | "
                     f"{', '.join(f'{v} {k}' for k, v in t.outcomes.items())} | {pct(50)} | {pct(99)} |")
    trend = ", ".join(f"{s:.0f} s {m:.0f}" for s, m in samples[:-2:max(1, len(samples) // 12)])
    end = samples[-1][1]
    peak = max(m for _, m in samples)
    dropped = {re.search(r'route="([^"]*)"', k).group(1): v for k, v in metrics.items()
               if k.startswith("encore_http_requests_total") and 'status="499"' in k}
    c499 = ", ".join(f"{route} {v:.0f}" for route, v in dropped.items())
    lines += ["",
              f"RSS (MB): loaded {loaded:.0f}; during the soak {trend}; after {args.cooldown:g} s of cool-down "
              f"{samples[-2][1]:.0f}, then idle {end:.0f}; peak {peak:.0f} "
              f"(limit 1.5 x weights {weights_mb:.0f} MB + 200 = {limit:.0f}). "
              f"{args.duration:g} s, {args.clients} normal clients, {args.never_readers} never-reading; "
              f"Answers the server dropped (499: the client left, or did not read within --write-timeout): "
              f"{c499 or 'none'}. Load average {os.getloadavg()[0]:.2f} "
              f"on {os.cpu_count()} CPUs."]
    report = "\n".join(lines)
    print(report)
    if args.out:
        Path(args.out).write_text(report + "\n")
    bad = [k for k in ("normal", "half-closing", "cool-down (normal)")
           if set(kinds[k].statuses) - {200} or kinds[k].failures]
    if bad or end > limit:
        print(f"error: {'non-200 answers or failures for ' + ', '.join(bad) if bad else ''}"
              f"{'; ' if bad and end > limit else ''}{f'RSS {end:.0f} MB > {limit:.0f} MB' if end > limit else ''}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
