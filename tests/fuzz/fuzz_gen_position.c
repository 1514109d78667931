/*
 * fuzz_gen_position.c - libFuzzer target: the decoder vt-codegen generates
 * for vessel.position.updated (schemas/avro, prefix vtev). Invariants in fuzz_gen.h.
 */
#include "vessel_position_updated.h"
#define FUZZ_TYPE vtev_vessel_position_updated_type
#include "fuzz_gen.h"
