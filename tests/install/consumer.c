/* An out-of-tree user of libvtevents: built with nothing but
 * `pkg-config --cflags --libs vtevents`. */
#include <stdio.h>
#include <string.h>
#include <vtevents/vtevents.h>

int main(void) {
    char errstr[256];
    vtev_conf_t *conf = vtev_conf_new();
    if (!conf)
        return 1;
    if (vtev_conf_set(conf, "kafka.linger.ms", "5", errstr, sizeof(errstr)) != VTEV_CONF_OK) {
        fprintf(stderr, "conf: %s\n", errstr);
        return 1;
    }
    if (vtev_conf_set(conf, "no.such", "1", errstr, sizeof(errstr)) != VTEV_CONF_UNKNOWN)
        return 1;
    vtev_conf_destroy(conf);
    if (vtev_version() != VTEV_VERSION_NUM || strcmp(vtev_version_str(), VTEV_VERSION_STR))
        return 1;
    printf("libvtevents %s with librdkafka %s\n", vtev_version_str(), vtev_rdkafka_version_str());
    return 0;
}
