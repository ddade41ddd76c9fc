// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// Handshake: two of them wired by hand, and over net::LocalNet inside a small core; every way a peer
// can fail, each dropped with its named reason and counted.

#include "handshake.hpp"

#include <deque>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <carousel/core/keccak.hpp>
#include <carousel/core/rlp.hpp>
#include <carousel/net/local_net.hpp>
#include <carousel/proto/handshake_messages.hpp>

namespace carousel::dht {
namespace {

using namespace std::chrono_literals;
using F = HandshakeFailure;

constexpr Time kT0 = 1s;

KeyPair key_of(uint8_t b) { return *KeyPair::from_secret(Bytes(32, b)); }

NodeRecord record_of_key(const KeyPair& key, uint64_t seq = 1) {
    return *NodeRecord::sign(seq, {{"tcp", Bytes{0x82, 0x76, 0x5f}}}, key);
}

Hash seed_of(uint8_t b) {
    Hash h{};
    h.fill(b);
    return h;
}

// One side of a connection, with what its Handshake asked for.
struct Side {
    KeyPair key;
    std::deque<std::pair<PeerId, Bytes>> sent;
    std::vector<std::pair<PeerId, std::string>> dropped;
    std::vector<std::pair<PeerId, NodeId>> authenticated;
    Handshake handshake;

    explicit Side(uint8_t secret, uint8_t seed = 0)
        : key{key_of(secret)},
          handshake{key,
                    record_of_key(key),
                    HandshakeOptions{5s, seed_of(seed == 0 ? secret : seed)},
                    [this](PeerId to, Bytes f) { sent.emplace_back(to, std::move(f)); },
                    [this](PeerId p, std::string r) { dropped.emplace_back(p, std::move(r)); },
                    [this](PeerId p, const NodeRecord& r, Time) { authenticated.emplace_back(p, r.node_id()); }} {}

    Bytes take() {
        EXPECT_FALSE(sent.empty());
        if (sent.empty()) return {};
        Bytes f = std::move(sent.front().second);
        sent.pop_front();
        return f;
    }
};

// A and B by hand: A names B peer 2, B names A peer 1. Delivers until both are quiet.
void pump(Side& a, Side& b) {
    while (!a.sent.empty() || !b.sent.empty()) {
        if (!a.sent.empty()) b.handshake.on_frame(1, a.take(), kT0);
        if (!b.sent.empty()) a.handshake.on_frame(2, b.take(), kT0);
    }
}

void connect(Side& a, Side& b) {
    a.handshake.on_connect(2, kT0);
    b.handshake.on_connect(1, kT0);
}

// The frames a well-behaved peer would send (or a forger, given the wrong key).
Bytes hello_frame(const NodeRecord& record, uint8_t nonce_byte = 0x33) {
    proto::HandshakeNonce nonce{};
    nonce.fill(nonce_byte);
    return proto::encode(proto::Hello{proto::kHandshakeVersion, record.encoded(), nonce});
}
Bytes auth_frame(const KeyPair& signer, const proto::HandshakeNonce& verifier_nonce, const NodeId& verifier,
                 const NodeId& prover) {
    return proto::encode(proto::Auth{sign(signer, auth_digest(verifier_nonce, verifier, prover))});
}
proto::HandshakeNonce nonce_in(const Bytes& hello) { return proto::decode_hello(hello)->nonce; }

TEST(Handshake, DigestIsTheDocumentedConcatenation) {
    proto::HandshakeNonce nonce{};
    nonce.fill(7);
    const NodeId verifier = seed_of(1);
    const NodeId prover = seed_of(2);
    Bytes expected = to_bytes("carousel-handshake-v1");
    expected += view(nonce);
    expected += view(verifier);
    expected += view(prover);
    EXPECT_EQ(auth_digest(nonce, verifier, prover), keccak256(expected));
    EXPECT_NE(auth_digest(nonce, verifier, prover), auth_digest(nonce, prover, verifier));  // directions differ
}

TEST(Handshake, TwoSidesAuthenticateEachOther) {
    Side a{1};
    Side b{2};
    connect(a, b);
    EXPECT_EQ(a.handshake.next_deadline(), kT0 + 5s);
    pump(a, b);
    ASSERT_TRUE(a.handshake.authenticated(2));
    ASSERT_TRUE(b.handshake.authenticated(1));
    ASSERT_NE(a.handshake.record_of(2), nullptr);
    EXPECT_EQ(a.handshake.record_of(2)->encoded(), b.handshake.record().encoded());
    EXPECT_EQ(b.handshake.record_of(1)->encoded(), a.handshake.record().encoded());
    EXPECT_EQ(a.authenticated, (std::vector<std::pair<PeerId, NodeId>>{{2, b.key.node_id}}));
    EXPECT_EQ(b.authenticated, (std::vector<std::pair<PeerId, NodeId>>{{1, a.key.node_id}}));
    EXPECT_TRUE(a.dropped.empty());
    EXPECT_TRUE(b.dropped.empty());
    EXPECT_EQ(a.handshake.stats().started, 1u);
    EXPECT_EQ(a.handshake.stats().authenticated, 1u);
    EXPECT_EQ(a.handshake.stats().failed(), 0u);
    EXPECT_FALSE(a.handshake.next_deadline());  // nothing left to time out
    a.handshake.on_timer(kT0 + 1h);
    EXPECT_TRUE(a.handshake.authenticated(2));
    // Disconnecting forgets the peer.
    a.handshake.on_disconnect(2, kT0);
    EXPECT_FALSE(a.handshake.authenticated(2));
    EXPECT_EQ(a.handshake.record_of(2), nullptr);
}

// Issue 20's test: a peer whose AUTH is signed by another key than its record's is dropped and counted.
TEST(Handshake, RejectsAWrongKey) {
    Side a{1};
    const KeyPair victim = key_of(2);
    const KeyPair mallory = key_of(3);
    a.handshake.on_connect(2, kT0);
    const proto::HandshakeNonce nonce = nonce_in(a.take());
    // Mallory presents the victim's (public, validly signed) record and signs with her own key.
    a.handshake.on_frame(2, hello_frame(record_of_key(victim)), kT0);
    ASSERT_EQ(a.sent.size(), 1u);  // A answered the HELLO with its own AUTH
    a.handshake.on_frame(2, auth_frame(mallory, nonce, a.key.node_id, victim.node_id), kT0);
    EXPECT_FALSE(a.handshake.authenticated(2));
    EXPECT_EQ(a.handshake.record_of(2), nullptr);
    EXPECT_TRUE(a.authenticated.empty());
    ASSERT_EQ(a.dropped.size(), 1u);
    EXPECT_EQ(a.dropped[0].first, 2u);
    EXPECT_EQ(a.dropped[0].second, "handshake: AUTH not signed by the record's key over this connection's nonce");
    EXPECT_EQ(a.handshake.stats().failed(F::kBadSignature), 1u);
    EXPECT_EQ(a.handshake.stats().failed(), 1u);
    // The same, with Mallory's own record and the victim's key nowhere: a signature by a third key.
    Side c{4};
    c.handshake.on_connect(7, kT0);
    const proto::HandshakeNonce nonce_c = nonce_in(c.take());
    c.handshake.on_frame(7, hello_frame(record_of_key(mallory)), kT0);
    c.handshake.on_frame(7, auth_frame(key_of(5), nonce_c, c.key.node_id, mallory.node_id), kT0);
    EXPECT_EQ(c.handshake.stats().failed(F::kBadSignature), 1u);
    EXPECT_FALSE(c.handshake.authenticated(7));
    // The right key over the right nonce would have passed: the check is the key, not the shape.
    Side d{6};
    d.handshake.on_connect(7, kT0);
    const proto::HandshakeNonce nonce_d = nonce_in(d.take());
    d.handshake.on_frame(7, hello_frame(record_of_key(mallory)), kT0);
    d.handshake.on_frame(7, auth_frame(mallory, nonce_d, d.key.node_id, mallory.node_id), kT0);
    EXPECT_TRUE(d.handshake.authenticated(7));
}

TEST(Handshake, AuthOverTheWrongIdsOrNonceIsRefused) {
    const KeyPair peer = key_of(2);
    struct Case {
        std::string name;
        bool swap_ids;
        bool other_nonce;
    };
    for (const Case& c : {Case{"ids swapped", true, false}, Case{"peer's own nonce", false, true}}) {
        Side a{1};
        a.handshake.on_connect(2, kT0);
        proto::HandshakeNonce nonce = nonce_in(a.take());
        if (c.other_nonce) nonce.fill(0x33);  // the nonce of the peer's own HELLO
        a.handshake.on_frame(2, hello_frame(record_of_key(peer)), kT0);
        const Bytes auth = c.swap_ids ? auth_frame(peer, nonce, peer.node_id, a.key.node_id)
                                      : auth_frame(peer, nonce, a.key.node_id, peer.node_id);
        a.handshake.on_frame(2, auth, kT0);
        EXPECT_EQ(a.handshake.stats().failed(F::kBadSignature), 1u) << c.name;
    }
}

TEST(Handshake, RecordWithABrokenSignatureIsRefused) {
    Side a{1};
    a.handshake.on_connect(2, kT0);
    Bytes record = record_of_key(key_of(2)).encoded();
    record[5] ^= 0x01;  // inside the 64-byte signature, after the list and string headers
    a.handshake.on_frame(2, proto::encode(proto::Hello{proto::kHandshakeVersion, record, proto::HandshakeNonce{}}),
                         kT0);
    ASSERT_EQ(a.dropped.size(), 1u);
    EXPECT_EQ(a.dropped[0].second, "handshake: bad node record: record signature invalid");
    EXPECT_EQ(a.handshake.stats().failed(F::kBadRecord), 1u);
    EXPECT_EQ(a.sent.size(), 1u);  // only the HELLO: no AUTH for a bad record
}

TEST(Handshake, RecordClaimingOurIdIsRefused) {
    Side a{1};
    a.handshake.on_connect(2, kT0);
    // Our own record, replayed at us (as a reflection would): it verifies, and names us.
    a.handshake.on_frame(2, hello_frame(a.handshake.record()), kT0);
    ASSERT_EQ(a.dropped.size(), 1u);
    EXPECT_EQ(a.dropped[0].second, "handshake: record claims our node id");
    EXPECT_EQ(a.handshake.stats().failed(F::kOwnId), 1u);
    EXPECT_EQ(a.sent.size(), 1u);
}

TEST(Handshake, ExpectedIdMustMatch) {
    // Expected before connecting (a dialer, from on_dialed): another id is refused, no AUTH sent.
    {
        Side a{1};
        Side b{2};
        a.handshake.expect(2, key_of(3).node_id);
        connect(a, b);
        pump(a, b);
        EXPECT_FALSE(a.handshake.authenticated(2));
        EXPECT_EQ(a.handshake.stats().failed(F::kUnexpectedId), 1u);
        ASSERT_EQ(a.dropped.size(), 1u);
        EXPECT_EQ(a.dropped[0].second, "handshake: record is not the node dialed");
        EXPECT_FALSE(b.handshake.authenticated(1));  // A never sent its AUTH
    }
    // The right id: authenticated.
    {
        Side a{1};
        Side b{2};
        a.handshake.expect(2, b.key.node_id);
        connect(a, b);
        pump(a, b);
        EXPECT_TRUE(a.handshake.authenticated(2));
        EXPECT_TRUE(b.handshake.authenticated(1));
    }
    // Expected after the HELLO arrived (even after authentication): a mismatch drops at once.
    {
        Side a{1};
        Side b{2};
        connect(a, b);
        pump(a, b);
        ASSERT_TRUE(a.handshake.authenticated(2));
        a.handshake.expect(2, b.key.node_id);
        EXPECT_TRUE(a.handshake.authenticated(2));
        a.handshake.expect(2, key_of(3).node_id);
        EXPECT_FALSE(a.handshake.authenticated(2));
        EXPECT_EQ(a.handshake.stats().failed(F::kUnexpectedId), 1u);
    }
    // on_disconnect forgets the expectation: the next connection on that PeerId may be anyone.
    {
        Side a{1};
        Side b{2};
        a.handshake.expect(2, key_of(3).node_id);
        a.handshake.on_disconnect(2, kT0);
        connect(a, b);
        pump(a, b);
        EXPECT_TRUE(a.handshake.authenticated(2));
    }
}

// An AUTH captured on an earlier connection signs that connection's nonce: it does not pass again.
TEST(Handshake, AuthReplayedFromAnotherSessionIsRefused) {
    Side a{1};
    Side b{2};
    connect(a, b);
    const Bytes hello_a1 = a.take();
    const Bytes hello_b1 = b.take();
    b.handshake.on_frame(1, hello_a1, kT0);
    const Bytes auth_b1 = b.take();  // B's proof for connection 1
    a.handshake.on_frame(2, hello_b1, kT0);
    a.handshake.on_frame(2, auth_b1, kT0);
    ASSERT_TRUE(a.handshake.authenticated(2));
    a.handshake.on_disconnect(2, kT0);
    b.handshake.on_disconnect(1, kT0);
    a.sent.clear();
    b.sent.clear();

    // Connection 2: the attacker replays B's HELLO and B's AUTH of connection 1.
    a.handshake.on_connect(2, kT0 + 1s);
    EXPECT_NE(nonce_in(a.take()), nonce_in(hello_a1));  // a fresh challenge
    a.handshake.on_frame(2, hello_b1, kT0 + 1s);
    a.handshake.on_frame(2, auth_b1, kT0 + 1s);
    EXPECT_FALSE(a.handshake.authenticated(2));
    EXPECT_EQ(a.handshake.stats().failed(F::kBadSignature), 1u);
    EXPECT_EQ(a.handshake.stats().authenticated, 1u);
    EXPECT_EQ(a.authenticated.size(), 1u);
}

TEST(Handshake, FramesOutOfOrderAreRefused) {
    const KeyPair peer = key_of(2);
    // AUTH before HELLO.
    {
        Side a{1};
        a.handshake.on_connect(2, kT0);
        const proto::HandshakeNonce nonce = nonce_in(a.take());
        a.handshake.on_frame(2, auth_frame(peer, nonce, a.key.node_id, peer.node_id), kT0);
        EXPECT_EQ(a.handshake.stats().failed(F::kAuthBeforeHello), 1u);
        EXPECT_EQ(a.dropped.at(0).second, "handshake: AUTH before HELLO");
    }
    // A second HELLO, before and after authentication; a second AUTH.
    for (int variant = 0; variant < 3; ++variant) {
        Side a{1};
        a.handshake.on_connect(2, kT0);
        const proto::HandshakeNonce nonce = nonce_in(a.take());
        a.handshake.on_frame(2, hello_frame(record_of_key(peer)), kT0);
        const Bytes auth = auth_frame(peer, nonce, a.key.node_id, peer.node_id);
        if (variant == 0) {
            a.handshake.on_frame(2, hello_frame(record_of_key(peer)), kT0);
            EXPECT_EQ(a.handshake.stats().failed(F::kSecondHello), 1u);
            continue;
        }
        a.handshake.on_frame(2, auth, kT0);
        ASSERT_TRUE(a.handshake.authenticated(2));
        a.handshake.on_frame(2, variant == 1 ? hello_frame(record_of_key(peer)) : auth, kT0);
        EXPECT_FALSE(a.handshake.authenticated(2));
        EXPECT_EQ(a.handshake.stats().failed(variant == 1 ? F::kSecondHello : F::kSecondAuth), 1u);
    }
}

TEST(Handshake, TimesOut) {
    Side a{1};
    a.handshake.on_connect(2, kT0);
    a.handshake.on_connect(3, kT0 + 1s);
    EXPECT_EQ(a.handshake.next_deadline(), kT0 + 5s);
    a.handshake.on_timer(kT0 + 5s - 1us);
    EXPECT_TRUE(a.dropped.empty());
    a.handshake.on_timer(kT0 + 5s);
    ASSERT_EQ(a.dropped.size(), 1u);
    EXPECT_EQ(a.dropped[0], (std::pair<PeerId, std::string>{2, "handshake: timed out"}));
    EXPECT_EQ(a.handshake.next_deadline(), kT0 + 6s);
    // Peer 3 completes in time: its deadline goes.
    const KeyPair peer = key_of(2);
    (void)a.take();
    const proto::HandshakeNonce nonce = nonce_in(a.take());
    a.handshake.on_frame(3, hello_frame(record_of_key(peer)), kT0 + 2s);
    a.handshake.on_frame(3, auth_frame(peer, nonce, a.key.node_id, peer.node_id), kT0 + 2s);
    EXPECT_TRUE(a.handshake.authenticated(3));
    EXPECT_FALSE(a.handshake.next_deadline());
    a.handshake.on_timer(kT0 + 1h);
    EXPECT_EQ(a.handshake.stats().failed(F::kTimeout), 1u);
    EXPECT_EQ(a.dropped.size(), 1u);
}

// A HELLO whose nonce is `nonce`, of any length.
Bytes hello_with_nonce(ByteView nonce) {
    Bytes payload;
    rlp::encode(payload, proto::kHandshakeVersion);
    rlp::encode(payload, ByteView{record_of_key(key_of(2)).encoded()});
    rlp::encode(payload, nonce);
    Bytes frame{static_cast<uint8_t>(proto::HandshakeMessageType::kHello)};
    rlp::encode_header(frame, {true, payload.size()});
    return frame + payload;
}

struct BadFrame {
    std::string name;
    Bytes frame;
    std::string reason;
};

TEST(Handshake, MalformedFramesAreDroppedByName) {
    Bytes truncated = hello_frame(record_of_key(key_of(2)));
    truncated.resize(truncated.size() / 2);
    const std::vector<BadFrame> cases = {
        {"empty", {}, "handshake: malformed frame: not a handshake message"},
        {"other type", Bytes{0x01, 0xc0}, "handshake: malformed frame: not a handshake message"},
        {"truncated HELLO", truncated, "handshake: malformed frame: HELLO: malformed message"},
        {"garbage HELLO", Bytes{0x08, 0xff, 0x00, 0x13}, "handshake: malformed frame: HELLO: malformed message"},
        {"short nonce", hello_with_nonce(Bytes(31, 7)), "handshake: malformed frame: HELLO: nonce is not 32 bytes"},
        {"version 2", proto::encode(proto::Hello{2, record_of_key(key_of(2)).encoded(), {}}),
         "handshake: malformed frame: HELLO: unsupported handshake version"},
        {"empty record", proto::encode(proto::Hello{1, {}, {}}),
         "handshake: malformed frame: HELLO: node record empty or over 300 bytes"},
        {"record not a record", proto::encode(proto::Hello{1, Bytes{0xc0}, {}}),
         "handshake: bad node record: malformed record encoding"},
        {"garbage AUTH", Bytes{0x09, 0x42}, "handshake: AUTH before HELLO"},
    };
    for (const BadFrame& c : cases) {
        Side a{1};
        a.handshake.on_connect(2, kT0);
        a.handshake.on_frame(2, c.frame, kT0);
        ASSERT_EQ(a.dropped.size(), 1u) << c.name;
        EXPECT_EQ(a.dropped[0].second, c.reason) << c.name;
        EXPECT_EQ(a.handshake.stats().failed(), 1u) << c.name;
    }
    // A malformed AUTH after a good HELLO names the AUTH's wire error.
    Side a{1};
    a.handshake.on_connect(2, kT0);
    a.handshake.on_frame(2, hello_frame(record_of_key(key_of(2))), kT0);
    a.handshake.on_frame(2, proto::encode(proto::Auth{}).substr(0, 20), kT0);
    ASSERT_EQ(a.dropped.size(), 1u);
    EXPECT_EQ(a.dropped[0].second, "handshake: malformed frame: AUTH: malformed message");
    EXPECT_EQ(a.handshake.stats().failed(F::kBadFrame), 1u);
}

TEST(Handshake, AFailedPeerIsIgnoredUntilItReconnects) {
    Side a{1};
    Side b{2};
    a.handshake.on_connect(2, kT0);
    a.handshake.on_frame(2, Bytes{0x09}, kT0);  // AUTH before HELLO
    ASSERT_EQ(a.dropped.size(), 1u);
    // Until the driver reports the disconnect, nothing more is counted or asked.
    a.handshake.on_frame(2, Bytes{0x08}, kT0);
    EXPECT_FALSE(a.handshake.admit(2, Bytes{0x20, 0xc0}, kT0));
    a.handshake.on_timer(kT0 + 1h);
    EXPECT_EQ(a.dropped.size(), 1u);
    EXPECT_EQ(a.handshake.stats().failed(), 1u);
    // Frames from peers never connected are ignored.
    a.handshake.on_frame(9, Bytes{0x09}, kT0);
    EXPECT_FALSE(a.handshake.admit(9, Bytes{0x20, 0xc0}, kT0));
    EXPECT_EQ(a.dropped.size(), 1u);
    // After on_disconnect, a new connection on the same PeerId starts afresh.
    a.handshake.on_disconnect(2, kT0);
    a.sent.clear();
    connect(a, b);
    pump(a, b);
    EXPECT_TRUE(a.handshake.authenticated(2));
    EXPECT_EQ(a.handshake.stats().started, 2u);
}

TEST(Handshake, AdmitGatesOtherFrames) {
    Side a{1};
    Side b{2};
    connect(a, b);
    // A handshake frame is taken, never handed to the core.
    const Bytes hello_b = b.take();
    EXPECT_FALSE(a.handshake.admit(2, hello_b, kT0));
    b.handshake.on_frame(1, a.take(), kT0);             // A's HELLO
    (void)a.take();                                     // A's AUTH, not delivered yet
    EXPECT_FALSE(a.handshake.admit(2, b.take(), kT0));  // B's AUTH: taken, and B is authenticated
    EXPECT_TRUE(a.handshake.authenticated(2));
    EXPECT_TRUE(a.handshake.admit(2, Bytes{0x20, 0xc0}, kT0));
    EXPECT_TRUE(a.handshake.admit(2, Bytes{}, kT0));  // the core judges an empty frame
    // B has not got A's AUTH: an application frame from A is an offence there.
    EXPECT_FALSE(b.handshake.admit(1, Bytes{0x20, 0xc0}, kT0));
    ASSERT_EQ(b.dropped.size(), 1u);
    EXPECT_EQ(b.dropped[0].second, "handshake: frame before authentication");
    EXPECT_EQ(b.handshake.stats().failed(F::kNotAuthenticated), 1u);
}

TEST(Handshake, NoncesAreFreshAndDeterministic) {
    Side a{1, 9};
    Side a_again{1, 9};
    Side other_seed{1, 10};
    std::vector<proto::HandshakeNonce> nonces;
    for (PeerId p = 2; p < 6; ++p) {
        a.handshake.on_connect(p, kT0);
        a_again.handshake.on_connect(p, kT0);
        other_seed.handshake.on_connect(p, kT0);
        const Bytes hello = a.take();
        EXPECT_EQ(hello, a_again.take());
        EXPECT_NE(nonce_in(hello), nonce_in(other_seed.take()));
        nonces.push_back(nonce_in(hello));
    }
    for (std::size_t i = 0; i < nonces.size(); ++i) {
        for (std::size_t j = i + 1; j < nonces.size(); ++j) EXPECT_NE(nonces[i], nonces[j]);
    }
}

TEST(Handshake, SetRecordIsSentInLaterHellos) {
    Side a{1};
    Side b{2};
    a.handshake.set_record(record_of_key(a.key, 7));
    connect(a, b);
    pump(a, b);
    ASSERT_NE(b.handshake.record_of(1), nullptr);
    EXPECT_EQ(b.handshake.record_of(1)->seq(), 7u);
}

// ---- over LocalNet, inside a core ---------------------------------------------------------------

constexpr uint8_t kAppMessage = 0x30;

// A minimal core: the Handshake gates every frame; once a peer is authenticated the core greets it
// with one application frame.
class GreetingNode : public proto::Endpoint {
  public:
    explicit GreetingNode(uint8_t secret)
        : key_{key_of(secret)},
          handshake_{key_,
                     record_of_key(key_),
                     HandshakeOptions{5s, seed_of(secret)},
                     [this](PeerId to, Bytes f) { send(to, std::move(f)); },
                     [this](PeerId p, std::string r) { disconnect(p, std::move(r)); },
                     [this](PeerId p, const NodeRecord&, Time) {
                         send(p, Bytes{kAppMessage, 0xc0});
                     }} {}

    void on_connect(PeerId peer, Time now) override { handshake_.on_connect(peer, now); }
    void on_disconnect(PeerId peer, Time now) override { handshake_.on_disconnect(peer, now); }
    void on_frame(PeerId from, ByteView frame, Time now) override {
        if (!handshake_.admit(from, frame, now)) return;
        greeted_by.push_back(handshake_.record_of(from)->node_id());
    }
    std::optional<Time> next_deadline() const override { return handshake_.next_deadline(); }
    void on_timer(Time now) override { handshake_.on_timer(now); }

    const Handshake& handshake() const { return handshake_; }
    const KeyPair& key() const { return key_; }
    std::vector<NodeId> greeted_by;

  private:
    KeyPair key_;
    Handshake handshake_;
};

// Skips the handshake and speaks at once.
class RudeNode : public proto::Endpoint {
  public:
    void on_connect(PeerId peer, Time) override { send(peer, Bytes{kAppMessage, 0xc0}); }
    void on_frame(PeerId, ByteView, Time) override {}
};

TEST(Handshake, OverLocalNet) {
    net::LocalNet net;
    GreetingNode a{1};
    GreetingNode b{2};
    RudeNode rude;
    ASSERT_EQ(net.add(a), 1u);
    ASSERT_EQ(net.add(b), 2u);
    ASSERT_EQ(net.add(rude), 3u);
    net.connect(1, 2, net::LinkSettings{10ms});
    net.connect(1, 3, net::LinkSettings{10ms});
    ASSERT_TRUE(net.run_until_idle(1h));

    // A and B authenticated each other and each got the other's greeting, after the handshake.
    EXPECT_EQ(a.greeted_by, std::vector<NodeId>{b.key().node_id});
    EXPECT_EQ(b.greeted_by, std::vector<NodeId>{a.key().node_id});
    EXPECT_EQ(a.handshake().record_of(2)->encoded(), b.handshake().record().encoded());
    // The rude node was dropped for speaking first.
    EXPECT_FALSE(net.connected(1, 3));
    EXPECT_EQ(a.handshake().stats().failed(F::kNotAuthenticated), 1u);
    EXPECT_EQ(a.handshake().stats().authenticated, 1u);
}

TEST(Handshake, OverLocalNetASilentPeerTimesOut) {
    net::LocalNet net;
    GreetingNode a{1};
    class Silent : public proto::Endpoint {
      public:
        void on_frame(PeerId, ByteView, Time) override {}
    } silent;
    net.add(a);
    net.add(silent);
    net.connect(1, 2, net::LinkSettings{10ms});
    ASSERT_TRUE(net.run_until_idle(1h));
    EXPECT_FALSE(net.connected(1, 2));
    EXPECT_EQ(a.handshake().stats().failed(F::kTimeout), 1u);
    EXPECT_EQ(net.now(), 5s);  // connected at 0, the 5 s timeout
}

}  // namespace
}  // namespace carousel::dht
