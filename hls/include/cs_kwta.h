// compsparse HLS kernels: Select, k-winners-take-all in hardware.
// SPDX-License-Identifier: BSD-3-Clause
//
// Both methods pick exactly the winners of compsparse.kwta (the k largest values; of equal
// values, the lower index wins) and mirror compsparse.kwta_hw step by step:
//   kwta_local   per pixel across channels (conv layers): groups of 8 candidates, each sorted
//                by the 8-input sorting network (19 comparators in 6 layers), kept as FIFOs;
//                a comparator tree over the FIFO heads pops the best head k times.
//   kwta_global  over all units (linear layers): a 256-bin histogram of the 8-bit values, read
//                from the top bin down to find the threshold, then one pass in index order.
#ifndef CS_KWTA_H
#define CS_KWTA_H

#include "cs_config.h"  // generated: CS_RMW_II
#include "cs_sort8.h"   // generated from compsparse.kwta_hw.SORT8_LAYERS
#include "cs_tap.h"
#include "cs_types.h"
#include <hls_stream.h>

// A candidate on a wire of the sorting network or at the head of a FIFO.
struct cand_t {
  act_t value;
  ap_uint<8> index;  // position along the k-WTA axis (the channel)
  bool valid;        // false for padding and for an empty FIFO: never wins
};

// The one order every comparator uses: larger value first, then lower index.
inline bool beats(const cand_t &a, const cand_t &b) {
#pragma HLS INLINE
  return a.valid && (!b.valid || a.value > b.value || (a.value == b.value && a.index < b.index));
}

// Sort 8 candidates best first. The comparator list is a generated constant table, so with the
// loop unrolled each entry becomes one compare-and-swap cell; cells of one layer touch disjoint
// wires, so the network is 6 comparators deep.
inline void sort8(cand_t wire[8]) {
#pragma HLS INLINE
  for (int c = 0; c < CS_SORT8_N_COMPARATORS; c++) {
#pragma HLS UNROLL
    const int i = CS_SORT8_PAIRS[c][0], j = CS_SORT8_PAIRS[c][1];
    if (beats(wire[j], wire[i])) {
      const cand_t t = wire[i];
      wire[i] = wire[j];
      wire[j] = t;
    }
  }
}

// The smallest power of two >= n, for n <= 32 (256 channels in groups of 8): a compile-time
// constant for array sizes, written as one expression so that C++11 compilers accept it.
constexpr int pow2_at_least(int n) {
  return n <= 1 ? 1 : n <= 2 ? 2 : n <= 4 ? 4 : n <= 8 ? 8 : n <= 16 ? 16 : 32;
}

// Local k-WTA of N candidates (the channels of one pixel): the K winners, best first, one per
// cycle into `win` (inlined, so `win` may be a pixel of the next layer's input buffer).
template <int N, int K>
void kwta_local(const act_t y[N], winner_t win[K]) {
#pragma HLS INLINE
  const int NG = (N + 7) / 8;            // FIFOs (groups of 8); a partial last group is padded
  const int LEAVES = pow2_at_least(NG);  // comparator-tree leaves, padded with empty FIFOs

  cand_t fifo[NG][8];  // each group after its sorting network, head first
  ap_uint<4> head[NG]; // read position of each FIFO; 8 means empty
#pragma HLS ARRAY_PARTITION variable=fifo type=complete dim=0
#pragma HLS ARRAY_PARTITION variable=head type=complete

kwta_sort:
  for (int g = 0; g < NG; g++) {
#pragma HLS UNROLL
    cand_t wire[8];
#pragma HLS ARRAY_PARTITION variable=wire type=complete
    for (int i = 0; i < 8; i++) {
      const int ch = 8 * g + i;
      wire[i].valid = ch < N;
      wire[i].index = ch;
      wire[i].value = ch < N ? y[ch] : act_t(0);
    }
    sort8(wire);
    for (int i = 0; i < 8; i++) fifo[g][i] = wire[i];
    head[g] = 0;
  }

kwta_pop:
  for (int s = 0; s < K; s++) {
#pragma HLS PIPELINE II=1
    // the comparator tree: log2(LEAVES) levels of pairwise "beats" over the FIFO heads
    cand_t node[LEAVES];
    int from[LEAVES];
#pragma HLS ARRAY_PARTITION variable=node type=complete
#pragma HLS ARRAY_PARTITION variable=from type=complete
    for (int g = 0; g < LEAVES; g++) {
      node[g] = cand_t{act_t(0), 0, false};
      from[g] = g;
      if (g < NG && head[g] < 8) node[g] = fifo[g][head[g]];
    }
    for (int width = LEAVES / 2; width >= 1; width /= 2) {
      for (int i = 0; i < width; i++) {
        const bool left = beats(node[2 * i], node[2 * i + 1]);
        node[i] = left ? node[2 * i] : node[2 * i + 1];
        from[i] = left ? from[2 * i] : from[2 * i + 1];
      }
    }
    win[s].index = node[0].index;
    win[s].value = node[0].value;
    head[from[0]]++;  // pop the winner's FIFO
  }
}

// Global k-WTA of N 8-bit values: the K winners in increasing index order, written to `out`.
// LAYER only names the layer for the C-simulation taps.
template <int N, int K, int LAYER>
void kwta_global(const act_t y[N], hls::stream<winner_t> &out) {
#pragma HLS INLINE off
  // Two histograms, one for the values at even and one at odd positions: a counter is a
  // read-modify-write of a block RAM word, and the next value may hit the same bin, so one bank
  // takes a new value only every CS_RMW_II cycles. Two banks fed in parallel count N values in
  // about N cycles; the threshold scan adds them.
  ap_uint<16> hist[2][256];  // one counter per 8-bit value; N < 2^16
#pragma HLS ARRAY_PARTITION variable=hist type=complete dim=1

kwta_clear:
  for (int b = 0; b < 256; b++) {
#pragma HLS PIPELINE II=1
    hist[0][b] = 0;
    hist[1][b] = 0;
  }
kwta_count:
  for (int i = 0; i < N; i += 2) {
#pragma HLS PIPELINE II=CS_RMW_II
    hist[0][y[i]]++;
    if (i + 1 < N) hist[1][y[i + 1]]++;
  }

  // Read the bins from the top: the threshold is the highest bin at which the count of values
  // at or above it reaches K. All values above it win, and the first K - above equal to it.
  int above = 0, threshold = 0, seen = 0;
  bool found = false;
kwta_scan:
  for (int b = 255; b >= 0; b--) {
#pragma HLS PIPELINE II=1
    const int before = seen;
    seen += (int)hist[0][b] + (int)hist[1][b];
    if (!found && seen >= K) {
      found = true;
      threshold = b;
      above = before;
    }
  }

  int ties = K - above;  // values equal to the threshold that still win, in index order
kwta_select:
  for (int i = 0; i < N; i++) {
#pragma HLS PIPELINE II=1
    const int v = y[i];
    const bool tie = v == threshold && ties > 0;
    if (v > threshold || tie) {
      winner_t w;
      w.index = i;
      w.value = y[i];
      out.write(w);
      CS_TAP(LAYER, CS_TAP_ACTIVE, i, y[i]);
    }
    if (tie) ties--;
  }
}

#endif
