/*
 * frame.c - the Confluent Schema Registry wire format: magic byte 0, the
 * schema id as 4 bytes big-endian, then the Avro binary payload.  Used by
 * every codec path (0.1 events, generated types, generic Avro).
 */
#include "internal.h"

#include <vtevents/event.h>

void vtev_frame_write_header(void *buf, int32_t schema_id) {
    unsigned char *p = buf;
    uint32_t id = (uint32_t)schema_id;
    p[0] = 0;
    p[1] = (unsigned char)(id >> 24);
    p[2] = (unsigned char)(id >> 16);
    p[3] = (unsigned char)(id >> 8);
    p[4] = (unsigned char)id;
}

vtev_err_t vtev_frame_parse(const void *buf, size_t len, int32_t *schema_idp, const void **payloadp,
                            size_t *payload_lenp, char *errstr, size_t errstr_size) {
    const unsigned char *p = buf;
    if (!buf && len > 0)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, "NULL buffer");
    if (len < VTEV_FRAME_HEADER_SIZE)
        return vtev__fail(VTEV_ERR_SHORT_BUFFER, errstr, errstr_size,
                          "framed payload of %zu bytes is shorter than the 5-byte header", len);
    if (p[0] != 0)
        return vtev__fail(VTEV_ERR_BAD_MAGIC, errstr, errstr_size,
                          "framed payload starts with byte 0x%02x, not the magic byte 0x00", p[0]);
    if (schema_idp)
        *schema_idp = (int32_t)(((uint32_t)p[1] << 24) | ((uint32_t)p[2] << 16) |
                                ((uint32_t)p[3] << 8) | (uint32_t)p[4]);
    if (payloadp)
        *payloadp = p + VTEV_FRAME_HEADER_SIZE;
    if (payload_lenp)
        *payload_lenp = len - VTEV_FRAME_HEADER_SIZE;
    return VTEV_ERR_OK;
}
