/*
 * fuzz_gen_request.c - libFuzzer target: the decoder vt-codegen generates
 * for prediction.analysis.requested (schemas/avro, prefix vtev). Invariants in fuzz_gen.h.
 */
#include "prediction_analysis_requested.h"
#define FUZZ_TYPE vtev_prediction_analysis_requested_type
#include "fuzz_gen.h"
