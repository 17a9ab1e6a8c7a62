package io.backupkit.k8s;

import io.backupkit.ConfigurationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KubernetesDatabaseUrlTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', nullValues = "-", value = {
        "k8s://shop/shop-db-1?database=shop|shop|shop-db-1|-|-|shop|5432|localhost",
        "k8s://shop/shop-db-1/postgres?database=shop|shop|shop-db-1|postgres|-|shop|5432|localhost",
        "k8s://shop?selector=cnpg.io/cluster=shop-db,cnpg.io/instanceRole=primary&database=app|shop|-|-|cnpg.io/cluster=shop-db,cnpg.io/instanceRole=primary|app|5432|localhost",
        "k8s://db/-/postgres?selector=spilo-role=master&database=x&port=6432&host=/var/run/postgresql|db|-|postgres|spilo-role=master|x|6432|/var/run/postgresql",
        "K8S://shop/p|shop|p|-|-|postgres|5432|localhost",
        "k8s://shop/p?database=my%20db&container=c|shop|p|c|-|my db|5432|localhost",
    })
    void parses(String url, String ns, String pod, String container, String selector, String db, int port, String host) {
        KubernetesDatabaseUrl u = KubernetesDatabaseUrl.parse(url);
        assertEquals(ns, u.namespace());
        assertEquals(pod, u.pod());
        assertEquals(container, u.container());
        assertEquals(selector, u.selector());
        assertEquals(db, u.database());
        assertEquals(port, u.port());
        assertEquals(host, u.host());
        assertEquals(u, KubernetesDatabaseUrl.parse(u.toString()), "the canonical form parses to the same");
    }

    @Test
    void secretAndUser_areKept_andTheCanonicalFormHasNoPassword() {
        KubernetesDatabaseUrl u = KubernetesDatabaseUrl.parse("k8s://shop/p?database=shop&secret=shop-app&user=backup");
        assertEquals("shop-app", u.secret());
        assertEquals("backup", u.user());
        assertEquals("k8s://shop/p?database=shop&user=backup&secret=shop-app", u.toString());
        assertNull(KubernetesDatabaseUrl.parse("k8s://shop/p").secret());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "k8s://shop|no pod in k8s://shop",
        "k8s://Shop/p|'Shop' in k8s://Shop/p is not a namespace name",
        "k8s://shop/p?password=x|a password does not go into a k8s:// URL",
        "k8s://u:pw@shop/p|k8s:// URLs carry no credentials",
        "k8s://shop/p?database=x&colour=red|unknown parameter 'colour'",
        "k8s://shop/p?port=99999|invalid port '99999'",
        "k8s://shop?selector=primary|needs LABEL=VALUE terms",
        "k8s://shop/p/c/extra|too many path parts",
        "k8s://shop/P_od|'P_od' in k8s://shop/P_od is not a pod name",
        "postgresql://db/x|not a k8s:// URL",
    })
    void refusesWithAClearMessage(String url, String message) {
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> KubernetesDatabaseUrl.parse(url));
        assertTrue(e.getMessage().contains(message), e.getMessage());
        assertFalse(e.getMessage().contains("pw@"), "never repeats a password");
    }

    @ParameterizedTest
    @ValueSource(strings = {"k8s://x/y", "K8s://x"})
    void isKubernetesUrl(String url) {
        assertTrue(KubernetesDatabaseUrl.isKubernetesUrl(url));
        assertFalse(KubernetesDatabaseUrl.isKubernetesUrl("postgresql://" + url.substring(6)));
    }
}
