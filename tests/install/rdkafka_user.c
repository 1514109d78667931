/* An out-of-tree user of <vtevents/rdkafka_ext.h>: built with
 * `pkg-config --cflags --libs vtevents rdkafka`; makes a librdkafka
 * producer from a vtev_conf_t on the embedded mock cluster. */
#include <stdio.h>
#include <vtevents/rdkafka_ext.h>

int main(void) {
    char errstr[512];
    vtev_conf_t *conf = vtev_conf_new();
    rd_kafka_conf_t *rc;
    rd_kafka_t *rk;
    if (!conf || vtev_conf_set(conf, "bootstrap.servers", "mock://install", errstr,
                               sizeof(errstr)) != VTEV_CONF_OK)
        return 1;
    if (!(rc = vtev_conf_to_rdkafka(conf, RD_KAFKA_PRODUCER, errstr, sizeof(errstr)))) {
        fprintf(stderr, "vtev_conf_to_rdkafka: %s\n", errstr);
        return 1;
    }
    vtev_conf_destroy(conf);
    if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, rc, errstr, sizeof(errstr)))) {
        fprintf(stderr, "rd_kafka_new: %s\n", errstr);
        rd_kafka_conf_destroy(rc);
        return 1;
    }
    rd_kafka_destroy(rk);
    printf("rdkafka_ext ok\n");
    return 0;
}
