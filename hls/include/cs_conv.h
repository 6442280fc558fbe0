// compsparse HLS kernels: convolution layers (conv -> bias -> max-pool -> requantise -> k-WTA).
// SPDX-License-Identifier: BSD-3-Clause
//
// A layer is described by a config struct L from the generated cs_config.h (sizes, kernels per
// packed kernel NPG, groups G, k, read ports, byte offsets). Every conv layer runs output
// stationary over the pooled pixels: for each pooled pixel it computes the POOL x POOL conv
// outputs under it, keeps their maximum (pooling int32 accumulators before requantising gives
// the same int8 result, because requantisation is monotone), requantises the channels and
// passes them on densely or through local k-WTA. Three multiply engines differ in what one
// clock cycle does:
//   mac_dense          one input position x all C_OUT dense kernels        (C_OUT multipliers)
//   mac_sparse_dense   one input position x the G packed kernels, routed   (G multipliers)
//   mac_sparse_sparse  PORTS k-WTA winners x the G packed kernels, routed  (PORTS*G multipliers)
// Accumulators are indexed [group][kernel id]: kernel c of the layer is group c / NPG, id
// c % NPG, as in compsparse.packing. The dense engine is the case G = C_OUT, NPG = 1.
#ifndef CS_CONV_H
#define CS_CONV_H

#include "cs_kwta.h"
#include "cs_requant.h"
#include "cs_tap.h"
#include "cs_types.h"
#include <hls_stream.h>

// ---------------------------------------------------------------- multiply, route, sum

// Dense: each cycle reads one activation of the window and multiplies it by the weight at that
// position of every kernel. Stand-in for the paper's Vitis AI DPU baseline, not a copy of it.
template <class L, class X>
void mac_dense(const X x[L::C_IN][L::H][L::W], int oy, int ox,
               const wgt_t w[L::ROWS][L::G], acc_t acc[L::G][L::NPG]) {
  for (int c = 0; c < L::C_IN; c++)
    for (int dy = 0; dy < L::KH; dy++)
      for (int dx = 0; dx < L::KW; dx++) {
#pragma HLS PIPELINE II=1
        const int r = (c * L::KH + dy) * L::KW + dx;
        const X a = x[c][oy + dy][ox + dx];
        for (int o = 0; o < L::G; o++) {
#pragma HLS UNROLL
          acc[o][0] += (prod_t)(w[r][o] * a);
        }
      }
}

// Sparse-dense: each cycle reads one activation and one row of the packed weight memory (G
// weights and G kernel ids, one per packed kernel): the Hadamard product of the window with the
// G packed kernels, one position at a time. Serial routing: each product goes through a
// multiplexer to the accumulator its kernel id names, one product per group per cycle.
template <class L, class X>
void mac_sparse_dense(const X x[L::C_IN][L::H][L::W], int oy, int ox,
                      const wgt_t w[L::ROWS][L::G], const ap_uint<L::ID_BITS> id[L::ROWS][L::G],
                      acc_t acc[L::G][L::NPG]) {
  for (int c = 0; c < L::C_IN; c++)
    for (int dy = 0; dy < L::KH; dy++)
      for (int dx = 0; dx < L::KW; dx++) {
#pragma HLS PIPELINE II=1
        const int r = (c * L::KH + dy) * L::KW + dx;
        const X a = x[c][oy + dy][ox + dx];
        for (int g = 0; g < L::G; g++) {
#pragma HLS UNROLL
          const prod_t p = w[r][g] * a;  // Multiply
          acc[g][id[r][g]] += p;         // Route by kernel id, Sum
        }
      }
}

// Parallel routing of PORTS products per group: every accumulator of the group adds, through a
// small adder tree, the products whose kernel id names it. Products of one cycle may name the
// same accumulator, so no product can be steered alone.
template <class L>
void route_parallel(const prod_t prod[L::PORTS][L::G], const ap_uint<L::ID_BITS> kid[L::PORTS][L::G],
                    acc_t acc[L::G][L::NPG]) {
#pragma HLS INLINE
  for (int g = 0; g < L::G; g++) {
#pragma HLS UNROLL
    for (int j = 0; j < L::NPG; j++) {
#pragma HLS UNROLL
      acc_t sum = 0;
      for (int p = 0; p < L::PORTS; p++) {
#pragma HLS UNROLL
        if (kid[p][g] == j) sum += prod[p][g];
      }
      acc[g][j] += sum;
    }
  }
}

// Sparse-sparse: the input holds K_IN winners per pixel (channel, value). For each kernel
// offset (dy, dx), the winners of input pixel (oy+dy, ox+dx) address rows (channel, dy, dx) of
// the packed weight memory: PORTS of them are read in the same cycle, one per read port (a copy
// of the memory serves two ports). Zeros never reach a multiplier.
template <class L>
void mac_sparse_sparse(const winner_t x[L::H][L::W][L::K_IN], int oy, int ox,
                       const wgt_t w[L::COPIES][L::ROWS][L::G],
                       const ap_uint<L::ID_BITS> id[L::COPIES][L::ROWS][L::G],
                       acc_t acc[L::G][L::NPG]) {
  for (int dy = 0; dy < L::KH; dy++)
    for (int dx = 0; dx < L::KW; dx++)
      for (int chunk = 0; chunk < L::CHUNKS; chunk++) {
#pragma HLS PIPELINE II=1
        prod_t prod[L::PORTS][L::G];
        ap_uint<L::ID_BITS> kid[L::PORTS][L::G];
#pragma HLS ARRAY_PARTITION variable=prod type=complete dim=0
#pragma HLS ARRAY_PARTITION variable=kid type=complete dim=0
        for (int p = 0; p < L::PORTS; p++) {
#pragma HLS UNROLL
          const int s = chunk * L::PORTS + p;
          const bool valid = s < L::K_IN;  // the last chunk may be partial
          const winner_t a = x[oy + dy][ox + dx][valid ? s : 0];
          const int r = (a.index * L::KH + dy) * L::KW + dx;  // Select addresses the row
          for (int g = 0; g < L::G; g++) {
#pragma HLS UNROLL
            prod[p][g] = valid ? (prod_t)(w[p / 2][r][g] * a.value) : prod_t(0);  // Multiply
            kid[p][g] = id[p / 2][r][g];
          }
        }
        route_parallel<L>(prod, kid, acc);  // Route, Sum
      }
}

// ---------------------------------------------------------------- bias, pool, requantise

template <class L>
void init_acc(const channel_params<L::C_PAD> &p, acc_t acc[L::G][L::NPG]) {
#pragma HLS INLINE
  for (int g = 0; g < L::G; g++)
    for (int j = 0; j < L::NPG; j++) acc[g][j] = p.bias[g * L::NPG + j];
}

template <class L>
void init_pool(acc_t pooled[L::G][L::NPG]) {
#pragma HLS INLINE
  for (int g = 0; g < L::G; g++)
    for (int j = 0; j < L::NPG; j++) pooled[g][j] = ACC_MIN;
}

// Max-pool: fold the accumulators of conv output (oy, ox) into the pooled maximum.
template <class L>
void pool_max(const acc_t acc[L::G][L::NPG], int oy, int ox, acc_t pooled[L::G][L::NPG]) {
#pragma HLS INLINE
  for (int g = 0; g < L::G; g++)
    for (int j = 0; j < L::NPG; j++) {
      const int c = g * L::NPG + j;
      if (c < L::C_OUT) CS_TAP(L::INDEX, CS_TAP_ACC, (c * L::OH + oy) * L::OW + ox, acc[g][j]);
      if (acc[g][j] > pooled[g][j]) pooled[g][j] = acc[g][j];
    }
}

// Requantise the C_OUT channels of one pooled pixel (one channel per cycle: one 32x31-bit
// multiplier per layer is plenty next to the MAC loop).
template <class L>
void requant_pixel(const acc_t pooled[L::G][L::NPG], const channel_params<L::C_PAD> &p,
                   int py, int px, act_t y[L::C_OUT]) {
  for (int c = 0; c < L::C_OUT; c++) {
#pragma HLS PIPELINE II=1
    const acc_t v = pooled[c / L::NPG][c % L::NPG];
    y[c] = requantize(v, p.multiplier[c], p.shift[c]);
    CS_TAP(L::INDEX, CS_TAP_POOLED, (c * L::PH + py) * L::PW + px, v);
    CS_TAP(L::INDEX, CS_TAP_OUT, (c * L::PH + py) * L::PW + px, y[c]);
  }
}

// ---------------------------------------------------------------- where a pixel's output goes

// Dense output (no k-WTA) into the next conv layer's input.
template <class L>
void emit(const act_t y[L::C_OUT], int py, int px, act_t out[L::C_OUT][L::PH][L::PW]) {
  for (int c = 0; c < L::C_OUT; c++) out[c][py][px] = y[c];
}

// Dense output flattened in (c, h, w) order for a linear layer.
template <class L>
void emit(const act_t y[L::C_OUT], int py, int px, act_t out[L::C_OUT * L::PH * L::PW]) {
  for (int c = 0; c < L::C_OUT; c++) out[(c * L::PH + py) * L::PW + px] = y[c];
}

// Local k-WTA, winners kept per pixel for the next (sparse-sparse) conv layer.
template <class L>
void emit(const act_t y[L::C_OUT], int py, int px, winner_t out[L::PH][L::PW][L::K]) {
  winner_t win[L::K];
  kwta_local<L::C_OUT, L::K>(y, win);
  for (int s = 0; s < L::K; s++) {
    out[py][px][s] = win[s];
    CS_TAP(L::INDEX, CS_TAP_ACTIVE, (win[s].index * L::PH + py) * L::PW + px, win[s].value);
  }
}

// Local k-WTA, winners streamed with their flat (c, h, w) index to a sparse-sparse linear layer.
template <class L>
void emit(const act_t y[L::C_OUT], int py, int px, hls::stream<winner_t> &out) {
  winner_t win[L::K];
  kwta_local<L::C_OUT, L::K>(y, win);
  for (int s = 0; s < L::K; s++) {
    winner_t flat;
    flat.index = (win[s].index * L::PH + py) * L::PW + px;
    flat.value = win[s].value;
    out.write(flat);
    CS_TAP(L::INDEX, CS_TAP_ACTIVE, flat.index, flat.value);
  }
}

// ---------------------------------------------------------------- the three conv layers

// Each layer walks the pooled pixels; under each it runs its engine for the POOL x POOL conv
// outputs, keeps their maximum, requantises and hands the pixel on.

// The dense conv layer (both conv layers of the dense top).
template <class L, class X, class OUT>
void conv_dense(const X x[L::C_IN][L::H][L::W], const wgt_t w[L::ROWS][L::G],
                const channel_params<L::C_PAD> &p, OUT &out) {
  for (int py = 0; py < L::PH; py++)
    for (int px = 0; px < L::PW; px++) {
      acc_t pooled[L::G][L::NPG], acc[L::G][L::NPG];
      act_t y[L::C_OUT];
#pragma HLS ARRAY_PARTITION variable=acc type=complete dim=0
#pragma HLS ARRAY_PARTITION variable=pooled type=complete dim=0
      init_pool<L>(pooled);
      for (int sy = 0; sy < L::POOL; sy++)
        for (int sx = 0; sx < L::POOL; sx++) {
          const int oy = py * L::POOL + sy, ox = px * L::POOL + sx;
          init_acc<L>(p, acc);
          mac_dense<L, X>(x, oy, ox, w, acc);
          pool_max<L>(acc, oy, ox, pooled);
        }
      requant_pixel<L>(pooled, p, py, px, y);
      emit<L>(y, py, px, out);
    }
}

// The sparse-dense conv layer (conv1 of both sparse tops, conv2 of the sparse-dense top).
template <class L, class X, class OUT>
void conv_sparse_dense(const X x[L::C_IN][L::H][L::W], const wgt_t w[L::ROWS][L::G],
                       const ap_uint<L::ID_BITS> id[L::ROWS][L::G],
                       const channel_params<L::C_PAD> &p, OUT &out) {
  for (int py = 0; py < L::PH; py++)
    for (int px = 0; px < L::PW; px++) {
      acc_t pooled[L::G][L::NPG], acc[L::G][L::NPG];
      act_t y[L::C_OUT];
#pragma HLS ARRAY_PARTITION variable=acc type=complete dim=0
#pragma HLS ARRAY_PARTITION variable=pooled type=complete dim=0
      init_pool<L>(pooled);
      for (int sy = 0; sy < L::POOL; sy++)
        for (int sx = 0; sx < L::POOL; sx++) {
          const int oy = py * L::POOL + sy, ox = px * L::POOL + sx;
          init_acc<L>(p, acc);
          mac_sparse_dense<L, X>(x, oy, ox, w, id, acc);
          pool_max<L>(acc, oy, ox, pooled);
        }
      requant_pixel<L>(pooled, p, py, px, y);
      emit<L>(y, py, px, out);
    }
}

// The sparse-sparse conv layer (conv2 of the sparse-sparse top): its input is k-WTA winners.
template <class L, class OUT>
void conv_sparse_sparse(const winner_t x[L::H][L::W][L::K_IN],
                        const wgt_t w[L::COPIES][L::ROWS][L::G],
                        const ap_uint<L::ID_BITS> id[L::COPIES][L::ROWS][L::G],
                        const channel_params<L::C_PAD> &p, OUT &out) {
  for (int py = 0; py < L::PH; py++)
    for (int px = 0; px < L::PW; px++) {
      acc_t pooled[L::G][L::NPG], acc[L::G][L::NPG];
      act_t y[L::C_OUT];
#pragma HLS ARRAY_PARTITION variable=acc type=complete dim=0
#pragma HLS ARRAY_PARTITION variable=pooled type=complete dim=0
      init_pool<L>(pooled);
      for (int sy = 0; sy < L::POOL; sy++)
        for (int sx = 0; sx < L::POOL; sx++) {
          const int oy = py * L::POOL + sy, ox = px * L::POOL + sx;
          init_acc<L>(p, acc);
          mac_sparse_sparse<L>(x, oy, ox, w, id, acc);
          pool_max<L>(acc, oy, ox, pooled);
        }
      requant_pixel<L>(pooled, p, py, px, y);
      emit<L>(y, py, px, out);
    }
}

#endif
