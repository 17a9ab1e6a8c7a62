package io.backupkit.redis.internal;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@link RestorePipeline} against a scripted server: replies are matched to the commands in order,
 * the first error names the key of the command it answers, whatever other replies surround it.
 */
class RestorePipelineTest {

    /** A one-connection server that answers the n-th command (counting from 0) with {@code reply.apply(n)}. */
    private static final class Scripted implements AutoCloseable {
        final ServerSocket server;
        final CompletableFuture<List<String>> commands;

        Scripted(IntFunction<String> reply) throws Exception {
            server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
            commands = CompletableFuture.supplyAsync(() -> {
                List<String> seen = new ArrayList<>();
                try (Socket s = server.accept(); InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                    while (true) {
                        String head = line(in);
                        if (head == null) {
                            return seen;
                        }
                        int args = Integer.parseInt(head.substring(1));
                        StringBuilder cmd = new StringBuilder();
                        for (int i = 0; i < args; i++) {
                            int len = Integer.parseInt(line(in).substring(1));
                            byte[] b = in.readNBytes(len + 2);
                            cmd.append(i == 0 ? "" : " ").append(new String(b, 0, Math.min(len, 20), StandardCharsets.ISO_8859_1));
                        }
                        out.write(reply.apply(seen.size()).getBytes(StandardCharsets.UTF_8));
                        out.flush();
                        seen.add(cmd.toString());
                    }
                } catch (Exception e) {
                    return seen;
                }
            });
        }

        RedisUrl url() {
            return RedisUrl.parse("redis://127.0.0.1:" + server.getLocalPort());
        }

        @Override
        public void close() throws Exception {
            server.close();
        }
    }

    private static String line(InputStream in) throws java.io.IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != '\n') {
            if (c < 0) {
                return null;
            }
            if (c != '\r') {
                b.write(c);
            }
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void everyReplyKindIsConsumed_andTheFirstErrorNamesItsCommandsKey() throws Exception {
        // replies of every shape before the error, a second error after it: only the first is reported
        String[] replies = {"+OK\r\n", ":12\r\n", "$3\r\nabc\r\n", "$-1\r\n", "*2\r\n+OK\r\n$2\r\nxy\r\n",
                "-BUSYKEY Target key name already exists.\r\n", "-ERR later\r\n"};
        try (Scripted server = new Scripted(n -> n < replies.length ? replies[n] : "+OK\r\n");
             RestorePipeline pipe = new RestorePipeline(RespConnection.open(server.url(), null, Duration.ofSeconds(30)), 3)) {
            for (int i = 0; i < replies.length; i++) {
                pipe.send(b("key:" + i), b("RESTORE"), b("key:" + i), b("0"), new byte[] {1, 2, 3});
            }
            RestorePipeline.RefusedException e = assertThrows(RestorePipeline.RefusedException.class, pipe::drain);
            assertEquals("key:5", new String(e.failure().key(), StandardCharsets.UTF_8));
            assertEquals("RESTORE", e.failure().command());
            assertEquals("BUSYKEY Target key name already exists.", e.failure().message());
            // later sends fail at once with the same refusal
            assertThrows(RestorePipeline.RefusedException.class, () -> pipe.send(b("k"), b("RESTORE"), b("k"), b("0"), new byte[0]));
        }
    }

    @Test
    void callWaitsForEverythingSentBefore_andReturnsItsOwnReply() throws Exception {
        try (Scripted server = new Scripted(n -> n == 5 ? "-ERR DB index is out of range\r\n" : "+OK\r\n");
             RestorePipeline pipe = new RestorePipeline(RespConnection.open(server.url(), null, Duration.ofSeconds(30)), 2)) {
            for (int i = 0; i < 5; i++) {
                pipe.send(b("k" + i), b("RESTORE"), b("k" + i), b("0"), new byte[] {9});
            }
            Object r = pipe.call(b("SELECT"), b("16"));
            assertEquals(new RespConnection.RespError("ERR DB index is out of range"), r);
            assertEquals("OK", pipe.call(b("SELECT"), b("1")));
            pipe.drain();
        }
    }

    @Test
    void aConnectionClosedByTheServer_failsTheNextCall() throws Exception {
        try (Scripted server = new Scripted(n -> {
                 throw new IllegalStateException("hang up");
             });
             RestorePipeline pipe = new RestorePipeline(RespConnection.open(server.url(), null, Duration.ofSeconds(30)), 4)) {
            pipe.send(b("k"), b("RESTORE"), b("k"), b("0"), new byte[] {1});
            assertThrows(java.io.UncheckedIOException.class, pipe::drain);
        }
    }
}
