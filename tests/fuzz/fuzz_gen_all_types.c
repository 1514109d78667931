/*
 * fuzz_gen_all_types.c - libFuzzer target: the generated decoder of
 * tests/schemas/all_types.avsc (every type vt-codegen supports; prefix t).
 * Invariants in fuzz_gen.h.
 */
#include "all_types.h"
#define FUZZ_TYPE t_all_types_type
#include "fuzz_gen.h"
