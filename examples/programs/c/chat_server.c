/* TCP chat server: waits for one client, prints the student ID and name it sends, and
 * answers with its own. Blocking sockets and one connection, like the course's example.
 *
 *   cc -o chat_server chat_server.c && ./chat_server 8888
 *   labrun labs/chat.rhai --server "./chat_server {port}" --source chat_server.c
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
    int port = argc > 1 ? atoi(argv[1]) : 8888;
    const char *id = getenv("LABRUN_STUDENT_ID");
    const char *name = getenv("LABRUN_STUDENT_NAME");
    char buf[1024], reply[256];
    struct sockaddr_in addr, peer;
    socklen_t peer_len = sizeof peer;
    int one = 1, server, conn;
    ssize_t n;

    setvbuf(stdout, NULL, _IOLBF, 0); /* a line at a time, even into a pipe */
    server = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    addr.sin_port = htons(port);
    if (bind(server, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(server, 1) < 0) {
        perror("bind/listen");
        return 1;
    }
    printf("listening on port %d\n", port);

    conn = accept(server, (struct sockaddr *)&peer, &peer_len);
    if (conn < 0) {
        perror("accept");
        return 1;
    }
    printf("connected: %s %d\n", inet_ntoa(peer.sin_addr), ntohs(peer.sin_port));
    n = recv(conn, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    printf("received: %s\n", buf);
    snprintf(reply, sizeof reply, "%s %s\n", id ? id : "20215120807", name ? name : "Li Yihang");
    send(conn, reply, strlen(reply), 0);
    while (recv(conn, buf, sizeof buf, 0) > 0) /* 0 once the client has closed */
        ;
    printf("the client closed the connection\n");
    close(conn);
    close(server);
    return 0;
}
