// TCP chat server: waits for one client, prints the student ID and name it sends, and
// answers with its own. Blocking sockets and one connection, like the course's example.
//
//   javac ChatServer.java && java ChatServer 8888
//   labrun labs/chat.rhai --server "java -cp examples/programs/java ChatServer {port}" --source examples/programs/java/ChatServer.java
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

public class ChatServer {
    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 8888;
        String id = System.getenv().getOrDefault("LABRUN_STUDENT_ID", "20215120807");
        String name = System.getenv().getOrDefault("LABRUN_STUDENT_NAME", "Li Yihang");
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(port), 1);
            System.out.println("listening on port " + port);
            try (Socket conn = server.accept()) { // the kernel has completed the handshake
                System.out.println("connected: " + conn.getInetAddress().getHostAddress() + " " + conn.getPort());
                BufferedReader in = new BufferedReader(new InputStreamReader(conn.getInputStream(), "UTF-8"));
                PrintWriter out = new PrintWriter(conn.getOutputStream(), true);
                System.out.println("received: " + in.readLine());
                out.print(id + " " + name + "\n"); // our own ID and name
                out.flush();
                while (in.readLine() != null) { // null once the client has closed (its FIN)
                }
                System.out.println("the client closed the connection");
            }
        }
    }
}
