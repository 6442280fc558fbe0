// compsparse HLS kernels: data types shared by every layer and top.
// SPDX-License-Identifier: BSD-3-Clause
//
// The integer scheme is compsparse.quant's (src/compsparse/quant.py); these types hold its
// values exactly, so the C++ and the numpy pipeline agree bit for bit.
//
// Accumulator bound. A product of an int8 weight in [-127, 127] and an activation in
// [-128, 127] has |w*a| <= 127*128 = 16256 < 2^15, so it fits ap_int<16>. A layer sums at most
// N_IN = C_IN*KH*KW (conv) or N_IN (linear) products: for the speech network the largest fan-in
// is 1600 (conv2: 64*5*5, linear1: 64*5*5), so |sum| <= 1600*127*127 = 25,806,400 < 2^25 with
// post-ReLU inputs in [0, 127] (conv1: 25*127*128 = 406,400). The bias is int32, and the
// exporter refuses any model whose |bias| + sum|w|*max|a| reaches 2^31 (QuantLayer.acc_bits
// <= 32), which compsparse.hls_params checks again before it writes parameters. So ap_int<32>
// never overflows: it is the narrowest width that holds every accumulator of every valid model.
#ifndef CS_TYPES_H
#define CS_TYPES_H

#include <ap_int.h>

typedef ap_int<8> in_t;      // the network input after quantisation: int8 [-128, 127]
typedef ap_uint<8> act_t;    // hidden activations after requantise + ReLU: [0, 127]
typedef ap_int<8> wgt_t;     // weights: symmetric int8 [-127, 127]
typedef ap_int<16> prod_t;   // one weight x activation product (see the bound above)
typedef ap_int<32> acc_t;    // accumulators and logits (see the bound above)
typedef ap_int<64> wide_t;   // requantisation: acc * M with M < 2^31 needs 63 bits
typedef ap_uint<16> idx_t;   // flat activation index: < 2^16 (1600 in the speech network)
typedef ap_uint<64> word_t;  // one m_axi bus word: 8 bytes (64-bit AXI on both boards)

const int WORD_BYTES = 8;

// One k-WTA winner: where it is and its value. For a conv layer `index` is the channel (the
// pixel is implied by where the winner is stored); for a linear layer it is the flat index.
struct winner_t {
  idx_t index;
  act_t value;
};

// The smallest int32, the identity of max-pooling.
const int ACC_MIN = -2147483647 - 1;

#endif
