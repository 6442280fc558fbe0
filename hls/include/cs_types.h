// compsparse HLS kernels: data types shared by every layer and top.
// SPDX-License-Identifier: BSD-3-Clause
//
// The integer scheme is compsparse.quant's (src/compsparse/quant.py); these types hold its
// values exactly, so the C++ and the numpy pipeline agree bit for bit.
//
// Accumulator bound. A product of an int8 weight in [-127, 127] and an activation in
// [-128, 127] has |w*a| <= 127*128 = 16256 < 2^15, so it fits ap_int<16>. An output sums at
// most ROWS = C_IN*KH*KW (conv) or N_IN (linear) products, so |sum| <= ROWS*16256: conv1 of the
// speech network 25*16256 = 406,400 < 2^19, conv2 and linear1 1600*16256 = 26,009,600 < 2^25.
// The multiply loops therefore add in ap_int<SUM_BITS> (20 and 26 bits here; compsparse.
// hls_params derives SUM_BITS from ROWS), narrower adders and registers than int32. The bias is
// added once per output, after the sum (and after max-pooling, which commutes with adding a
// per-channel constant), in int32: the exporter refuses any model whose |bias| + sum|w|*max|a|
// reaches 2^31 (QuantLayer.acc_bits <= 32), and compsparse.hls_params checks it again, so
// ap_int<32> never overflows: it is the narrowest width that holds every biased accumulator.
#ifndef CS_TYPES_H
#define CS_TYPES_H

#include <ap_int.h>

typedef ap_int<8> in_t;      // the network input after quantisation: int8 [-128, 127]
typedef ap_uint<8> act_t;    // hidden activations after requantise + ReLU: [0, 127]
typedef ap_int<8> wgt_t;     // weights: symmetric int8 [-127, 127]
typedef ap_int<16> prod_t;   // one weight x activation product (see the bound above)
typedef ap_int<32> acc_t;    // biased accumulators, pooled values and logits (see above)
typedef ap_int<64> wide_t;   // requantisation: acc * M with M < 2^31 needs 63 bits
typedef ap_uint<16> idx_t;   // flat activation index: < 2^16 (1600 in the speech network)
typedef ap_uint<64> word_t;  // one m_axi bus word: 8 bytes (64-bit AXI on both boards)

const int WORD_BYTES = 8;

// The running sum of one output inside a multiply loop (layer L's SUM_BITS, see above).
template <class L>
using sum_t = ap_int<L::SUM_BITS>;

// One k-WTA winner: where it is and its value. For a conv layer `index` is the channel (the
// pixel is implied by where the winner is stored); for a linear layer it is the flat index.
struct winner_t {
  idx_t index;
  act_t value;
};

// N values that travel together: one element of a FIFO between two processes, or one pixel
// (all its channels, or its k winners) stored as one wide word.
template <class T, int N>
struct vec {
  T v[N];
};

// The smallest int32, the identity of max-pooling.
const int ACC_MIN = -2147483647 - 1;

#endif
