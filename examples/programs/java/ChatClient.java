// TCP chat client: connects, sends the line typed at the keyboard (your student ID and
// name), prints the server's answer, closes. Blocking sockets, like the course's example.
//
//   javac ChatClient.java && java ChatClient 10.77.0.2 8888
//   labrun labs/chat.rhai --client "java -cp examples/programs/java ChatClient {server_ip} {port}" --source examples/programs/java/ChatClient.java
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.Socket;
import java.util.Scanner;

public class ChatClient {
    public static void main(String[] args) throws Exception {
        String host = args.length > 0 ? args[0] : "127.0.0.1";
        int port = args.length > 1 ? Integer.parseInt(args[1]) : 8888;
        try (Socket socket = new Socket(host, port)) {
            System.out.println("connected to " + host + " " + port);
            System.out.println("type your student ID and name:");
            String message = new Scanner(System.in, "UTF-8").nextLine();
            PrintWriter out = new PrintWriter(socket.getOutputStream(), true);
            out.print(message + "\n");
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), "UTF-8"));
            System.out.println("the server answered: " + in.readLine());
        }
    }
}
