// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "frame_reader.hpp"

#include <algorithm>
#include <cstring>

#include <carousel/core/assert.hpp>

namespace carousel::net {

std::optional<std::size_t> FrameReader::announced() const noexcept {
    if (have_length_ < kLengthPrefixSize) return std::nullopt;
    return length_;
}

std::size_t FrameReader::growth() const noexcept {
    if (failed_ || complete_ || have_length_ < kLengthPrefixSize || have_ < frame_.size()) return 0;
    const std::size_t target = std::min<std::size_t>(length_, std::max(kFirstChunk, 2 * frame_.size()));
    return target - frame_.size();
}

std::span<uint8_t> FrameReader::read_buffer() {
    if (failed_ || complete_) return {};
    if (have_length_ < kLengthPrefixSize) return {length_bytes_ + have_length_, kLengthPrefixSize - have_length_};
    // Grow the buffer as the bytes come, so an announced length costs nothing until it is sent.
    if (const std::size_t more = growth(); more > 0) frame_.resize(frame_.size() + more);
    return {frame_.data() + have_, frame_.size() - have_};
}

FrameReader::Event FrameReader::commit(std::size_t n) noexcept {
    if (failed_) return Event::kBadLength;
    if (have_length_ < kLengthPrefixSize) {
        have_length_ += n;
        CAROUSEL_ASSERT(have_length_ <= kLengthPrefixSize, "commit past the buffer given for the length");
        if (have_length_ < kLengthPrefixSize) return Event::kNeedMore;
        length_ = (uint32_t{length_bytes_[0]} << 24) | (uint32_t{length_bytes_[1]} << 16) |
                  (uint32_t{length_bytes_[2]} << 8) | uint32_t{length_bytes_[3]};
        if (length_ == 0 || length_ > max_frame_) {
            failed_ = true;
            return Event::kBadLength;
        }
        return Event::kNeedMore;
    }
    have_ += n;
    CAROUSEL_ASSERT(have_ <= frame_.size(), "commit past the buffer given for the frame");
    if (have_ < length_) return Event::kNeedMore;
    complete_ = true;
    return Event::kFrame;
}

Bytes FrameReader::take_frame() noexcept {
    if (!complete_) return {};
    Bytes out = std::move(frame_);
    frame_ = Bytes{};
    have_ = 0;
    have_length_ = 0;
    length_ = 0;
    complete_ = false;
    return out;
}

FrameReader::Event FrameReader::feed(ByteView& in) {
    while (!in.empty()) {
        const std::span<uint8_t> into = read_buffer();
        if (into.empty()) return failed_ ? Event::kBadLength : Event::kFrame;
        const std::size_t n = std::min(into.size(), in.size());
        std::memcpy(into.data(), in.data(), n);
        in.remove_prefix(n);
        if (const Event e = commit(n); e != Event::kNeedMore) return e;
    }
    return Event::kNeedMore;
}

}  // namespace carousel::net
