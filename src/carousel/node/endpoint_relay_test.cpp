// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "endpoint_relay.hpp"

#include <gtest/gtest.h>

#include <carousel/proto/prefix_messages.hpp>

namespace carousel::node {
namespace {

// A core that answers every frame with a CodeData and asks to dial, drop and send a datagram.
class EchoCore final : public proto::Endpoint {
  public:
    void on_frame(proto::PeerId from, ByteView frame, proto::Time) override {
        frames.emplace_back(frame.begin(), frame.end());
        send(from, proto::encode(proto::CodeData{1, {Bytes{0x60, 0x00}}}));
        disconnect(from, "done");
        dial(proto::Address{{127, 0, 0, 1}, 30303});
        send_datagram(proto::Address{{127, 0, 0, 1}, 30304}, Bytes{0x01});
    }
    std::optional<proto::Time> next_deadline() const override { return proto::Time{42}; }
    std::vector<Bytes> frames;
};

TEST(EndpointRelay, WithoutACoreDropsCallsAndHasNoDeadline) {
    EndpointRelay relay;
    relay.on_frame(1, Bytes{0x01}, proto::Time{0});
    EXPECT_FALSE(relay.next_deadline());
    EXPECT_TRUE(relay.take_outbox().empty());
}

TEST(EndpointRelay, ForwardsCallsAndMovesEveryOutboxInOrder) {
    EchoCore core;
    EndpointRelay relay;
    relay.set_core(&core);
    relay.on_frame(7, Bytes{0x05, 0x06}, proto::Time{1});
    ASSERT_EQ(core.frames.size(), 1U);
    EXPECT_EQ(relay.next_deadline(), proto::Time{42});
    const auto out = relay.take_outbox();
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].to, 7U);
    EXPECT_EQ(out[0].frame, proto::encode(proto::CodeData{1, {Bytes{0x60, 0x00}}}));
    EXPECT_EQ(relay.take_disconnects().size(), 1U);
    EXPECT_EQ(relay.take_dials().size(), 1U);
    EXPECT_EQ(relay.take_datagrams().size(), 1U);
    EXPECT_TRUE(core.take_outbox().empty());  // nothing left behind in the core
}

TEST(EndpointRelay, CorruptAnswersAltersWhatTheCoreSends) {
    EchoCore core;
    EndpointRelay relay;
    relay.set_core(&core);
    relay.set_corrupt_answers(true);
    relay.on_frame(7, Bytes{0x05}, proto::Time{1});
    const auto out = relay.take_outbox();
    ASSERT_EQ(out.size(), 1U);
    auto answer = proto::decode_code_data(out[0].frame);
    ASSERT_TRUE(answer);
    EXPECT_NE(answer->codes.at(0), (Bytes{0x60, 0x00}));
}

}  // namespace
}  // namespace carousel::node
