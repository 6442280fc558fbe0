// compsparse HLS kernels: linear layers (matrix-vector product -> bias -> requantise).
// SPDX-License-Identifier: BSD-3-Clause
//
// A linear layer is one dataflow process: clear its sums, Multiply-Route-Sum over its inputs,
// then add the bias and requantise every unit (hidden layer) or store the logits (output).
//   packed   one input per MAC_II cycles (a dense activation, or a k-WTA winner from a FIFO)
//            reads its row of the packed memory: G weights, one per group, each product routed
//            to its kernel's accumulator. The accumulators of a group are one small memory of
//            NPG words, so the G products update G different memories in the same cycle: the
//            complementary packing makes the routing collision-free, and no product is compared
//            with all C_OUT accumulators. The next input may add to the same word, so with
//            NPG > 1 the loop waits for the read-modify-write (MAC_II = CS_RMW_II); with
//            NPG = 1 the accumulators are registers (MAC_II = 1).
//   ddr      the dense stand-in's linear1 streams its 2.4 MB of weights from DDR, 8 per bus
//            word, like the DPU it stands in for pays in memory bandwidth.
// Accumulators are [group][kernel id] as in cs_conv.h; the dense layers are G = C_OUT, NPG = 1.
#ifndef CS_LINEAR_H
#define CS_LINEAR_H

#include "cs_axi.h"
#include "cs_conv.h"
#include "cs_requant.h"
#include "cs_tap.h"
#include "cs_types.h"
#include <hls_stream.h>

// ---------------------------------------------------------------- Multiply, Route, Sum

template <class L>
void clear_sums(sum_t<L> acc[L::G][L::NPG]) {
#pragma HLS INLINE
linear_clear:
  for (int j = 0; j < L::NPG; j++) {
#pragma HLS PIPELINE II=1
    for (int g = 0; g < L::G; g++) {
#pragma HLS UNROLL
      acc[g][j] = 0;
    }
  }
}

// Input i with activation a: row i of the packed memory, each product to its kernel's sum.
template <class L, class WM, class IM>
inline void mac_row(sum_t<L> acc[L::G][L::NPG], const WM &w, const IM &id, int i, act_t a) {
#pragma HLS INLINE
  for (int g = 0; g < L::G; g++) {
#pragma HLS UNROLL
    acc[g][kernel_id(id, i, g)] += (prod_t)(w[i][g] * a);  // Multiply, Route, Sum
  }
}

// Dense activations of a conv layer, stored by pixel [PH][PW][C]: input i = (c*PH + py)*PW + px.
template <class L, int PH, int PW, int C, class WM, class IM>
void mac_inputs(sum_t<L> acc[L::G][L::NPG], const act_t (&x)[PH][PW][C], const WM &w,
                const IM &id) {
#pragma HLS INLINE
  static_assert(PH * PW * C == L::N_IN, "the input is the previous layer's output");
  int c = 0, py = 0, px = 0;
linear_mac:
  for (int i = 0; i < L::N_IN; i++) {
#pragma HLS PIPELINE II=L::MAC_II
    mac_row<L>(acc, w, id, i, x[py][px][c]);
    if (++px == PW) {
      px = 0;
      if (++py == PH) {
        py = 0;
        c++;
      }
    }
  }
}

// Dense activations of a linear layer.
template <class L, class WM, class IM>
void mac_inputs(sum_t<L> acc[L::G][L::NPG], const act_t (&x)[L::N_IN], const WM &w,
                const IM &id) {
#pragma HLS INLINE
linear_mac:
  for (int i = 0; i < L::N_IN; i++) {
#pragma HLS PIPELINE II=L::MAC_II
    mac_row<L>(acc, w, id, i, x[i]);
  }
}

// k-WTA winners from a FIFO, K_IN per clip: only they reach a multiplier (Select addresses
// Multiply: the winner's index is the row).
template <class L, class WM, class IM>
void mac_inputs(sum_t<L> acc[L::G][L::NPG], hls::stream<winner_t> &x, const WM &w,
                const IM &id) {
#pragma HLS INLINE
linear_mac:
  for (int s = 0; s < L::K_IN; s++) {
#pragma HLS PIPELINE II=L::MAC_II
    const winner_t a = x.read();
    mac_row<L>(acc, w, id, a.index, a.value);
  }
}

// ---------------------------------------------------------------- bias, requantise, store

// Hidden layer: add the bias and requantise every unit, one per cycle.
template <class L>
void requant_units(const sum_t<L> acc[L::G][L::NPG], const acc_t bias[L::C_PAD],
                   const ap_int<32> mult[L::C_PAD], const ap_uint<6> shift[L::C_PAD],
                   act_t y[L::C_OUT]) {
#pragma HLS INLINE
  int g = 0, j = 0;
linear_requant:
  for (int c = 0; c < L::C_OUT; c++) {
#pragma HLS PIPELINE II=1
    const acc_t v = bias[c] + acc[g][j];
    y[c] = requantize(v, mult[c], shift[c]);
    CS_TAP(L::INDEX, CS_TAP_ACC, c, v);
    CS_TAP(L::INDEX, CS_TAP_POOLED, c, v);
    CS_TAP(L::INDEX, CS_TAP_OUT, c, y[c]);
    if (++j == L::NPG) {
      j = 0;
      g++;
    }
  }
}

// Output layer: add the bias; the int32 results are the logits, two per bus word.
template <class L>
void store_logits(const sum_t<L> acc[L::G][L::NPG], const acc_t bias[L::C_PAD],
                  word_t *logits, int clip) {
#pragma HLS INLINE
  const int WORDS = (L::C_OUT + 1) / 2;
store_logits:
  for (int w = 0; w < WORDS; w++) {
#pragma HLS PIPELINE II=1
    word_t word = 0;
    for (int h = 0; h < 2; h++) {
      const int c = 2 * w + h;
      const acc_t v = c < L::C_OUT ? acc_t(bias[c] + acc[c / L::NPG][c % L::NPG]) : acc_t(0);
      word.range(32 * h + 31, 32 * h) = (ap_uint<32>)v;
      if (c < L::C_OUT) {
        CS_TAP(L::INDEX, CS_TAP_ACC, c, v);
        CS_TAP(L::INDEX, CS_TAP_POOLED, c, v);
      }
    }
    logits[clip * WORDS + w] = word;
  }
}

// ---------------------------------------------------------------- the layer processes

// A hidden packed layer: inputs x (a dense buffer or a winner FIFO) -> requantised units y.
template <class L, class X, class WM, class IM>
void linear_hidden(X &x, const WM &w, const IM &id, const acc_t bias[L::C_PAD],
                   const ap_int<32> mult[L::C_PAD], const ap_uint<6> shift[L::C_PAD],
                   act_t y[L::C_OUT]) {
#pragma HLS INLINE off
  // One memory per group (NPG words, small enough for LUT RAM): each cycle every group's
  // memory takes one product.
  sum_t<L> acc[L::G][L::NPG];
#pragma HLS ARRAY_PARTITION variable=acc type=complete dim=1
  clear_sums<L>(acc);
  mac_inputs<L>(acc, x, w, id);
  requant_units<L>(acc, bias, mult, shift, y);
}

// The output layer (packed, or the dense stand-in's with no kernel ids): inputs -> logits.
template <class L, class X, class WM, class IM>
void linear_output(X &x, const WM &w, const IM &id, const acc_t bias[L::C_PAD],
                   word_t *logits, int clip) {
#pragma HLS INLINE off
  sum_t<L> acc[L::G][L::NPG];
#pragma HLS ARRAY_PARTITION variable=acc type=complete dim=1
  clear_sums<L>(acc);
  mac_inputs<L>(acc, x, w, id);
  store_logits<L>(acc, bias, logits, clip);
}

// The dense stand-in's output layer (on chip, no kernel ids).
template <class L, class X, class WM>
void linear_output(X &x, const WM &w, const acc_t bias[L::C_PAD], word_t *logits, int clip) {
#pragma HLS INLINE off
  sum_t<L> acc[L::G][L::NPG];
#pragma HLS ARRAY_PARTITION variable=acc type=complete dim=1
  clear_sums<L>(acc);
  mac_inputs<L>(acc, x, w, no_ids());
  store_logits<L>(acc, bias, logits, clip);
}

// The dense stand-in's linear1: one weight row per input, streamed from DDR (all rows are
// consecutive in the blob, so the whole matrix is one burst), 8 weights per bus word updating
// 8 accumulators in 8 banks.
template <class L, int PH, int PW, int C>
void linear_ddr(const act_t (&x)[PH][PW][C], const word_t *params, const acc_t bias[L::C_PAD],
                const ap_int<32> mult[L::C_PAD], const ap_uint<6> shift[L::C_PAD],
                act_t y[L::C_OUT]) {
#pragma HLS INLINE off
  static_assert(PH * PW * C == L::N_IN && L::NPG == 1, "dense: input = conv2's output");
  const int ROW_WORDS = L::ROW_BYTES / WORD_BYTES;
  sum_t<L> acc[L::G][L::NPG];
#pragma HLS ARRAY_PARTITION variable=acc type=cyclic factor=8 dim=1
linear_ddr_clear:
  for (int o = 0; o < L::G; o += WORD_BYTES) {
#pragma HLS PIPELINE II=1
    for (int b = 0; b < WORD_BYTES; b++) {
#pragma HLS UNROLL
      if (o + b < L::G) acc[o + b][0] = 0;
    }
  }
  int k = 0, c = 0, py = 0, px = 0;
linear_ddr:
  for (int t = 0; t < L::N_IN * ROW_WORDS; t++) {
#pragma HLS PIPELINE II=1
    // an accumulator is updated again only ROW_WORDS iterations later, beyond the pipeline
#pragma HLS DEPENDENCE variable=acc type=inter dependent=false
    const word_t word = params[L::W_OFF / WORD_BYTES + t];
    const act_t a = x[py][px][c];
    for (int b = 0; b < WORD_BYTES; b++) {
#pragma HLS UNROLL
      const int o = k * WORD_BYTES + b;
      if (o < L::C_OUT) acc[o][0] += (prod_t)(lane_int8(word, b) * a);
    }
    if (++k == ROW_WORDS) {  // next input: (c, py, px) in the order of the rows
      k = 0;
      if (++px == PW) {
        px = 0;
        if (++py == PH) {
          py = 0;
          c++;
        }
      }
    }
  }
  requant_units<L>(acc, bias, mult, shift, y);
}

#endif
