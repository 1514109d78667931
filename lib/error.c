/*
 * error.c - vtev_err_t names and descriptions.
 */
#include <vtevents/error.h>

static const struct {
    const char *name;
    const char *desc;
} err_descs[VTEV_ERR__END] = {
    [VTEV_ERR_OK] = {"OK", "Success"},
    [VTEV_ERR_INVALID_ARG] = {"INVALID_ARG", "Invalid argument"},
    [VTEV_ERR_NOMEM] = {"NOMEM", "Out of memory"},
    [VTEV_ERR_INVALID] = {"INVALID", "Event failed validation"},
    [VTEV_ERR_PARSE] = {"PARSE", "Malformed input"},
    [VTEV_ERR_BAD_MAGIC] = {"BAD_MAGIC", "Payload does not start with the Confluent magic byte 0"},
    [VTEV_ERR_SHORT_BUFFER] = {"SHORT_BUFFER", "Payload is shorter than the 5-byte Confluent header"},
    [VTEV_ERR_DECODE] = {"DECODE", "Avro payload does not decode"},
    [VTEV_ERR_ENCODE] = {"ENCODE", "Avro value could not be encoded"},
    [VTEV_ERR_SCHEMA] = {"SCHEMA", "Invalid or unusable schema"},
    [VTEV_ERR_SCHEMA_MISMATCH] = {"SCHEMA_MISMATCH", "Writer and reader schemas are not compatible"},
    [VTEV_ERR_REGISTRY_UNAVAILABLE] = {"REGISTRY_UNAVAILABLE", "Schema registry unavailable"},
    [VTEV_ERR_REGISTRY_SUBJECT_NOT_FOUND] = {"REGISTRY_SUBJECT_NOT_FOUND", "Subject not found (40401)"},
    [VTEV_ERR_REGISTRY_VERSION_NOT_FOUND] = {"REGISTRY_VERSION_NOT_FOUND", "Version not found (40402)"},
    [VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND] = {"REGISTRY_SCHEMA_NOT_FOUND", "Schema not found (40403)"},
    [VTEV_ERR_REGISTRY_INCOMPATIBLE] = {"REGISTRY_INCOMPATIBLE", "Schema is incompatible with the subject (409)"},
    [VTEV_ERR_REGISTRY_INVALID_SCHEMA] = {"REGISTRY_INVALID_SCHEMA", "Registry rejected the schema as invalid (42201)"},
    [VTEV_ERR_REGISTRY_AUTH] = {"REGISTRY_AUTH", "Schema registry authentication or authorization failed"},
    [VTEV_ERR_REGISTRY_TLS] = {"REGISTRY_TLS", "TLS error talking to the schema registry"},
    [VTEV_ERR_REGISTRY] = {"REGISTRY", "Schema registry error"},
    [VTEV_ERR_KAFKA] = {"KAFKA", "Kafka client error"},
    [VTEV_ERR_QUEUE_FULL] = {"QUEUE_FULL", "Local producer queue is full"},
    [VTEV_ERR_TIMED_OUT] = {"TIMED_OUT", "Timed out"},
    [VTEV_ERR_FATAL] = {"FATAL", "Fatal client error"},
    [VTEV_ERR_TXN_RETRIABLE] = {"TXN_RETRIABLE", "Transactional operation failed and may be retried"},
    [VTEV_ERR_TXN_ABORTABLE] = {"TXN_ABORTABLE", "Transaction must be aborted"},
    [VTEV_ERR_NOT_FOUND] = {"NOT_FOUND", "Not found"},
    [VTEV_ERR_STATE] = {"STATE", "Operation not allowed in the current state"},
    [VTEV_ERR_IO] = {"IO", "Input/output error"},
    [VTEV_ERR_UNSUPPORTED] = {"UNSUPPORTED", "Not supported"},
    [VTEV_ERR_PURGED] = {"PURGED", "Message purged before delivery"},
    [VTEV_ERR_MSG_TOO_LARGE] = {"MSG_TOO_LARGE", "Message too large"},
    [VTEV_ERR_REJECTED] = {"REJECTED", "Rejected by the handler"},
    [VTEV_ERR_RETRIES_EXHAUSTED] = {"RETRIES_EXHAUSTED", "Retries exhausted"},
    [VTEV_ERR_LIMIT] = {"LIMIT", "Input over a configured limit"},
    [VTEV_ERR_REGISTRY_PROTOCOL] = {"REGISTRY_PROTOCOL",
                                    "Schema registry URL gave an answer that is not a registry's"},
};

int vtev_err_is_retriable(vtev_err_t err) {
    switch (err) {
    case VTEV_ERR_REGISTRY_UNAVAILABLE:
    case VTEV_ERR_REGISTRY_AUTH:
    case VTEV_ERR_REGISTRY_TLS:
    case VTEV_ERR_REGISTRY_PROTOCOL:
    case VTEV_ERR_TIMED_OUT:
    case VTEV_ERR_NOMEM:
    case VTEV_ERR_QUEUE_FULL:
    case VTEV_ERR_TXN_RETRIABLE:
        return 1;
    default:
        return 0;
    }
}

const char *vtev_err2str(vtev_err_t err) {
    if ((int)err < 0 || err >= VTEV_ERR__END || !err_descs[err].desc)
        return "Unknown error";
    return err_descs[err].desc;
}

const char *vtev_err2name(vtev_err_t err) {
    if ((int)err < 0 || err >= VTEV_ERR__END || !err_descs[err].name)
        return "UNKNOWN";
    return err_descs[err].name;
}
