#!/usr/bin/python3
"""A hand-driven HTTP/2 client for ballast's frame-level tests (h2c, prior knowledge).

It writes frames itself (hpack from python3-h2 encodes the header blocks), so it can send
what a well-behaved library refuses to: floods, resets, malformed requests. Each scenario
prints one JSON line on stdout: what the server answered, and whether and how it ended
the connection.

usage: h2_peer.py PORT SCENARIO [COUNT]
"""
import json
import socket
import struct
import sys
import time

import hpack

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = (
    0, 1, 2, 3, 4, 6, 7, 8, 9)
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
CANCEL = 0x8


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + struct.pack(">BBI", kind, flags, stream) + payload


def settings(**values):
    ids = {"initial_window_size": 4, "max_frame_size": 5}
    return frame(SETTINGS, 0, 0, b"".join(struct.pack(">HI", ids[k], v) for k, v in values.items()))


class Peer:
    def __init__(self, port, **client_settings):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder()
        self.buf = b""
        self.sent_frames = 0
        self.goaway = None
        self.closed = False
        self.server_settings = False
        self.settings = {}
        self.responses = {}  # stream -> {"status": ..., "reset": ..., "body": bytes}
        self.send(PREFACE + settings(**client_settings))

    def send(self, data):
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.closed = True
            return False

    def headers(self, stream, fields, end_stream=True, end_headers=True):
        flags = (END_STREAM if end_stream else 0) | (END_HEADERS if end_headers else 0)
        return frame(HEADERS, flags, stream, self.encoder.encode(fields))

    def request(self, stream, path="/", method="GET", extra=(), end_stream=True):
        fields = [(":method", method), (":scheme", "http"), (":authority", "x"),
                  (":path", path)] + list(extra)
        return self.headers(stream, fields, end_stream)

    def read_frames(self, seconds, until=None):
        """Reads frames for up to `seconds`, or until `until()` holds or the peer closes."""
        deadline = time.monotonic() + seconds
        while not self.closed and time.monotonic() < deadline:
            if until is not None and until():
                return
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return
            except ConnectionResetError:
                self.closed = True
                return
            if not chunk:
                self.closed = True
                return
            self.buf += chunk
            self._parse()

    def _parse(self):
        while len(self.buf) >= 9:
            length = int.from_bytes(self.buf[:3], "big")
            if len(self.buf) < 9 + length:
                return
            kind, flags, stream = struct.unpack(">BBI", self.buf[3:9])
            payload = self.buf[9:9 + length]
            self.buf = self.buf[9 + length:]
            r = self.responses.setdefault(stream, {"body": b""}) if stream else None
            if kind == HEADERS:
                for name, value in self.decoder.decode(payload):
                    if name == ":status":
                        r["status"] = int(value)
                    else:
                        r.setdefault("fields", {})[name] = value
                if flags & END_STREAM:
                    r["complete"] = True
            elif kind == DATA:
                r["body"] += payload
                if flags & END_STREAM:
                    r["complete"] = True
                if payload and self.ack_data:
                    self.send(frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", len(payload))) +
                              frame(WINDOW_UPDATE, 0, stream, struct.pack(">I", len(payload))))
            elif kind == RST_STREAM:
                r["reset"] = struct.unpack(">I", payload)[0]
            elif kind == GOAWAY:
                last, code = struct.unpack(">II", payload[:8])
                self.goaway = {"last_stream": last & 0x7FFFFFFF, "code": code}
            elif kind == SETTINGS and not flags & ACK:
                self.server_settings = True
                for at in range(0, len(payload) - 5, 6):
                    key, value = struct.unpack(">HI", payload[at:at + 6])
                    self.settings[key] = value
                self.send(frame(SETTINGS, ACK, 0))

    ack_data = True

    def flood(self, frames, count):
        """Sends `count` frames from `frames(i)`, in batches, reading between batches."""
        batch = 100
        for start in range(0, count, batch):
            data = b"".join(frames(i) for i in range(start, min(count, start + batch)))
            if not self.send(data):
                break
            self.sent_frames = min(count, start + batch)
            self.read_frames(0.001)
            if self.goaway or self.closed:
                break
        self.read_frames(5, until=lambda: self.goaway is not None)

    def report(self, **extra):
        out = {"goaway": self.goaway, "closed": self.closed, "sent": self.sent_frames}
        out["streams"] = {str(k): {"status": v.get("status"), "reset": v.get("reset"),
                                   "complete": v.get("complete", False), "bytes": len(v["body"]),
                                   "fields": v.get("fields", {})}
                          for k, v in self.responses.items()}
        out.update(extra)
        print(json.dumps(out))


def ws_frame(payload, opcode=1):
    """A client's WebSocket frame (masked, RFC 6455 5.2)."""
    n = len(payload)
    head = bytes([0x80 | opcode]) + (bytes([0x80 | n]) if n < 126 else
                                     bytes([0x80 | 126]) + struct.pack(">H", n))
    key = b"\x37\xfa\x21\x3d"
    return head + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))


def ws_messages(data):
    """The payloads of the server's (unmasked) frames in `data`."""
    out = []
    while len(data) >= 2:
        n = data[1] & 0x7F
        at = 2
        if n == 126:
            n, at = struct.unpack(">H", data[2:4])[0], 4
        if len(data) < at + n:
            break
        out.append(data[at:at + n].decode(errors="replace"))
        data = data[at + n:]
    return out


def websocket(p, count):
    """RFC 8441: WebSocket over an HTTP/2 stream, echoed by the target."""
    p.send(p.headers(1, [(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "http"),
                         (":path", "/chat"), (":authority", "x"),
                         ("sec-websocket-version", "13")], end_stream=False))
    p.read_frames(5, until=lambda: "status" in p.responses.get(1, {}) or
                  "reset" in p.responses.get(1, {}))
    for i in range(count):
        p.send(frame(DATA, 0, 1, ws_frame(("message %d " % i + "x" * 100 * i).encode())))
    p.read_frames(10, until=lambda: len(ws_messages(p.responses[1]["body"])) >= count)
    echoed = ws_messages(p.responses.get(1, {}).get("body", b""))
    # A close frame and the end of the client's side; the target closes, the stream ends.
    p.send(frame(DATA, END_STREAM, 1, ws_frame(struct.pack(">H", 1000), opcode=8)))
    p.read_frames(10, until=lambda: p.responses.get(1, {}).get("complete") or
                  "reset" in p.responses.get(1, {}))
    return {"connect_protocol": p.settings.get(8), "echoed": echoed}


def scenario(port, name, count):
    p = Peer(port)
    p.read_frames(5, until=lambda: p.server_settings)
    if name == "rapid-reset":
        # Each stream asks for something slow, then is cancelled at once (CVE-2023-44487).
        p.flood(lambda i: p.request(2 * i + 1, "/sleep/200") +
                frame(RST_STREAM, 0, 2 * i + 1, struct.pack(">I", CANCEL)), count)
    elif name == "continuation-flood":
        # A header block that never ends (CVE-2024-27316 and family).
        p.send(p.headers(1, [(":method", "GET"), (":scheme", "http"), (":path", "/")],
                         end_stream=True, end_headers=False))
        block = hpack.Encoder().encode([("x-filler", "a" * 100)])
        p.flood(lambda i: frame(CONTINUATION, 0, 1, block), count)
    elif name == "ping-flood":
        p.flood(lambda i: frame(PING, 0, 0, struct.pack(">Q", i)), count)
    elif name == "settings-flood":
        p.flood(lambda i: frame(SETTINGS, 0, 0, struct.pack(">HI", 4, 65535)), count)
    elif name == "empty-data-flood":
        p.send(p.request(1, "/upload", "POST", end_stream=False))
        p.flood(lambda i: frame(DATA, 0, 1, b""), count)
    elif name == "websocket":
        p.report(**websocket(p, count))
        return
    elif name == "ordinary":
        # `count` requests on one connection, each answered (or reset).
        p.send(b"".join(p.request(2 * i + 1, "/") for i in range(count)))
        p.read_frames(10, until=lambda: sum(1 for v in p.responses.values()
                                            if v.get("complete") or "reset" in v) >= count)
    elif name == "slow-read":
        # A window of 1 byte per stream, never opened: the response waits on the client.
        p.ack_data = False
        p.send(settings(initial_window_size=1) + p.request(1, "/bytes/50000000"))
        p.read_frames(count, until=lambda: "reset" in p.responses.get(1, {}))
        # The connection still serves other streams.
        p.send(settings(initial_window_size=65535) + p.request(3, "/"))
        p.read_frames(5, until=lambda: p.responses.get(3, {}).get("complete"))
    else:
        malformed = {
            "transfer-encoding": [("transfer-encoding", "chunked")],
            "connection-header": [("connection", "keep-alive")],
            "uppercase-name": [("X-Upper", "1")],
            "unknown-pseudo": [(":bogus", "1")],
        }
        if name == "hpack-bomb":
            # One 4000-byte field, indexed once, then referenced by a byte each: a few
            # hundred bytes on the wire that decode to 100 KB.
            p.send(p.request(1, "/", extra=[("x-bomb", "b" * 4000)] * 25))
        elif name == "content-length-mismatch":
            p.send(p.request(1, "/upload", "POST", [("content-length", "10")], end_stream=False) +
                   frame(DATA, END_STREAM, 1, b"x" * 20))
        elif name == "content-length-short":
            p.send(p.request(1, "/upload", "POST", [("content-length", "100")], end_stream=False) +
                   frame(DATA, END_STREAM, 1, b"x" * 10))
        elif name == "missing-path":
            p.send(p.headers(1, [(":method", "GET"), (":scheme", "http"), (":authority", "x")]))
        elif name in malformed:
            p.send(p.request(1, "/", extra=malformed[name]))
        else:
            print(json.dumps({"error": "unknown scenario " + name}))
            sys.exit(2)
        p.read_frames(5, until=lambda: "reset" in p.responses.get(1, {}) or
                      p.responses.get(1, {}).get("complete"))
        # The connection is still usable after a malformed request.
        p.send(p.request(3, "/"))
        p.read_frames(5, until=lambda: p.responses.get(3, {}).get("complete"))
    p.report()


if __name__ == "__main__":
    scenario(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 1)
