// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "frame_reader.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace carousel::net {
namespace {

Bytes prefix(uint32_t n) {
    return {static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 16), static_cast<uint8_t>(n >> 8),
            static_cast<uint8_t>(n)};
}

Bytes frame_bytes(std::size_t n, uint8_t seed) {
    Bytes f(n, 0);
    for (std::size_t i = 0; i < n; ++i) f[i] = static_cast<uint8_t>(seed + i * 7);
    return f;
}

// Every frame of `stream`, fed `step` bytes at a time; stops at a bad length (bad set).
std::vector<Bytes> read_all(FrameReader& r, ByteView stream, std::size_t step, bool& bad) {
    std::vector<Bytes> out;
    bad = false;
    while (!stream.empty()) {
        ByteView piece = stream.substr(0, step);
        stream.remove_prefix(piece.size());
        while (!piece.empty()) {
            const auto e = r.feed(piece);
            if (e == FrameReader::Event::kBadLength) {
                bad = true;
                return out;
            }
            if (e == FrameReader::Event::kFrame) out.push_back(r.take_frame());
        }
    }
    return out;
}

TEST(FrameReader, SplitsAStreamIntoFramesWhateverTheReadSizes) {
    const std::vector<Bytes> frames{frame_bytes(1, 1), frame_bytes(300, 2), frame_bytes(200'000, 3), frame_bytes(5, 4)};
    Bytes stream;
    for (const auto& f : frames) stream += prefix(static_cast<uint32_t>(f.size())) + f;
    for (const std::size_t step : {std::size_t{1}, std::size_t{3}, std::size_t{4}, std::size_t{4096}, stream.size()}) {
        FrameReader r;
        bool bad = false;
        EXPECT_EQ(read_all(r, stream, step, bad), frames) << step;
        EXPECT_FALSE(bad);
        EXPECT_FALSE(r.mid_frame());
        EXPECT_EQ(r.allocated(), 0U);
    }
}

TEST(FrameReader, RejectsLengthsOutsideOneToTheMaximum) {
    for (const uint32_t bad : {uint32_t{0}, uint32_t{1001}, uint32_t{0xffffffff}}) {
        FrameReader r{1000};
        const Bytes bytes = prefix(bad);
        ByteView in{bytes};
        EXPECT_EQ(r.feed(in), FrameReader::Event::kBadLength) << bad;
        EXPECT_TRUE(r.failed());
        EXPECT_EQ(r.bad_length(), bad);
        EXPECT_EQ(r.allocated(), 0U) << "nothing allocated for a bad length";
        EXPECT_TRUE(r.read_buffer().empty());
    }
    FrameReader r{1000};
    const Bytes max = prefix(1000) + frame_bytes(1000, 9);
    ByteView in{max};
    EXPECT_EQ(r.feed(in), FrameReader::Event::kFrame);
    EXPECT_EQ(r.take_frame(), frame_bytes(1000, 9));
}

// The buffer of an announced frame grows only as its bytes arrive (doubling from kFirstChunk), and
// growth() says beforehand what read_buffer() will add: the transport charges it to its budget.
TEST(FrameReader, AllocatesOnlyAsBytesArrive) {
    FrameReader r;
    const uint32_t announced = 16U << 20;
    const Bytes bytes = prefix(announced);
    ByteView in{bytes};
    EXPECT_EQ(r.feed(in), FrameReader::Event::kNeedMore);
    EXPECT_TRUE(r.mid_frame());
    EXPECT_EQ(r.announced(), announced);
    EXPECT_EQ(r.allocated(), 0U);
    EXPECT_EQ(r.growth(), FrameReader::kFirstChunk);
    std::size_t sent = 0;
    std::size_t most = 0;
    while (sent < (std::size_t{3} << 20)) {
        const std::size_t grow = r.growth();
        const std::size_t before = r.allocated();
        const auto buf = r.read_buffer();
        EXPECT_EQ(r.allocated(), before + grow);
        sent += buf.size();
        EXPECT_EQ(r.commit(buf.size()), FrameReader::Event::kNeedMore);
        most = std::max(most, r.allocated());
    }
    EXPECT_EQ(r.received(), sent);
    EXPECT_LE(most, 2 * sent) << "at most twice what arrived";
    EXPECT_LT(most, std::size_t{announced});
}

TEST(FrameReader, ASmallFrameAllocatesItsLength) {
    FrameReader r;
    const Bytes bytes = prefix(10);
    ByteView in{bytes};
    (void)r.feed(in);
    EXPECT_EQ(r.growth(), 10U);
}

}  // namespace
}  // namespace carousel::net
