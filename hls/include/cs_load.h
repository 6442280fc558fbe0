// compsparse HLS kernels: moving the input and the parameters from DDR to on-chip memory.
// SPDX-License-Identifier: BSD-3-Clause
//
// Layouts are those written by compsparse.hls_params (byte offsets in cs_config.h):
//   packed weights  int8  [ROWS][G]  row r = the packed kernels' weights at one input position
//                                     (conv: r = (c*KH + dy)*KW + dx; linear: r = input index)
//   kernel ids      uint8 [ROWS][G]  which kernel of its group owns each weight (Route)
//   dense weights   int8  [ROWS][C_OUT] (conv), or rows of ROW_BYTES (linear, padded to 8)
//   bias            int32 [C_PAD]; multiplier, shift int32 [C_PAD] (hidden layers only)
// Loading runs once per model (load_params = 1), one byte per cycle: it is not on the path of
// a word, so it is kept small rather than fast.
#ifndef CS_LOAD_H
#define CS_LOAD_H

#include "cs_axi.h"
#include "cs_types.h"

// One clip's int8 input, IN::N bytes in (c, h, w) order, 8 per bus word, into the first conv
// layer's input buffer [H][W][C]. The buffer is partitioned so that the 8 bytes of a word land
// in 8 different banks (see the tops), so a word is stored per cycle.
template <class IN>
void read_input(const word_t *input, int clip, in_t x[IN::H][IN::W][IN::C]) {
#pragma HLS INLINE off
  const word_t *from = input + clip * IN::WORDS;
read_input:
  for (int k = 0; k < IN::WORDS; k++) {
#pragma HLS PIPELINE II=1
    const word_t word = from[k];
    for (int b = 0; b < WORD_BYTES; b++) {
#pragma HLS UNROLL
      const int i = k * WORD_BYTES + b;
      if (i < IN::N) x[(i / IN::W) % IN::H][i % IN::W][i / (IN::H * IN::W)] = lane_int8(word, b);
    }
  }
}

// Dense conv weights [C_IN][KK][COLS] from rows r = c*KK + kk of COLS bytes.
template <class L, int COLS>
void load_conv_weights(const word_t *params, wgt_t w[L::C_IN][L::KK][COLS]) {
  for (int r = 0; r < L::ROWS; r++)
    for (int g = 0; g < COLS; g++) {
#pragma HLS PIPELINE II=1
      w[r / L::KK][r % L::KK][g] = (wgt_t)byte_at(params, L::W_OFF + r * COLS + g);
    }
}

// Packed conv weights and kernel ids [C_IN][KK][G] (layers fed by dense activations).
template <class L>
void load_packed_conv(const word_t *params, wgt_t w[L::C_IN][L::KK][L::G],
                      ap_uint<L::ID_BITS> id[L::C_IN][L::KK][L::G]) {
  for (int r = 0; r < L::ROWS; r++)
    for (int g = 0; g < L::G; g++) {
#pragma HLS PIPELINE II=1
      w[r / L::KK][r % L::KK][g] = (wgt_t)byte_at(params, L::W_OFF + r * L::G + g);
      id[r / L::KK][r % L::KK][g] = byte_at(params, L::ID_OFF + r * L::G + g);
    }
}

// Packed weights and kernel ids [ROWS][G] (linear layers).
template <class L>
void load_packed(const word_t *params, wgt_t w[L::ROWS][L::G],
                 ap_uint<L::ID_BITS> id[L::ROWS][L::G]) {
  for (int r = 0; r < L::ROWS; r++)
    for (int g = 0; g < L::G; g++) {
#pragma HLS PIPELINE II=1
      w[r][g] = (wgt_t)byte_at(params, L::W_OFF + r * L::G + g);
      id[r][g] = byte_at(params, L::ID_OFF + r * L::G + g);
    }
}

// Packed weights and kernel ids, written to every copy of a multi-port memory at once.
template <class L>
void load_packed_copies(const word_t *params, wgt_t w[L::COPIES][L::ROWS][L::G],
                        ap_uint<L::ID_BITS> id[L::COPIES][L::ROWS][L::G]) {
  for (int r = 0; r < L::ROWS; r++)
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

// Dense linear weights [N_IN][C_OUT] from rows of ROW_BYTES (the dense output layer, on chip).
template <class L>
void load_linear_weights(const word_t *params, wgt_t w[L::N_IN][L::C_OUT]) {
  for (int i = 0; i < L::N_IN; i++)
    for (int o = 0; o < L::C_OUT; o++) {
#pragma HLS PIPELINE II=1
      w[i][o] = (wgt_t)byte_at(params, L::W_OFF + i * L::ROW_BYTES + o);
    }
}

// Bias of every (padded) output channel. Padding kernels of a last, partial group get bias 0
// and are never read out.
template <class L>
void load_bias(const word_t *params, acc_t bias[L::C_PAD]) {
  for (int c = 0; c < L::C_PAD; c++) {
#pragma HLS PIPELINE II=1
    bias[c] = int32_at(params, L::BIAS_OFF + 4 * c);
  }
}

// Requantisation multiplier and shift of every (padded) channel of a hidden layer.
template <class L>
void load_requant(const word_t *params, ap_int<32> mult[L::C_PAD], ap_uint<6> shift[L::C_PAD]) {
  for (int c = 0; c < L::C_PAD; c++) {
#pragma HLS PIPELINE II=1
    mult[c] = int32_at(params, L::MULT_OFF + 4 * c);
    shift[c] = (ap_uint<6>)int32_at(params, L::SHIFT_OFF + 4 * c);
  }
}

#endif
