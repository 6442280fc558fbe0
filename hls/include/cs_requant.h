// compsparse HLS kernels: requantisation and the per-channel parameters every layer loads.
// SPDX-License-Identifier: BSD-3-Clause
#ifndef CS_REQUANT_H
#define CS_REQUANT_H

#include "cs_axi.h"
#include "cs_types.h"

// int32 accumulator -> int8 activation, the rule of compsparse.quant.requantize:
//   clip((acc * M + 2^(s-1)) >> s, 0, 127)
// with an arithmetic shift (floor), so adding 2^(s-1) first rounds half up. |acc| < 2^31 and
// 0 <= M < 2^31 give |acc*M| < 2^62, and 2^(s-1) <= 2^61, so the 64-bit sum cannot overflow.
// The clip at 0 is the ReLU.
inline act_t requantize(acc_t acc, ap_int<32> multiplier, ap_uint<6> shift) {
#pragma HLS INLINE
  wide_t v = acc * multiplier;  // 32 x 32 -> 64-bit product, exact
  v += ((wide_t)1) << (int)(shift - 1);
  v >>= (int)shift;
  if (v < 0) return 0;
  if (v > 127) return 127;
  return (act_t)v;
}

// Per-output-channel parameters of one layer, on chip. C_PAD = n_groups * n_per_group: a last,
// partial group's missing kernels get bias 0 and are never read out.
template <int C_PAD>
struct channel_params {
  acc_t bias[C_PAD];
  ap_int<32> multiplier[C_PAD];
  ap_uint<6> shift[C_PAD];
};

// Load bias (and, for layers that requantise, multiplier and shift) from the parameter blob.
template <class L>
void load_channel_params(const word_t *params, channel_params<L::C_PAD> &p) {
  for (int c = 0; c < L::C_PAD; c++) {
#pragma HLS PIPELINE II=1
    p.bias[c] = int32_at(params, L::BIAS_OFF + 4 * c);
    p.multiplier[c] = L::REQUANT ? int32_at(params, L::MULT_OFF + 4 * c) : ap_int<32>(0);
    p.shift[c] = L::REQUANT ? (ap_uint<6>)int32_at(params, L::SHIFT_OFF + 4 * c) : ap_uint<6>(1);
  }
}

#endif
