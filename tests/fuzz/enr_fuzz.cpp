// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// libFuzzer harness: EIP-778 node records (dht/enr.hpp) from peer bytes. The first input byte picks
// the target, the rest is its input:
//   0  NodeRecord::decode: never crashes; what decodes is exactly the canonical encoding of what it
//      holds (rlp([signature, seq, k, v, ...]) rebuilt from seq(), pairs() and the signature gives
//      the input back), and its text form decodes to the same record.
//   1  NodeRecord::from_text: the same, from the text form; to_text() gives the input back.
//   2  NodeRecord::sign over pairs read from the input ([u8 key length][key][u8 value length][value],
//      each value an RLP string): what signs decodes, to the same pairs, seq and node id.
// Any crash, sanitizer report or failed CHECK is a finding.
#include <string>
#include <string_view>

#include <carousel/core/rlp.hpp>
#include <carousel/dht/enr.hpp>

#include "fuzz_util.hpp"

using namespace carousel;

namespace {

const dht::KeyPair& signer() {
    static const dht::KeyPair kKey = *dht::KeyPair::from_secret(Bytes(32, 0x5a));
    return kKey;
}

bool same(const dht::NodeRecord& a, const dht::NodeRecord& b) {
    return a.encoded() == b.encoded() && a.seq() == b.seq() && a.pairs() == b.pairs() && a.node_id() == b.node_id();
}

// A record that decoded: its bytes are the canonical encoding of its contents, and both of its
// forms decode to it again.
void check_decoded(const dht::NodeRecord& r) {
    ByteView in = r.encoded();
    auto list = rlp::decode_list(in);
    CHECK(list && in.empty());
    ByteView body = *list;
    auto signature = rlp::decode_string(body);
    CHECK(signature && signature->size() == 64);
    Bytes payload;
    rlp::encode(payload, *signature);
    rlp::encode(payload, r.seq());
    for (const auto& [k, v] : r.pairs()) {
        rlp::encode(payload, view(k));
        payload += v;
    }
    Bytes rebuilt;
    rlp::encode_header(rebuilt, {true, payload.size()});
    rebuilt += payload;
    CHECK(rebuilt == r.encoded());
    CHECK(r.encoded().size() <= dht::kMaxRecordBytes);
    auto again = dht::NodeRecord::decode(r.encoded());
    CHECK(again && same(*again, r));
    auto from_text = dht::NodeRecord::from_text(r.to_text());
    CHECK(from_text && same(*from_text, r));
    CHECK(dht::node_id_of(*r.string_value("secp256k1")) == r.node_id());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const ByteView in{data + 1, size - 1};
    switch (data[0] % 3) {
        case 0: {
            auto r = dht::NodeRecord::decode(in);
            if (r) {
                CHECK(r->encoded() == in);
                check_decoded(*r);
            }
            break;
        }
        case 1: {
            const std::string_view text{reinterpret_cast<const char*>(in.data()), in.size()};
            auto r = dht::NodeRecord::from_text(text);
            if (r) {
                CHECK(r->to_text() == text);
                check_decoded(*r);
            }
            break;
        }
        case 2: {
            if (in.size() < 1) return 0;
            const uint64_t seq = in[0];
            dht::NodeRecord::Pairs pairs;
            for (ByteView rest = in.substr(1); rest.size() >= 2;) {
                const std::size_t key_length = std::min<std::size_t>(rest[0], rest.size() - 1);
                const std::string key{reinterpret_cast<const char*>(rest.data() + 1), key_length};
                rest.remove_prefix(1 + key_length);
                if (rest.empty()) break;
                const std::size_t value_length = std::min<std::size_t>(rest[0], rest.size() - 1);
                Bytes value;
                rlp::encode(value, rest.substr(1, value_length));
                rest.remove_prefix(1 + value_length);
                pairs[key] = std::move(value);
            }
            auto r = dht::NodeRecord::sign(seq, pairs, signer());
            if (!r) {
                CHECK(r.error() == dht::EnrError::kTooLarge);
                break;
            }
            CHECK(r->node_id() == signer().node_id);
            check_decoded(*r);
            for (const auto& [k, v] : pairs) {
                if (k != "id" && k != "secp256k1") CHECK(r->pairs().at(k) == v);
            }
            break;
        }
        default:
            break;
    }
    return 0;
}
