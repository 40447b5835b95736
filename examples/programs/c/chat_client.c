/* TCP chat client: connects, sends the line typed at the keyboard (your student ID and
 * name), prints the server's answer, closes. Blocking sockets, like the course's example.
 *
 *   cc -o chat_client chat_client.c && ./chat_client 10.77.0.2 8888
 *   labrun labs/chat.rhai --client "./chat_client {server_ip} {port}" --source chat_client.c
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
    const char *host = argc > 1 ? argv[1] : "127.0.0.1";
    int port = argc > 2 ? atoi(argv[2]) : 8888;
    char message[256], answer[1024];
    struct sockaddr_in addr;
    int sock;
    ssize_t n;

    setvbuf(stdout, NULL, _IOLBF, 0); /* a line at a time, even into a pipe */
    sock = socket(AF_INET, SOCK_STREAM, 0);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    inet_pton(AF_INET, host, &addr.sin_addr);
    if (connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("connect");
        return 1;
    }
    printf("connected to %s %d\n", host, port);
    printf("type your student ID and name:\n");
    if (scanf(" %255[^\n]", message) != 1) {
        fprintf(stderr, "no input\n");
        return 1;
    }
    strcat(message, "\n");
    send(sock, message, strlen(message), 0);
    n = recv(sock, answer, sizeof answer - 1, 0);
    answer[n > 0 ? n : 0] = '\0';
    answer[strcspn(answer, "\r\n")] = '\0';
    printf("the server answered: %s\n", answer);
    close(sock);
    return 0;
}
