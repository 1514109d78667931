/**
 * @file vtevents.h
 * @brief Umbrella header of libvtevents: include this one.
 *
 * It pulls in every public header that needs neither `<avro.h>` nor
 * `<librdkafka/rdkafka.h>`.  Headers that expose those libraries' types,
 * such as `<vtevents/serde_avro.h>`, are included separately by the code
 * that needs them, as is `<vtevents/avro_direct.h>` (the runtime of
 * generated code, which needs `<jansson.h>`).
 */
#ifndef VTEVENTS_VTEVENTS_H
#define VTEVENTS_VTEVENTS_H

#include <vtevents/export.h>
#include <vtevents/version.h>
#include <vtevents/error.h>
#include <vtevents/conf.h>
#include <vtevents/admin.h>
#include <vtevents/event.h>
#include <vtevents/registry.h>
#include <vtevents/serde.h>
#include <vtevents/producer.h>
#include <vtevents/consumer.h>
#include <vtevents/dlq.h>
#include <vtevents/metrics.h>
#include <vtevents/trace.h>
#include <vtevents/health.h>
#include <vtevents/log.h>
/* the platform's event types, generated from schemas/avro by vt-codegen */
#include <vtevents/type.h>
#include <vtevents/vessel_position_updated.h>
#include <vtevents/prediction_analysis_requested.h>
#include <vtevents/prediction_analysis_completed.h>
#include <vtevents/avro_json.h>

#endif /* VTEVENTS_VTEVENTS_H */
