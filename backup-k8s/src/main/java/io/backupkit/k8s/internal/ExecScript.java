package io.backupkit.k8s.internal;

import io.backupkit.ConfigurationException;
import io.backupkit.spi.CommandSpec;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The POSIX shell wrapper every pod command runs under, and the protocol on its standard input.
 *
 * <p>Why a wrapper: the exec protocol fabric8 speaks (v4.channel.k8s.io) cannot close the remote
 * standard input without closing the whole connection, and with it the exit status. So stdin is
 * framed: a header of environment variables (secrets such as PGPASSWORD travel here, never in the
 * exec URL that API server audit logs record), then frames {@code <decimal length>\n<bytes>} ending
 * with {@code 0\n}. The wrapper decodes frames with {@code dd iflag=fullblock}, which reads exactly
 * the frame and never past it, so the tool sees its input end exactly where the caller closed it.
 * Input that ends without the closing frame (a dropped connection) stops the tool and exits 124:
 * a truncated input never looks complete. A frame that cannot be delivered because the tool stopped
 * reading (dd fails writing; pg_restore --list stops after the table of contents) is not a cut
 * input: the tool's own exit status is the result.
 *
 * <p>It also reports, as the first line on stderr, the tool's process id (for a later
 * {@code kill}: closing an exec connection does not stop the remote process) or that the tool is
 * not on the container's PATH.
 *
 * <p>Needs in the container: {@code sh}, {@code dd} with {@code iflag=fullblock} (GNU coreutils,
 * BusyBox 1.24+); {@code kill} and {@code export -p} are shell builtins (the ambient variables are
 * found with {@code export -p}, not {@code env | sed}, so a minimal image needs nothing more).
 */
public final class ExecScript {
    public static final String MARKER = "backupkit-exec: ";
    public static final String STARTED = MARKER + "started ";
    public static final String NOT_FOUND = MARKER + "not-found ";
    public static final String NO_DIRECTORY = MARKER + "no-directory ";
    public static final String STDIN_CUT = MARKER + "stdin-cut";
    /** Exit status when the input ended without its closing frame. */
    public static final int EXIT_STDIN_CUT = 124;

    private static final String SCRIPT_SOURCE = """
            d=$1
            shift
            ok=
            while IFS= read -r line; do
              case $line in
                clean) for v in $(export -p | while IFS= read -r l; do
                                    case $l in ("export "*) l=${l#export } ;; ("declare -x "*) l=${l#declare -x } ;; (*) continue ;; esac
                                    l=${l%%=*}
                                    case $l in (''|[!A-Za-z_]*|*[!A-Za-z0-9_]*) ;; (*) echo "$l" ;; esac
                                  done); do
                         case $v in PATH|HOME|TMPDIR) ;; *) (unset "$v") 2>/dev/null && unset "$v" ;; esac
                       done ;;
                "env "*) IFS= read -r value || exit 125; export "${line#env }=$value" ;;
                data) ok=1; break ;;
                *) echo "backupkit-exec: bad-header" >&2; exit 125 ;;
              esac
            done
            [ -n "$ok" ] || exit 125
            if [ -n "$d" ] && ! cd "$d" 2>/dev/null; then echo "backupkit-exec: no-directory $d" >&2; exit 126; fi
            command -v "$1" >/dev/null 2>&1 || { echo "backupkit-exec: not-found $1" >&2; exit 127; }
            cut=
            pid=
            trap 'cut=1; [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null' USR1
            exec 3<&0 </dev/null
            (
              exec 2>/dev/null
              {
                while IFS= read -r n; do
                  case $n in
                    0) exit 0 ;;
                    ''|*[!0-9]*) break ;;
                  esac
                  dd bs="$n" count=1 iflag=fullblock || exit 1
                done
                kill -USR1 $$
                sleep 2
                exit 1
              } <&3 3<&- &
            ) | sh -c 'echo "backupkit-exec: started $$" >&2; exec "$@"' backupkit-tool "$@" 3<&- &
            pid=$!
            [ -n "$cut" ] && kill -TERM "$pid" 2>/dev/null
            while :; do
              wait "$pid"
              rc=$?
              kill -0 "$pid" 2>/dev/null || break
            done
            if [ -n "$cut" ]; then echo "backupkit-exec: stdin-cut" >&2; exit 124; fi
            exit "$rc"
            """;

    /** The script without indentation: it travels in every exec URL. */
    static final String SCRIPT = SCRIPT_SOURCE.lines().map(String::strip).collect(java.util.stream.Collectors.joining("\n", "", "\n"));

    /** TERM, then KILL after the grace period if the process is still there. Arguments: pid, grace in tenths of a second. */
    static final String KILL_SCRIPT = """
            kill -TERM "$1" 2>/dev/null || exit 0
            i=0
            while kill -0 "$1" 2>/dev/null && [ "$i" -lt "$2" ]; do sleep 0.1; i=$((i+1)); done
            kill -KILL "$1" 2>/dev/null
            exit 0
            """;

    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private ExecScript() {
    }

    /** The exec command: the wrapper, the working directory ("" for the container's), then the tool and its arguments. */
    public static List<String> command(CommandSpec spec) {
        List<String> cmd = new ArrayList<>(List.of("sh", "-c", SCRIPT, "backupkit-exec",
                spec.workingDirectory() == null ? "" : spec.workingDirectory().toString()));
        cmd.addAll(spec.command());
        return cmd;
    }

    public static List<String> killCommand(long pid, long graceTenths) {
        return List.of("sh", "-c", KILL_SCRIPT, "backupkit-kill", Long.toString(pid), Long.toString(graceTenths));
    }

    /** The stdin header carrying the environment. Values must be single lines: they are read with {@code read -r}. */
    public static byte[] header(Map<String, String> environment) {
        return header(environment, true);
    }

    /**
     * The header; with {@code inheritEnvironment} false the wrapper first drops every variable of the
     * container's own environment except PATH, HOME and TMPDIR, so ambient PGOPTIONS, PGSSLMODE, … set
     * on the container cannot change what the tool does (as {@code LocalCommandExecutor} does locally).
     */
    public static byte[] header(Map<String, String> environment, boolean inheritEnvironment) {
        StringBuilder sb = new StringBuilder();
        if (!inheritEnvironment) {
            sb.append("clean\n");
        }
        for (Map.Entry<String, String> e : environment.entrySet()) {
            if (!ENV_NAME.matcher(e.getKey()).matches()) {
                throw new ConfigurationException("environment variable name '" + e.getKey() + "' cannot be passed into a pod");
            }
            String v = e.getValue();
            if (v.indexOf('\n') >= 0 || v.indexOf('\0') >= 0) {
                // the value itself is never shown: it may be a password
                throw new ConfigurationException("the value of environment variable " + e.getKey()
                        + " contains a line break or NUL and cannot be passed into a pod");
            }
            sb.append("env ").append(e.getKey()).append('\n').append(v).append('\n');
        }
        sb.append("data\n");
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }
}
