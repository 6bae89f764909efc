// Buffer<T>: a 64-byte aligned, fixed-size array (cache-line and AVX-512 aligned rows for the kernels).
// A large one (weights, the KV cache) is 2 MiB aligned and asks Linux for transparent huge pages: streamed
// on 4 KiB pages, a 0.5 GB weight matrix or KV cache costs a TLB miss every 4 KiB read (measure-host's
// bandwidth probes use huge pages too, so the kernels and the roofs they are held to see the same memory).
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <span>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace engine {

template <class T>
class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(std::size_t n) : size_(n) {
    if (n == 0) return;
    const bool huge = n * sizeof(T) >= kHugeFrom;
    const std::size_t align = huge ? kHugePage : 64;
    const std::size_t bytes = (n * sizeof(T) + align - 1) / align * align;
    data_ = static_cast<T*>(std::aligned_alloc(align, bytes));
    if (!data_) throw std::bad_alloc();
#if defined(__linux__)
    if (huge) madvise(static_cast<void*>(data_), bytes, MADV_HUGEPAGE);  // a hint: 4 KiB pages if refused
#endif
    std::memset(static_cast<void*>(data_), 0, bytes);  // touches the pages now, huge where granted
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Buffer(Buffer&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  Buffer& operator=(Buffer&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    return *this;
  }
  ~Buffer() { std::free(data_); }

  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](std::size_t i) { return data_[i]; }
  const T& operator[](std::size_t i) const { return data_[i]; }
  std::span<T> span() { return {data_, size_}; }
  std::span<const T> span() const { return {data_, size_}; }

 private:
  static constexpr std::size_t kHugePage = std::size_t{2} << 20;
  static constexpr std::size_t kHugeFrom = std::size_t{4} << 20;  // below this, rounding up to 2 MiB wastes too much
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace engine
