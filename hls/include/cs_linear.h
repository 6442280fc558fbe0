// compsparse HLS kernels: linear layers (matrix-vector product -> bias -> requantise -> k-WTA).
// SPDX-License-Identifier: BSD-3-Clause
//
// Same three engines as the conv layers (cs_conv.h), over the layer's N_IN inputs:
//   linear_dense          one input x all C_OUT weights of its row, streamed from DDR
//   linear_sparse_dense   one input x one row of the packed weight memory (G weights), routed
//   linear_sparse_sparse  PORTS k-WTA winners x their rows of the packed memory, routed
// Accumulators are [group][kernel id] as in cs_conv.h; for the dense engine G = C_OUT, NPG = 1.
#ifndef CS_LINEAR_H
#define CS_LINEAR_H

#include "cs_axi.h"
#include "cs_conv.h"
#include "cs_kwta.h"
#include "cs_requant.h"
#include "cs_tap.h"
#include "cs_types.h"
#include <hls_stream.h>

template <class L>
void init_acc_linear(const channel_params<L::C_PAD> &p, acc_t acc[L::G][L::NPG]) {
  for (int g = 0; g < L::G; g++)
    for (int j = 0; j < L::NPG; j++) {
#pragma HLS PIPELINE II=1
      acc[g][j] = p.bias[g * L::NPG + j];
    }
}

// Dense: the weights are read from DDR through the m_axi port, one row (all outputs of one
// input) per N_IN iteration, 8 weights per bus word. A dense layer of 1600 x 1500 int8 weights
// (2.4 MB) does not fit on a ZU3EG, so like the DPU it is paid for in memory bandwidth.
template <class L>
void linear_dense(const act_t x[L::N_IN], const word_t *params, const channel_params<L::C_PAD> &p,
                  acc_t acc[L::G][L::NPG]) {
  const int ROW_WORDS = L::ROW_BYTES / WORD_BYTES;
  init_acc_linear<L>(p, acc);
  for (int i = 0; i < L::N_IN; i++) {
    const act_t a = x[i];
    for (int k = 0; k < ROW_WORDS; k++) {
#pragma HLS PIPELINE II=1
      const word_t word = params[(L::W_OFF + i * L::ROW_BYTES) / WORD_BYTES + k];
      for (int b = 0; b < WORD_BYTES; b++) {
#pragma HLS UNROLL
        const int o = k * WORD_BYTES + b;
        if (o < L::C_OUT) acc[o][0] += (prod_t)(lane_int8(word, b) * a);
      }
    }
  }
}

// Sparse-dense: every input addresses its row of the packed weight memory; the G products go
// through one multiplexer each to the accumulator named by the kernel id (serial routing).
template <class L>
void linear_sparse_dense(const act_t x[L::N_IN], const wgt_t w[L::N_IN][L::G],
                         const ap_uint<L::ID_BITS> id[L::N_IN][L::G],
                         const channel_params<L::C_PAD> &p, acc_t acc[L::G][L::NPG]) {
  init_acc_linear<L>(p, acc);
  for (int i = 0; i < L::N_IN; i++) {
#pragma HLS PIPELINE II=1
    const act_t a = x[i];
    for (int g = 0; g < L::G; g++) {
#pragma HLS UNROLL
      const prod_t prod = w[i][g] * a;  // Multiply
      acc[g][id[i][g]] += prod;         // Route by kernel id, Sum
    }
  }
}

// Sparse-sparse: the K_IN winners arrive on a stream with their flat indices; each cycle PORTS
// of them read their rows from PORTS read ports (a copy of the memory serves two), and the
// PORTS x G products are routed in parallel (route_parallel in cs_conv.h).
template <class L>
void linear_sparse_sparse(hls::stream<winner_t> &x, const wgt_t w[L::COPIES][L::N_IN][L::G],
                          const ap_uint<L::ID_BITS> id[L::COPIES][L::N_IN][L::G],
                          const channel_params<L::C_PAD> &p, acc_t acc[L::G][L::NPG]) {
  init_acc_linear<L>(p, acc);
  for (int chunk = 0; chunk < L::CHUNKS; chunk++) {
#pragma HLS PIPELINE II=1
    prod_t prod[L::PORTS][L::G];
    ap_uint<L::ID_BITS> kid[L::PORTS][L::G];
#pragma HLS ARRAY_PARTITION variable=prod type=complete dim=0
#pragma HLS ARRAY_PARTITION variable=kid type=complete dim=0
    for (int p = 0; p < L::PORTS; p++) {
#pragma HLS UNROLL
      const bool valid = chunk * L::PORTS + p < L::K_IN;  // the last chunk may be partial
      winner_t a;
      a.index = 0;
      a.value = 0;
      if (valid) a = x.read();
      for (int g = 0; g < L::G; g++) {
#pragma HLS UNROLL
        prod[p][g] = valid ? (prod_t)(w[p / 2][a.index][g] * a.value) : prod_t(0);  // Multiply
        kid[p][g] = id[p / 2][a.index][g];
      }
    }
    route_parallel<L>(prod, kid, acc);  // Route, Sum
  }
}

// Hidden linear layer output: tap the accumulators, requantise every unit.
template <class L>
void requant_vector(const acc_t acc[L::G][L::NPG], const channel_params<L::C_PAD> &p,
                    act_t y[L::C_OUT]) {
  for (int c = 0; c < L::C_OUT; c++) {
#pragma HLS PIPELINE II=1
    const acc_t v = acc[c / L::NPG][c % L::NPG];
    y[c] = requantize(v, p.multiplier[c], p.shift[c]);
    CS_TAP(L::INDEX, CS_TAP_ACC, c, v);
    CS_TAP(L::INDEX, CS_TAP_POOLED, c, v);
    CS_TAP(L::INDEX, CS_TAP_OUT, c, y[c]);
  }
}

// The output layer: its accumulators are the logits, two int32 per bus word.
template <class L>
void store_logits(const acc_t acc[L::G][L::NPG], word_t *out) {
  for (int w = 0; w < (L::C_OUT + 1) / 2; w++) {
#pragma HLS PIPELINE II=1
    word_t word = 0;
    for (int h = 0; h < 2; h++) {
      const int c = 2 * w + h;
      const acc_t v = c < L::C_OUT ? acc[c / L::NPG][c % L::NPG] : acc_t(0);
      word.range(32 * h + 31, 32 * h) = (ap_uint<32>)v;
      if (c < L::C_OUT) {
        CS_TAP(L::INDEX, CS_TAP_ACC, c, v);
        CS_TAP(L::INDEX, CS_TAP_POOLED, c, v);
      }
    }
    out[w] = word;
  }
}

#endif
