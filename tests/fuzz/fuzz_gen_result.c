/*
 * fuzz_gen_result.c - libFuzzer target: the decoder vt-codegen generates
 * for prediction.analysis.completed (schemas/avro, prefix vtev). Invariants in fuzz_gen.h.
 */
#include "prediction_analysis_completed.h"
#define FUZZ_TYPE vtev_prediction_analysis_completed_type
#include "fuzz_gen.h"
