#!/usr/bin/env python3
"""HTTP exchanges on loopback whose segmentation the script controls (each send is one
segment: TCP_NODELAY and a pause between sends), for tests/corpus/http.pcap."""
import socket, threading, time

PAUSE = 0.02

def sends(sock, parts):
    for p in parts:
        sock.sendall(p)
        time.sleep(PAUSE)

def recv_until_idle(sock, t=0.15):
    sock.settimeout(t)
    data = b''
    try:
        while True:
            d = sock.recv(65536)
            if not d:
                break
            data += d
    except socket.timeout:
        pass
    return data

# Each exchange: server port, client parts, server parts, who closes.
big = b'x' * 5000
html = b'<html><body>hello</body></html>\n'
def png():
    """A valid 1x1 PNG."""
    import struct, zlib
    def chunk(kind, data):
        return struct.pack('!I', len(data)) + kind + data + struct.pack('!I', zlib.crc32(kind + data))
    ihdr = struct.pack('!IIBBBBB', 1, 1, 8, 0, 0, 0, 0)
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', zlib.compress(b'\0\0')) + chunk(b'IEND', b'')

GIF = bytes.fromhex('47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b')
JPEG = bytes.fromhex('ffd8ffe000104a46494600010100000100010000ffd9')

def image(kind, body):
    return b'HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n' % (kind, len(body)) + body

EX = [
    (80, [b'GET / HTTP/1.1\r\nHost: lab\r\n\r\n'],
         [b'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n' % len(html) + html]),
    (80, [b'GET /big HTTP/1.1\r\nHost: lab\r\n\r\n'],
         [b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5000\r\n\r\n' + big[:1000], big[1000:2460], big[2460:3920], big[3920:]]),
    (8080, [b'GET /spl', b'it HTTP/1.1\r\nHost: lab\r\n', b'Accept: */*\r\n\r\n'],
         [b'HTTP/1.1 404 Not Found\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 9\r\n\r\nnot found']),
    (80, [b'HEAD /h HTTP/1.1\r\nHost: lab\r\n\r\n'],
         [b'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1234\r\n\r\n']),
    (8080, [b'POST /form HTTP/1.1\r\nHost: lab\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\n', b'a=1&b=2'],
         [b'HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}']),
    (80, [b'GET /c HTTP/1.1\r\nHost: lab\r\nIf-None-Match: "x"\r\n\r\n'],
         [b'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n']),
    (80, [b'DELETE /d HTTP/1.1\r\nHost: lab\r\n\r\n'],
         [b'HTTP/1.1 204 No Content\r\n\r\n']),
    (3128, [b'GET /chunk HTTP/1.1\r\nHost: lab\r\n\r\n'],
         [b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n', b'6\r\n world\r\n0\r\n\r\n']),
    (80, [b'GET /old HTTP/1.0\r\n\r\n'],
         [b'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil', b' the end']),
    (8080, [b'GET /a HTTP/1.1\r\nHost: lab\r\n\r\nGET /b HTTP/1.1\r\nHost: lab\r\n\r\n'],
         [b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab', b'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n']),
    (80, [b'hello, not http\r\n'], [b'nor this\r\n']),
    (8080, [b'GET /i HTTP/1.1\r\nHost: lab\r\n\r\n'],
         [image(b'image/png', png()), image(b'image/gif', GIF), image(b'image/jpeg', JPEG),
          image(b'image/gif', b'not a gif')]),
    (80, [b'OPTIONS * HTTP/1.1\r\nHost: lab\r\n\r\n'],
         [b'HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 4\r\n\r\n\x89PNG']),
]

def server(port, ready):
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('127.0.0.1', port)); ls.listen(8); ready.set()
    while True:
        c, _ = ls.accept()
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        job = JOBS[port].pop(0)
        recv_until_idle(c)
        sends(c, job)
        time.sleep(0.05)
        c.close()

JOBS = {}
for port, _, srv in EX:
    JOBS.setdefault(port, []).append(srv)
for port in JOBS:
    ev = threading.Event(); threading.Thread(target=server, args=(port, ev), daemon=True).start(); ev.wait()

for i, (port, cli, _) in enumerate(EX):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('127.0.0.1', 50000 + i)); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.connect(('127.0.0.1', port))
    sends(s, cli)
    recv_until_idle(s, 0.3)
    s.close()
    time.sleep(0.05)
