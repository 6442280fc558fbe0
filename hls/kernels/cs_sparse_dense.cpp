// compsparse HLS top: the sparse-dense network (sparse packed weights, dense activations).
// SPDX-License-Identifier: BSD-3-Clause
//
// Every layer multiplies every activation by one row of its packed weight memory (one weight
// per packed kernel) and routes each product by its kernel id: Combine was done offline by
// compsparse.pack; Multiply, Route and Sum happen here; there is no Select. One packed row
// serves NPG kernels, so with the multipliers of a dense engine a layer needs NPG times fewer
// cycles: the parallel units (LANES x SLICES) turn the weight sparsity into speed.
// The layers are dataflow processes working on consecutive clips at the same time.
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

  // Packed weights and kernel ids on chip; one row (G weights) per read. The conv memories are
  // split by input channel into one bank per slice, so the SLICES units read in parallel.
  static wgt_t w1[L1::C_IN][L1::KK][L1::G];
  static ap_uint<L1::ID_BITS> id1[L1::C_IN][L1::KK][L1::G];
  static wgt_t w2[L2::C_IN][L2::KK][L2::G];
  static ap_uint<L2::ID_BITS> id2[L2::C_IN][L2::KK][L2::G];
  static wgt_t w3[L3::ROWS][L3::G];
  static ap_uint<L3::ID_BITS> id3[L3::ROWS][L3::G];
  static wgt_t w4[L4::ROWS][L4::G];
  static ap_uint<L4::ID_BITS> id4[L4::ROWS][L4::G];
#pragma HLS ARRAY_RESHAPE variable=w1 type=complete dim=3
#pragma HLS ARRAY_RESHAPE variable=id1 type=complete dim=3
#pragma HLS ARRAY_PARTITION variable=w1 type=cyclic factor=L1::SLICES dim=1
#pragma HLS ARRAY_PARTITION variable=id1 type=cyclic factor=L1::SLICES dim=1
#pragma HLS ARRAY_RESHAPE variable=w2 type=complete dim=3
#pragma HLS ARRAY_RESHAPE variable=id2 type=complete dim=3
#pragma HLS ARRAY_PARTITION variable=w2 type=cyclic factor=L2::SLICES dim=1
#pragma HLS ARRAY_PARTITION variable=id2 type=cyclic factor=L2::SLICES dim=1
#pragma HLS ARRAY_RESHAPE variable=w3 type=complete dim=2
#pragma HLS ARRAY_RESHAPE variable=id3 type=complete dim=2
#pragma HLS ARRAY_RESHAPE variable=w4 type=complete dim=2
#pragma HLS ARRAY_RESHAPE variable=id4 type=complete dim=2
  static acc_t b1[L1::C_PAD], b2[L2::C_PAD], b3[L3::C_PAD], b4[L4::C_PAD];
  static ap_int<32> m1[L1::C_PAD], m2[L2::C_PAD], m3[L3::C_PAD];
  static ap_uint<6> s1[L1::C_PAD], s2[L2::C_PAD], s3[L3::C_PAD];
#pragma HLS ARRAY_PARTITION variable=b1 type=cyclic factor=L1::DRAIN
#pragma HLS ARRAY_PARTITION variable=m1 type=cyclic factor=L1::DRAIN
#pragma HLS ARRAY_PARTITION variable=s1 type=cyclic factor=L1::DRAIN
#pragma HLS ARRAY_PARTITION variable=b2 type=cyclic factor=L2::DRAIN
#pragma HLS ARRAY_PARTITION variable=m2 type=cyclic factor=L2::DRAIN
#pragma HLS ARRAY_PARTITION variable=s2 type=cyclic factor=L2::DRAIN

  if (load_params) {
    load_packed_conv<L1>(params, w1, id1);
    load_packed_conv<L2>(params, w2, id2);
    load_packed<L3>(params, w3, id3);
    load_packed<L4>(params, w4, id4);
    load_bias<L1>(params, b1);
    load_bias<L2>(params, b2);
    load_bias<L3>(params, b3);
    load_bias<L4>(params, b4);
    load_requant<L1>(params, m1, s1);
    load_requant<L2>(params, m2, s2);
    load_requant<L3>(params, m3, s3);
  }

clips:
  for (int n = 0; n < n_clips; n++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=1
#pragma HLS DATAFLOW
    in_t x0[CsIn::H][CsIn::W][CsIn::C];
    hls::stream<vec<acc_t, L1::DRAIN> > p1("p1");  // pooled sums of conv1
    act_t a1[L1::PH][L1::PW][L1::C_OUT];           // conv1's output by pixel
    hls::stream<vec<acc_t, L2::DRAIN> > p2("p2");
    act_t a2[L2::PH][L2::PW][L2::C_OUT];
    act_t y3[L3::C_OUT];
#pragma HLS ARRAY_PARTITION variable=x0 type=cyclic factor=2 dim=1
#pragma HLS ARRAY_PARTITION variable=x0 type=cyclic factor=8 dim=2
#pragma HLS ARRAY_PARTITION variable=a1 type=cyclic factor=L1::POOL dim=1
#pragma HLS ARRAY_PARTITION variable=a1 type=cyclic factor=L1::POOL dim=2
    // A word of a1 holds the DRAIN channels conv1 requantises per cycle; conv2's slices take
    // their channels of a pixel from one word.
#pragma HLS ARRAY_RESHAPE variable=a1 type=cyclic factor=L1::DRAIN dim=3

    read_input<CsIn>(input, n, x0);
    conv_mac<L1>(x0, w1, id1, b1, p1);
    conv_requant<L1>(p1, m1, s1, a1);
    conv_mac<L2>(a1, w2, id2, b2, p2);
    conv_requant<L2>(p2, m2, s2, a2);
    linear_hidden<L3>(a2, w3, id3, b3, m3, s3, y3);
    linear_output<L4>(y3, w4, id4, b4, logits, n);
  }
}
