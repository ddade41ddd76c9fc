// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Handshake: the sans-IO connection handshake of issue 20. At the start of every connection each side
// proves that it holds the secret key of the node id it claims, so that nobody can take a place in
// the key space without the key; a peer that fails is dropped and counted.
//
// The exchange (frames in proto/handshake_messages.hpp), the same on both sides:
//   1. on_connect: send HELLO [1, own record, nonce], the nonce fresh for this connection.
//   2. on the peer's HELLO: decode its record (NodeRecord::decode checks the record's own
//      signature), refuse it if it names the own node id or, when expect() named the id this
//      connection must reach, another id; then send AUTH [sign(own key, digest)] with
//        digest = keccak256("carousel-handshake-v1" || verifier nonce || verifier id || prover id)
//      where the prover is the side that signs, the verifier the side that checks, the verifier
//      nonce is the 32-byte nonce of the verifier's HELLO, and the ids are the 32-byte node ids
//      (auth_digest() below). The prover thus signs the verifier's fresh challenge, bound to both
//      ids in a fixed order (so that an AUTH made for one pair, or for the other direction, is not
//      valid for another).
//   3. on the peer's AUTH (only after its HELLO): verify it (node_key's verify(): low S only)
//      against the "secp256k1" key of the peer's record, over the digest of OUR nonce, the own id
//      as verifier and the peer's id as prover. If it holds, the peer is authenticated: the
//      `authenticated` callback runs, once per connection, with its verified record.
// Both sides send HELLO at once and AUTH as soon as they have the other's HELLO; a side's AUTH
// always precedes on the wire any frame it sends after authenticating the other, so on an ordered
// link each side has authenticated the other before it gets its first non-handshake frame.
//
// Failures: a frame that does not decode, a record that does not decode, a record naming the own id
// or not the expected one, a second HELLO, an AUTH before the HELLO or a second one, an AUTH that
// does not verify (signed by another key than the record's, or replayed from another connection,
// whose nonce was another), a non-handshake frame before authentication (admit()), and no
// authentication within Options::timeout of on_connect. Each makes the Handshake call
// disconnect(peer, "handshake: <reason>") once and count the reason in stats(); it never throws.
// After a failure the Handshake ignores that peer's frames until on_disconnect.
//
// What it proves, and what it does not:
//  - It proves key possession at connection start: the peer signed, with the key of the record it
//    sent, a challenge this side chose for this connection. An attacker cannot take a place in the
//    key space (the Sybil placement the issue names) with an id whose key it lacks, nor replay an
//    AUTH it captured on another connection.
//  - It does NOT encrypt or authenticate later frames: there is no key exchange and no MAC. A relay
//    in the middle of both connections can pass the handshake through and then read, drop, alter
//    or inject frames; by relaying a handshake through an honest node it connects to, it can appear
//    to us as that node. The position it takes is that existing node's, never one it chose. The
//    data itself is verified by hashes against trusted roots, so an altered frame costs time, not
//    correctness; closing the relay gap needs a key exchange bound into the digest and encrypted or
//    MACed frames (devp2p's RLPx, discv5), which is not built.
//  - It does not stop an attacker from generating many keys and keeping the ids that land where it
//    wants (about 2^b key generations to fall within a b-bit prefix of a target): ids are
//    keccak256 of public keys, as in discv4/discv5.
//  - It does not check the record's address against the connection's, nor that one id is
//    connected only once: that is the core's policy.
//
// Contract for the core that embeds it (a proto::Endpoint; dht::Overlay does):
//  - Hand it on_connect, on_disconnect, on_timer (once `now` reaches next_deadline()) and every frame
//    of handles(type). Simplest: call admit(from, frame, now) first for every frame and handle the
//    frame only if it returns true; admit() takes handshake frames itself and drops a peer that
//    sends anything else before it is authenticated.
//  - Start the peer's protocols from the `authenticated` callback, not from
//    on_connect, and send a peer nothing but handshake frames before then.
//  - A dialer calls expect(peer, id) when it knows whom it dialed (from on_dialed, before
//    on_connect): the peer is then dropped unless its record carries that id.
//  - Callbacks run inside the Handshake's calls; they may use its const queries, not its other calls.
//
// Sans-IO and deterministic: no clock, socket or thread. Nonces are keccak256(nonce_seed || n) with
// n a 64-bit big-endian counter of connections (from 0); the same seed gives the same nonces. A
// process MUST seed Options::nonce_seed from std::random_device (32 fresh bytes every start): with a
// repeated seed, a later connection repeats an earlier one's nonce, and an AUTH captured there
// replays. Tests use fixed seeds.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include <carousel/core/bytes.hpp>
#include <carousel/proto/endpoint.hpp>
#include <carousel/proto/handshake_messages.hpp>

#include "enr.hpp"
#include "node_id.hpp"
#include "node_key.hpp"

namespace carousel::dht {

using proto::PeerId;
using proto::Time;

inline constexpr std::string_view kHandshakeDomain = "carousel-handshake-v1";

// keccak256(kHandshakeDomain || verifier_nonce || verifier || prover): what the prover signs in
// its AUTH (see the exchange above).
Hash auth_digest(const proto::HandshakeNonce& verifier_nonce, const NodeId& verifier, const NodeId& prover);

// Why a peer was dropped; each is counted in HandshakeStats::failures.
enum class HandshakeFailure : uint8_t {
    kBadFrame = 1,      // a HELLO or AUTH that does not decode (the wire error is in the reason)
    kBadRecord,         // the HELLO's record does not decode or its signature fails (EnrError in the reason)
    kOwnId,             // the record claims the own node id
    kUnexpectedId,      // the record's id is not the one expect() named
    kSecondHello,       // a HELLO after the peer's first
    kAuthBeforeHello,   // an AUTH before the peer's HELLO
    kSecondAuth,        // an AUTH after the peer was authenticated
    kBadSignature,      // an AUTH not by the record's key over this connection's nonce (wrong key, replay)
    kNotAuthenticated,  // a non-handshake frame before the peer was authenticated (admit())
    kTimeout,           // not authenticated within Options::timeout of on_connect
};
std::string_view to_string(HandshakeFailure f) noexcept;

struct HandshakeOptions {
    Time timeout{std::chrono::seconds{5}};
    Hash nonce_seed{};  // processes: 32 bytes from std::random_device (see above)
};

// Counters, for tests and reports.
struct HandshakeStats {
    uint64_t started{0};        // connections (on_connect)
    uint64_t authenticated{0};  // peers that proved their key
    std::map<HandshakeFailure, uint64_t> failures;

    [[nodiscard]] uint64_t failed(HandshakeFailure f) const {
        const auto it = failures.find(f);
        return it == failures.end() ? 0 : it->second;
    }
    [[nodiscard]] uint64_t failed() const {
        uint64_t n = 0;
        for (const auto& [f, count] : failures) n += count;
        return n;
    }
};

class Handshake {
  public:
    using SendFn = std::function<void(PeerId to, Bytes frame)>;
    using DisconnectFn = std::function<void(PeerId peer, std::string reason)>;
    using AuthenticatedFn = std::function<void(PeerId peer, const NodeRecord& peer_record, Time now)>;

    // `record` must be signed by `key` (same node id; asserted). All three callbacks must be set.
    Handshake(const KeyPair& key, NodeRecord record, HandshakeOptions options, SendFn send, DisconnectFn disconnect,
              AuthenticatedFn authenticated);
    Handshake(const Handshake&) = delete;
    Handshake& operator=(const Handshake&) = delete;

    // Whether frames of this message type are the handshake's (HELLO, AUTH).
    [[nodiscard]] static bool handles(uint8_t message_type) noexcept;

    // A new connection: sends HELLO and starts the timeout. A peer already known starts afresh.
    void on_connect(PeerId peer, Time now);
    // A handshake frame (handles(type); any other frame counts as kBadFrame). Frames from a peer
    // without a connection (before on_connect, after on_disconnect) are ignored.
    void on_frame(PeerId from, ByteView frame, Time now);
    // The gate of a core's on_frame: takes handshake frames (on_frame) and returns false; for any
    // other frame returns whether `from` is authenticated. A connected peer that is not yet is
    // dropped (kNotAuthenticated); one that already failed, or is not connected, is not counted again.
    [[nodiscard]] bool admit(PeerId from, ByteView frame, Time now);
    // The connection is gone: everything about `peer` is forgotten (expect() included).
    void on_disconnect(PeerId peer, Time now);
    // Times out the connections whose deadline is at or before `now`.
    void on_timer(Time now);
    // The earliest timeout of a connection not yet authenticated, if any.
    [[nodiscard]] std::optional<Time> next_deadline() const;

    // The connection to `peer` must reach node `id` (a dialer knows whom it dialed). Call it before
    // on_connect or at any time before the peer's HELLO; called after, a HELLO with another id
    // drops the peer at once.
    void expect(PeerId peer, const NodeId& id);

    // Whether `peer` proved its key on the current connection.
    [[nodiscard]] bool authenticated(PeerId peer) const;
    // The verified record of an authenticated peer; nullptr otherwise. Valid until the next
    // non-const call.
    [[nodiscard]] const NodeRecord* record_of(PeerId peer) const;

    // A newer own record (a new address or seq), sent in later HELLOs. Must carry the own node id
    // (asserted).
    void set_record(NodeRecord record);
    [[nodiscard]] const NodeRecord& record() const noexcept { return record_; }
    [[nodiscard]] const NodeId& id() const noexcept { return key_.node_id; }
    [[nodiscard]] const HandshakeStats& stats() const noexcept { return stats_; }

  private:
    struct Session {
        proto::HandshakeNonce nonce{};  // ours, sent in our HELLO
        Time deadline{0};
        std::optional<NodeRecord> record;  // the peer's, after its HELLO
        bool authenticated{false};
        bool failed{false};  // dropped; frames ignored until on_disconnect
    };

    void on_hello(PeerId from, Session& s, ByteView frame, Time now);
    void on_auth(PeerId from, Session& s, ByteView frame, Time now);
    // Drops the peer: counts `failure`, asks for the disconnect once, stops its timeout.
    void fail(PeerId peer, Session& s, HandshakeFailure failure, std::string_view detail = {});
    [[nodiscard]] proto::HandshakeNonce next_nonce();

    KeyPair key_;
    NodeRecord record_;
    HandshakeOptions options_;
    SendFn send_;
    DisconnectFn disconnect_;
    AuthenticatedFn authenticated_;
    std::map<PeerId, Session> sessions_;
    std::map<PeerId, NodeId> expected_;
    std::set<std::pair<Time, PeerId>> deadlines_;  // of sessions neither authenticated nor failed
    uint64_t connections_{0};
    HandshakeStats stats_;
};

}  // namespace carousel::dht
