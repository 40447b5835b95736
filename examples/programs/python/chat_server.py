# TCP chat server: waits for one client, prints the student ID and name it sends, and
# answers with its own. Blocking sockets and one connection, like the course's example.
#
#   python3 chat_server.py 8888
#   labrun labs/chat.rhai --server "python3 examples/programs/python/chat_server.py {port}"
import os
import socket
import sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("LABRUN_PORT", "8888"))
my_id = os.environ.get("LABRUN_STUDENT_ID", "20215120807")
my_name = os.environ.get("LABRUN_STUDENT_NAME", "Li Yihang")

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("", port))
server.listen(1)
print("listening on port", port)

conn, addr = server.accept()  # the kernel has completed the three-way handshake
print("connected:", addr[0], addr[1])
data = conn.recv(1024).decode()
print("received:", data.strip())
conn.sendall(f"{my_id} {my_name}\n".encode())  # our own ID and name
while conn.recv(1024):  # b"" once the client has closed (its FIN)
    pass
print("the client closed the connection")
conn.close()
server.close()
