// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "fault_kv.hpp"

#include <string>

namespace carousel::testing {

namespace {

std::size_t index(FaultKV::Op op) noexcept { return static_cast<std::size_t>(op); }

const char* name(FaultKV::Op op) noexcept { return op == FaultKV::Op::kRead ? "read" : "write"; }

}  // namespace

void FaultKV::fail_nth(Op op, uint64_t n) noexcept {
    const std::scoped_lock lock{mutex_};
    fail_at_[index(op)] = n == 0 ? 0 : count_[index(op)] + n;
}

uint64_t FaultKV::count(Op op) const noexcept {
    const std::scoped_lock lock{mutex_};
    return count_[index(op)];
}

store::Status FaultKV::next(Op op) const noexcept {
    uint64_t n = 0;
    bool fail = fail_all_.load();
    {
        const std::scoped_lock lock{mutex_};
        n = ++count_[index(op)];
        fail = fail || n == fail_at_[index(op)];
    }
    if (!fail) return {};
    ++injected_;
    return store::Status::io_error("injected fault: " + std::string{name(op)} + " " + std::to_string(n));
}

store::Status FaultKV::get(store::Column column, ByteView key, Bytes& value) const noexcept {
    if (store::Status s = next(Op::kRead); !s.ok()) return s;
    return inner_.get(column, key, value);
}

store::Status FaultKV::write(const store::WriteBatch& batch, store::WriteOptions options) noexcept {
    if (store::Status s = next(Op::kWrite); !s.ok()) return s;
    return inner_.write(batch, options);
}

std::unique_ptr<store::Iterator> FaultKV::new_iterator(store::Column column, store::KeyRange range) const noexcept {
    if (store::Status s = next(Op::kRead); !s.ok()) return store::new_empty_iterator(std::move(s));
    return inner_.new_iterator(column, std::move(range));
}

store::Status FaultKV::put_sorted(store::Column column, std::span<const ByteView> keys,
                                  std::span<const ByteView> values) noexcept {
    if (store::Status s = next(Op::kWrite); !s.ok()) return s;
    return inner_.put_sorted(column, keys, values);
}

}  // namespace carousel::testing
