// compsparse HLS kernels: reading and writing the m_axi buffers.
// SPDX-License-Identifier: BSD-3-Clause
//
// Every buffer the host shares with a top is an array of 64-bit words (word_t). The parameter
// blob written by compsparse.hls_params is a byte stream: int8 weights, uint8 kernel ids and
// little-endian int32 biases / multipliers / shifts, each section starting at a multiple of 8
// bytes. These helpers pick one value out of its word; the byte offsets come from cs_config.h.
#ifndef CS_AXI_H
#define CS_AXI_H

#include "cs_types.h"

// The byte at byte offset `i` of a word buffer (little-endian lanes: byte 0 is bits 7..0).
inline ap_uint<8> byte_at(const word_t *mem, unsigned i) {
#pragma HLS INLINE
  const word_t w = mem[i / WORD_BYTES];
  const int lane = i % WORD_BYTES;
  return w.range(8 * lane + 7, 8 * lane);
}

// The int32 at byte offset `i` (a multiple of 4).
inline ap_int<32> int32_at(const word_t *mem, unsigned i) {
#pragma HLS INLINE
  const word_t w = mem[i / WORD_BYTES];
  const int lane = (i % WORD_BYTES) / 4;
  return (ap_int<32>)w.range(32 * lane + 31, 32 * lane);
}

// The int8 lane `b` (0..7) of a word.
inline wgt_t lane_int8(const word_t &w, int b) {
#pragma HLS INLINE
  return (wgt_t)w.range(8 * b + 7, 8 * b);
}

#endif
