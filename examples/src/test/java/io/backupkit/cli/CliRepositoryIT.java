package io.backupkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Repository commands through the real jar: init, list, key list/add/remove, wrong passwords. */
class CliRepositoryIT {
    private static final String PASSWORD = "correct horse battery staple";

    @TempDir
    Path dir;

    private Map<String, String> env(String password) {
        return Map.of("BACKUPKIT_PASSWORD", password);
    }

    @Test
    void init_json_describesTheNewRepository_andNeverShowsThePassword() {
        Path repo = dir.resolve("repo");
        CliProcess.Result r = CliProcess.run(env(PASSWORD), "init", "--repo", repo.toString(), "--json").expect(0);
        JsonNode doc = r.json().path("repository");
        assertTrue(doc.path("id").asText().matches("[0-9a-f]{8,}"), r.toString());
        assertTrue(doc.path("encrypted").asBoolean());
        assertTrue(doc.path("location").asText().contains("repo"));
        assertTrue(doc.path("compression").asText().startsWith("zstd"), r.toString());
        assertTrue(Files.exists(repo.resolve("config")));
        assertFalse(r.stdout().contains(PASSWORD) || r.stderr().contains(PASSWORD));
    }

    @Test
    void init_human_andList_ofEmptyRepository() {
        Path repo = dir.resolve("repo");
        CliProcess.Result init = CliProcess.run(env(PASSWORD), "init", "--repo", repo.toString()).expect(0);
        assertTrue(init.stdout().startsWith("created repository "), init.toString());
        assertTrue(init.stdout().contains("encrypted"), init.toString());

        CliProcess.Result list = CliProcess.run(env(PASSWORD), "list", "--repo", repo.toString()).expect(0);
        assertTrue(list.stdout().startsWith("no snapshots in "), list.toString());

        JsonNode doc = CliProcess.run(env(PASSWORD), "list", "--repo", repo.toString(), "--json").expect(0).json();
        assertEquals(0, doc.path("snapshots").size());
        assertTrue(doc.path("snapshots").isArray());
    }

    @Test
    void init_twice_isRefused() {
        Path repo = dir.resolve("repo");
        CliProcess.run(env(PASSWORD), "init", "--repo", repo.toString()).expect(0);
        CliProcess.Result again = CliProcess.run(env(PASSWORD), "init", "--repo", repo.toString(), "--json");
        assertTrue(again.exitCode() == 2 || again.exitCode() == 1, again.toString());
        assertTrue(again.json().path("error").path("message").asText().length() > 0);
    }

    @Test
    void wrongPassword_exits3_withoutEchoingEitherPassword() {
        Path repo = dir.resolve("repo");
        CliProcess.run(env(PASSWORD), "init", "--repo", repo.toString()).expect(0);
        CliProcess.Result r = CliProcess.run(env("not the password"), "list", "--repo", repo.toString()).expect(3);
        assertTrue(r.stderr().contains("BACKUPKIT_PASSWORD"), "says where the password comes from: " + r);
        assertFalse(r.stderr().contains("not the password") || r.stderr().contains(PASSWORD));
        assertEquals("", r.stdout());

        JsonNode err = CliProcess.run(env("not the password"), "list", "--repo", repo.toString(), "--json").expect(3).json();
        assertEquals(3, err.path("error").path("exitCode").asInt());
        assertEquals("KeyException", err.path("error").path("type").asText());
    }

    @Test
    void passwordFile_isReadFromItsFirstLine() throws Exception {
        Path repo = dir.resolve("repo");
        Path pwFile = dir.resolve("pw");
        Files.writeString(pwFile, PASSWORD + "\n");
        CliProcess.run(Map.of(), "init", "--repo", repo.toString(), "--password-file", pwFile.toString()).expect(0);
        CliProcess.run(env(PASSWORD), "list", "--repo", repo.toString()).expect(0);
        CliProcess.run(Map.of(), "list", "--repo", "file:" + repo, "--password-file", pwFile.toString()).expect(0);
    }

    @Test
    void repoFromEnvironment() {
        Path repo = dir.resolve("repo");
        CliProcess.run(Map.of("BACKUPKIT_PASSWORD", PASSWORD, "BACKUPKIT_REPO", repo.toString()), "init").expect(0);
        CliProcess.run(Map.of("BACKUPKIT_PASSWORD", PASSWORD, "BACKUPKIT_REPO", repo.toString()), "list", "--json").expect(0).json();
    }

    @Test
    void openingAMissingRepository_fails_withoutCreatingIt() {
        Path repo = dir.resolve("nothing-here");
        CliProcess.Result r = CliProcess.run(env(PASSWORD), "list", "--repo", repo.toString());
        assertTrue(r.exitCode() == 1 || r.exitCode() == 2, r.toString());
        assertFalse(Files.exists(repo.resolve("config")));
    }

    @Test
    void unencryptedRepository_opensWithoutPassword() {
        Path repo = dir.resolve("plain");
        JsonNode doc = CliProcess.run(Map.of(), "init", "--repo", repo.toString(), "--unencrypted", "--compression", "gzip", "--json")
                .expect(0).json();
        assertFalse(doc.path("repository").path("encrypted").asBoolean());
        assertTrue(doc.path("repository").path("compression").asText().startsWith("gzip"), doc.toString());
        CliProcess.run(Map.of(), "list", "--repo", repo.toString()).expect(0);
    }

    @Test
    void keys_changePassword_byAddThenRemove() {
        Path repo = dir.resolve("repo");
        CliProcess.run(env(PASSWORD), "init", "--repo", repo.toString()).expect(0);

        JsonNode keys = CliProcess.run(env(PASSWORD), "key", "list", "--repo", repo.toString(), "--json").expect(0).json().path("keys");
        assertEquals(1, keys.size());
        String oldId = keys.get(0).path("id").asText();
        assertEquals("password", keys.get(0).path("type").asText());
        assertTrue(keys.get(0).path("current").asBoolean());

        String newPassword = "new password 2026";
        JsonNode added = CliProcess.run(Map.of("BACKUPKIT_PASSWORD", PASSWORD, "BACKUPKIT_NEW_PASSWORD", newPassword),
                "key", "add", "--repo", repo.toString(), "--json").expect(0).json().path("added");
        assertEquals("password", added.path("type").asText());
        assertFalse(added.path("id").asText().equals(oldId));

        CliProcess.Result human = CliProcess.run(env(newPassword), "key", "list", "--repo", repo.toString()).expect(0);
        assertTrue(human.stdout().contains(oldId.substring(0, 8)) && human.stdout().contains(added.path("id").asText().substring(0, 8)), human.toString());

        CliProcess.run(env(newPassword), "key", "remove", "--repo", repo.toString(), oldId.substring(0, 8)).expect(0);
        CliProcess.run(env(PASSWORD), "list", "--repo", repo.toString()).expect(3);
        CliProcess.run(env(newPassword), "list", "--repo", repo.toString()).expect(0);
    }

    @Test
    void removingTheLastKey_isRefused() {
        Path repo = dir.resolve("repo");
        CliProcess.run(env(PASSWORD), "init", "--repo", repo.toString()).expect(0);
        String id = CliProcess.run(env(PASSWORD), "key", "list", "--repo", repo.toString(), "--json").json()
                .path("keys").get(0).path("id").asText();
        CliProcess.Result r = CliProcess.run(env(PASSWORD), "key", "remove", "--repo", repo.toString(), id).expect(2);
        assertTrue(r.stderr().contains("last"), r.toString());
        CliProcess.run(env(PASSWORD), "list", "--repo", repo.toString()).expect(0);
    }

    @Test
    void keyFile_slot_opensTheRepository() {
        Path repo = dir.resolve("repo");
        Path key = dir.resolve("repo.key");
        CliProcess.Result init = CliProcess.run(Map.of(), "init", "--repo", repo.toString(), "--key-file", key.toString()).expect(0);
        assertTrue(Files.exists(key), init.toString());
        CliProcess.run(Map.of(), "list", "--repo", repo.toString(), "--key-file", key.toString()).expect(0);
        CliProcess.run(env("guess"), "list", "--repo", repo.toString()).expect(3);
    }

    @Test
    void usageErrors_exit2_beforeTouchingAnything() {
        CliProcess.run(Map.of(), "frobnicate").expect(2);
        CliProcess.run(Map.of(), "backup", "--repo", dir.toString()).expect(2);
        CliProcess.run(env(PASSWORD), "init", "--repo", dir.resolve("r").toString(), "--compression", "zip").expect(2);
        JsonNode err = CliProcess.run(Map.of(), "restore", "--repo", dir.toString(), "--json").expect(2).json();
        assertTrue(err.path("error").path("message").asText().contains("--target"));
    }
}
