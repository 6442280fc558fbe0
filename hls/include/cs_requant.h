// compsparse HLS kernels: requantisation, int32 accumulator -> int8 activation.
// SPDX-License-Identifier: BSD-3-Clause
#ifndef CS_REQUANT_H
#define CS_REQUANT_H

#include "cs_types.h"

// The rule of compsparse.quant.requantize:
//   clip((acc * M + 2^(s-1)) >> s, 0, 127)
// with an arithmetic shift (floor), so adding 2^(s-1) first rounds half up. |acc| < 2^31 and
// 0 <= M < 2^31 give |acc*M| < 2^62, and 2^(s-1) <= 2^61, so the 64-bit sum cannot overflow.
// The clip at 0 is the ReLU. One requantiser is a 32 x 32-bit multiplier (several DSP slices),
// so each layer has only as many as it needs to keep up with its multiply loop (L::DRAIN).
inline act_t requantize(acc_t acc, ap_int<32> multiplier, ap_uint<6> shift) {
#pragma HLS INLINE
  wide_t v = acc * multiplier;  // 32 x 32 -> 64-bit product, exact
  v += ((wide_t)1) << (int)(shift - 1);
  v >>= (int)shift;
  if (v < 0) return 0;
  if (v > 127) return 127;
  return (act_t)v;
}

#endif
