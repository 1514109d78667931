/**
 * @file vtevents.h
 * @brief Umbrella header of libvtevents: include this one.
 *
 * It pulls in every public header that needs neither `<avro.h>` nor
 * `<librdkafka/rdkafka.h>`.  Headers that expose those libraries' types
 * (`<vtevents/serde_avro.h>`, `<vtevents/rdkafka_ext.h>`) are included
 * explicitly by the code that needs them.
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
#include <vtevents/avro_json.h>

#endif /* VTEVENTS_VTEVENTS_H */
