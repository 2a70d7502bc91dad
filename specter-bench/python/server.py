"""Benchmark server for the original Python SPECTER (specter-runtime 0.1.2).

Usage: python server.py S      (S = number of `bench` subscribers, 1..10)

Flask-SocketIO (async_mode='gevent', websocket via gevent-websocket) serves
Socket.IO v5 / Engine.IO v4 on 127.0.0.1 with an OS-chosen port, printed as
`listening on http://127.0.0.1:PORT` once the socket accepts connections.

The `bench` event fans out through SPECTER's SocketIngress: S Controllers,
booted by a ServiceManager (specter.boot), each subscribe to `bench` with
priority = their index. Every subscriber bumps a shared counter; only the
last one returns {"ok": True}, which SocketIngress.dispatch hands back to
Flask-SocketIO as the ack. A plain Flask-SocketIO `count` event acks the
counter, for checking the fanout.
"""
from gevent import monkey

monkey.patch_all()

import signal  # noqa: E402
import sys  # noqa: E402

import gevent  # noqa: E402
from flask import Flask  # noqa: E402
from flask_socketio import SocketIO  # noqa: E402
from gevent import pywsgi  # noqa: E402
from geventwebsocket.handler import WebSocketHandler  # noqa: E402
from specter import Controller, boot  # noqa: E402

hits = 0  # bench subscriber invocations; greenlets never yield mid-update


class BenchSubscriber(Controller):
    """One `bench` subscriber; the last one in priority order acks."""

    def __init__(self, index, last):
        super().__init__(f'bench_{index}')
        self.index = index
        self.last = last

    def build_events(self, handler):
        handler.on('bench', self.on_bench, priority=self.index)

    def on_bench(self, data=None):
        global hits
        hits += 1
        return {'ok': True} if self.last else None


def main():
    if len(sys.argv) != 2 or not sys.argv[1].isdigit() or not 1 <= int(sys.argv[1]) <= 10:
        sys.exit('usage: python server.py S   (S = subscribers, 1..10)')
    subscribers = int(sys.argv[1])

    app = Flask(__name__)
    socketio = SocketIO(app, async_mode='gevent', logger=False, engineio_logger=False)

    @socketio.on('count')
    def count(*_args):
        return hits

    manager = boot(app, socketio, controllers=[
        BenchSubscriber(i, last=(i == subscribers - 1)) for i in range(subscribers)
    ])

    server = pywsgi.WSGIServer(('127.0.0.1', 0), app,
                               handler_class=WebSocketHandler, log=None)
    server.start()  # bound, listening and accepting from here on
    print(f'listening on http://127.0.0.1:{server.server_port}', flush=True)

    for sig in (signal.SIGTERM, signal.SIGINT):
        gevent.signal_handler(sig, server.stop)
    server.serve_forever()
    manager.shutdown()


if __name__ == '__main__':
    main()
