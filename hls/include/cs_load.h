// compsparse HLS kernels: moving the input and the parameters from DDR to on-chip memory.
// SPDX-License-Identifier: BSD-3-Clause
//
// Layouts are those written by compsparse.hls_params (byte offsets in cs_config.h):
//   packed weights  int8  [ROWS][G]  row r = the packed kernels' weights at one input position
//                                     (conv: r = (c*KH + dy)*KW + dx; linear: r = input index)
//   kernel ids      uint8 [ROWS][G]  which kernel of its group owns each weight (Route)
//   dense weights   int8  [ROWS][C_OUT] (conv), or rows of ROW_BYTES (linear, padded to 8)
#ifndef CS_LOAD_H
#define CS_LOAD_H

#include "cs_axi.h"
#include "cs_types.h"

// One clip's int8 input, IN::N bytes in (c, h, w) order, 8 per bus word.
template <class IN>
void read_input(const word_t *input, in_t x[IN::C][IN::H][IN::W]) {
  for (int k = 0; k < IN::WORDS; k++) {
#pragma HLS PIPELINE II=1
    const word_t word = input[k];
    for (int b = 0; b < WORD_BYTES; b++) {
#pragma HLS UNROLL
      const int i = k * WORD_BYTES + b;
      if (i < IN::N) x[i / (IN::H * IN::W)][(i / IN::W) % IN::H][i % IN::W] = lane_int8(word, b);
    }
  }
}

// Dense weights [ROWS][COLS], one byte per cycle (loading happens once per model).
template <int ROWS, int COLS>
void load_weights(const word_t *params, unsigned offset, wgt_t w[ROWS][COLS]) {
  for (int r = 0; r < ROWS; r++)
    for (int g = 0; g < COLS; g++) {
#pragma HLS PIPELINE II=1
      w[r][g] = (wgt_t)byte_at(params, offset + r * COLS + g);
    }
}

// Packed weights and kernel ids, one memory.
template <class L, int ROWS>
void load_packed(const word_t *params, wgt_t w[ROWS][L::G], ap_uint<L::ID_BITS> id[ROWS][L::G]) {
  for (int r = 0; r < ROWS; r++)
    for (int g = 0; g < L::G; g++) {
#pragma HLS PIPELINE II=1
      w[r][g] = (wgt_t)byte_at(params, L::W_OFF + r * L::G + g);
      id[r][g] = byte_at(params, L::ID_OFF + r * L::G + g);
    }
}

// Packed weights and kernel ids, written to every copy of a multi-port memory at once.
template <class L, int ROWS>
void load_packed(const word_t *params, wgt_t w[L::COPIES][ROWS][L::G],
                 ap_uint<L::ID_BITS> id[L::COPIES][ROWS][L::G]) {
  for (int r = 0; r < ROWS; r++)
    for (int g = 0; g < L::G; g++) {
#pragma HLS PIPELINE II=1
      const wgt_t wv = (wgt_t)byte_at(params, L::W_OFF + r * L::G + g);
      const ap_uint<L::ID_BITS> iv = byte_at(params, L::ID_OFF + r * L::G + g);
      for (int c = 0; c < L::COPIES; c++) {
#pragma HLS UNROLL
        w[c][r][g] = wv;
        id[c][r][g] = iv;
      }
    }
}

#endif
