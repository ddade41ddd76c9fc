// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// EndpointRelay: a proto::Endpoint that stands in front of another (the core) for a driver.
//
// Why: a Merry-Go-Round core's signed record names its ports, so the core is made after the driver
// has bound them (port 0: the kernel picks), yet the driver takes its endpoint when it is made. The
// driver is given the relay; set_core() names the core once it exists. And a node process started
// with the test-only misbehaviour `--test-corrupt-answers` alters the answers its core sends
// (proto::corrupt_answer) here, where the core cannot tell.
//
// Contract: every driver call goes to the core (set_core() before the driver's first call; until
// then, calls are dropped and there is no deadline), and after each one the core's outboxes move to
// the relay's in the order the core queued them (frames, disconnects, dials, datagrams), the frames
// altered when corrupt_answers is on. The core must be called only through the relay (or the
// driver's post(), which drains the relay afterwards: call relay_outboxes() last in such a call).
// Same thread rules as the core's.

#include <carousel/proto/endpoint.hpp>

namespace carousel::node {

class EndpointRelay final : public proto::Endpoint {
  public:
    void set_core(proto::Endpoint* core) noexcept { core_ = core; }
    void set_corrupt_answers(bool on) noexcept { corrupt_answers_ = on; }
    // Moves the core's outboxes to the relay's (done after every driver call; a post() into the core
    // ends with it).
    void relay_outboxes();

    void on_connect(proto::PeerId peer, proto::Time now) override;
    void on_disconnect(proto::PeerId peer, proto::Time now) override;
    void on_dialed(const proto::Address& to, proto::PeerId peer, proto::Time now) override;
    void on_dial_failed(const proto::Address& to, proto::Time now) override;
    void on_frame(proto::PeerId from, ByteView frame, proto::Time now) override;
    void on_datagram(const proto::Address& from, ByteView datagram, proto::Time now) override;
    std::optional<proto::Time> next_deadline() const override;
    void on_timer(proto::Time now) override;

  private:
    proto::Endpoint* core_{nullptr};
    bool corrupt_answers_{false};
};

}  // namespace carousel::node
