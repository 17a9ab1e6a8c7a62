package io.backupkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** With --json stdout carries exactly one document, also when a command fails after producing its result. */
class JsonOutputTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    record Run(int code, String stdout, String stderr) {
        JsonNode onlyDocument() throws IOException {
            List<JsonNode> docs = MAPPER.readerFor(JsonNode.class).<JsonNode>readValues(stdout).readAll();
            assertEquals(1, docs.size(), () -> "exactly one JSON document on stdout:\n" + stdout);
            return docs.get(0);
        }
    }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = BackupkitCli.execute(args, out, err, Map.of());
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void failureWhileClosing_afterTheResult_printsOneErrorDocument_carryingTheResult() throws IOException {
        String repo = "failclose://" + UUID.randomUUID();
        Run init = run("init", "--repo", repo, "--unencrypted", "--json");
        assertEquals(ExitCodes.FAILED, init.code(), init.toString());
        JsonNode doc = init.onlyDocument();
        assertEquals("StorageException", doc.path("error").path("type").asText(), doc.toString());
        assertTrue(doc.path("error").path("message").asText().contains("connection pool"), doc.toString());
        assertTrue(doc.path("result").path("repository").path("id").isTextual(), "what was done is not lost: " + doc);

        Run list = run("list", "--repo", repo, "--json");
        assertEquals(ExitCodes.FAILED, list.code());
        JsonNode l = list.onlyDocument();
        assertTrue(l.path("error").isObject() && l.path("result").path("snapshots").isArray(), l.toString());

        Run keys = run("key", "list", "--repo", repo, "--json");
        assertEquals(1, MAPPER.readerFor(JsonNode.class).readValues(keys.stdout()).readAll().size(), keys.stdout());
    }

    @Test
    void success_printsTheCommandsDocument_only() throws IOException {
        String repo = "mem://" + UUID.randomUUID();
        Run init = run("init", "--repo", repo, "--unencrypted", "--json");
        assertEquals(0, init.code(), init.toString());
        JsonNode doc = init.onlyDocument();
        assertTrue(doc.path("repository").path("id").isTextual() && doc.path("error").isMissingNode(), doc.toString());
    }

    @Test
    void failure_beforeAnyResult_printsOneErrorDocument() throws IOException {
        Run r = run("list", "--repo", "mem://" + UUID.randomUUID(), "--json");
        assertEquals(ExitCodes.USAGE, r.code(), r.toString());
        JsonNode doc = r.onlyDocument();
        assertTrue(doc.path("error").isObject() && doc.path("result").isMissingNode(), doc.toString());
    }
}
