// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// libFuzzer harness: TcpTransport's framing (net::FrameReader) on an arbitrary byte stream, cut into
// reads of sizes the input chooses. The first byte picks the largest frame allowed (a small one
// reaches the bounds quickly); the second and third seed the read sizes. Checked: every frame is
// 1..max bytes and the stream is exactly its frames behind their prefixes up to where the reader
// stopped; what the reader allocates is at most twice what arrived (or its first chunk), and
// growth() announced each allocation.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <carousel/net/frame_reader.hpp>

#include "fuzz_util.hpp"

using namespace carousel;

namespace {
// A frame behind its length prefix, as on the wire.
Bytes framed(const Bytes& frame) {
    const auto n = static_cast<uint32_t>(frame.size());
    Bytes out{static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 16), static_cast<uint8_t>(n >> 8),
              static_cast<uint8_t>(n)};
    return out + frame;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 3) return 0;
    const std::size_t max_frame = data[0] < 128 ? std::size_t{1} + data[0] * 64 : proto::kMaxFrameSize;
    uint32_t x = (uint32_t{data[1]} << 8) | data[2];
    ByteView stream{data + 3, size - 3};
    net::FrameReader reader{max_frame};
    Bytes rebuilt;  // prefixes and frames, as read
    std::size_t consumed = 0;
    bool bad = false;
    while (consumed < stream.size() && !bad) {
        x = x * 1103515245U + 12345U;
        const std::size_t want = 1 + (x >> 16) % 4096;
        const std::size_t grow = reader.growth();
        const std::size_t before = reader.allocated();
        const std::span<uint8_t> into = reader.read_buffer();
        CHECK(!into.empty());
        CHECK(reader.allocated() == before + grow);
        CHECK(reader.allocated() <= std::max(2 * reader.received(), net::FrameReader::kFirstChunk));
        const std::size_t n = std::min({want, into.size(), stream.size() - consumed});
        std::memcpy(into.data(), stream.data() + consumed, n);
        consumed += n;
        switch (reader.commit(n)) {
            case net::FrameReader::Event::kBadLength: {
                const uint32_t length = reader.bad_length();
                CHECK(length == 0 || length > max_frame);
                CHECK(reader.read_buffer().empty());
                bad = true;
                break;
            }
            case net::FrameReader::Event::kFrame: {
                const Bytes frame = reader.take_frame();
                CHECK(!frame.empty() && frame.size() <= max_frame);
                rebuilt += framed(frame);
                CHECK(!reader.mid_frame());
                CHECK(ByteView{rebuilt} == stream.substr(0, consumed));
                break;
            }
            case net::FrameReader::Event::kNeedMore:
                CHECK(reader.mid_frame());
                break;
        }
    }
    // Feeding the whole stream at once finds the same frames.
    net::FrameReader whole{max_frame};
    ByteView in = stream;
    Bytes again;
    for (;;) {
        const auto e = whole.feed(in);
        if (e != net::FrameReader::Event::kFrame) break;
        again += framed(whole.take_frame());
    }
    CHECK(again == rebuilt);
    return 0;
}
