// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// libFuzzer harness: dht::Handshake (the connection handshake of issue 20) on frames from fuzzed
// peers. Our Handshake has four peers. Peers 1 and 2 are also honest Handshakes of their own (other
// keys), wired to ours: what we send reaches them at once, what they send waits until an op delivers
// it. Peers 3 and 4 are the input's alone (what we send them is dropped), so that a forged exchange
// is not cut short by an honest side refusing our answers. The input is a sequence of
// [u8 op][u16 big-endian length][frame]:
//   bits 0-1  the peer (1..4)
//   bit 2     connect it first (both sides' on_connect)
//   bit 3     deliver the honest peer's pending frames to us (through admit)
//   bit 4     hand the fuzzed frame through admit() instead of on_frame()
//   bit 5     expect() the peer's honest id (with bit 6: an id taken from the frame's hash)
//   bit 6     see bit 5
//   bit 7     disconnect it after; then the clock moves on a second and the timers fire
// The fuzzed frame (if any) goes to us from that peer. Every fuzzed frame that decodes as HELLO or
// AUTH also re-encodes to the same bytes. Invariants: the authenticated callback runs at most once
// per connection, never for the own id nor for another id than the expected one, and only for a
// peer the Handshake then reports authenticated with that record; no connection fails or
// authenticates twice; the honest peers never find a fault in our frames (bad frame, bad record, our
// id, a second HELLO). Nonces are deterministic (the seeds below), so make_seeds can write AUTHs
// that pass: keep kOurSecret and kOurSeed equal to make_seeds' copies.
#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <carousel/core/keccak.hpp>
#include <carousel/dht/handshake.hpp>
#include <carousel/proto/handshake_messages.hpp>

#include "fuzz_util.hpp"

using namespace carousel;

namespace {

constexpr uint8_t kOurSecret = 0x01;    // make_seeds: the same
constexpr uint8_t kOurSeedByte = 0xf0;  // make_seeds: the same
constexpr proto::PeerId kUs = 100;      // what the honest peers call us
constexpr std::size_t kPeers = 4;
constexpr proto::PeerId kHonestPeers = 2;  // peers 1..kHonestPeers have an honest side

Hash filled(uint8_t b) {
    Hash h{};
    h.fill(b);
    return h;
}

struct Keys {
    dht::KeyPair ours = *dht::KeyPair::from_secret(Bytes(32, kOurSecret));
    dht::NodeRecord our_record = *dht::NodeRecord::sign(1, {}, ours);
    std::array<dht::KeyPair, kPeers> peers;
    std::array<dht::NodeRecord, kPeers> peer_records;
    Keys() {
        for (std::size_t i = 0; i < kPeers; ++i) {
            peers[i] = *dht::KeyPair::from_secret(Bytes(32, static_cast<uint8_t>(0x10 + i)));
            peer_records[i] = *dht::NodeRecord::sign(1, {}, peers[i]);
        }
    }
};

const Keys& keys() {
    static const Keys kKeys;
    return kKeys;
}

template <class Decode>
void round_trip(ByteView frame, Decode decode) {
    if (auto m = decode(frame)) CHECK(proto::encode(*m) == frame);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const Keys& k = keys();
    proto::Time now{std::chrono::seconds{1}};

    struct Peer {
        std::unique_ptr<dht::Handshake> honest;
        std::vector<Bytes> pending;  // the honest side's frames to us
        bool connected{false};
        bool dropped{false};  // by either side, this connection
        int authenticated{0};
        std::optional<dht::NodeId> expected;
    };
    std::array<Peer, kPeers> peers;
    std::vector<proto::PeerId> our_drops;
    std::vector<std::pair<proto::PeerId, Bytes>> our_sends;

    dht::Handshake us{k.ours,
                      k.our_record,
                      dht::HandshakeOptions{std::chrono::seconds{5}, filled(kOurSeedByte)},
                      [&](proto::PeerId to, Bytes f) { our_sends.emplace_back(to, std::move(f)); },
                      [&](proto::PeerId p, const std::string&) { our_drops.push_back(p); },
                      [&](proto::PeerId p, const dht::NodeRecord& r, proto::Time) {
                          CHECK(p >= 1 && p <= kPeers);
                          Peer& peer = peers[p - 1];
                          CHECK(peer.connected && ++peer.authenticated == 1);
                          CHECK(r.node_id() != k.ours.node_id);
                          CHECK(!peer.expected || *peer.expected == r.node_id());
                      }};
    for (std::size_t i = 0; i < kPeers; ++i) {
        Peer& peer = peers[i];
        peer.honest = std::make_unique<dht::Handshake>(
            k.peers[i], k.peer_records[i],
            dht::HandshakeOptions{std::chrono::seconds{5}, filled(static_cast<uint8_t>(i))},
            [&peer](proto::PeerId, Bytes f) { peer.pending.push_back(std::move(f)); },
            [&peer](proto::PeerId, const std::string&) { peer.dropped = true; },
            [](proto::PeerId, const dht::NodeRecord&, proto::Time) {});
    }

    auto cut = [&](proto::PeerId p) {
        Peer& peer = peers[p - 1];
        if (!peer.connected) return;
        us.on_disconnect(p, now);
        peer.honest->on_disconnect(kUs, now);
        CHECK(!us.authenticated(p) && us.record_of(p) == nullptr);
        auto honest = std::move(peer.honest);
        peer = Peer{};
        peer.honest = std::move(honest);
    };
    // Our frames reach the honest peer at once; whom we drop is cut (after what we sent before it).
    auto drain = [&] {
        while (!our_sends.empty() || !our_drops.empty()) {
            auto sends = std::exchange(our_sends, {});
            for (auto& [to, f] : sends) {
                if (to <= kHonestPeers && peers[to - 1].connected) (void)peers[to - 1].honest->admit(kUs, f, now);
            }
            for (proto::PeerId p : std::exchange(our_drops, {})) cut(p);
        }
        for (std::size_t i = 0; i < kPeers; ++i) {
            if (peers[i].dropped) cut(static_cast<proto::PeerId>(i + 1));
        }
    };
    auto check_peer_invariants = [&](proto::PeerId p) {
        Peer& peer = peers[p - 1];
        const bool ok = us.authenticated(p);
        CHECK(!ok || (peer.authenticated == 1 && us.record_of(p) != nullptr));
        if (ok && peer.expected) CHECK(us.record_of(p)->node_id() == *peer.expected);
        using F = dht::HandshakeFailure;
        const dht::HandshakeStats& s = peer.honest->stats();
        CHECK(s.failed(F::kBadFrame) == 0 && s.failed(F::kBadRecord) == 0 && s.failed(F::kOwnId) == 0 &&
              s.failed(F::kSecondHello) == 0);
    };

    ByteView in{data, size};
    while (in.size() >= 3) {
        const uint8_t op = in[0];
        const std::size_t n = std::min<std::size_t>(in.size() - 3, (std::size_t{in[1]} << 8) | in[2]);
        const ByteView frame = in.substr(3, n);
        in.remove_prefix(3 + n);
        const proto::PeerId p = 1 + (op & 3);
        Peer& peer = peers[p - 1];
        if ((op & 4) != 0 && !peer.connected) {
            peer.connected = true;
            us.on_connect(p, now);
            if (p <= kHonestPeers) peer.honest->on_connect(kUs, now);
            drain();
        }
        if ((op & 32) != 0) {
            peer.expected = (op & 64) != 0 ? keccak256(frame) : k.peers[p - 1].node_id;
            us.expect(p, *peer.expected);
            drain();
        }
        if ((op & 8) != 0 && peer.connected) {
            for (const Bytes& f : std::exchange(peer.pending, {})) {
                if (!peer.connected) break;
                (void)us.admit(p, f, now);
                drain();
            }
        }
        if (!frame.empty()) {
            round_trip(frame, proto::decode_hello);
            round_trip(frame, proto::decode_auth);
            if ((op & 16) != 0) {
                (void)us.admit(p, frame, now);
            } else {
                us.on_frame(p, frame, now);
            }
            drain();
        }
        check_peer_invariants(p);
        if ((op & 128) != 0) {
            cut(p);
            now += std::chrono::seconds{1};
            us.on_timer(now);
            for (Peer& q : peers) q.honest->on_timer(now);
            drain();
        }
    }
    now += std::chrono::seconds{1000};
    us.on_timer(now);
    drain();
    CHECK(!us.next_deadline());  // everything either authenticated, failed or gone
    const dht::HandshakeStats& s = us.stats();
    CHECK(s.authenticated <= s.started && s.failed() <= s.started);
    return 0;
}
