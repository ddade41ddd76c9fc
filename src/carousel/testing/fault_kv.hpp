// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// FaultKV: a KV that fails on demand, for tests of I/O-error paths (after leveldb's fault
// injection, util/fault_injection_test.cc and its FaultInjectionTestEnv). It forwards every call to
// another KV (a store::MemoryKV, say) until told to fail:
//
// - fail_nth(op, n): the n-th operation of kind `op` counted from this call (1 = the next one)
//   fails, once; the ones before and after it go through.
// - fail_all(true): every operation fails from now on, until fail_all(false) (a dead disk).
//
// Kinds: a read is a get or the creation of an iterator; a write is a write of a batch (every
// commit of StateStore is one) or a put_sorted. A failed operation returns an IO error whose
// message starts "injected fault" and changes nothing in the inner KV: a failed write applies none
// of its batch, as KV::write promises after an error. A failed iterator is !valid() from the start
// and its status() is the IO error. Iterators created before a failure keep working.
//
// Test-only (the carousel_testing library). Thread-safe, as the KV contract asks.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include <carousel/store/kv.hpp>

namespace carousel::testing {

class FaultKV final : public store::KV {
  public:
    enum class Op : uint8_t { kRead = 0, kWrite = 1 };

    // `inner` outlives this.
    explicit FaultKV(store::KV& inner) noexcept : inner_{inner} {}

    // The n-th operation of kind `op` from now (n >= 1) fails; replaces an earlier fail_nth of `op`.
    void fail_nth(Op op, uint64_t n) noexcept;
    // While on, every operation fails.
    void fail_all(bool on) noexcept { fail_all_.store(on); }
    // Operations of kind `op` seen so far (failed ones included), and faults injected so far.
    [[nodiscard]] uint64_t count(Op op) const noexcept;
    [[nodiscard]] uint64_t injected() const noexcept { return injected_.load(); }

    store::Status get(store::Column column, ByteView key, Bytes& value) const noexcept override;
    store::Status write(const store::WriteBatch& batch, store::WriteOptions options = {}) noexcept override;
    [[nodiscard]] std::unique_ptr<store::Iterator> new_iterator(store::Column column,
                                                                store::KeyRange range = {}) const noexcept override;
    store::Status put_sorted(store::Column column, std::span<const ByteView> keys,
                             std::span<const ByteView> values) noexcept override;

  private:
    // Counts one operation of kind `op`; an IO error if it is to fail, else ok.
    store::Status next(Op op) const noexcept;

    store::KV& inner_;
    mutable std::mutex mutex_;
    mutable uint64_t count_[2]{};
    uint64_t fail_at_[2]{};  // the count at which the op fails; 0: none
    std::atomic<bool> fail_all_{false};
    mutable std::atomic<uint64_t> injected_{0};
};

}  // namespace carousel::testing
