#!/usr/bin/env python3
"""The miss path of `make bench`'s cache part.

  cache_storm.py origin PORT            a slow origin: every answer takes 200 ms, carries a
                                        one-hour lifetime, and GET /__count/KEY says how often
                                        /storm/KEY was asked for
  cache_storm.py storm PROXY ORIGIN KEY N
                                        N clients connect to the proxy, then all ask for the
                                        cold /storm/KEY at once; prints "<origin requests>
                                        <p50 ms> <p99 ms> <failed>"
"""
import collections
import http.server
import socket
import socketserver
import sys
import threading
import time

DELAY = 0.2


def origin(port):
    counts = collections.Counter()
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            if self.path.startswith("/__count/"):
                with lock:
                    body = str(counts[self.path[len("/__count/"):]]).encode()
                self.reply(body, "no-store")
                return
            with lock:
                counts[self.path[len("/storm/"):]] += 1
            time.sleep(DELAY)
            self.reply(b"s" * 4096, "max-age=3600")

        def reply(self, body, cache_control):
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", cache_control)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        request_queue_size = 1024

    Server(("127.0.0.1", port), Handler).serve_forever()


def read_response(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        body += chunk
    return int(head.split(b" ")[1])


def storm(proxy, origin_port, key, n):
    socks = [socket.create_connection(("127.0.0.1", proxy), timeout=30) for _ in range(n)]
    request = f"GET /storm/{key} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
    latencies = [0.0] * n
    failed = [0]

    def one(i, start):
        try:
            status = read_response(socks[i])
            if status != 200:
                failed[0] += 1
        except OSError:
            failed[0] += 1
        latencies[i] = (time.monotonic() - start) * 1000

    start = time.monotonic()
    for s in socks:
        s.sendall(request)
    threads = [threading.Thread(target=one, args=(i, start)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in socks:
        s.close()
    with socket.create_connection(("127.0.0.1", origin_port), timeout=10) as c:
        c.sendall(f"GET /__count/{key} HTTP/1.1\r\nHost: o\r\nConnection: close\r\n\r\n".encode())
        reply = b""
        while True:
            chunk = c.recv(4096)
            if not chunk:
                break
            reply += chunk
    count = int(reply.split(b"\r\n\r\n", 1)[1])
    latencies.sort()
    p50 = latencies[n // 2]
    p99 = latencies[min(n - 1, (n * 99) // 100)]
    print(f"{count} {p50:.0f} {p99:.0f} {failed[0]}")


if __name__ == "__main__":
    if sys.argv[1] == "origin":
        origin(int(sys.argv[2]))
    else:
        storm(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
