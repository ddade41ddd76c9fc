// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// FrameReader: the receive side of TcpTransport's framing, without I/O (fuzzed by
// tests/fuzz/frame_fuzz.cpp, tested by frame_reader_test.cpp).
//
// Wire: each frame is a u32 big-endian length, 1..max_frame, followed by that many bytes. The
// reader hands out the buffer the next bytes go into (read_buffer(), so a socket reads straight into
// the frame) and is told how many arrived (commit()). A frame's buffer starts at kFirstChunk bytes
// (or the frame's length, if smaller) and doubles as its bytes arrive, up to the announced length,
// so a peer that announces 16 MiB and sends nothing costs nothing. growth() says, before
// read_buffer() allocates, how many bytes it would add: the transport charges them to its budget of
// partly received frames first.
//
// Once commit() reports a bad length the reader is finished: the connection must close.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include <carousel/core/bytes.hpp>
#include <carousel/proto/endpoint.hpp>

namespace carousel::net {

class FrameReader {
  public:
    static constexpr std::size_t kLengthPrefixSize = 4;
    static constexpr std::size_t kFirstChunk = std::size_t{64} << 10;

    explicit FrameReader(std::size_t max_frame = proto::kMaxFrameSize) noexcept : max_frame_{max_frame} {}

    // Bytes read_buffer() would allocate for the frame in progress (0 while reading the length, or
    // while the current buffer still has room).
    [[nodiscard]] std::size_t growth() const noexcept;
    // Where the next bytes go: the rest of the length prefix, or the free part of the frame's buffer
    // (grown first if it is full, by growth() bytes). Never empty unless failed().
    std::span<uint8_t> read_buffer();

    // What commit() found.
    enum class Event {
        kNeedMore,   // the frame (or its length) is not complete yet
        kFrame,      // a frame is complete: take it with take_frame()
        kBadLength,  // the length prefix is 0 or over max_frame: close the connection
    };
    // Records that the first `n` bytes of the last read_buffer() were filled (n at most its size).
    Event commit(std::size_t n) noexcept;
    // The frame commit() reported (once); the reader then waits for the next length.
    Bytes take_frame() noexcept;

    // Feeds bytes from a stream: consumes `in` up to the end of the first complete frame (kFrame,
    // taken with take_frame()), or all of it (kNeedMore), or stops at a bad length (kBadLength).
    // For tests and the fuzzer; the transport reads straight into read_buffer().
    Event feed(ByteView& in);

    // Whether any byte of a frame (its length included) has arrived and the frame is not complete.
    [[nodiscard]] bool mid_frame() const noexcept { return have_length_ > 0; }
    // The announced length of the frame in progress, once its prefix is complete.
    [[nodiscard]] std::optional<std::size_t> announced() const noexcept;
    // Bytes of the frame in progress received so far (the prefix not counted).
    [[nodiscard]] std::size_t received() const noexcept { return have_; }
    // Bytes allocated for the frame in progress (what the transport's budget is charged).
    [[nodiscard]] std::size_t allocated() const noexcept { return frame_.size(); }
    // The bad length commit() reported, for the log line.
    [[nodiscard]] uint32_t bad_length() const noexcept { return length_; }
    [[nodiscard]] bool failed() const noexcept { return failed_; }

  private:
    std::size_t max_frame_;
    uint8_t length_bytes_[kLengthPrefixSize]{};
    std::size_t have_length_{0};  // bytes of the prefix received (kLengthPrefixSize once known)
    uint32_t length_{0};
    Bytes frame_;  // sized to what is allocated; the first have_ bytes are the frame's
    std::size_t have_{0};
    bool complete_{false};  // a frame waits in frame_ for take_frame()
    bool failed_{false};
};

}  // namespace carousel::net
