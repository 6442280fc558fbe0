// compsparse HLS kernels: convolution layers (multiply, route, sum -> pool -> requantise).
// SPDX-License-Identifier: BSD-3-Clause
//
// A conv layer is a chain of dataflow processes joined by FIFOs, so that its parts work on
// consecutive pooled pixels at the same time:
//   conv_mac      Multiply, Route, Sum in LANES x SLICES parallel units; as each pass of sums
//                 drains, the bias is added and the max-pooling done, DRAIN channels per cycle
//   conv_requant  requantise DRAIN channels per cycle; hand them on to the next conv layer's
//                 input buffer as they come, or whole pixels to k-WTA
//   kwta_pixels   (sparse-sparse tops) local k-WTA per pixel (cs_kwta.h)
// The layer config L comes from the generated cs_config.h (sizes, kernels per packed kernel
// NPG, groups G, k, and the parallelism that compsparse.hls_params chooses per variant):
//   LANES   conv outputs under one pooled pixel computed at once (a divisor of POOL*POOL);
//           the POOL*POOL outputs take PASSES = POOL*POOL / LANES passes
//   SLICES  units that split the input channels of a pixel (dense activations only): slice s
//           takes channels s, s + SLICES, ...; the packed memory is split the same way, so
//           every unit reads its own bank. Their sums are added as they drain.
//   DRAIN   channels drained (and requantised) per cycle: C_PAD / DRAIN <= the cycles of one
//           pass, so the sums of one pass drain while the next pass multiplies.
// A unit multiplies one activation by one row of the packed memory per cycle: G weights, one
// per packed kernel. Complementary packing puts exactly one weight of each group in a row, so
// the G products go to G different groups: per group one adder and a multiplexer that steers
// the product into the accumulator its kernel id names (serial routing), and the products of a
// unit never collide. Units never share accumulators, so parallel units do not collide either.
// The dense stand-in is the same engine with NPG = 1 (every kernel its own group, no ids).
#ifndef CS_CONV_H
#define CS_CONV_H

#include "cs_kwta.h"
#include "cs_requant.h"
#include "cs_tap.h"
#include "cs_types.h"
#include <hls_stream.h>

// ---------------------------------------------------------------- kernel ids

// The dense stand-in's weights have no kernel ids: every weight is its own kernel's.
struct no_ids {};

template <class IDS>
inline int kernel_id(const IDS &id, int c, int kk, int g) {
#pragma HLS INLINE
  return id[c][kk][g];
}
inline int kernel_id(const no_ids &, int, int, int) { return 0; }

template <class IDS>
inline int kernel_id(const IDS &id, int r, int g) {
#pragma HLS INLINE
  return id[r][g];
}
inline int kernel_id(const no_ids &, int, int) { return 0; }

// ---------------------------------------------------------------- Multiply, Route, Sum

// One product into the accumulators of its group: the kernel id picks the accumulator (a
// multiplexer in front of one adder; the other NPG - 1 keep their values). `first` starts a
// new sum: the accumulators of the previous pass are already in the shadow copy.
template <class L>
inline void route_add(sum_t<L> acc[L::NPG], int j, prod_t p, bool first) {
#pragma HLS INLINE
  if (first)
    for (int k = 0; k < L::NPG; k++) acc[k] = 0;
  acc[j] += p;
}

// A unit fed by dense activations: slice s takes channel inner * SLICES + s of the pixel at
// (y, x); its row of the packed memory is (channel, kernel offset kk).
template <class L, class X, class IDS>
inline void unit_mac(sum_t<L> acc[L::G][L::NPG], bool first, const X x[L::H][L::W][L::C_IN],
                     const wgt_t w[L::C_IN][L::KK][L::G], const IDS &id, int y, int xx, int kk,
                     int inner, int lane, int slice) {
#pragma HLS INLINE
  const int c = inner * L::SLICES + slice;
  const X a = x[y][xx][c];
  for (int g = 0; g < L::G; g++) {
#pragma HLS UNROLL
    const prod_t p = w[c][kk][g] * a;                            // Multiply
    route_add<L>(acc[g], kernel_id(id, c, kk, g), p, first);   // Route by kernel id, Sum
  }
}

// A unit fed by k-WTA winners: lane `lane` takes winner `inner` of the pixel at (y, x), whose
// channel and the kernel offset address a row of the packed memory (Select addresses Multiply).
// Each lane has its own read port: a copy of the memory serves two (dual-port block RAM).
template <class L>
inline void unit_mac(sum_t<L> acc[L::G][L::NPG], bool first, const winner_t x[L::H][L::W][L::K_IN],
                     const wgt_t w[L::COPIES][L::ROWS][L::G],
                     const ap_uint<L::ID_BITS> id[L::COPIES][L::ROWS][L::G], int y, int xx, int kk,
                     int inner, int lane, int slice) {
#pragma HLS INLINE
  const winner_t a = x[y][xx][inner];
  const int r = a.index * L::KK + kk;
  for (int g = 0; g < L::G; g++) {
#pragma HLS UNROLL
    const prod_t p = w[lane / 2][r][g] * a.value;             // Multiply
    route_add<L>(acc[g], id[lane / 2][r][g], p, first);      // Route by kernel id, Sum
  }
}

// ---------------------------------------------------------------- bias and pooling

// Drain step d of a finished pass: for DRAIN channels, add the slices' sums and the bias (the
// conv outputs), take the maximum over the lanes and over the passes so far (max-pooling),
// and after the last pass send the pooled values on.
template <class L>
void drain_step(const sum_t<L> shadow[L::LANES][L::SLICES][L::C_PAD], const acc_t bias[L::C_PAD],
                int d, int py, int px, int pass, acc_t pooled[L::C_PAD],
                hls::stream<vec<acc_t, L::DRAIN> > &out) {
#pragma HLS INLINE
  const int PASSES = L::POOL * L::POOL / L::LANES;
  vec<acc_t, L::DRAIN> o;
  for (int e = 0; e < L::DRAIN; e++) {
#pragma HLS UNROLL
    const int c = d * L::DRAIN + e;
    acc_t best = 0;
    for (int l = 0; l < L::LANES; l++) {
#pragma HLS UNROLL
      acc_t v = bias[c];
      for (int s = 0; s < L::SLICES; s++) {
#pragma HLS UNROLL
        v += shadow[l][s][c];
      }
      const int at = pass * L::LANES + l;  // which conv output under the pooled pixel
      const int oy = py * L::POOL + at / L::POOL, ox = px * L::POOL + at % L::POOL;
      if (c < L::C_OUT) CS_TAP(L::INDEX, CS_TAP_ACC, (c * L::OH + oy) * L::OW + ox, v);
      if (l == 0 || v > best) best = v;
    }
    if (pass == 0 || best > pooled[c]) pooled[c] = best;
    o.v[e] = pooled[c];
  }
  if (pass == PASSES - 1) out.write(o);
}

// ---------------------------------------------------------------- the multiply process

// One flattened loop over (pooled pixel, pass, kernel offset, input step): every cycle each of
// the LANES x SLICES units multiplies one activation by one packed row. When a pass ends, its
// sums are copied into a shadow set of registers in the same cycle, and drain_step empties
// the shadow during the first C_PAD / DRAIN cycles of the next pass: no cycle is spent on
// anything but multiplies, apart from one drain at the end of the clip.
template <class L, class X, class WM, class IM>
void conv_engine(const X &x, const WM &w, const IM &id, const acc_t bias[L::C_PAD],
                 hls::stream<vec<acc_t, L::DRAIN> > &out) {
#pragma HLS INLINE
  const int PASSES = L::POOL * L::POOL / L::LANES;
  const int INNER = L::K_IN > 0 ? L::K_IN : L::C_IN / L::SLICES;  // steps per kernel offset
  const int STEPS = L::KK * INNER;                                  // cycles of one pass
  const int DRAINS = L::C_PAD / L::DRAIN;                           // cycles to drain a pass
  static_assert(L::POOL * L::POOL % L::LANES == 0, "LANES must divide POOL * POOL");
  static_assert(L::K_IN > 0 || L::C_IN % L::SLICES == 0, "SLICES must divide C_IN");
  static_assert(L::C_PAD % L::DRAIN == 0 && DRAINS <= STEPS, "a pass must drain in one pass");

  sum_t<L> acc[L::LANES][L::SLICES][L::G][L::NPG];
  sum_t<L> shadow[L::LANES][L::SLICES][L::C_PAD];
  acc_t pooled[L::C_PAD];
#pragma HLS ARRAY_PARTITION variable=acc type=complete dim=0
#pragma HLS ARRAY_PARTITION variable=shadow type=complete dim=0
#pragma HLS ARRAY_PARTITION variable=pooled type=cyclic factor=L::DRAIN

  int py = 0, px = 0, pass = 0, dy = 0, dx = 0, kk = 0, inner = 0, step = 0;
  int dpy = 0, dpx = 0, dpass = 0;  // the pass whose sums wait in the shadow
conv_mac:
  for (int t = 0; t < L::PH * L::PW * PASSES * STEPS; t++) {
#pragma HLS PIPELINE II=1
    if (t >= STEPS && step < DRAINS) drain_step<L>(shadow, bias, step, dpy, dpx, dpass, pooled, out);
    for (int l = 0; l < L::LANES; l++) {
#pragma HLS UNROLL
      const int at = pass * L::LANES + l;
      const int oy = py * L::POOL + at / L::POOL, ox = px * L::POOL + at % L::POOL;
      for (int s = 0; s < L::SLICES; s++) {
#pragma HLS UNROLL
        unit_mac<L>(acc[l][s], step == 0, x, w, id, oy + dy, ox + dx, kk, inner, l, s);
      }
    }
    if (step == STEPS - 1) {  // the pass is complete: its sums move to the shadow
      for (int l = 0; l < L::LANES; l++)
        for (int s = 0; s < L::SLICES; s++)
          for (int c = 0; c < L::C_PAD; c++) shadow[l][s][c] = acc[l][s][c / L::NPG][c % L::NPG];
      dpy = py;
      dpx = px;
      dpass = pass;
    }
    // next input step, kernel offset, pass, pooled pixel
    if (++inner == INNER) {
      inner = 0;
      kk++;
      if (++dx == L::KW) {
        dx = 0;
        dy++;
      }
    }
    if (++step == STEPS) {
      step = kk = dy = 0;
      if (++pass == PASSES) {
        pass = 0;
        if (++px == L::PW) {
          px = 0;
          py++;
        }
      }
    }
  }
conv_drain_last:
  for (int d = 0; d < DRAINS; d++) {
#pragma HLS PIPELINE II=1
    drain_step<L>(shadow, bias, d, dpy, dpx, dpass, pooled, out);
  }
}

// The multiply process of a packed layer (dense activations or k-WTA winners in, as x says).
template <class L, class X, class WM, class IM>
void conv_mac(const X &x, const WM &w, const IM &id, const acc_t bias[L::C_PAD],
              hls::stream<vec<acc_t, L::DRAIN> > &out) {
#pragma HLS INLINE off
  conv_engine<L>(x, w, id, bias, out);
}

// The multiply process of the dense stand-in (no kernel ids).
template <class L, class X, class WM>
void conv_mac(const X &x, const WM &w, const acc_t bias[L::C_PAD],
              hls::stream<vec<acc_t, L::DRAIN> > &out) {
#pragma HLS INLINE off
  conv_engine<L>(x, w, no_ids(), bias, out);
}

// ---------------------------------------------------------------- requantise, hand on

// Where a requantised channel goes: into the next conv layer's input buffer [PH][PW][C] as it
// is produced (the buffer's words hold the DRAIN channels of one cycle, see the tops) ...
template <class L>
void emit_channel(act_t out[L::PH][L::PW][L::C_OUT], int py, int px, int c, act_t v) {
#pragma HLS INLINE
  out[py][px][c] = v;
}
template <class L>
void emit_channel(hls::stream<vec<act_t, L::C_OUT> > &, int, int, int, act_t) {}

// ... or, whole pixels, to the local k-WTA process.
template <class L>
void emit_pixel(const act_t[L::C_PAD], act_t[L::PH][L::PW][L::C_OUT]) {}
template <class L>
void emit_pixel(const act_t y[L::C_PAD], hls::stream<vec<act_t, L::C_OUT> > &out) {
#pragma HLS INLINE
  vec<act_t, L::C_OUT> v;
  for (int c = 0; c < L::C_OUT; c++) {
#pragma HLS UNROLL
    v.v[c] = y[c];
  }
  out.write(v);
}

// Requantise the pooled values, DRAIN channels per cycle, and hand them on.
template <class L, class OUT>
void conv_requant(hls::stream<vec<acc_t, L::DRAIN> > &in, const ap_int<32> mult[L::C_PAD],
                  const ap_uint<6> shift[L::C_PAD], OUT &out) {
#pragma HLS INLINE off
  const int DRAINS = L::C_PAD / L::DRAIN;
  act_t y[L::C_PAD];
#pragma HLS ARRAY_PARTITION variable=y type=complete
  int py = 0, px = 0, d = 0;
conv_requant:
  for (int t = 0; t < L::PH * L::PW * DRAINS; t++) {
#pragma HLS PIPELINE II=1
    const vec<acc_t, L::DRAIN> v = in.read();
    for (int e = 0; e < L::DRAIN; e++) {
#pragma HLS UNROLL
      const int c = d * L::DRAIN + e;
      y[c] = requantize(v.v[e], mult[c], shift[c]);
      if (c < L::C_OUT) {
        emit_channel<L>(out, py, px, c, y[c]);
        CS_TAP(L::INDEX, CS_TAP_POOLED, (c * L::PH + py) * L::PW + px, v.v[e]);
        CS_TAP(L::INDEX, CS_TAP_OUT, (c * L::PH + py) * L::PW + px, y[c]);
      }
    }
    if (++d == DRAINS) {
      emit_pixel<L>(y, out);
      d = 0;
      if (++px == L::PW) {
        px = 0;
        py++;
      }
    }
  }
}

// ---------------------------------------------------------------- Select per pixel

// Select the k winners of a pixel straight into the next conv layer's input buffer
// [PH][PW][K]: the comparator tree pops one a cycle into its place.
template <class L>
void select_pixel(const act_t y[L::C_OUT], int py, int px, winner_t out[L::PH][L::PW][L::K]) {
#pragma HLS INLINE
  kwta_local<L::C_OUT, L::K>(y, out[py][px]);
#ifndef __SYNTHESIS__
  for (int s = 0; s < L::K; s++) {
    const winner_t w = out[py][px][s];
    CS_TAP(L::INDEX, CS_TAP_ACTIVE, (w.index * L::PH + py) * L::PW + px, w.value);
  }
#endif
}

// Select the k winners of a pixel and send them, with their flat (c, h, w) index, to a
// sparse-sparse linear layer.
template <class L>
void select_pixel(const act_t y[L::C_OUT], int py, int px, hls::stream<winner_t> &out) {
#pragma HLS INLINE
  winner_t win[L::K];
#pragma HLS ARRAY_PARTITION variable=win type=complete
  kwta_local<L::C_OUT, L::K>(y, win);
emit_winners:
  for (int s = 0; s < L::K; s++) {
#pragma HLS PIPELINE II=1
    winner_t flat;
    flat.index = (win[s].index * L::PH + py) * L::PW + px;
    flat.value = win[s].value;
    out.write(flat);
    CS_TAP(L::INDEX, CS_TAP_ACTIVE, flat.index, flat.value);
  }
}

// Local k-WTA of every pooled pixel as it arrives.
template <class L, class OUT>
void kwta_pixels(hls::stream<vec<act_t, L::C_OUT> > &in, OUT &out) {
#pragma HLS INLINE off
  int py = 0, px = 0;
kwta_pixels:
  for (int p = 0; p < L::PH * L::PW; p++) {
    const vec<act_t, L::C_OUT> y = in.read();
    select_pixel<L>(y.v, py, px, out);
    if (++px == L::PW) {
      px = 0;
      py++;
    }
  }
}

#endif
