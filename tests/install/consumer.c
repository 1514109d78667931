/* An out-of-tree user of libvtevents: built with nothing but
 * `pkg-config --cflags --libs vtevents`.  Also uses the installed generated
 * platform types (<vtevents/vessel_position_updated.h>, the descriptor of
 * <vtevents/type.h>) and the generated code's runtime <vtevents/avro_direct.h>. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vtevents/vtevents.h>
#include <vtevents/type.h>
#include <vtevents/avro_direct.h>
#include <vtevents/vessel_position_updated.h>
#include <vtevents/prediction_analysis_requested.h>
#include <vtevents/prediction_analysis_completed.h>

/* A position through the descriptor: validate, encode, decode, the same JSON;
 * then one that breaks a constraint, refused with the field named. */
static int generated_types(void) {
    const vtev_type_t *t = &vtev_vessel_position_updated_type;
    vtev_vessel_position_updated_t a, b;
    vtev_buf_t buf = {0};
    char errstr[256] = "", *ja = NULL, *jb = NULL;
    bool dup_ok = true;
    int ok;
    if (t->abi_version != VTEV_TYPE_ABI_VERSION || strcmp(t->key_field, "vessel_id") ||
        strcmp(vtev_prediction_analysis_requested_type.name, "PredictionAnalysisRequested") ||
        strcmp(vtev_prediction_analysis_completed_type.name, "PredictionAnalysisCompleted"))
        return 0;
    if (vtev_vessel_position_updated_init(&a) != VTEV_ERR_OK)
        return 0;
    a.vessel_id = vtev_rt_strdup("IMO9239599", &dup_ok);
    a.data.status = vtev_rt_strdup("underway", &dup_ok);
    a.data.lat = 29.73;
    a.data.lon = -93.87;
    a.data.speed = 12.5;
    ok = dup_ok && vtev_rt_uuid_valid(a.event_id) && t->validate(&a, errstr, sizeof(errstr)) == VTEV_ERR_OK &&
         t->encode(&a, &buf, errstr, sizeof(errstr)) == VTEV_ERR_OK &&
         t->decode(&b, buf.data, buf.len, errstr, sizeof(errstr)) == VTEV_ERR_OK;
    if (ok) {
        ok = t->to_json(&a, 0, &ja, NULL) == VTEV_ERR_OK && t->to_json(&b, 0, &jb, NULL) == VTEV_ERR_OK &&
             !strcmp(ja, jb);
        t->clear(&b);
    }
    a.data.lat = 91;
    ok = ok && t->validate(&a, errstr, sizeof(errstr)) == VTEV_ERR_INVALID &&
         !strncmp(errstr, "data.lat: ", 10);
    if (ok)
        printf("generated types: %s\n", ja);
    else
        fprintf(stderr, "generated types: %s\n", errstr);
    free(ja);
    free(jb);
    vtev_buf_free(&buf);
    t->clear(&a);
    return ok;
}

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
    return generated_types() ? 0 : 1;
}
