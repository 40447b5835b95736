# HTTP and WebSocket server with the standard library only: GET / serves a page whose
# JavaScript opens a WebSocket to /ws and sends the student's ID and name; on /ws the
# server answers every text message with its own ID and name, a ping with a pong, and a
# close frame with a close frame, then closes the TCP connection (RFC 6455).
#
#   labrun labs/websocket.rhai --server "python3 examples/programs/python/ws_server.py {port}"
import base64
import hashlib
import os
import socket
import struct
import sys
import threading

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
port = int(sys.argv[1]) if len(sys.argv) > 1 else 8888
me = os.environ.get("LABRUN_STUDENT_ID", "20215120807") + " " + os.environ.get("LABRUN_STUDENT_NAME", "Li Yihang")

PAGE = """<!doctype html><meta charset="utf-8"><title>WebSocket</title><pre id="log"></pre>
<script>
const ws = new WebSocket("ws://" + location.host + "/ws");
ws.onopen = () => ws.send("%s");
ws.onmessage = (e) => { document.getElementById("log").textContent += e.data + "\\n"; ws.close(1000, "done"); };
</script>""" % me


def read_exact(conn, n):
    data = b""
    while len(data) < n:
        part = conn.recv(n - len(data))
        if not part:
            raise ConnectionError("closed")
        data += part
    return data


def send_frame(conn, opcode, payload):
    header = bytes([0x80 | opcode])
    if len(payload) < 126:
        header += bytes([len(payload)])
    elif len(payload) < 65536:
        header += bytes([126]) + struct.pack("!H", len(payload))
    else:
        header += bytes([127]) + struct.pack("!Q", len(payload))
    conn.sendall(header + payload)  # a server never masks


def websocket(conn, key):
    accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
    conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Accept: " + accept + "\r\n\r\n").encode())
    while True:
        b0, b1 = read_exact(conn, 2)
        opcode, length = b0 & 0x0F, b1 & 0x7F
        if length == 126:
            length = struct.unpack("!H", read_exact(conn, 2))[0]
        elif length == 127:
            length = struct.unpack("!Q", read_exact(conn, 8))[0]
        mask = read_exact(conn, 4) if b1 & 0x80 else b"\0\0\0\0"
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(read_exact(conn, length)))
        if opcode == 1:
            print("received:", payload.decode())
            send_frame(conn, 1, me.encode())
        elif opcode == 9:
            send_frame(conn, 10, payload)
        elif opcode == 8:
            send_frame(conn, 8, payload[:2])
            print("closing handshake done")
            return


def serve(conn):
    head = b""
    while b"\r\n\r\n" not in head:
        part = conn.recv(4096)
        if not part:
            conn.close()
            return
        head += part
    lines = head.decode("latin-1").split("\r\n")
    print(lines[0])
    headers = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
    try:
        if lines[0].startswith("GET /ws") and "sec-websocket-key" in headers:
            websocket(conn, headers["sec-websocket-key"])
        else:
            body = PAGE.encode()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
    except ConnectionError:
        pass
    conn.close()  # the server closes the TCP connection first


server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("", port))
server.listen(5)
print("listening on port", port)
while True:
    conn, addr = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
