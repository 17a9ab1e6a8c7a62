package io.backupkit.examples;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README shows QuickStart's code, and its two commands are what .ci/run and users rely on. */
class ReadmeTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    private static List<String> normalized(List<String> lines) {
        return lines.stream().map(String::strip).filter(l -> !l.isEmpty()).toList();
    }

    @Test
    void readmeEmbeddingExample_isQuickStartsCode() throws IOException {
        List<String> source = Files.readAllLines(ROOT.resolve("examples/src/main/java/io/backupkit/examples/QuickStart.java"));
        int start = indexOf(source, "// README-START");
        int end = indexOf(source, "// README-END");
        List<String> snippet = normalized(source.subList(start + 1, end));

        String readme = Files.readString(ROOT.resolve("README.md"));
        int block = readme.indexOf("```java\n");
        assertTrue(block >= 0, "README has a java block");
        String code = readme.substring(block + 8, readme.indexOf("```", block + 8));
        assertEquals(snippet, normalized(code.lines().toList()));
        assertTrue(snippet.size() <= 16, "short enough to read at a glance: " + snippet.size() + " lines");
    }

    @Test
    void readmeTestCommand_isWhatCiRuns() throws IOException {
        String readme = Files.readString(ROOT.resolve("README.md"));
        String ci = Files.readString(ROOT.resolve(".ci/run"));
        assertTrue(readme.contains("```sh\n./mvnw -B verify\n```"), "README's test command");
        assertTrue(ci.strip().endsWith("./mvnw -B verify"), ".ci/run ends by running README's test command");
        assertTrue(readme.contains("```sh\n./mvnw -B -q package -DskipTests && examples/target/backupkit demo\n```"));
    }

    /** The README's commands run the launcher the build puts beside the jar (its source is examples/src/main/launcher). */
    @Test
    void readmeCommands_useTheLauncher() throws IOException {
        String readme = Files.readString(ROOT.resolve("README.md"));
        assertTrue(Files.isRegularFile(ROOT.resolve("examples/src/main/launcher/backupkit")), "launcher source");
        for (String line : readme.lines().toList()) {
            if (line.startsWith("java -jar") || line.contains("&& java -jar")) {
                throw new AssertionError("README runs the jar directly instead of examples/target/backupkit: " + line);
            }
        }
        assertTrue(readme.contains("examples/target/backupkit backup "), "README shows a backup through the launcher");
    }

    private static int indexOf(List<String> lines, String marker) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).strip().equals(marker)) {
                return i;
            }
        }
        throw new AssertionError("marker " + marker + " not found");
    }
}
