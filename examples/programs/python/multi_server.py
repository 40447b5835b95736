# A server for several clients at once, one thread per connection (the manual's threaded
# server): it greets each client, answers "Hello NAME!" to each line and "Good bye!" to
# "exit", then closes that connection.
#
#   labrun labs/multi_client.rhai --server "python3 examples/programs/python/multi_server.py {port}"
import socket
import sys
import threading

port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000


def serve(conn, addr):
    conn.sendall(b"Welcome!\nWhat's your name?\n")
    for line in conn.makefile("r", encoding="utf-8"):
        line = line.rstrip("\n")
        print(addr[0], addr[1], "said:", line)
        if line == "exit":
            conn.sendall(b"Good bye!\n")
            break
        conn.sendall(f"Hello {line}!\n".encode())
    conn.close()


server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("", port))
server.listen(5)
print("listening on port", port)
while True:
    conn, addr = server.accept()
    print("connected:", addr[0], addr[1])
    threading.Thread(target=serve, args=(conn, addr), daemon=True).start()
