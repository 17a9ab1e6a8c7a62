package io.backupkit.cli;

/** Removes passwords from URLs before they are shown; user and host stay, they say what is meant. */
final class Redact {
    private Redact() {
    }

    static String url(String url) {
        if (url == null) {
            return null;
        }
        return url.replaceAll("//([^/:@]*):[^/@]*@", "//$1:***@")
                .replaceAll("(?i)((?:password|secret|token|sslpassword)=)[^&\\s]*", "$1***");
    }
}
