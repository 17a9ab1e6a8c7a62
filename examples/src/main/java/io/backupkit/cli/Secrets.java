package io.backupkit.cli;

import io.backupkit.ConfigurationException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Reads secrets from files and the environment. Secrets never go on a command line (other users see
 * those in ps) and are never printed.
 */
final class Secrets {
    private Secrets() {
    }

    /**
     * The first line of {@code file} (without its line ending), as used by password files.
     *
     * @param what what the file holds, for messages ("password file")
     */
    static char[] readFirstLine(Path file, String what) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ConfigurationException(what + " " + file + " does not exist");
        } catch (AccessDeniedException e) {
            throw new ConfigurationException(what + " " + file + " is not readable (permission denied)");
        } catch (IOException e) {
            throw new ConfigurationException("cannot read " + what + " " + file + ": " + e.getClass().getSimpleName());
        }
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes));
            int end = 0;
            while (end < chars.length() && chars.charAt(end) != '\n' && chars.charAt(end) != '\r') {
                end++;
            }
            char[] line = new char[end];
            chars.get(line, 0, end);
            Arrays.fill(chars.array(), '\0');
            if (line.length == 0) {
                throw new ConfigurationException(what + " " + file + " is empty (the secret is its first line)");
            }
            return line;
        } catch (CharacterCodingException e) {
            throw new ConfigurationException(what + " " + file + " is not UTF-8 text");
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
    }

    /** The secret from {@code file} if given, else from environment variable {@code envName}, else null. */
    static char[] fromFileOrEnv(Path file, String what, Terminal terminal, String... envNames) {
        if (file != null) {
            return readFirstLine(file, what);
        }
        for (String name : envNames) {
            String v = terminal.env(name);
            if (v != null) {
                return v.toCharArray();
            }
        }
        return null;
    }
}
