#!/usr/bin/env python3
"""A webhook receiver for the tests: listens on a free loopback port, prints it, and appends every
request it gets (headers and body) as one JSON line to the log file.

  webhook-receiver.py LOG [--fail-first N] [--hang] [--redirect URL]

--fail-first N  answers 500 to the first N requests, 200 after
--hang          never answers (the sender must give up on its own)
--redirect URL  answers 302 to URL (the sender must not follow it)
"""
import http.server
import json
import os
import sys
import threading
import time

log_path = sys.argv[1]
args = sys.argv[2:]
fail_first = int(args[args.index("--fail-first") + 1]) if "--fail-first" in args else 0
hang = "--hang" in args
redirect = args[args.index("--redirect") + 1] if "--redirect" in args else None
lock = threading.Lock()
count = 0


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global count
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode("utf-8")
        with lock:
            count += 1
            n = count
            with open(log_path, "a") as log:
                log.write(json.dumps({"path": self.path, "headers": dict(self.headers), "body": body}) + "\n")
        if hang:
            time.sleep(3600)
            return
        if redirect:
            self.send_response(302)
            self.send_header("Location", redirect)
        elif n <= fail_first:
            self.send_response(500)
        else:
            self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_):
        pass


def exit_with_parent(parent):
    # A test process that dies without stopping its receiver must not leave it behind.
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


threading.Thread(target=exit_with_parent, args=(os.getppid(),), daemon=True).start()
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
