#!/usr/bin/env python3
"""A trivial HTTP receiver for the upload baseline: writes each request body to a file, 1 MiB at a time.
Usage: receiver.py PORT OUTFILE"""
import http.server
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    # HTTP/1.1 makes the handler answer curl's `Expect: 100-continue` at once, as Intake does.
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        remaining = int(self.headers["Content-Length"])
        with open(sys.argv[2], "wb") as out:
            while remaining:
                chunk = self.rfile.read(min(remaining, 1 << 20))
                if not chunk:
                    break
                out.write(chunk)
                remaining -= len(chunk)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"OK")

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
