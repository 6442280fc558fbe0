// compsparse: a minimal hls::stream for C simulation with g++.
// SPDX-License-Identifier: BSD-3-Clause
//
// Written for this project (it is not Xilinx's hls_stream.h, whose licence forbids copying).
// It sits only on g++'s include path; Vitis HLS uses its own header. Semantics that matter to
// the kernels: an unbounded FIFO; read() on an empty stream and a stream destroyed with data
// left in it are errors. Both print a line starting "hls::stream error" and count into
// hls::stream_errors(), which the testbench and the ctypes bridge check after every call.
#ifndef CS_CSIM_HLS_STREAM_H
#define CS_CSIM_HLS_STREAM_H

#include <cstdio>
#include <deque>
#include <string>

namespace hls {

// Errors seen by every stream of the program so far.
inline long &stream_errors() {
  static long count = 0;
  return count;
}

template <typename T>
class stream {
 public:
  stream() : name_("unnamed") {}
  explicit stream(const char *name) : name_(name) {}
  stream(const stream &) = delete;
  stream &operator=(const stream &) = delete;

  ~stream() {
    if (!fifo_.empty()) {
      std::fprintf(stderr, "hls::stream error: '%s' destroyed with %zu values left\n",
                   name_.c_str(), fifo_.size());
      stream_errors()++;
    }
  }

  void write(const T &value) { fifo_.push_back(value); }
  void operator<<(const T &value) { write(value); }

  // Reading an empty stream would stall the hardware forever: report it and return T().
  T read() {
    if (fifo_.empty()) {
      std::fprintf(stderr, "hls::stream error: '%s' read while empty\n", name_.c_str());
      stream_errors()++;
      return T();
    }
    T value = fifo_.front();
    fifo_.pop_front();
    return value;
  }
  void read(T &value) { value = read(); }
  void operator>>(T &value) { value = read(); }

  bool read_nb(T &value) {
    if (fifo_.empty()) return false;
    value = read();
    return true;
  }
  bool write_nb(const T &value) {
    write(value);
    return true;
  }

  bool empty() const { return fifo_.empty(); }
  bool full() const { return false; }
  std::size_t size() const { return fifo_.size(); }

 private:
  std::deque<T> fifo_;
  std::string name_;
};

}  // namespace hls

#endif
