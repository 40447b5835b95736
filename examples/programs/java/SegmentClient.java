// TCP client that sends 2950 bytes in one call (twice the 1460-byte MSS plus 30): the
// kernel, not the program, cuts them into segments. It starts with your ID and name.
//
//   javac SegmentClient.java
//   labrun labs/segment.rhai --client "java -cp examples/programs/java SegmentClient {server_ip} {port}" --source examples/programs/java/SegmentClient.java
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

public class SegmentClient {
    public static void main(String[] args) throws Exception {
        String host = args.length > 0 ? args[0] : "127.0.0.1";
        int port = args.length > 1 ? Integer.parseInt(args[1]) : 8888;
        String me = System.getenv().getOrDefault("LABRUN_STUDENT_ID", "20215120807") + " "
                + System.getenv().getOrDefault("LABRUN_STUDENT_NAME", "Li Yihang") + " ";
        byte[] data = new byte[2950];
        Arrays.fill(data, (byte) 'x');
        byte[] head = me.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(head, 0, data, 0, head.length);
        try (Socket socket = new Socket(host, port)) {
            OutputStream out = socket.getOutputStream();
            out.write(data); // one write of 2950 bytes
            out.flush();
            System.out.println("sent " + data.length + " bytes in one write");
            socket.shutdownOutput();
            InputStream in = socket.getInputStream();
            while (in.read() != -1) {
            }
        }
    }
}
