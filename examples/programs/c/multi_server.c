/* A server for several clients at once, one process per connection (fork, the manual's
 * concurrent server): it greets each client, answers "Hello NAME!" to each line and
 * "Good bye!" to "exit", then closes that connection.
 *
 *   cc -o multi_server multi_server.c && ./multi_server 9000
 *   labrun labs/multi_client.rhai --server "./multi_server {port}" --source multi_server.c
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void serve(int conn, struct sockaddr_in *peer) {
    char line[1024], reply[1100];
    FILE *in = fdopen(dup(conn), "r");
    const char *welcome = "Welcome!\nWhat's your name?\n";

    send(conn, welcome, strlen(welcome), 0);
    while (in && fgets(line, sizeof line, in)) {
        line[strcspn(line, "\n")] = '\0';
        printf("%s %d said: %s\n", inet_ntoa(peer->sin_addr), ntohs(peer->sin_port), line);
        if (strcmp(line, "exit") == 0) {
            send(conn, "Good bye!\n", 10, 0);
            break;
        }
        snprintf(reply, sizeof reply, "Hello %s!\n", line);
        send(conn, reply, strlen(reply), 0);
    }
    if (in) {
        fclose(in);
    }
    close(conn);
}

int main(int argc, char *argv[]) {
    int port = argc > 1 ? atoi(argv[1]) : 9000;
    struct sockaddr_in addr, peer;
    socklen_t peer_len;
    int one = 1, server, conn;

    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGCHLD, SIG_IGN); /* finished children are reaped by the kernel */
    server = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    addr.sin_port = htons(port);
    if (bind(server, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(server, 5) < 0) {
        perror("bind/listen");
        return 1;
    }
    printf("listening on port %d\n", port);
    for (;;) {
        peer_len = sizeof peer;
        conn = accept(server, (struct sockaddr *)&peer, &peer_len);
        if (conn < 0) {
            continue;
        }
        printf("connected: %s %d\n", inet_ntoa(peer.sin_addr), ntohs(peer.sin_port));
        if (fork() == 0) {
            close(server);
            serve(conn, &peer);
            _exit(0);
        }
        close(conn);
    }
}
