// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// libFuzzer harness (scripts/fuzz.sh, `make fuzz`): every decoder of peer bytes — the prefix-sync,
// Merry-Go-Round, header and discovery messages, trie nodes, state diffs, region items, signed
// headers, accounts — and, where a message decodes, its round trip (encode, decode again, equal).
// The range and multiproof verifiers get fuzzed leaf-mode entries, rooted at the hash of their first
// proof node so that they get past the root lookup. The first input byte picks the target. Any
// crash, sanitizer report or failed CHECK is a finding.
#include <cstdio>
#include <cstdlib>

#include <carousel/core/keccak.hpp>
#include <carousel/mgr/region_item.hpp>
#include <carousel/mgr/signed_header.hpp>
#include <carousel/proto/discovery_messages.hpp>
#include <carousel/proto/header_messages.hpp>
#include <carousel/proto/mgr_messages.hpp>
#include <carousel/proto/prefix_messages.hpp>
#include <carousel/state/account.hpp>
#include <carousel/state/state_diff.hpp>
#include <carousel/trie/node.hpp>
#include <carousel/trie/proof.hpp>

#include "fuzz_util.hpp"

using namespace carousel;

// What decodes encodes back to bytes that decode to the same thing.
template <class Decode, class Encode>
void round_trip(ByteView in, Decode decode, Encode encode) {
    auto m = decode(in);
    if (!m) return;
    Bytes again = encode(*m);
    auto m2 = decode(ByteView{again});
    CHECK(m2);
    CHECK(*m2 == *m);
}

template <class Decode>
void round_trip(ByteView in, Decode decode) {
    round_trip(in, decode, [](const auto& m) { return proto::encode(m); });
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const uint8_t selector = data[0];
    ByteView in{data + 1, size - 1};
    switch (selector % 8) {
        case 0: {  // a frame: every decoder
            round_trip(in, proto::decode_get_chunks);
            round_trip(in, proto::decode_chunk_data);
            round_trip(in, proto::decode_get_code);
            round_trip(in, proto::decode_code_data);
            round_trip(in, proto::decode_offer);
            round_trip(in, proto::decode_accept);
            round_trip(in, proto::decode_content);
            round_trip(in, proto::decode_get_diff);
            round_trip(in, proto::decode_diff_data);
            round_trip(in, proto::decode_get_bare_storage);
            round_trip(in, proto::decode_bare_storage);
            round_trip(in, proto::decode_get_items);
            round_trip(in, proto::decode_items);
            round_trip(in, proto::decode_get_headers);
            round_trip(in, proto::decode_headers);
            round_trip(in, proto::decode_discovery_ping);
            round_trip(in, proto::decode_discovery_pong);
            round_trip(in, proto::decode_discovery_find_nodes);
            round_trip(in, proto::decode_discovery_nodes);
            break;
        }
        case 1: {
            auto n = trie::decode_node(in);
            (void)n;
            break;
        }
        case 2:
            round_trip(
                in, [](ByteView b) { return state::decode_state_diff(b); }, state::encode_state_diff);
            break;
        case 3:
            round_trip(in, mgr::decode_region_item, mgr::encode_region_item);
            break;
        case 4: {
            ByteView v = in;
            (void)state::decode_account(v);
            break;
        }
        case 5:
            round_trip(in, mgr::decode_signed_header, [](const mgr::SignedHeader& h) { return mgr::encode(h); });
            break;
        default: {  // a leaf-mode chunk entry as proof material: verify its ranges
            auto m = proto::decode_chunk_data(in);
            if (!m) break;
            for (const auto& e : m->entries) {
                if (e.proof.empty() && e.nodes.empty()) continue;
                const Bytes& first = e.proof.empty() ? e.nodes.front() : e.proof.front();
                const Hash root = keccak256(first);
                std::vector<Bytes> keys;
                for (const auto& k : e.keys) keys.emplace_back(view(k));
                if (keys.size() != e.values.size()) continue;
                const Bytes origin = keys.empty() ? Bytes(32, 0) : keys.front();
                std::vector<Bytes> proof = e.proof.empty() ? e.nodes : e.proof;
                (void)trie::verify_range_proof(root, origin, keys, e.values, proof);
                (void)trie::verify_bounded_range_proof(root, origin, Bytes(32, 0xff), keys, e.values, proof);
                (void)trie::verify_proof(root, origin, proof);
                (void)trie::verify_multiproof(root, keys, proof);
            }
            break;
        }
    }
    return 0;
}
