#!/usr/bin/python3
"""WebSocket peers for the tunnel tests, from Debian's python3-websockets.

  websocket_peer.py serve PORT
      An echo server on 127.0.0.1:PORT: answers each message with "echo:" + message,
      and the message "whoami" with the request headers it saw, as JSON.
  websocket_peer.py talk URL COUNT [--ca FILE --server-name NAME]
                    [--pause-after N --pause-seconds S]
      Connects to URL (ws:// or wss://), sends COUNT messages of growing size, checks each
      echo, and prints a JSON summary. With --pause-after, waits S seconds after message
      N (so a test can act on ballast meanwhile) and goes on over the same connection.
"""
import argparse
import asyncio
import json
import ssl
import sys

import websockets


async def serve(port):
    async def handler(ws):
        async for message in ws:
            if message == "whoami":
                await ws.send(json.dumps(dict(ws.request_headers.raw_items())))
            else:
                await ws.send("echo:" + message if isinstance(message, str) else b"echo:" + message)

    async with websockets.serve(handler, "127.0.0.1", port, max_size=2**24):
        print("serving", flush=True)
        await asyncio.Future()


async def talk(args):
    options = {}
    if args.url.startswith("wss://"):
        options["ssl"] = ssl.create_default_context(cafile=args.ca)
        if args.server_name:
            options["server_hostname"] = args.server_name
    summary = {"sent": 0, "echoed": 0, "bytes": 0}
    async with websockets.connect(args.url, max_size=2**24, open_timeout=10,
                                  close_timeout=5, **options) as ws:
        await ws.send("whoami")
        summary["headers"] = json.loads(await asyncio.wait_for(ws.recv(), 10))
        for i in range(args.count):
            text = ("m%d:" % i) + "x" * (i * 977 % 70000)
            binary = i % 3 == 2
            message = text.encode() if binary else text
            await ws.send(message)
            summary["sent"] += 1
            answer = await asyncio.wait_for(ws.recv(), 10)
            expected = b"echo:" + message if binary else "echo:" + message
            if answer != expected:
                summary["mismatch"] = i
                break
            summary["echoed"] += 1
            summary["bytes"] += len(message)
            if args.pause_after is not None and i + 1 == args.pause_after:
                print("paused", flush=True)
                await asyncio.sleep(args.pause_seconds)
    print(json.dumps(summary), flush=True)
    return 0 if summary["echoed"] == args.count else 1


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("serve")
    s.add_argument("port", type=int)
    t = sub.add_parser("talk")
    t.add_argument("url")
    t.add_argument("count", type=int)
    t.add_argument("--ca")
    t.add_argument("--server-name", help="the TLS name to verify (the URL has an address)")
    t.add_argument("--pause-after", type=int)
    t.add_argument("--pause-seconds", type=float, default=0)
    args = parser.parse_args()
    if args.mode == "serve":
        asyncio.run(serve(args.port))
        return 0
    return asyncio.run(talk(args))


if __name__ == "__main__":
    sys.exit(main())
