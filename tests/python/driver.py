"""A python-socketio client driven over stdin/stdout, one JSON object per line: the same
protocol as tests/node/driver.mjs, so the Rust tests drive both clients alike."""
import json
import sys
import threading
from urllib.parse import urlsplit

import socketio

sockets = {}
out_lock = threading.Lock()
counter = [0]


def send(obj):
    with out_lock:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def encode(v):
    if isinstance(v, (bytes, bytearray)):
        return {"$bin": list(v)}
    if isinstance(v, (list, tuple)):
        return [encode(x) for x in v]
    if isinstance(v, dict):
        return {k: encode(x) for k, x in v.items()}
    return v


def decode(v):
    if isinstance(v, list):
        return [decode(x) for x in v]
    if isinstance(v, dict):
        if isinstance(v.get("$bin"), list):
            return bytes(v["$bin"])
        return {k: decode(x) for k, x in v.items()}
    return v


def as_data(args):
    """A list of arguments as python-socketio wants them: one value, or a tuple."""
    args = decode(args)
    return args[0] if len(args) == 1 else tuple(args)


def op_connect(cmd):
    parts = urlsplit(cmd["url"])
    base = f"{parts.scheme}://{parts.netloc}"
    ns = parts.path if parts.path not in ("", "/") else "/"
    counter[0] += 1
    name = f"s{counter[0]}"
    sio = socketio.Client(reconnection=False)
    refused = {}

    def on_any(event, *args):
        send({"sock": name, "event": event, "args": encode(list(args))})

    def on_connect_error(data=None):
        refused["message"] = data.get("message") if isinstance(data, dict) else str(data)

    def on_disconnect(reason=None):
        send({"sock": name, "event": "disconnect", "args": [str(reason)]})

    sio.on("*", on_any, namespace=ns)
    sio.on("connect_error", on_connect_error, namespace=ns)
    sio.on("disconnect", on_disconnect, namespace=ns)
    try:
        sio.connect(
            base,
            namespaces=[ns],
            auth=cmd.get("auth") or {},
            transports=cmd.get("transports") or ["websocket"],
            wait_timeout=5,
        )
    except Exception as e:  # connect_error, or a transport failure
        return {"error": refused.get("message") or str(e)}
    sockets[name] = (sio, ns)
    return {"sock": name, "sid": sio.get_sid(ns)}


def op_emit(cmd):
    if cmd["sock"] not in sockets:
        return {"error": f"no socket {cmd['sock']}"}
    sio, ns = sockets[cmd["sock"]]
    args = cmd.get("args") or []
    kwargs = {"namespace": ns}
    if args:
        kwargs["data"] = as_data(args)
    if not cmd.get("ack"):
        sio.emit(cmd["event"], **kwargs)
        return {"ok": True}
    done = threading.Event()
    reply = {}

    def callback(*ack):
        reply["ack"] = encode(list(ack))
        done.set()

    sio.emit(cmd["event"], callback=callback, **kwargs)
    if not done.wait(cmd.get("timeout", 5000) / 1000):
        return {"error": "ack timeout"}
    return reply


def op_burst(cmd):
    sio, ns = sockets[cmd["sock"]]
    results = [None] * cmd["count"]
    done = threading.Semaphore(0)
    for i in range(cmd["count"]):
        def callback(*ack, i=i):
            results[i] = encode(list(ack))
            done.release()
        sio.emit(cmd["event"], data=i, namespace=ns, callback=callback)
    for _ in range(cmd["count"]):
        if not done.acquire(timeout=cmd.get("timeout", 5000) / 1000):
            return {"error": "ack timeout"}
    return {"acks": results}


def op_disconnect(cmd):
    entry = sockets.pop(cmd["sock"], None)
    if entry:
        entry[0].disconnect()
    return {"ok": True}


OPS = {"connect": op_connect, "emit": op_emit, "burst": op_burst, "disconnect": op_disconnect}

for line in sys.stdin:
    cmd = json.loads(line)
    try:
        result = OPS[cmd["op"]](cmd)
    except Exception as e:
        result = {"error": repr(e)}
    send({"id": cmd["id"], **result})

for sio, _ in sockets.values():
    sio.disconnect()
