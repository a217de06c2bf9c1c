/* See tflm_ref_split_pack.c: TFLM's reference Split, Unpack and Pack loops and
 * TFLite's reference Tile (TFLM has none), restated for the benchmark. */
#ifndef TFLM_REF_SPLIT_PACK_H
#define TFLM_REF_SPLIT_PACK_H

#include <stdint.h>

void ref_split(int32_t outer, int32_t inner, int32_t n_out, const int32_t *out_axis,
               const int8_t *x, int8_t *const *outs);
void ref_unpack(int32_t outer, int32_t inner, int32_t n_out, const int8_t *x, int8_t *const *outs);
void ref_pack(int32_t outer, int32_t copy, int32_t n_in, const int8_t *const *ins, int8_t *out);
void ref_tile(const int32_t *dims, int32_t rank, const int32_t *mult, const int8_t *x, int8_t *out);

#endif
