// compsparse HLS top: the sparse-sparse network (sparse weights AND k-WTA sparse activations).
// SPDX-License-Identifier: BSD-3-Clause
//
// conv1   sparse-dense engine (its input, the spectrogram, is dense), local k-WTA per pixel
// conv2   sparse-sparse: the k winners of each input pixel address the packed weights
// linear1 sparse-sparse over the winners of conv2 (FIFO), global k-WTA by histogram
// output  sparse-sparse over the winners of linear1; the int32 sums are the logits
// The layers are dataflow processes: while conv1 works on one clip, conv2 works on the one
// before, and so on, so a clip leaves every max(process) cycles (the slowest process).
#include "cs_config.h"
#if CS_VARIANT != CS_VARIANT_SPARSE_SPARSE
#error "cs_config.h was generated for another variant: run compsparse hls-params --variant sparse-sparse"
#endif
#include "cs_conv.h"
#include "cs_linear.h"
#include "cs_load.h"
#include "cs_tops.h"

typedef CsL1 L1;
typedef CsL2 L2;
typedef CsL3 L3;
typedef CsL4 L4;

void cs_sparse_sparse(const word_t *params, const word_t *input, word_t *logits, int n_clips,
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

  // On-chip weight memories. `static`: they keep the model between calls. Each row (the G
  // packed kernels at one input position) is one wide word, so one read returns all G weights.
  // conv1's memory is split by input channel, one bank per slice (a no-op with its one channel);
  // conv2's lanes each address their own row, so it keeps COPIES dual-port copies.
  static wgt_t w1[L1::C_IN][L1::KK][L1::G];
  static ap_uint<L1::ID_BITS> id1[L1::C_IN][L1::KK][L1::G];
  static wgt_t w2[L2::COPIES][L2::ROWS][L2::G];
  static ap_uint<L2::ID_BITS> id2[L2::COPIES][L2::ROWS][L2::G];
  static wgt_t w3[L3::ROWS][L3::G];
  static ap_uint<L3::ID_BITS> id3[L3::ROWS][L3::G];
  static wgt_t w4[L4::ROWS][L4::G];
  static ap_uint<L4::ID_BITS> id4[L4::ROWS][L4::G];
#pragma HLS ARRAY_RESHAPE variable=w1 type=complete dim=3
#pragma HLS ARRAY_RESHAPE variable=id1 type=complete dim=3
#pragma HLS ARRAY_PARTITION variable=w1 type=cyclic factor=L1::SLICES dim=1
#pragma HLS ARRAY_PARTITION variable=id1 type=cyclic factor=L1::SLICES dim=1
#pragma HLS ARRAY_PARTITION variable=w2 type=complete dim=1
#pragma HLS ARRAY_PARTITION variable=id2 type=complete dim=1
#pragma HLS ARRAY_RESHAPE variable=w2 type=complete dim=3
#pragma HLS ARRAY_RESHAPE variable=id2 type=complete dim=3
#pragma HLS BIND_STORAGE variable=w2 type=ram_2p
#pragma HLS BIND_STORAGE variable=id2 type=ram_2p
#pragma HLS ARRAY_RESHAPE variable=w3 type=complete dim=2
#pragma HLS ARRAY_RESHAPE variable=id3 type=complete dim=2
#pragma HLS ARRAY_RESHAPE variable=w4 type=complete dim=2
#pragma HLS ARRAY_RESHAPE variable=id4 type=complete dim=2
  // Per-channel parameters: conv layers add DRAIN biases and requantise DRAIN channels a cycle.
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
    load_packed_copies<L2>(params, w2, id2);
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
    hls::stream<vec<acc_t, L1::DRAIN> > p1("p1");   // pooled sums of conv1
    hls::stream<vec<act_t, L1::C_OUT> > y1("y1");   // requantised pixels of conv1
    winner_t a1[L1::PH][L1::PW][L1::K];             // k winners (channel, value) per pixel
    hls::stream<vec<acc_t, L2::DRAIN> > p2("p2");
    hls::stream<vec<act_t, L2::C_OUT> > y2("y2");
    hls::stream<winner_t> a2("a2");  // winners of conv2, flat (c, h, w) index
    act_t y3[L3::C_OUT];
    hls::stream<winner_t> a3("a3");  // winners of linear1, in index order
    // A read_input word holds 8 neighbours of a row: 8 banks along W take it in one cycle; the
    // lanes of a layer read the POOL x POOL outputs' inputs from different banks of H and W.
#pragma HLS ARRAY_PARTITION variable=x0 type=cyclic factor=2 dim=1
#pragma HLS ARRAY_PARTITION variable=x0 type=cyclic factor=8 dim=2
#pragma HLS ARRAY_PARTITION variable=a1 type=cyclic factor=L1::POOL dim=1
#pragma HLS ARRAY_PARTITION variable=a1 type=cyclic factor=L1::POOL dim=2
    // linear1 empties its FIFO while it runs and requantises afterwards: the FIFO holds a whole
    // clip's winners so that conv2 never waits for it (likewise for the output layer).
#pragma HLS STREAM variable=a2 depth=L3::K_IN
#pragma HLS STREAM variable=a3 depth=L4::K_IN

    read_input<CsIn>(input, n, x0);
    conv_mac<L1>(x0, w1, id1, b1, p1);
    conv_requant<L1>(p1, m1, s1, y1);
    kwta_pixels<L1>(y1, a1);
    conv_mac<L2>(a1, w2, id2, b2, p2);
    conv_requant<L2>(p2, m2, s2, y2);
    kwta_pixels<L2>(y2, a2);
    linear_hidden<L3>(a2, w3, id3, b3, m3, s3, y3);
    kwta_global<L3::C_OUT, L3::K, L3::INDEX>(y3, a3);
    linear_output<L4>(a3, w4, id4, b4, logits, n);
  }
}
