// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Redialer: keeps a client connected to the peers it was told to use, over a TcpTransport.
//
// It dials every target; when a target's connection closes (or a dial fails) it dials it again
// after an exponential back-off (first_back_off, doubling up to max_back_off): a server killed and
// restarted on its port is found again. The back-off starts over only after a connection that was
// useful (the `closed` judge says so), so a peer that accepts and closes at once is dialled ever more
// slowly. The judge may also give a target up (a peer dropped for its standing): it is not dialled
// again.
//
// A target is "reached" while it has a connection open and when one closed after being useful;
// unreached_for() is how long it has been since any target was. A driver that waits a bounded
// time for peers gives up when that passes its bound, or when every target is given up.
//
// Threading: everything runs on the transport thread: construct it before the transport runs and
// wire TcpOptions::on_close to on_close() and call start() (through TcpTransport::post or before
// run), tick() every few hundred milliseconds through post(), and read targets() there too.
// `connected` and `closed` are called through TcpTransport::post, so they may call the endpoint.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tcp_transport.hpp"

namespace carousel::net {

struct RedialOptions {
    std::chrono::milliseconds first_back_off{250};
    std::chrono::milliseconds max_back_off{8'000};
};

class Redialer {
  public:
    struct Target {
        std::string host;
        uint16_t port{0};
        // State, read by the driver:
        std::optional<proto::PeerId> peer;      // its open connection
        std::optional<proto::PeerId> previous;  // the last connection it had (closed)
        std::string gone;                       // why its last connection closed or its last dial failed
        uint64_t connections{0};                // connections made
        bool given_up{false};
        // Back-off:
        int failures{0};  // closes and failed dials since its last useful connection
        std::optional<proto::Time> dial_at;
        bool dialling{false};
        proto::Time reached_at{0};      // last time it was reached (see above)
        proto::Time reached_before{0};  // reached_at before the connection now open
        [[nodiscard]] std::string address() const { return host + ":" + std::to_string(port); }
    };
    struct Verdict {
        bool give_up{false};  // do not dial it again
        bool useful{false};   // the connection did useful work: the back-off starts over
    };
    // A target's connection `peer` is up (`previous`: its last connection, if it had one).
    using Connected = std::function<void(const Target&, proto::PeerId peer, std::optional<proto::PeerId> previous)>;
    // A target's connection `peer` closed for `reason` (`violation`: the peer broke the framing).
    using Closed = std::function<Verdict(const Target&, proto::PeerId peer, const std::string& reason, bool violation)>;
    using Log = std::function<void(const std::string&)>;

    Redialer(TcpTransport& transport, std::vector<Target> targets, Connected connected, Closed closed, Log log,
             RedialOptions options = {});

    // Dials every target (transport thread, or before run()).
    void start();
    // Dials the targets whose back-off has passed.
    void tick();
    // From TcpOptions::on_close.
    void on_close(proto::PeerId peer, const std::string& reason, bool violation);

    [[nodiscard]] const std::vector<Target>& targets() const noexcept { return targets_; }
    [[nodiscard]] std::size_t connected() const noexcept;
    [[nodiscard]] bool all_given_up() const noexcept;
    // How long no target has been reached (zero while one is connected).
    [[nodiscard]] proto::Time unreached_for() const;

  private:
    void dial(std::size_t index);
    // connect_async's report for target `index`.
    void dialled(std::size_t index, tl::expected<proto::PeerId, std::string> result);
    void failed(Target& t, std::string reason);

    TcpTransport& transport_;
    std::vector<Target> targets_;
    Connected connected_;
    Closed closed_;
    Log log_;
    RedialOptions options_;
    std::set<proto::PeerId> closed_early_;  // closed before connect_async reported them
};

}  // namespace carousel::net
