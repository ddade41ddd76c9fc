// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "handshake.hpp"

#include <carousel/core/assert.hpp>
#include <carousel/core/keccak.hpp>

namespace carousel::dht {

// proto cannot see dht's cap; the HELLO codec must bound a record exactly as NodeRecord does.
static_assert(proto::kMaxHelloRecordBytes == kMaxRecordBytes);

Hash auth_digest(const proto::HandshakeNonce& verifier_nonce, const NodeId& verifier, const NodeId& prover) {
    Bytes message{view(kHandshakeDomain)};
    message += view(verifier_nonce);
    message += view(verifier);
    message += view(prover);
    return keccak256(message);
}

std::string_view to_string(HandshakeFailure f) noexcept {
    switch (f) {
        case HandshakeFailure::kBadFrame:
            return "malformed frame";
        case HandshakeFailure::kBadRecord:
            return "bad node record";
        case HandshakeFailure::kOwnId:
            return "record claims our node id";
        case HandshakeFailure::kUnexpectedId:
            return "record is not the node dialed";
        case HandshakeFailure::kSecondHello:
            return "second HELLO";
        case HandshakeFailure::kAuthBeforeHello:
            return "AUTH before HELLO";
        case HandshakeFailure::kSecondAuth:
            return "second AUTH";
        case HandshakeFailure::kBadSignature:
            return "AUTH not signed by the record's key over this connection's nonce";
        case HandshakeFailure::kNotAuthenticated:
            return "frame before authentication";
        case HandshakeFailure::kTimeout:
            return "timed out";
    }
    return "unknown handshake failure";
}

Handshake::Handshake(const KeyPair& key, NodeRecord record, HandshakeOptions options, SendFn send,
                     DisconnectFn disconnect, AuthenticatedFn authenticated)
    : key_{key},
      record_{std::move(record)},
      options_{options},
      send_{std::move(send)},
      disconnect_{std::move(disconnect)},
      authenticated_{std::move(authenticated)} {
    CAROUSEL_ASSERT(send_ && disconnect_ && authenticated_, "a Handshake is given all three callbacks");
    CAROUSEL_ASSERT(record_.node_id() == key_.node_id, "the own record is signed by the own key");
}

bool Handshake::handles(uint8_t message_type) noexcept { return proto::is_handshake_message(message_type); }

void Handshake::set_record(NodeRecord record) {
    CAROUSEL_ASSERT(record.node_id() == key_.node_id, "the own record is signed by the own key");
    record_ = std::move(record);
}

bool Handshake::authenticated(PeerId peer) const {
    const auto it = sessions_.find(peer);
    return it != sessions_.end() && it->second.authenticated && !it->second.failed;
}

const NodeRecord* Handshake::record_of(PeerId peer) const {
    if (!authenticated(peer)) return nullptr;
    return &*sessions_.at(peer).record;
}

std::optional<Time> Handshake::next_deadline() const {
    if (deadlines_.empty()) return std::nullopt;
    return deadlines_.begin()->first;
}

proto::HandshakeNonce Handshake::next_nonce() {
    Bytes input{view(options_.nonce_seed)};
    for (int shift = 56; shift >= 0; shift -= 8) input.push_back(static_cast<uint8_t>(connections_ >> shift));
    ++connections_;
    return keccak256(input);
}

// ---- connections --------------------------------------------------------------------------------

void Handshake::on_connect(PeerId peer, Time now) {
    if (const auto old = sessions_.find(peer); old != sessions_.end()) deadlines_.erase({old->second.deadline, peer});
    Session& s = sessions_[peer] = Session{};
    s.nonce = next_nonce();
    s.deadline = now + options_.timeout;
    deadlines_.emplace(s.deadline, peer);
    ++stats_.started;
    send_(peer, proto::encode(proto::Hello{proto::kHandshakeVersion, record_.encoded(), s.nonce}));
}

void Handshake::on_disconnect(PeerId peer, Time /*now*/) {
    if (const auto it = sessions_.find(peer); it != sessions_.end()) {
        deadlines_.erase({it->second.deadline, peer});
        sessions_.erase(it);
    }
    expected_.erase(peer);
}

void Handshake::on_timer(Time now) {
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
        const PeerId peer = deadlines_.begin()->second;
        fail(peer, sessions_.at(peer), HandshakeFailure::kTimeout);  // erases the deadline
    }
}

void Handshake::expect(PeerId peer, const NodeId& id) {
    expected_[peer] = id;
    const auto it = sessions_.find(peer);
    if (it == sessions_.end() || it->second.failed || !it->second.record) return;
    if (it->second.record->node_id() != id) fail(peer, it->second, HandshakeFailure::kUnexpectedId);
}

// ---- frames -------------------------------------------------------------------------------------

bool Handshake::admit(PeerId from, ByteView frame, Time now) {
    if (!frame.empty() && handles(frame[0])) {
        on_frame(from, frame, now);
        return false;
    }
    const auto it = sessions_.find(from);
    if (it == sessions_.end()) return false;
    Session& s = it->second;
    if (s.failed) return false;
    if (s.authenticated) return true;
    fail(from, s, HandshakeFailure::kNotAuthenticated);
    return false;
}

void Handshake::on_frame(PeerId from, ByteView frame, Time now) {
    const auto it = sessions_.find(from);
    if (it == sessions_.end() || it->second.failed) return;
    Session& s = it->second;
    if (frame.empty() || !handles(frame[0]))
        return fail(from, s, HandshakeFailure::kBadFrame, "not a handshake message");
    switch (static_cast<proto::HandshakeMessageType>(frame[0])) {
        case proto::HandshakeMessageType::kHello:
            return on_hello(from, s, frame, now);
        case proto::HandshakeMessageType::kAuth:
            return on_auth(from, s, frame, now);
    }
}

void Handshake::on_hello(PeerId from, Session& s, ByteView frame, Time /*now*/) {
    if (s.record) return fail(from, s, HandshakeFailure::kSecondHello);
    auto m = proto::decode_hello(frame);
    if (!m) return fail(from, s, HandshakeFailure::kBadFrame, "HELLO: " + std::string{proto::to_string(m.error())});
    auto record = NodeRecord::decode(m->record);
    if (!record) return fail(from, s, HandshakeFailure::kBadRecord, to_string(record.error()));
    if (record->node_id() == key_.node_id) return fail(from, s, HandshakeFailure::kOwnId);
    if (const auto e = expected_.find(from); e != expected_.end() && e->second != record->node_id()) {
        return fail(from, s, HandshakeFailure::kUnexpectedId);
    }
    s.record = std::move(*record);
    const Signature proof = sign(key_, auth_digest(m->nonce, s.record->node_id(), key_.node_id));
    send_(from, proto::encode(proto::Auth{proof}));
}

void Handshake::on_auth(PeerId from, Session& s, ByteView frame, Time now) {
    if (s.authenticated) return fail(from, s, HandshakeFailure::kSecondAuth);
    if (!s.record) return fail(from, s, HandshakeFailure::kAuthBeforeHello);
    auto m = proto::decode_auth(frame);
    if (!m) return fail(from, s, HandshakeFailure::kBadFrame, "AUTH: " + std::string{proto::to_string(m.error())});
    // NodeRecord::decode accepted the record only with a valid "secp256k1" key.
    const std::optional<Bytes> public_key = s.record->string_value("secp256k1");
    const Hash digest = auth_digest(s.nonce, key_.node_id, s.record->node_id());
    if (!public_key || !verify(*public_key, digest, view(m->signature))) {
        return fail(from, s, HandshakeFailure::kBadSignature);
    }
    s.authenticated = true;
    deadlines_.erase({s.deadline, from});
    ++stats_.authenticated;
    authenticated_(from, *s.record, now);
}

void Handshake::fail(PeerId peer, Session& s, HandshakeFailure failure, std::string_view detail) {
    s.failed = true;
    deadlines_.erase({s.deadline, peer});
    ++stats_.failures[failure];
    std::string reason = "handshake: " + std::string{to_string(failure)};
    if (!detail.empty()) reason += ": " + std::string{detail};
    disconnect_(peer, std::move(reason));
}

}  // namespace carousel::dht
