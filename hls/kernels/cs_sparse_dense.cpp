// compsparse HLS top: the sparse-dense network (sparse packed weights, dense activations).
// SPDX-License-Identifier: BSD-3-Clause
//
// Every layer multiplies every activation by one row of its packed weight memory (one weight
// per packed kernel) and routes each product by its kernel id: Combine was done offline by
// compsparse.pack; Multiply, Route and Sum happen here; there is no Select.
#include "cs_config.h"
#if CS_VARIANT != CS_VARIANT_SPARSE_DENSE
#error "cs_config.h was generated for another variant: run compsparse hls-params --variant sparse-dense"
#endif
#include "cs_conv.h"
#include "cs_linear.h"
#include "cs_load.h"
#include "cs_tops.h"

typedef CsL1 L1;
typedef CsL2 L2;
typedef CsL3 L3;
typedef CsL4 L4;

void cs_sparse_dense(const word_t *params, const word_t *input, word_t *logits, int n_clips,
                     int load_params) {
#pragma HLS INTERFACE mode=m_axi port=params offset=slave bundle=gmem0 depth=CS_PARAM_WORDS
#pragma HLS INTERFACE mode=m_axi port=input offset=slave bundle=gmem1 depth=CS_INPUT_DEPTH
#pragma HLS INTERFACE mode=m_axi port=logits offset=slave bundle=gmem1 depth=CS_OUTPUT_DEPTH
#pragma HLS INTERFACE mode=s_axilite port=params
#pragma HLS INTERFACE mode=s_axilite port=input
#pragma HLS INTERFACE mode=s_axilite port=logits
#pragma HLS INTERFACE mode=s_axilite port=n_clips
#pragma HLS INTERFACE mode=s_axilite port=load_params
#pragma HLS INTERFACE mode=s_axilite port=return

  // Packed weights and kernel ids on chip; one row (G weights) per read.
  static wgt_t w1[L1::ROWS][L1::G];
  static ap_uint<L1::ID_BITS> id1[L1::ROWS][L1::G];
  static wgt_t w2[L2::ROWS][L2::G];
  static ap_uint<L2::ID_BITS> id2[L2::ROWS][L2::G];
  static wgt_t w3[L3::N_IN][L3::G];
  static ap_uint<L3::ID_BITS> id3[L3::N_IN][L3::G];
  static wgt_t w4[L4::N_IN][L4::G];
  static ap_uint<L4::ID_BITS> id4[L4::N_IN][L4::G];
#pragma HLS ARRAY_RESHAPE variable=w1 type=complete dim=2
#pragma HLS ARRAY_RESHAPE variable=id1 type=complete dim=2
#pragma HLS ARRAY_RESHAPE variable=w2 type=complete dim=2
#pragma HLS ARRAY_RESHAPE variable=id2 type=complete dim=2
#pragma HLS ARRAY_RESHAPE variable=w3 type=complete dim=2
#pragma HLS ARRAY_RESHAPE variable=id3 type=complete dim=2
#pragma HLS ARRAY_RESHAPE variable=w4 type=complete dim=2
#pragma HLS ARRAY_RESHAPE variable=id4 type=complete dim=2
  static channel_params<L1::C_PAD> p1;
  static channel_params<L2::C_PAD> p2;
  static channel_params<L3::C_PAD> p3;
  static channel_params<L4::C_PAD> p4;

  if (load_params) {
    load_packed<L1, L1::ROWS>(params, w1, id1);
    load_packed<L2, L2::ROWS>(params, w2, id2);
    load_packed<L3, L3::N_IN>(params, w3, id3);
    load_packed<L4, L4::N_IN>(params, w4, id4);
    load_channel_params<L1>(params, p1);
    load_channel_params<L2>(params, p2);
    load_channel_params<L3>(params, p3);
    load_channel_params<L4>(params, p4);
  }

clips:
  for (int n = 0; n < n_clips; n++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=1
    in_t x0[CsIn::C][CsIn::H][CsIn::W];
    act_t a1[L1::C_OUT][L1::PH][L1::PW];
    act_t a2[L2::C_OUT * L2::PH * L2::PW];  // flattened in (c, h, w) order for linear1
    acc_t acc3[L3::G][L3::NPG];
    act_t y3[L3::C_OUT];
    acc_t acc4[L4::G][L4::NPG];
    // Registers: each cycle every group adds into the accumulator its kernel id picks, and the
    // next cycle may pick the same one (a RAM's read-modify-write latency would stall that).
#pragma HLS ARRAY_PARTITION variable=acc3 type=complete dim=0
#pragma HLS ARRAY_PARTITION variable=acc4 type=complete dim=0

    read_input<CsIn>(input + n * CsIn::WORDS, x0);
    conv_sparse_dense<L1>(x0, w1, id1, p1, a1);
    conv_sparse_dense<L2>(a1, w2, id2, p2, a2);
    linear_sparse_dense<L3>(a2, w3, id3, p3, acc3);
    requant_vector<L3>(acc3, p3, y3);
    linear_sparse_dense<L4>(y3, w4, id4, p4, acc4);
    store_logits<L4>(acc4, logits + n * CsOut::WORDS);
  }
}
