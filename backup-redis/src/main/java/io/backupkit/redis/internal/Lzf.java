package io.backupkit.redis.internal;

/** LZF decompression, as Redis compresses long strings in RDB files. */
public final class Lzf {
    private Lzf() {
    }

    /**
     * Decompresses {@code in} into exactly {@code outLen} bytes.
     *
     * @throws IllegalArgumentException when the data is not valid LZF of that length
     */
    public static byte[] decompress(byte[] in, int outLen) {
        byte[] out = new byte[outLen];
        int ip = 0;
        int op = 0;
        while (ip < in.length) {
            int ctrl = in[ip++] & 0xff;
            if (ctrl < 32) {
                int len = ctrl + 1;
                if (op + len > outLen || ip + len > in.length) {
                    throw new IllegalArgumentException("LZF literal run beyond the end");
                }
                System.arraycopy(in, ip, out, op, len);
                ip += len;
                op += len;
            } else {
                int len = ctrl >> 5;
                int ref = op - ((ctrl & 0x1f) << 8) - 1;
                if (len == 7) {
                    if (ip >= in.length) {
                        throw new IllegalArgumentException("LZF back reference cut off");
                    }
                    len += in[ip++] & 0xff;
                }
                if (ip >= in.length) {
                    throw new IllegalArgumentException("LZF back reference cut off");
                }
                ref -= in[ip++] & 0xff;
                len += 2;
                if (ref < 0 || op + len > outLen) {
                    throw new IllegalArgumentException("LZF back reference out of range");
                }
                for (int i = 0; i < len; i++) {
                    out[op++] = out[ref++];
                }
            }
        }
        if (op != outLen) {
            throw new IllegalArgumentException("LZF data decompresses to " + op + " bytes, expected " + outLen);
        }
        return out;
    }
}
