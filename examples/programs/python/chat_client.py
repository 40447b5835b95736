# TCP chat client: connects, sends the line typed at the keyboard (your student ID and
# name), prints the server's answer, closes. Blocking sockets, like the course's example.
#
#   python3 chat_client.py 10.77.0.2 8888
#   labrun labs/chat.rhai --client "python3 examples/programs/python/chat_client.py {server_ip} {port}"
import socket
import sys

host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 8888

client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
client.connect((host, port))
print("connected to", host, port)
print("type your student ID and name:")
message = input()
client.sendall((message + "\n").encode())
answer = client.recv(1024).decode()
print("the server answered:", answer.strip())
client.close()
