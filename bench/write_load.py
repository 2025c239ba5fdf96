#!/usr/bin/env python3
"""Write throughput of one Rowbase server: CLIENTS threads, each with a keep-alive connection,
POST single-row inserts for SECONDS. Prints inserts/s and latency percentiles.

    bench/write_load.py http://127.0.0.1:3000 [clients=32] [seconds=5]

The target table is `load(id INTEGER PRIMARY KEY, client INTEGER, body TEXT)`; create it first.
A measurement aid for comparing server settings (group commit, synchronous), not a test.
"""

import http.client
import json
import sys
import threading
import time
from urllib.parse import urlparse


def worker(url, client, deadline, latencies, errors):
    target = urlparse(url)
    conn = http.client.HTTPConnection(target.hostname, target.port)
    seq = 0
    while time.monotonic() < deadline:
        body = json.dumps({"client": client, "body": f"row {seq}"})
        start = time.monotonic()
        conn.request("POST", "/load", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        latencies.append(time.monotonic() - start)
        if response.status != 201:
            errors.append(response.status)
        seq += 1


def main():
    url = sys.argv[1]
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 32
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 5
    deadline = time.monotonic() + seconds
    latencies, errors = [], []
    threads = [threading.Thread(target=worker, args=(url, c, deadline, latencies, errors)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    pct = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000
    print(f"{len(latencies) / seconds:.0f} inserts/s  p50 {pct(0.5):.1f} ms  p99 {pct(0.99):.1f} ms  errors {len(errors)}")


if __name__ == "__main__":
    main()
