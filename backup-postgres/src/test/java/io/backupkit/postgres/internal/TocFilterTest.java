package io.backupkit.postgres.internal;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TocFilterTest {
    private static final BackupMetadata.Table CUSTOMERS = new BackupMetadata.Table("shop.customers", "shop", "customers", false, null, 500, 1,
            "data-0001", List.of("shop.customers_id_seq"), List.of("shop.customers_pkey"), List.of());
    private static final BackupMetadata.Table ORDERS = new BackupMetadata.Table("shop.orders", "shop", "orders", false, null, 5, 1,
            "data-0002", List.of("shop.orders_id_seq"), List.of("shop.orders_pkey", "shop.orders_customer"), List.of("shop.customers"));
    private static final BackupMetadata.Table ORDER_LINES = new BackupMetadata.Table("shop.order lines", "shop", "order lines", false, null,
            5, 1, "data-0002", List.of(), List.of(), List.of("shop.orders"));

    private static final String TOC = """
            ;
            ; Archive created at 2026-11-22 04:00:00 UTC
            ;
            215; 2615 16390 SCHEMA - shop postgres
            220; 1247 16400 TYPE shop status postgres
            230; 1259 16410 TABLE shop customers postgres
            231; 1259 16411 SEQUENCE shop customers_id_seq postgres
            232; 0 0 SEQUENCE OWNED BY shop customers_id_seq postgres
            233; 1259 16420 TABLE shop orders postgres
            234; 1259 16421 SEQUENCE shop orders_id_seq postgres
            235; 2604 16422 DEFAULT shop customers id postgres
            236; 2604 16423 DEFAULT shop orders id postgres
            237; 1259 16430 VIEW shop customer_totals postgres
            238; 0 0 COMMENT shop TABLE customers postgres
            239; 0 0 COMMENT shop COLUMN orders.net postgres
            240; 0 0 ACL shop TABLE customer_totals postgres
            241; 0 0 ACL shop TABLE customers postgres
            242; 1259 16440 TABLE shop order lines postgres
            243; 1255 16450 FUNCTION shop touch() postgres
            244; 1259 16460 SEQUENCE shop invoice_no postgres
            300; 0 16410 TABLE DATA shop customers postgres
            301; 0 16420 TABLE DATA shop orders postgres
            302; 0 0 SEQUENCE SET shop customers_id_seq postgres
            303; 0 0 SEQUENCE SET shop orders_id_seq postgres
            304; 0 0 SEQUENCE SET shop invoice_no postgres
            305; 0 0 BLOBS - BLOBS\s
            400; 2606 16500 CONSTRAINT shop customers customers_pkey postgres
            401; 2606 16501 CONSTRAINT shop orders orders_pkey postgres
            402; 1259 16502 INDEX shop orders_customer postgres
            403; 2606 16503 FK CONSTRAINT shop orders orders_customer_id_fkey postgres
            404; 2620 16504 TRIGGER shop orders orders_touch postgres
            405; 3256 16505 POLICY shop customers customers_own postgres
            406; 0 16506 ROW SECURITY shop customers postgres
            407; 0 16507 MATERIALIZED VIEW DATA shop status_counts postgres
            408; 2606 16508 FK CONSTRAINT shop order lines order_lines_fk postgres
            """;

    @Test
    void customersOnly_keepsItsObjectsAndSharedOnes_dropsOtherTablesViewsAndDanglingForeignKeys() {
        String out = new TocFilter(List.of(CUSTOMERS, ORDERS, ORDER_LINES), List.of(CUSTOMERS)).filter(TOC);
        List<String> kept = out.lines().filter(l -> !l.startsWith(";")).map(l -> l.substring(0, l.indexOf(';'))).toList();
        assertEquals(List.of("215", "220", "230", "231", "232", "235", "238", "241", "243", "244", "300", "302", "304", "305",
                "400", "405", "406"), kept);
    }

    @Test
    void ordersWithoutCustomers_dropsTheForeignKeyToCustomers() {
        String out = new TocFilter(List.of(CUSTOMERS, ORDERS, ORDER_LINES), List.of(ORDERS, ORDER_LINES)).filter(TOC);
        List<String> kept = out.lines().filter(l -> !l.startsWith(";")).map(l -> l.substring(0, l.indexOf(';'))).toList();
        assertEquals(List.of("215", "220", "233", "234", "236", "239", "242", "243", "244", "301", "303", "304", "305",
                "401", "402", "404", "408"), kept);
    }
}
