#!/usr/bin/env python3
"""A TCP relay that holds every chunk for a fixed time in each direction: a network with that
delay, where the kernel has no `tc netem` (this machine's does not).

    delay_relay.py LISTEN_PORT TARGET_HOST:TARGET_PORT ONE_WAY_MS

Each direction is a reader thread and a writer thread joined by a queue of (due time, bytes):
chunks keep their order and several may be in flight at once, as on a real link, so a pipelined
exchange pays the delay once where a serial one pays it per message. Threads sleep with the
operating system's precision (tens of microseconds), where an event loop's timers round to
milliseconds."""

import queue
import socket
import sys
import threading
import time


def pump(source, target, delay):
    chunks = queue.Queue()

    def read():
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            chunks.put((time.monotonic() + delay, data))
            if not data:
                return

    def write():
        while True:
            due, data = chunks.get()
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            if not data:
                try:
                    target.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            try:
                target.sendall(data)
            except OSError:
                return

    for work in (read, write):
        threading.Thread(target=work, daemon=True).start()


def main():
    port, target, one_way_ms = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    host, target_port = target.rsplit(":", 1)
    delay = one_way_ms / 1000
    listener = socket.create_server(("127.0.0.1", port), reuse_port=False)
    while True:
        client, _ = listener.accept()
        try:
            server = socket.create_connection((host, int(target_port)))
        except OSError:
            client.close()
            continue
        for s in (client, server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pump(client, server, delay)
        pump(server, client, delay)


if __name__ == "__main__":
    main()
